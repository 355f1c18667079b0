//! Regression tests for security-audit findings, through the public API.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, TokenError, Validator};

/// A JWKS endpoint on 127.0.0.1 serving a body (or an error status) that the test changes,
/// counting requests.
#[derive(Clone)]
struct Jwks {
    body: Arc<Mutex<Result<String, u16>>>,
    hits: Arc<AtomicUsize>,
    addr: SocketAddr,
}

impl Jwks {
    async fn serve(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let e = Self {
            body: Arc::new(Mutex::new(Ok(body))),
            hits: Arc::default(),
            addr: listener.local_addr().unwrap(),
        };
        let router = Router::new()
            .route(
                "/jwks",
                get(|State(e): State<Jwks>| async move {
                    e.hits.fetch_add(1, Ordering::SeqCst);
                    let body = e.body.lock().unwrap().clone();
                    let resp: Response = match body {
                        Ok(b) => (StatusCode::OK, b).into_response(),
                        Err(s) => StatusCode::from_u16(s).unwrap().into_response(),
                    };
                    resp
                }),
            )
            .with_state(e.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        e
    }

    fn set(&self, body: Result<String, u16>) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }
}

fn jwk_of(issuer: &TestIssuer) -> Value {
    let doc: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    doc["keys"][0].clone()
}

fn jwks_doc(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// A valid P-256 public key that no test issuer signs with (the curve's generator point),
/// without a `kid`.
fn anonymous_p256() -> Value {
    json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256",
        "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
        "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    })
}

fn remote_options() -> RemoteOptions {
    RemoteOptions::new()
        .allow_http(true)
        .cooldown(Duration::from_millis(300))
        .backoff(Duration::from_millis(100), Duration::from_millis(200))
        .timeout(Duration::from_millis(500))
}

// Item 1: a key without `kid` must not block rotation.
#[tokio::test]
async fn unknown_kid_refetches_before_any_anonymous_key() {
    let a = TestIssuer::with_algorithm(Algorithm::EdDSA).kid("a");
    let c = TestIssuer::new().kid("new");
    let e = Jwks::serve(jwks_doc(&[jwk_of(&a), anonymous_p256()])).await;
    let v = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .jwks_url(e.url())
        .remote_options(remote_options())
        .build()
        .unwrap();
    v.warm_up().await.unwrap();
    assert!(v.validate_async(&a.token().sign()).await.is_ok());
    // The issuer publishes C and starts signing with it.
    e.set(Ok(jwks_doc(&[jwk_of(&a), anonymous_p256(), jwk_of(&c)])));
    tokio::time::sleep(Duration::from_millis(400)).await; // past the cooldown
    let token = c.token().sign();
    let got = v.validate_async(&token).await.map(|_| ());
    assert_eq!(got, Ok(()), "the new key was not fetched");
    assert_eq!(e.hits(), 2);
}

#[test]
fn unknown_kid_with_named_and_anonymous_keys_is_an_unknown_key() {
    let a = TestIssuer::with_algorithm(Algorithm::EdDSA).kid("a");
    let c = TestIssuer::new().kid("new");
    let v = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .jwks_json(&jwks_doc(&[jwk_of(&a), anonymous_p256()]))
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&c.token().sign()).unwrap_err(),
        TokenError::UnknownKey
    );
    // A set of anonymous keys only: the token's kid cannot be matched, so the one key that
    // fits its algorithm is tried (one signature check).
    let only_anonymous = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .ec_pem(tower_bearer::testing::keys::P256_PUBLIC)
        .build()
        .unwrap();
    assert!(only_anonymous.validate(&c.token().sign()).is_ok());
    assert_eq!(
        only_anonymous
            .validate(&c.token().forged().sign())
            .unwrap_err(),
        TokenError::InvalidSignature
    );
}

/// An introspection endpoint on 127.0.0.1: `token` → answer (unknown tokens are inactive),
/// counting calls.
async fn introspection_endpoint(answers: Vec<(&'static str, Value)>) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(answers);
    let state = (calls.clone(), answers);
    let app = Router::new()
        .route(
            "/introspect",
            axum::routing::post(
                |State((calls, answers)): State<(
                    Arc<AtomicUsize>,
                    Arc<Vec<(&'static str, Value)>>,
                )>,
                 body: String| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let token = body
                        .split('&')
                        .find_map(|p| p.strip_prefix("token="))
                        .unwrap_or_default()
                        .to_owned();
                    answers
                        .iter()
                        .find(|(k, _)| *k == token)
                        .map_or(json!({"active": false}), |(_, v)| v.clone())
                        .to_string()
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/introspect"), calls)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn active_answer() -> Value {
    json!({
        "active": true,
        "scope": "users:read",
        "sub": "alice",
        "iss": tower_bearer::testing::TEST_ISSUER,
        "aud": tower_bearer::testing::TEST_AUDIENCE,
        "exp": unix_now() + 600,
        "iat": unix_now(),
        "token_type": "Bearer",
    })
}

fn introspecting(url: &str) -> tower_bearer::ValidatorBuilder {
    let intro = tower_bearer::introspect::Introspection::builder("rs", "secret")
        .endpoint(url)
        .remote_options(
            RemoteOptions::new()
                .allow_http(true)
                .timeout(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    Validator::builder()
        .issuer(tower_bearer::testing::TEST_ISSUER)
        .audience(tower_bearer::testing::TEST_AUDIENCE)
        .introspection(intro)
}

/// Status and `WWW-Authenticate` of a request through a `BearerLayer`.
async fn through_layer(v: &Validator, authorization: &str) -> (StatusCode, String) {
    use tower::ServiceExt;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(tower_bearer::BearerLayer::new(v.clone()));
    let req = http::Request::get("/")
        .header("authorization", authorization)
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status(), www)
}

// Item 2 (a): refused active answers are cached like inactive ones.
#[tokio::test]
async fn refused_active_answers_cost_one_endpoint_call() {
    let mut other_aud = active_answer();
    other_aud["aud"] = json!("https://other.api");
    let mut refresh = active_answer();
    refresh["token_type"] = json!("refresh_token");
    let mut check_fails = active_answer();
    check_fails["sub"] = json!("mallory");
    let mut bound = active_answer();
    bound["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
    let (url, calls) = introspection_endpoint(vec![
        ("other-aud", other_aud),
        ("refresh", refresh),
        ("check-fails", check_fails),
        ("dpop-bound", bound),
    ])
    .await;
    let v = introspecting(&url)
        .check(|c| match c.subject() {
            Some("mallory") => Err("not this one".into()),
            _ => Ok(()),
        })
        .build()
        .unwrap();
    for token in ["other-aud", "refresh", "check-fails", "dpop-bound"] {
        let before = calls.load(Ordering::SeqCst);
        for round in 0..3 {
            let (status, www) = through_layer(&v, &format!("Bearer {token}")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token} #{round}");
            assert!(www.contains("invalid_token"), "{token} #{round}: {www}");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst) - before,
            1,
            "{token}: one endpoint call for three requests"
        );
    }
}

// Item 2 (b): a header value that is no b64token never reaches the endpoint.
#[tokio::test]
async fn non_b64token_is_400_and_never_introspected() {
    let (url, calls) = introspection_endpoint(vec![]).await;
    let v = introspecting(&url).build().unwrap();
    let (status, www) = through_layer(&v, r#"Bearer not a "b64token", at all"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{www}");
    assert!(www.contains("invalid_request"), "{www}");
    assert!(v.validate_async("a b").await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "sent to the endpoint");
}
