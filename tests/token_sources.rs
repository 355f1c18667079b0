//! Every way a token arrives (`TokenSources`): the `Authorization` header, a cookie, a header
//! of the user's choosing, the query on WebSocket upgrades, the user's own function; one
//! method per request; the cross-site rule for cookie-borne tokens.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{
    BearerLayer, ErrorFormat, RequireScopeLayer, Scopes, TokenClaims, TokenSources,
};

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn answer(resp: Response<Body>) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status,
        headers,
        body,
    }
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

fn app(issuer: &TestIssuer, sources: TokenSources) -> Router {
    let me = |claims: TokenClaims, scopes: Scopes| async move {
        axum::Json(json!({
            "sub": claims.subject(),
            "scopes": scopes.iter().collect::<Vec<_>>(),
        }))
    };
    Router::new()
        .route("/me", get(me).post(me).delete(me))
        .route(
            "/users",
            get(|| async { "users" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(issuer.validator()).token_sources(sources))
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    answer(app.clone().oneshot(req).await.unwrap()).await
}

fn get_req(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    req("GET", uri, headers)
}

fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(Body::empty()).unwrap()
}

fn cookie_sources() -> TokenSources {
    TokenSources::authorization_header()
        .cookie("at")
        .allowed_origins(["https://app.example.com"])
}

const CROSS_SITE: &str =
    r#"{"error":"access_denied","error_description":"cross-site request refused"}"#;

#[tokio::test]
async fn by_default_only_the_authorization_header_is_read() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("alice").sign();
    let app = app(&issuer, TokenSources::default());
    let cookie = format!("at={token}");
    let a = send(
        &app,
        get_req("/me", &[("cookie", &cookie), ("x-api-token", &token)]),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    let bearer = format!("Bearer {token}");
    let a = send(&app, get_req("/me", &[("authorization", &bearer)])).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("cache-control"), None);
    assert_eq!(a.header("vary"), None);
}

#[tokio::test]
async fn a_cookie_carries_the_token_and_the_answer_is_private() {
    let issuer = TestIssuer::new();
    let token = issuer
        .token()
        .subject("alice")
        .scopes(["users:read"])
        .sign();
    let app = app(&issuer, cookie_sources());
    for cookie in [
        format!("at={token}"),
        format!("theme=dark; at={token}; lang=en"),
        format!("junk; =x; at=\"{token}\""),
    ] {
        let a = send(&app, get_req("/me", &[("cookie", &cookie)])).await;
        assert_eq!(a.status, StatusCode::OK, "{cookie}");
        assert_eq!(a.body["sub"], "alice");
        assert_eq!(a.header("cache-control"), Some("private"));
        assert_eq!(a.header("vary"), Some("cookie"));
    }
    // HTTP/2 may split cookies over several fields.
    let mut r = get_req("/users", &[("cookie", "theme=dark")]);
    r.headers_mut()
        .append("cookie", format!("at={token}").parse().unwrap());
    let a = send(&app, r).await;
    assert_eq!(a.status, StatusCode::OK);
    // Other cookies alone are no credentials.
    let a = send(&app, get_req("/me", &[("cookie", "theme=dark; xat=abc")])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    // An emptied cookie is no credentials either.
    let a = send(&app, get_req("/me", &[("cookie", "at=")])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn a_bad_cookie_token_is_judged_like_a_header_token() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, cookie_sources());
    let expired = format!("at={}", issuer.token().expired().sign());
    let a = send(&app, get_req("/me", &[("cookie", &expired)])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", error_description="token expired""#)
    );
    let a = send(&app, get_req("/me", &[("cookie", "at=not%20a,token")])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"], "invalid_request");
    let twice = format!("at={0}; at={0}", issuer.token().sign());
    let a = send(&app, get_req("/me", &[("cookie", &twice)])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error_description"], "more than one token cookie");
    let long = format!("at={}", "a".repeat(9000));
    let a = send(&app, get_req("/me", &[("cookie", &long)])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["error_description"], "token too long");
}

#[tokio::test]
async fn a_token_in_a_cookie_and_a_header_is_one_method_too_many() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = app(&issuer, cookie_sources().header("x-api-token"));
    let bearer = format!("Bearer {token}");
    let cookie = format!("at={token}");
    for headers in [
        vec![
            ("authorization", bearer.as_str()),
            ("cookie", cookie.as_str()),
        ],
        vec![("x-api-token", token.as_str()), ("cookie", cookie.as_str())],
        vec![
            ("authorization", bearer.as_str()),
            ("x-api-token", token.as_str()),
        ],
    ] {
        let a = send(&app, get_req("/me", &headers)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{headers:?}");
        assert_eq!(
            a.header("www-authenticate"),
            Some(
                r#"Bearer error="invalid_request", error_description="token presented in more than one way""#
            )
        );
    }
}

#[tokio::test]
async fn cookie_tokens_on_unsafe_methods_need_an_allowed_origin() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("alice").sign();
    let app = app(&issuer, cookie_sources());
    let cookie = format!("at={token}");
    let c = ("cookie", cookie.as_str());
    for method in ["POST", "DELETE"] {
        let ok = send(
            &app,
            req(method, "/me", &[c, ("origin", "https://app.example.com")]),
        )
        .await;
        assert_eq!(
            ok.status,
            StatusCode::OK,
            "{method} from the allowed origin"
        );
        let ok = send(
            &app,
            req(
                method,
                "/me",
                &[c, ("referer", "https://app.example.com/a/b")],
            ),
        )
        .await;
        assert_eq!(
            ok.status,
            StatusCode::OK,
            "{method} with an allowed Referer"
        );
        for refused in [
            vec![c],
            vec![c, ("origin", "https://evil.example")],
            vec![c, ("origin", "null")],
            vec![
                c,
                ("referer", "https://evil.example/https://app.example.com"),
            ],
            vec![
                c,
                ("origin", "https://evil.example"),
                ("referer", "https://app.example.com/"),
            ],
        ] {
            let a = send(&app, req(method, "/me", &refused)).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {refused:?}");
            assert_eq!(a.header("www-authenticate"), None);
            assert_eq!(a.header("content-type"), Some("application/json"));
            assert_eq!(a.body, serde_json::from_str::<Value>(CROSS_SITE).unwrap());
        }
    }
    // Safe methods are not state-changing: any origin.
    let a = send(
        &app,
        get_req("/me", &[c, ("origin", "https://evil.example")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn the_cross_site_rule_is_decided_before_the_token_is_validated() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, cookie_sources());
    for token in [
        issuer.token().expired().sign(),
        issuer.token().forged().sign(),
    ] {
        let cookie = format!("at={token}");
        let a = send(
            &app,
            req(
                "POST",
                "/me",
                &[("cookie", &cookie), ("origin", "https://evil.example")],
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(a.body["error"], "access_denied");
    }
}

#[tokio::test]
async fn header_tokens_are_not_subject_to_the_cross_site_rule() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = app(&issuer, cookie_sources().header("x-api-token"));
    let bearer = format!("Bearer {token}");
    let evil = ("origin", "https://evil.example");
    let a = send(
        &app,
        req("POST", "/me", &[("authorization", &bearer), evil]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = send(&app, req("POST", "/me", &[("x-api-token", &token), evil])).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn the_cross_site_refusal_speaks_every_format() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let cookie = format!("at={token}");
    let layer = |format| {
        Router::new()
            .route("/me", axum::routing::post(|| async { "me" }))
            .layer(
                BearerLayer::new(issuer.validator())
                    .token_sources(cookie_sources())
                    .realm("api")
                    .error_format(format),
            )
    };
    let r = || {
        req(
            "POST",
            "/me",
            &[
                ("cookie", cookie.as_str()),
                ("origin", "https://evil.example"),
            ],
        )
    };
    let a = send(&layer(ErrorFormat::problem_json()), r()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    assert_eq!(a.header("www-authenticate"), None);
    assert_eq!(
        a.body,
        json!({"type": "about:blank", "title": "Forbidden", "status": 403,
               "detail": "cross-site request refused", "error": "access_denied"})
    );
    let a = send(&layer(ErrorFormat::empty()), r()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.header("www-authenticate"), None);
    assert_eq!(a.body, Value::Null);
}

#[tokio::test]
async fn websocket_upgrades_with_a_cookie_need_an_allowed_or_no_origin() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = app(&issuer, cookie_sources());
    let cookie = format!("at={token}");
    let upgrade = [
        ("cookie", cookie.as_str()),
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
    ];
    let with = |origin: Option<&'static str>| {
        let mut h = upgrade.to_vec();
        if let Some(o) = origin {
            h.push(("origin", o));
        }
        get_req("/me", &h)
    };
    let a = send(&app, with(Some("https://evil.example"))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body["error"], "access_denied");
    // Not a WebSocket route: the handler answers, which shows the layer let it through.
    assert_eq!(
        send(&app, with(Some("https://app.example.com")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(send(&app, with(None)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_custom_header_carries_the_raw_token() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("bob").sign();
    let app = app(&issuer, TokenSources::none().header("X-Api-Token"));
    let a = send(&app, get_req("/me", &[("x-api-token", &token)])).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["sub"], "bob");
    assert_eq!(a.header("cache-control"), Some("private"));
    assert_eq!(a.header("vary"), Some("x-api-token"));
    // Without the Authorization source, a Bearer header is no credentials.
    let bearer = format!("Bearer {token}");
    let a = send(&app, get_req("/me", &[("authorization", &bearer)])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // A scheme in the raw header is a malformed token.
    let a = send(&app, get_req("/me", &[("x-api-token", &bearer)])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let mut twice = get_req("/me", &[("x-api-token", &token)]);
    twice
        .headers_mut()
        .append("x-api-token", token.parse().unwrap());
    let a = send(&app, twice).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error_description"], "more than one token header");
}

#[tokio::test]
async fn an_existing_vary_is_extended_not_replaced() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = Router::new()
        .route(
            "/me",
            get(|| async { ([("vary", "accept-encoding")], "me") }),
        )
        .route("/star", get(|| async { ([("vary", "*")], "me") }))
        .layer(BearerLayer::new(issuer.validator()).token_sources(cookie_sources()));
    let cookie = format!("at={token}");
    let a = send(&app, get_req("/me", &[("cookie", &cookie)])).await;
    let vary: Vec<_> = a
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["accept-encoding", "cookie"]);
    let a = send(&app, get_req("/star", &[("cookie", &cookie)])).await;
    let vary: Vec<_> = a
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["*"]);
}

#[tokio::test]
async fn the_query_on_websocket_upgrades_only() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = app(
        &issuer,
        TokenSources::authorization_header().query_on_websocket_upgrades(),
    );
    let uri = format!("/me?access_token={token}");
    let a = send(&app, get_req(&uri, &[])).await;
    assert_eq!(
        a.status,
        StatusCode::UNAUTHORIZED,
        "not an upgrade: the query is ignored"
    );
    let a = send(
        &app,
        get_req(&uri, &[("connection", "upgrade"), ("upgrade", "websocket")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("cache-control"), Some("private"));
    let a = send(
        &app,
        req(
            "POST",
            &uri,
            &[("connection", "upgrade"), ("upgrade", "websocket")],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "an upgrade is a GET");
}

#[tokio::test]
async fn a_custom_source_reads_the_request_parts() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("carol").sign();
    let sources = TokenSources::none().custom(|parts| {
        let value = parts
            .headers
            .get("x-forwarded-access-token")?
            .to_str()
            .ok()?;
        value.strip_prefix("Bearer ").map(str::to_owned)
    });
    let app = app(&issuer, sources);
    let forwarded = format!("Bearer {token}");
    let a = send(
        &app,
        get_req("/me", &[("x-forwarded-access-token", &forwarded)]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["sub"], "carol");
    assert_eq!(a.header("cache-control"), Some("private"));
    let a = send(
        &app,
        get_req("/me", &[("x-forwarded-access-token", "Bearer a b")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = send(&app, get_req("/me", &[])).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // The request body is still there for the handler.
    let app = Router::new()
        .route(
            "/echo",
            axum::routing::post(|body: String| async move { body }),
        )
        .layer(BearerLayer::new(issuer.validator()).token_sources(
            TokenSources::none().custom(|p| p.headers.get("x-t")?.to_str().ok().map(str::to_owned)),
        ));
    let mut r = req("POST", "/echo", &[("x-t", &token)]);
    *r.body_mut() = Body::from("hello");
    let resp = app.oneshot(r).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        &resp.into_body().collect().await.unwrap().to_bytes()[..],
        b"hello"
    );
}

#[test]
fn bad_source_configuration_is_a_clear_error() {
    let e = TokenSources::none()
        .try_cookie("a b")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"a b\"") && e.contains("cookie name"), "{e}");
    let e = TokenSources::none()
        .try_cookie("at")
        .unwrap()
        .try_cookie("other")
        .unwrap_err()
        .to_string();
    assert!(e.contains("already configured"), "{e}");
    for name in ["Authorization", "cookie", "DPoP", "proxy-authorization"] {
        let e = TokenSources::none()
            .try_header(name)
            .unwrap_err()
            .to_string();
        assert!(e.contains(name), "{e}");
    }
    let e = TokenSources::none()
        .try_header("x token")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a header name"), "{e}");
    let e = TokenSources::none()
        .try_header("x-t")
        .unwrap()
        .try_header("X-T")
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let e = TokenSources::none()
        .try_allowed_origins(
            ["https://app.example.com/"; 1]
                .into_iter()
                .chain(["https://*.example.com"]),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("https://*.example.com"), "{e}");
    let panic = std::panic::catch_unwind(|| TokenSources::none().cookie("a;b")).unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("\"a;b\""), "{text}");
}

#[tokio::test]
async fn a_custom_ambient_source_obeys_the_cross_site_rule() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let sources = TokenSources::none()
        .custom_ambient(|parts| {
            let cookie = parts.headers.get("cookie")?.to_str().ok()?;
            cookie
                .split("; ")
                .find_map(|c| c.strip_prefix("session=v1."))
                .map(str::to_owned)
        })
        .allowed_origins(["https://app.example.com"]);
    let app = app(&issuer, sources);
    let cookie = format!("session=v1.{token}");
    let a = send(
        &app,
        req(
            "POST",
            "/me",
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body["error"], "access_denied");
    let a = send(
        &app,
        req(
            "POST",
            "/me",
            &[("cookie", &cookie), ("origin", "https://app.example.com")],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn the_cross_site_rule_holds_for_optional_layers() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = Router::new()
        .route("/me", axum::routing::post(|| async { "me" }))
        .layer(BearerLayer::optional(issuer.validator()).token_sources(cookie_sources()));
    let cookie = format!("at={token}");
    let a = send(
        &app,
        req(
            "POST",
            "/me",
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_non_ascii_cookie_beside_the_token_does_not_hide_it() {
    let issuer = TestIssuer::new();
    let token = issuer.token().subject("alice").sign();
    let app = app(&issuer, cookie_sources());
    let mut r = get_req("/me", &[]);
    let field = format!("theme=d\u{e9}j\u{e0}; at={token}");
    r.headers_mut().insert(
        "cookie",
        http::HeaderValue::from_bytes(field.as_bytes()).unwrap(),
    );
    let a = send(&app, r).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["sub"], "alice");
}

#[tokio::test]
async fn the_handlers_cache_directives_are_kept_and_made_private() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = Router::new()
        .route(
            "/revalidate",
            get(|| async { ([("cache-control", "no-cache, max-age=0")], "x") }),
        )
        .route(
            "/public",
            get(|| async { ([("cache-control", "public, max-age=60, s-maxage=600")], "x") }),
        )
        .route(
            "/store",
            get(|| async { ([("cache-control", "no-store")], "x") }),
        )
        .layer(BearerLayer::new(issuer.validator()).token_sources(cookie_sources()));
    let cookie = format!("at={token}");
    for (path, want) in [
        ("/revalidate", "no-cache, max-age=0, private"),
        ("/public", "max-age=60, private"),
        ("/store", "no-store"),
    ] {
        let a = send(&app, get_req(path, &[("cookie", &cookie)])).await;
        assert_eq!(a.header("cache-control"), Some(want), "{path}");
    }
}

#[tokio::test]
async fn anonymous_answers_of_an_optional_layer_vary_on_the_headers_it_reads() {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route("/feed", get(|| async { "public feed" }))
        .layer(
            BearerLayer::optional(issuer.validator())
                .token_sources(cookie_sources().header("x-api-token")),
        );
    let a = send(&app, get_req("/feed", &[])).await;
    assert_eq!(a.status, StatusCode::OK);
    let vary: Vec<_> = a
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["cookie", "x-api-token"]);
    assert_eq!(a.header("cache-control"), None);
    // With the default sources nothing is added.
    let plain = Router::new()
        .route("/feed", get(|| async { "public feed" }))
        .layer(BearerLayer::optional(issuer.validator()));
    let a = send(&plain, get_req("/feed", &[])).await;
    assert_eq!(a.header("vary"), None);
}
