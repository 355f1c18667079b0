//! The status table users rely on (DESIGN "Contracts"), through an axum `Router` and through
//! a real hyper server on 127.0.0.1: status, exact `WWW-Authenticate`, JSON body.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{
    Algorithm, BearerLayer, ErrorFormat, FormTokenLayer, Key, RequireScopeLayer, Scopes,
    TokenClaims, Validator,
};

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    cache_control: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

async fn answer(resp: Response<Body>) -> Answer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().expect("visible ASCII").to_owned())
    };
    let (status, challenge, cache_control) = (
        resp.status(),
        header("www-authenticate"),
        header("cache-control"),
    );
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        challenge,
        cache_control,
        body,
    }
}

/// Counts the calls that reach the handler.
fn app(layer: BearerLayer, hits: Arc<AtomicUsize>) -> Router {
    let me = move |claims: Option<TokenClaims>, scopes: Option<Scopes>| {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({
                "sub": claims.as_ref().and_then(|c| c.subject().map(str::to_owned)),
                "scopes": scopes.map(|s| s.iter().map(str::to_owned).collect::<Vec<_>>()),
            }))
        }
    };
    Router::new()
        .route("/me", get(me.clone()).post(me))
        .route(
            "/users",
            get(|| async { "users" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(layer)
}

async fn call(app: &Router, req: http::request::Builder) -> Answer {
    answer(
        app.clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap(),
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_claims_and_scopes() {
    let issuer = TestIssuer::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(issuer.layer(), hits.clone());
    let token = issuer.token().scopes(["b", "a"]).subject("alice").sign();
    let a = call(
        &app,
        Request::get("/me").header("authorization", bearer(&token)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"sub": "alice", "scopes": ["a", "b"]}));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let issuer = TestIssuer::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(issuer.layer(), hits.clone());
    let a = call(&app, Request::get("/me")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenge.as_deref(), Some("Bearer"));
    assert_eq!(a.json()["error"], "unauthorized");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn realm_is_quoted_and_escaped() {
    let issuer = TestIssuer::new();
    let layer = issuer.layer().realm(r#"my "api" \ v2"#);
    let a = call(&app(layer, Arc::default()), Request::get("/me")).await;
    assert_eq!(
        a.challenge.as_deref(),
        Some(r#"Bearer realm="my \"api\" \\ v2""#)
    );
}

#[tokio::test]
async fn another_scheme_is_no_credentials() {
    let issuer = TestIssuer::new();
    let app = app(issuer.layer().realm("api"), Arc::default());
    for value in ["Basic dXNlcjpwYXNz", "Digest username=x", "Token abc"] {
        let a = call(&app, Request::get("/me").header("authorization", value)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(
            a.challenge.as_deref(),
            Some(r#"Bearer realm="api""#),
            "{value}"
        );
    }
}

#[tokio::test]
async fn scheme_is_case_insensitive() {
    let issuer = TestIssuer::new();
    let app = app(issuer.layer(), Arc::default());
    let token = issuer.token().sign();
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let a = call(
            &app,
            Request::get("/me").header("authorization", format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn malformed_requests_are_400_invalid_request() {
    let issuer = TestIssuer::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(issuer.layer().realm("api"), hits.clone());
    for value in [
        "Bearer",
        "Bearer ",
        "Bearer a\"b",
        "Bearer a b",
        "Bearer a,b.c",
        "Bearer ====",
    ] {
        let a = call(&app, Request::get("/me").header("authorization", value)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{value:?}");
        let challenge = a.challenge.clone().unwrap();
        assert!(
            challenge
                .starts_with(r#"Bearer realm="api", error="invalid_request", error_description=""#),
            "{challenge}"
        );
        assert_eq!(a.json()["error"], "invalid_request");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn two_authorization_headers_are_400() {
    let issuer = TestIssuer::new();
    let app = app(issuer.layer(), Arc::default());
    let token = issuer.token().sign();
    let req = Request::get("/me")
        .header("authorization", bearer(&token))
        .header("authorization", bearer(&token));
    let a = call(&app, req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            r#"Bearer error="invalid_request", error_description="more than one Authorization header""#
        )
    );
}

#[tokio::test]
async fn invalid_tokens_are_401_invalid_token_with_a_reason() {
    let issuer = TestIssuer::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(issuer.layer(), hits.clone());
    let other = TestIssuer::new().issuer("https://other.test");
    let cases = [
        (issuer.token().expired().sign(), "token expired"),
        (issuer.token().forged().sign(), "invalid signature"),
        (
            issuer.token().claim("aud", "https://elsewhere").sign(),
            "audience mismatch",
        ),
        (other.token().sign(), "issuer mismatch"),
        (
            issuer.token().header("kid", "nope").sign(),
            "unknown signing key",
        ),
        (
            issuer.token().header("typ", "id+jwt").sign(),
            "token type not allowed",
        ),
        (
            "abc.def.ghi".to_owned(),
            "malformed token: header is not a valid JSON object",
        ),
        ("x".repeat(9000), "token too long"),
    ];
    for (token, reason) in cases {
        let a = call(
            &app,
            Request::get("/me").header("authorization", bearer(&token)),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{reason}");
        assert_eq!(
            a.challenge.as_deref(),
            Some(format!(r#"Bearer error="invalid_token", error_description="{reason}""#).as_str())
        );
        assert_eq!(
            a.json(),
            json!({"error": "invalid_token", "error_description": reason})
        );
        assert_eq!(a.cache_control.as_deref(), Some("no-store"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn query_token_is_ignored_unless_enabled() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let uri = format!("/me?access_token={token}");
    let off = app(issuer.layer(), Arc::default());
    let a = call(&off, Request::get(&uri)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenge.as_deref(), Some("Bearer"));

    let on = app(issuer.layer().allow_query_token(), Arc::default());
    let a = call(&on, Request::get(&uri)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.cache_control.as_deref(), Some("private"));
}

#[tokio::test]
async fn token_in_header_and_query_is_400() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let on = app(issuer.layer().allow_query_token(), Arc::default());
    let req =
        Request::get(format!("/me?access_token={token}")).header("authorization", bearer(&token));
    let a = call(&on, req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.json()["error_description"],
        "token presented in more than one way"
    );
}

#[tokio::test]
async fn form_body_token_behind_form_layer() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("form-user").sign();
    let app = app(issuer.layer(), Arc::default()).layer(FormTokenLayer::new());
    let form = |t: &str| format!("a=1&access_token={t}");
    let post = |body: String| {
        Request::post("/me")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let a = answer(app.clone().oneshot(post(form(&token))).await.unwrap()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["sub"], "form-user");

    let mut both = post(form(&token));
    both.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&bearer(&token)).unwrap(),
    );
    let a = answer(app.clone().oneshot(both).await.unwrap()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Never with GET: the form is not looked at.
    let get_form = Request::get("/me")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form(&token)))
        .unwrap();
    let a = answer(app.clone().oneshot(get_form).await.unwrap()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn optional_mode_lets_anonymous_through_but_not_bad_tokens() {
    let issuer = TestIssuer::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(BearerLayer::optional(issuer.validator()), hits.clone());
    let a = call(&app, Request::get("/me")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"sub": null, "scopes": null}));
    let bad = issuer.token().forged().sign();
    let a = call(
        &app,
        Request::get("/me").header("authorization", bearer(&bad)),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn skip_predicate_passes_requests_untouched() {
    let issuer = TestIssuer::new();
    let layer = issuer.layer().skip_if(|parts| parts.uri.path() == "/me");
    let app = app(layer, Arc::default());
    assert_eq!(call(&app, Request::get("/me")).await.status, StatusCode::OK);
    assert_eq!(
        call(&app, Request::get("/users")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn user_claim_check_failure_is_401_with_its_message() {
    let issuer = TestIssuer::new();
    let validator = issuer
        .validator_builder()
        .check(|c| match c.client_id() {
            Some("allowed") => Ok(()),
            _ => Err(Cow::Borrowed("client not allowed")),
        })
        .build()
        .unwrap();
    let app = app(BearerLayer::new(validator), Arc::default());
    let a = call(
        &app,
        Request::get("/me").header("authorization", bearer(&issuer.token().sign())),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["error_description"], "client not allowed");
    let ok = issuer.token().claim("client_id", "allowed").sign();
    let a = call(
        &app,
        Request::get("/me").header("authorization", bearer(&ok)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn body_formats() {
    let issuer = TestIssuer::new();
    let token = issuer.token().expired().sign();
    let req = || Request::get("/me").header("authorization", bearer(&token));

    let problem = app(
        issuer.layer().error_format(ErrorFormat::problem_json()),
        Arc::default(),
    );
    let resp = problem
        .clone()
        .oneshot(req().body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let a = answer(resp).await;
    assert_eq!(
        a.json(),
        json!({"type": "about:blank", "title": "Unauthorized", "status": 401,
               "detail": "token expired", "error": "invalid_token"})
    );

    let empty = app(
        issuer.layer().error_format(ErrorFormat::empty()),
        Arc::default(),
    );
    let a = call(&empty, req()).await;
    assert_eq!((a.status, a.body.len()), (StatusCode::UNAUTHORIZED, 0));
    assert!(a.challenge.unwrap().contains("invalid_token"));

    let custom = ErrorFormat::custom(|r| Response::new(Bytes::from(format!("nope: {}", r.code()))));
    let custom = app(issuer.layer().error_format(custom), Arc::default());
    let a = call(&custom, req()).await;
    assert_eq!(a.body, b"nope: invalid_token");
    assert!(
        a.challenge.unwrap().contains("invalid_token"),
        "challenge kept"
    );
}

#[tokio::test]
async fn guard_without_the_layer_is_a_500_naming_it() {
    let app: Router = Router::new().route(
        "/users",
        get(|| async { "users" }).route_layer(RequireScopeLayer::all(["users:read"])),
    );
    let a = call(&app, Request::get("/users")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.challenge, None);
    assert_eq!(a.json()["error"], "server_error");
    assert!(a.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("BearerLayer"));
}

#[tokio::test]
async fn post_routes_work_the_same() {
    let issuer = TestIssuer::new();
    let app = app(issuer.layer(), Arc::default());
    let req = Request::post("/me").header("authorization", bearer(&issuer.token().sign()));
    assert_eq!(call(&app, req).await.status, StatusCode::OK);
}

// ---- a real hyper server on loopback ----

async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn client() -> hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<Bytes>,
> {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

async fn over_http(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Empty<Bytes>,
    >,
    addr: std::net::SocketAddr,
    path: &str,
    auth: Option<&str>,
) -> (StatusCode, Option<String>) {
    let mut req = Request::get(format!("http://{addr}{path}"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let fut = client.request(req.body(http_body_util::Empty::new()).unwrap());
    let resp = tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("answer within 10 s")
        .unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status(), challenge)
}

#[tokio::test]
async fn status_table_over_a_real_server() {
    let issuer = TestIssuer::new();
    let addr = serve(app(issuer.layer().realm("api"), Arc::default())).await;
    let c = client();
    let good = bearer(&issuer.token().scopes(["users:read"]).sign());
    let other_scope = bearer(&issuer.token().scopes(["x"]).sign());
    let expired = bearer(&issuer.token().expired().sign());
    let cases: [(&str, Option<&str>, u16, &str); 6] = [
        ("/users", Some(&good), 200, ""),
        ("/users", None, 401, r#"Bearer realm="api""#),
        (
            "/users",
            Some("Bearer"),
            400,
            r#"Bearer realm="api", error="invalid_request""#,
        ),
        (
            "/users",
            Some(&expired),
            401,
            r#"Bearer realm="api", error="invalid_token", error_description="token expired""#,
        ),
        (
            "/users",
            Some(&other_scope),
            403,
            r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="users:read""#,
        ),
        ("/users", Some("Basic eDp5"), 401, r#"Bearer realm="api""#),
    ];
    for (path, auth, status, challenge_prefix) in cases {
        let (s, ch) = over_http(&c, addr, path, auth).await;
        assert_eq!(s.as_u16(), status, "{auth:?}");
        if status != 200 {
            assert!(ch.unwrap().starts_with(challenge_prefix), "{auth:?}");
        }
    }
}

#[tokio::test]
async fn hundred_concurrent_requests_on_one_validator() {
    let issuer = TestIssuer::new();
    let addr = serve(app(issuer.layer(), Arc::default())).await;
    let c = client();
    let good = bearer(&issuer.token().scopes(["users:read"]).sign());
    let bad = bearer(&issuer.token().forged().scopes(["users:read"]).sign());
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (c, auth) = (
                c.clone(),
                if i % 3 == 0 {
                    bad.clone()
                } else {
                    good.clone()
                },
            );
            tokio::spawn(async move {
                let (s, _) = over_http(&c, addr, "/users", Some(&auth)).await;
                (i, s)
            })
        })
        .collect();
    for t in tasks {
        let (i, s) = t.await.unwrap();
        let want = if i % 3 == 0 { 401 } else { 200 };
        assert_eq!(s.as_u16(), want, "request {i}");
    }
}

#[tokio::test]
async fn plain_tower_stack_over_hyper_without_axum() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto;
    use hyper_util::service::TowerToHyperService;

    let issuer = TestIssuer::with_algorithm(Algorithm::RS256);
    let svc = ServiceBuilder::new()
        .layer(issuer.layer())
        .layer(RequireScopeLayer::all(["users:read"]))
        .service_fn(|req: Request<hyper::body::Incoming>| async move {
            let sub = req
                .extensions()
                .get::<TokenClaims>()
                .and_then(|c| c.subject().map(str::to_owned));
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                sub.unwrap_or_default(),
            ))))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..4 {
            let (stream, _) = listener.accept().await.unwrap();
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let c = client();
    let good = bearer(
        &issuer
            .token()
            .scopes(["users:read"])
            .subject("hyper-user")
            .sign(),
    );
    assert_eq!(
        over_http(&c, addr, "/", Some(&good)).await.0,
        StatusCode::OK
    );
    let (s, ch) = over_http(&c, addr, "/", Some(&bearer(&issuer.token().sign()))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(ch.unwrap().contains(r#"scope="users:read""#));
}

#[test]
fn configuration_mistakes_fail_at_build_time_with_a_fix() {
    let key = || Key::hmac([7u8; 32], Algorithm::HS256).unwrap();
    let err = Validator::builder()
        .audience("a")
        .key(key())
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains(".issuer("), "{err}");
    let err = Validator::builder()
        .issuer("i")
        .key(key())
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains(".audience("), "{err}");
    let err = Validator::builder()
        .issuer("i")
        .audience("a")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no verification key"), "{err}");
    let err = Key::hmac(b"short", Algorithm::HS256)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 32 bytes"), "{err}");
    let err = Key::ec_pem(tower_bearer::testing::keys::P256_PUBLIC)
        .unwrap()
        .with_algorithm(Algorithm::RS256)
        .unwrap_err()
        .to_string();
    assert!(err.contains("P-256 keys verify ES256 only"), "{err}");
}
