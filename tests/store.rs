//! The replay-store seam: two layers (two instances of a service) sharing one store refuse
//! a proof the other accepted, a store that answers after a round trip is waited for, and a
//! store that cannot answer fails closed with 503; two instances share introspection answers
//! and fall back to the endpoint when the store is down.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use std::collections::HashMap;
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;

use serde_json::{json, Value};
use tower_bearer::introspect::Introspection;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::store::{
    AnswerStore, Insert, Pending, ReplayStore, SeenProof, StoreError, StoredAnswer,
};
use tower_bearer::testing::{DpopClient, TestIssuer};
use tower_bearer::Validator;

#[path = "common/introspection.rs"]
mod introspection;
use introspection::introspection_endpoint;
use tower_bearer::{Algorithm, BearerLayer};

const URL: &str = "https://api.test/users";

/// A store in "another process": answers after a short delay, can be switched off.
#[derive(Debug, Default)]
struct Shared {
    seen: Mutex<HashSet<(String, String)>>,
    down: AtomicBool,
    calls: AtomicUsize,
}

#[derive(Debug, Clone)]
struct Remote(Arc<Shared>);

impl ReplayStore for Remote {
    fn insert(&self, proof: SeenProof) -> Pending<Result<Insert, StoreError>> {
        let shared = self.0.clone();
        Pending::Later(Box::pin(async move {
            shared.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            if shared.down.load(Ordering::SeqCst) {
                return Err(StoreError::new("connection refused"));
            }
            let fresh = shared
                .seen
                .lock()
                .unwrap()
                .insert((proof.jkt.clone(), proof.jti.clone()));
            Ok(if fresh {
                Insert::Fresh
            } else {
                Insert::Replayed
            })
        }))
    }
}

fn instance(issuer: &TestIssuer, store: &Remote) -> Router {
    let dpop = Dpop::allowed().replay_store(store.clone()).build().unwrap();
    Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop))
}

async fn call(app: &Router, token: &str, proof: &str) -> (StatusCode, Option<String>) {
    let req = Request::builder()
        .uri("/users")
        .header("host", "api.test")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status(), retry)
}

#[tokio::test]
async fn a_proof_accepted_by_one_instance_is_a_replay_at_the_other() {
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let store = Remote(Arc::default());
    let (a, b) = (instance(&issuer, &store), instance(&issuer, &store));

    let proof = client.proof("GET", URL, &token);
    assert_eq!(call(&a, &token, &proof).await.0, StatusCode::OK);
    assert_eq!(call(&b, &token, &proof).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&a, &token, &proof).await.0, StatusCode::UNAUTHORIZED);
    // A fresh proof passes at either instance; the store was asked once per request.
    let fresh = client.proof("GET", URL, &token);
    assert_eq!(call(&b, &token, &fresh).await.0, StatusCode::OK);
    assert_eq!(store.0.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_store_that_cannot_answer_fails_closed_with_503() {
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let store = Remote(Arc::default());
    let app = instance(&issuer, &store);

    store.0.down.store(true, Ordering::SeqCst);
    let proof = client.proof("GET", URL, &token);
    let (status, retry) = call(&app, &token, &proof).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));
    // Back up: the same proof was never recorded, so it now passes, once.
    store.0.down.store(false, Ordering::SeqCst);
    assert_eq!(call(&app, &token, &proof).await.0, StatusCode::OK);
    assert_eq!(call(&app, &token, &proof).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_tokens_never_ask_the_store() {
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let store = Remote(Arc::default());
    store.0.down.store(true, Ordering::SeqCst);
    let app = instance(&issuer, &store);
    let token = issuer.token().sign();
    let req = Request::builder()
        .uri("/users")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::OK);
    assert_eq!(store.0.calls.load(Ordering::SeqCst), 0);
}

fn nonce_instance(issuer: &TestIssuer, key: Option<[u8; 32]>) -> Router {
    let mut dpop = Dpop::allowed().require_nonce(Duration::from_secs(60));
    if let Some(key) = key {
        dpop = dpop.nonce_key(key);
    }
    Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop.build().unwrap()))
}

/// The nonce an instance hands out to a proof without one.
async fn nonce_from(app: &Router, client: &DpopClient, token: &str) -> String {
    let req = Request::builder()
        .uri("/users")
        .header("host", "api.test")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", client.proof("GET", URL, token))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    resp.headers()["dpop-nonce"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn instances_sharing_a_nonce_key_accept_each_others_nonces() {
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let with_nonce = |nonce: &str| {
        client
            .proof_builder("GET", URL)
            .access_token(&token)
            .claim("nonce", nonce)
            .sign()
    };
    let (a, b) = (
        nonce_instance(&issuer, Some([7; 32])),
        nonce_instance(&issuer, Some([7; 32])),
    );
    let nonce = nonce_from(&a, &client, &token).await;
    assert_eq!(
        call(&b, &token, &with_nonce(&nonce)).await.0,
        StatusCode::OK
    );
    // Each with a key of its own (the default): the other's nonce is unknown.
    let (c, d) = (nonce_instance(&issuer, None), nonce_instance(&issuer, None));
    let nonce = nonce_from(&c, &client, &token).await;
    assert_eq!(
        call(&d, &token, &with_nonce(&nonce)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&c, &token, &with_nonce(&nonce)).await.0,
        StatusCode::OK
    );
}

#[test]
fn nonce_settings_are_checked_when_built() {
    let err = |b: tower_bearer::dpop::DpopBuilder| b.build().unwrap_err().to_string();
    assert!(err(Dpop::allowed().require_nonce(Duration::from_secs(7200))).contains("above 1 hour"));
    assert!(err(Dpop::allowed().nonce_key([1; 32])).contains("without require_nonce"));
}

/// Introspection answers in "another process".
#[derive(Debug, Default)]
struct Answers {
    map: Mutex<HashMap<[u8; 32], StoredAnswer>>,
    down: AtomicBool,
}

#[derive(Debug, Clone)]
struct RemoteAnswers(Arc<Answers>);

impl AnswerStore for RemoteAnswers {
    fn get(&self, key: [u8; 32]) -> Pending<Result<Option<StoredAnswer>, StoreError>> {
        let shared = self.0.clone();
        Pending::Later(Box::pin(async move {
            if shared.down.load(Ordering::SeqCst) {
                return Err(StoreError::new("connection refused"));
            }
            Ok(shared.map.lock().unwrap().get(&key).cloned())
        }))
    }

    fn put(
        &self,
        key: [u8; 32],
        answer: StoredAnswer,
        _ttl: Duration,
    ) -> Pending<Result<(), StoreError>> {
        if self.0.down.load(Ordering::SeqCst) {
            return Pending::Ready(Err(StoreError::new("connection refused")));
        }
        self.0.map.lock().unwrap().insert(key, answer);
        Pending::Ready(Ok(()))
    }
}

fn introspecting(url: &str, store: &RemoteAnswers, key: [u8; 32]) -> Validator {
    let introspection = Introspection::builder("rs", "secret")
        .endpoint(url)
        .remote_options(RemoteOptions::new().allow_http(true))
        .answer_store(store.clone(), key)
        .build()
        .unwrap();
    Validator::builder()
        .issuer(tower_bearer::testing::TEST_ISSUER)
        .audience(tower_bearer::testing::TEST_AUDIENCE)
        .introspection(introspection)
        .build()
        .unwrap()
}

fn active(aud: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "active": true,
        "scope": "users:read",
        "sub": "alice",
        "iss": tower_bearer::testing::TEST_ISSUER,
        "aud": aud,
        "exp": now + 600,
        "token_type": "Bearer",
    })
}

#[tokio::test]
async fn two_instances_ask_the_endpoint_once_per_token() {
    let (url, calls) = introspection_endpoint(vec![
        ("opaque-good", active(tower_bearer::testing::TEST_AUDIENCE)),
        ("opaque-other-api", active("https://other.api")),
    ])
    .await;
    let store = RemoteAnswers(Arc::default());
    let (a, b) = (
        introspecting(&url, &store, [9; 32]),
        introspecting(&url, &store, [9; 32]),
    );
    let auth = a.validate_async("opaque-good").await.unwrap();
    assert_eq!(auth.claims().subject(), Some("alice"));
    let auth = b.validate_async("opaque-good").await.unwrap();
    assert_eq!(auth.scopes().iter().collect::<Vec<_>>(), ["users:read"]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one call for two instances"
    );
    // A refused answer and an inactive one are shared too.
    for token in ["opaque-other-api", "opaque-unknown"] {
        assert!(a.validate_async(token).await.is_err(), "{token}");
        assert!(b.validate_async(token).await.is_err(), "{token}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // The store never holds a token: its keys are keyed hashes.
    let stored = store.0.map.lock().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored
        .values()
        .any(|a| matches!(a, StoredAnswer::Active(_))));
}

#[tokio::test]
async fn a_store_that_is_down_falls_back_to_the_endpoint() {
    let (url, calls) = introspection_endpoint(vec![(
        "opaque-good",
        active(tower_bearer::testing::TEST_AUDIENCE),
    )])
    .await;
    let store = RemoteAnswers(Arc::default());
    store.0.down.store(true, Ordering::SeqCst);
    let (a, b) = (
        introspecting(&url, &store, [9; 32]),
        introspecting(&url, &store, [9; 32]),
    );
    assert!(a.validate_async("opaque-good").await.is_ok());
    assert!(b.validate_async("opaque-good").await.is_ok());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "each instance asked the endpoint"
    );
    // Instances with another key do not read each other's entries.
    store.0.down.store(false, Ordering::SeqCst);
    let c = introspecting(&url, &store, [1; 32]);
    let d = introspecting(&url, &store, [2; 32]);
    assert!(c.validate_async("opaque-good").await.is_ok());
    assert!(d.validate_async("opaque-good").await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}
