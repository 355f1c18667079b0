//! Shared state on a real `redis-server` on 127.0.0.1: two instances refuse each other's
//! replayed proofs, share nonces and introspection answers; Redis stopped mid-test gives
//! 503 on the DPoP path (never a pass) while plain bearer tokens are unaffected, and the
//! store recovers when Redis returns; an evicting Redis is refused for replay entries.
//!
//! Needs `redis-server` (see `tests/common/redis_server.rs`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;
use tower_bearer::introspect::Introspection;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::store::redis::RedisStore;
use tower_bearer::testing::{DpopClient, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer, Validator};

#[path = "common/introspection.rs"]
mod introspection;
#[path = "common/redis_server.rs"]
mod redis_server;
use introspection::introspection_endpoint;
use redis_server::{free_port, redis_server};

const URL: &str = "https://api.test/users";

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}/0")
}

async fn store(port: u16) -> RedisStore {
    RedisStore::builder(url(port))
        .prefix(format!("test-{port}:"))
        .command_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

fn instance(issuer: &TestIssuer, dpop: Dpop) -> Router {
    Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop))
}

async fn call(
    app: &Router,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (StatusCode, Option<String>, Option<String>) {
    let mut req = Request::builder()
        .uri("/users")
        .header("host", "api.test")
        .header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    (
        resp.status(),
        header("retry-after"),
        header("www-authenticate"),
    )
}

#[tokio::test]
async fn two_instances_share_replays_and_fail_closed_when_redis_is_down() {
    let port = free_port();
    let Some(server) = redis_server(port, "noeviction") else {
        return;
    };
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let plain = issuer.token().sign();
    let (ra, rb) = (store(port).await, store(port).await);
    assert_eq!(ra.maxmemory_policy(), "noeviction");
    let a = instance(
        &issuer,
        Dpop::allowed()
            .replay_store(ra.replay_store().unwrap())
            .build()
            .unwrap(),
    );
    let b = instance(
        &issuer,
        Dpop::allowed()
            .replay_store(rb.replay_store().unwrap())
            .build()
            .unwrap(),
    );

    let proof = client.proof("GET", URL, &token);
    assert_eq!(
        call(&a, "DPoP", &token, Some(&proof)).await.0,
        StatusCode::OK
    );
    let (status, _, challenge) = call(&b, "DPoP", &token, Some(&proof)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "replayed at the other instance"
    );
    assert!(challenge.unwrap().contains("invalid_dpop_proof"));
    let fresh = client.proof("GET", URL, &token);
    assert_eq!(
        call(&b, "DPoP", &token, Some(&fresh)).await.0,
        StatusCode::OK
    );

    // Redis goes away: DPoP requests get 503 with Retry-After, bearer tokens still pass.
    drop(server);
    let proof = client.proof("GET", URL, &token);
    let (status, retry, _) = call(&a, "DPoP", &token, Some(&proof)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.is_some());
    assert_eq!(call(&a, "Bearer", &plain, None).await.0, StatusCode::OK);

    // Redis returns on the same port: each instance's connection is re-established.
    let _server = redis_server(port, "noeviction").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    for app in [&a, &b] {
        loop {
            let proof = client.proof("GET", URL, &token);
            let (status, ..) = call(app, "DPoP", &token, Some(&proof)).await;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(Instant::now() < deadline, "no recovery within 15 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let proof = client.proof("GET", URL, &token);
    assert_eq!(
        call(&a, "DPoP", &token, Some(&proof)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&b, "DPoP", &token, Some(&proof)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn one_key_cannot_fill_the_store() {
    let port = free_port();
    let Some(_server) = redis_server(port, "noeviction") else {
        return;
    };
    let redis = RedisStore::builder(url(port))
        .replay_quota(3)
        .connect()
        .await
        .unwrap();
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let app = instance(
        &issuer,
        Dpop::allowed()
            .replay_store(redis.replay_store().unwrap())
            .build()
            .unwrap(),
    );
    let (greedy, other) = (
        DpopClient::new(Algorithm::ES256),
        // The test clients' keys are fixed per algorithm: another algorithm, another key.
        DpopClient::new(Algorithm::EdDSA),
    );
    let greedy_token = issuer.token().dpop_bound(&greedy).sign();
    let other_token = issuer.token().dpop_bound(&other).sign();
    for _ in 0..3 {
        let p = greedy.proof("GET", URL, &greedy_token);
        assert_eq!(
            call(&app, "DPoP", &greedy_token, Some(&p)).await.0,
            StatusCode::OK
        );
    }
    let p = greedy.proof("GET", URL, &greedy_token);
    let (status, _, challenge) = call(&app, "DPoP", &greedy_token, Some(&p)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("invalid_dpop_proof"));
    let p = other.proof("GET", URL, &other_token);
    let (status, _, challenge) = call(&app, "DPoP", &other_token, Some(&p)).await;
    assert_eq!(status, StatusCode::OK, "{challenge:?}");
}

#[tokio::test]
async fn an_evicting_redis_is_refused_for_replays_unless_allowed() {
    let port = free_port();
    let Some(_server) = redis_server(port, "allkeys-lru") else {
        return;
    };
    let redis = store(port).await;
    assert_eq!(redis.maxmemory_policy(), "allkeys-lru");
    let e = redis.replay_store().unwrap_err().to_string();
    assert!(
        e.contains("allkeys-lru") && e.contains("allow_eviction"),
        "{e}"
    );
    let allowed = RedisStore::builder(url(port))
        .allow_eviction()
        .connect()
        .await
        .unwrap();
    assert!(allowed.replay_store().is_ok());
    // Answers are a cache: eviction is fine there.
    let _ = redis.answer_store();
}

#[tokio::test]
async fn shared_keys_and_introspection_answers_across_instances() {
    let port = free_port();
    let Some(_server) = redis_server(port, "noeviction") else {
        return;
    };
    let (ra, rb) = (store(port).await, store(port).await);
    let key = ra.shared_key("introspection").await.unwrap();
    assert_eq!(
        rb.shared_key("introspection").await.unwrap(),
        key,
        "made once, read by all"
    );
    assert_ne!(ra.shared_key("dpop-nonce").await.unwrap(), key);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let active = json!({
        "active": true, "scope": "users:read", "sub": "alice",
        "iss": tower_bearer::testing::TEST_ISSUER, "aud": tower_bearer::testing::TEST_AUDIENCE,
        "exp": now + 600, "token_type": "Bearer",
    });
    let (endpoint, calls) = introspection_endpoint(vec![("opaque-good", active)]).await;
    let validator = |redis: &RedisStore, key: [u8; 32]| -> Validator {
        let introspection = Introspection::builder("rs", "secret")
            .endpoint(&endpoint)
            .remote_options(RemoteOptions::new().allow_http(true))
            .answer_store(redis.answer_store(), key)
            .build()
            .unwrap();
        Validator::builder()
            .issuer(tower_bearer::testing::TEST_ISSUER)
            .audience(tower_bearer::testing::TEST_AUDIENCE)
            .introspection(introspection)
            .build()
            .unwrap()
    };
    let (a, b) = (validator(&ra, key), validator(&rb, key));
    assert_eq!(
        a.validate_async("opaque-good")
            .await
            .unwrap()
            .claims()
            .subject(),
        Some("alice")
    );
    assert!(b.validate_async("opaque-good").await.is_ok());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one endpoint call for two instances"
    );
    for token in ["opaque-unknown", "opaque-unknown"] {
        assert!(a.validate_async(token).await.is_err());
        assert!(b.validate_async(token).await.is_err());
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "an inactive answer is shared too"
    );

    // Redis keys hold no token text.
    let mut conn = redis::Client::open(url(port))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        assert!(!k.contains("opaque"), "{k}");
        let v: Value = json!(redis::cmd("GET")
            .arg(k)
            .query_async::<Option<String>>(&mut conn)
            .await
            .unwrap());
        assert!(!v.to_string().contains("opaque-good"), "{k}");
    }
}
