//! RFC 7662 introspection against a scripted endpoint on 127.0.0.1: client authentication,
//! claim mapping, caching (never past `exp`), JWTs and opaque tokens side by side, and every
//! way the endpoint can fail (503, never 401).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::introspect::{ClientAuth, Introspection, IntrospectionBuilder};
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::{TestIssuer, TEST_AUDIENCE, TEST_ISSUER};
use tower_bearer::{BearerLayer, RequireScopeLayer, Scopes, TokenClaims, Validator};

const ACTIVE: &str = "Xk2vq8NnR4tYb7LmP0sWc3HdJ9fGa1Ue";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

type Answers = Arc<Vec<(&'static str, Value)>>;

#[derive(Default)]
struct Seen {
    calls: AtomicUsize,
    last_auth: Mutex<Option<String>>,
    last_form: Mutex<String>,
}

/// An introspection endpoint: `token` → scripted answer (`"slow"`, `"huge"`, `"garbage"`,
/// `"500"` misbehave; unknown tokens are inactive).
async fn endpoint(answers: Vec<(&'static str, Value)>) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let answers = Arc::new(answers);
    let app = Router::new()
        .route(
            "/introspect",
            post(
                |State((seen, answers)): State<(Arc<Seen>, Answers)>,
                 headers: HeaderMap,
                 body: String| async move {
                    seen.calls.fetch_add(1, Ordering::SeqCst);
                    *seen.last_auth.lock().unwrap() = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned());
                    *seen.last_form.lock().unwrap() = body.clone();
                    let token = body
                        .split('&')
                        .find_map(|p| p.strip_prefix("token="))
                        .unwrap_or_default()
                        .to_owned();
                    match token.as_str() {
                        "slow" => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            (StatusCode::OK, "{}".to_owned())
                        }
                        "slow-ok" => {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            (StatusCode::OK, active("users:read").to_string())
                        }
                        "huge" => (StatusCode::OK, "x".repeat(300_000)),
                        "garbage" => (StatusCode::OK, "<html>".to_owned()),
                        "500" => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                        t => {
                            let answer = answers
                                .iter()
                                .find(|(k, _)| *k == t)
                                .map_or(json!({"active": false}), |(_, v)| v.clone());
                            (StatusCode::OK, answer.to_string())
                        }
                    }
                },
            ),
        )
        .route(
            "/.well-known/openid-configuration",
            get(|headers: HeaderMap| async move {
                let host = headers.get("host").unwrap().to_str().unwrap().to_owned();
                axum::Json(json!({
                    "issuer": format!("http://{host}"),
                    "introspection_endpoint": format!("http://{host}/introspect"),
                }))
            }),
        )
        .with_state((seen.clone(), answers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn active(scope: &str) -> Value {
    json!({
        "active": true,
        "scope": scope,
        "client_id": "mobile-app",
        "sub": "alice",
        "username": "alice@example.com",
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "exp": now() + 600,
        "iat": now(),
        "token_type": "Bearer",
    })
}

fn introspection(base: &str) -> IntrospectionBuilder {
    Introspection::builder("resource-server", "s3cret:with/odd chars")
        .endpoint(format!("{base}/introspect"))
        .remote_options(
            RemoteOptions::new()
                .allow_http(true)
                .timeout(Duration::from_millis(500))
                .max_body(64 * 1024),
        )
}

fn app(validator: Validator) -> Router {
    Router::new()
        .route(
            "/users",
            get(|claims: TokenClaims, scopes: Scopes| async move {
                axum::Json(json!({
                    "sub": claims.subject(),
                    "client_id": claims.client_id(),
                    "username": claims.get::<String>("username").unwrap(),
                    "scopes": scopes.iter().collect::<Vec<_>>(),
                }))
            })
            .route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(validator))
}

fn opaque_only(intro: Introspection) -> Validator {
    Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .introspection(intro)
        .build()
        .unwrap()
}

async fn call(app: &Router, token: &str) -> (StatusCode, Value, Option<String>) {
    let resp = app
        .clone()
        .oneshot(
            Request::get("/users")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        retry,
    )
}

#[tokio::test]
async fn active_opaque_token_maps_into_claims_and_scopes_and_is_cached() {
    let (base, seen) = endpoint(vec![(ACTIVE, active("users:read profile"))]).await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    let (status, body, _) = call(&app, ACTIVE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["client_id"], "mobile-app");
    assert_eq!(body["username"], "alice@example.com");
    assert_eq!(body["scopes"], json!(["profile", "users:read"]));
    // client_secret_basic: each part form-encoded, then Basic.
    let auth = seen.last_auth.lock().unwrap().clone().unwrap();
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "resource-server:s3cret%3Awith%2Fodd+chars"
    );
    let form = seen.last_form.lock().unwrap().clone();
    assert!(form.contains(&format!("token={ACTIVE}")), "{form}");
    assert!(!form.contains("client_secret"), "{form}");
    // Cached: the second request does not call the endpoint.
    assert_eq!(call(&app, ACTIVE).await.0, StatusCode::OK);
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn client_secret_post() {
    let (base, seen) = endpoint(vec![(ACTIVE, active("users:read"))]).await;
    let intro = introspection(&base)
        .client_auth(ClientAuth::ClientSecretPost)
        .build()
        .unwrap();
    assert_eq!(
        call(&app(opaque_only(intro)), ACTIVE).await.0,
        StatusCode::OK
    );
    assert!(seen.last_auth.lock().unwrap().is_none());
    let form = seen.last_form.lock().unwrap().clone();
    assert!(form.contains("client_id=resource-server"), "{form}");
    assert!(
        form.contains("client_secret=s3cret%3Awith%2Fodd+chars"),
        "{form}"
    );
}

#[tokio::test]
async fn inactive_and_unacceptable_answers_are_401_and_inactive_is_cached_briefly() {
    let mut expired = active("users:read");
    expired["exp"] = json!(now() - 3600);
    let mut other_aud = active("users:read");
    other_aud["aud"] = json!("https://other.api");
    let mut no_aud = active("users:read");
    no_aud.as_object_mut().unwrap().remove("aud");
    let mut other_iss = active("users:read");
    other_iss["iss"] = json!("https://evil.test");
    let mut bound = active("users:read");
    bound["cnf"] = json!({"x5t#S256": "abc"});
    let (base, seen) = endpoint(vec![
        ("expired", expired),
        ("other-aud", other_aud),
        ("no-aud", no_aud),
        ("other-iss", other_iss),
        ("mtls-bound", bound),
        ("no-scope", active("profile")),
    ])
    .await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    for token in [
        "revoked",
        "expired",
        "other-aud",
        "no-aud",
        "other-iss",
        "mtls-bound",
    ] {
        let (status, body, _) = call(&app, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {body}");
        assert_eq!(body["error"], "invalid_token", "{token}");
    }
    let (status, body, _) = call(&app, "no-scope").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let before = seen.calls.load(Ordering::SeqCst);
    assert_eq!(call(&app, "revoked").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        seen.calls.load(Ordering::SeqCst),
        before,
        "inactive answer reused"
    );
}

#[tokio::test]
async fn endpoint_failures_are_503_never_401() {
    let (base, _) = endpoint(vec![]).await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    for token in ["slow", "huge", "garbage", "500"] {
        let (status, body, retry) = call(&app, token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{token}: {body}");
        assert_eq!(body["error"], "temporarily_unavailable", "{token}");
        assert!(retry.is_some(), "{token}: Retry-After");
    }
    // Nothing listening at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        format!("http://{addr}")
    };
    let app = crate::app(opaque_only(introspection(&closed).build().unwrap()));
    assert_eq!(call(&app, ACTIVE).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn active_answers_are_never_reused_past_exp() {
    let mut short = active("users:read");
    short["exp"] = json!(now() + 2);
    let (base, seen) = endpoint(vec![(ACTIVE, short)]).await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    assert_eq!(call(&app, ACTIVE).await.0, StatusCode::OK);
    assert_eq!(call(&app, ACTIVE).await.0, StatusCode::OK);
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let _ = call(&app, ACTIVE).await;
    assert_eq!(
        seen.calls.load(Ordering::SeqCst),
        2,
        "asked again after exp"
    );
}

#[tokio::test]
async fn jwts_and_opaque_tokens_side_by_side() {
    let (base, seen) = endpoint(vec![(ACTIVE, active("users:read"))]).await;
    let issuer = TestIssuer::new();
    let validator = issuer
        .validator_builder()
        .introspection(introspection(&base).build().unwrap())
        .build()
        .unwrap();
    let app = app(validator);
    let jwt = issuer.token().scopes(["users:read"]).subject("bob").sign();
    let (status, body, _) = call(&app, &jwt).await;
    assert_eq!(
        (status, body["sub"].clone()),
        (StatusCode::OK, json!("bob"))
    );
    assert_eq!(
        seen.calls.load(Ordering::SeqCst),
        0,
        "JWTs never go to the endpoint"
    );
    let forged = issuer.token().scopes(["users:read"]).forged().sign();
    assert_eq!(call(&app, &forged).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(seen.calls.load(Ordering::SeqCst), 0);
    let (status, body, _) = call(&app, ACTIVE).await;
    assert_eq!(
        (status, body["sub"].clone()),
        (StatusCode::OK, json!("alice"))
    );
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn endpoint_from_discovery() {
    let (base, seen) = endpoint(vec![(ACTIVE, active("users:read"))]).await;
    let intro = Introspection::builder("resource-server", "secret")
        .discover(base.clone())
        .remote_options(RemoteOptions::new().allow_http(true))
        .build()
        .unwrap();
    assert_eq!(
        call(&app(opaque_only(intro)), ACTIVE).await.0,
        StatusCode::OK
    );
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn bad_configuration_is_refused_at_build_time() {
    let err = |b: IntrospectionBuilder| b.build().unwrap_err().to_string();
    assert!(err(Introspection::builder("rs", "s")).contains(".endpoint(url)"));
    assert!(
        err(Introspection::builder("", "s").endpoint("https://a.test/i")).contains("client_id")
    );
    assert!(err(Introspection::builder("rs", "s").endpoint("http://a.test/i")).contains("https"));
    assert!(err(Introspection::builder("rs", "s")
        .endpoint("https://a.test/i")
        .discover("https://a.test"))
    .contains("not both"));
    let debug = format!(
        "{:?}",
        Introspection::builder("rs", "topsecret")
            .endpoint("https://a.test/i")
            .build()
            .unwrap()
    );
    assert!(!debug.contains("topsecret"), "{debug}");
}

#[tokio::test]
async fn answers_checked_by_one_validator_never_pass_for_another() {
    let (base, _) = endpoint(vec![(ACTIVE, active("users:read"))]).await;
    // One Introspection, cloned into two validators for different audiences.
    let shared = introspection(&base).build().unwrap();
    let for_us = app(opaque_only(shared.clone()));
    let for_other_api = app(Validator::builder()
        .issuer(TEST_ISSUER)
        .audience("https://other.api")
        .introspection(shared)
        .build()
        .unwrap());
    assert_eq!(call(&for_us, ACTIVE).await.0, StatusCode::OK);
    let (status, body, _) = call(&for_other_api, ACTIVE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error_description"], "audience mismatch");
}

#[tokio::test]
async fn refresh_tokens_and_future_iat_are_refused() {
    let mut refresh = active("users:read");
    refresh["token_type"] = json!("refresh_token");
    let mut dpop = active("users:read");
    dpop["token_type"] = json!("DPoP");
    let mut future = active("users:read");
    future["iat"] = json!(now() + 3600);
    let (base, _) = endpoint(vec![
        ("refresh", refresh),
        ("dpop-typed", dpop),
        ("future", future),
    ])
    .await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    for token in ["refresh", "future"] {
        let (status, body, _) = call(&app, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {body}");
    }
    // `token_type: DPoP` without `cnf` is still an access token; as Bearer it passes here
    // because nothing binds it (a bound one would carry `cnf.jkt`).
    assert_eq!(call(&app, "dpop-typed").await.0, StatusCode::OK);
}

#[tokio::test]
async fn failed_discovery_is_retried_after_a_cooldown_not_per_request() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let broken = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            StatusCode::INTERNAL_SERVER_ERROR
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, broken).await.unwrap() });
    let intro = Introspection::builder("resource-server", "secret")
        .discover(format!("http://{addr}"))
        .remote_options(RemoteOptions::new().allow_http(true))
        .build()
        .unwrap();
    let app = app(opaque_only(intro));
    for _ in 0..5 {
        assert_eq!(call(&app, ACTIVE).await.0, StatusCode::SERVICE_UNAVAILABLE);
    }
    // One discovery attempt: the OpenID document, then RFC 8414's.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_token_share_one_call() {
    let (base, seen) = endpoint(vec![]).await;
    let app = app(opaque_only(introspection(&base).build().unwrap()));
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { call(&app, "slow-ok").await })
        })
        .collect();
    for handle in calls {
        let (status, body, _) = handle.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
}
