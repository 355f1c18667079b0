//! The `metrics` feature: what each request, key fetch, cache lookup, introspection call and
//! replayed proof records, through a real recorder; and that no label carries a token or a
//! claim value.

#[path = "common/introspection.rs"]
mod introspection_endpoint;
#[path = "common/snapshot.rs"]
mod snapshot;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use metrics_util::debugging::DebuggingRecorder;
use serde_json::json;
use snapshot::read;
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;
use tower_bearer::introspect::Introspection;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::{DpopClient, TestIssuer, TEST_AUDIENCE, TEST_ISSUER};
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer, Validator};

/// Run `test` on one thread with its own recorder, and read what it recorded.
fn recorded<F: std::future::Future<Output = ()>>(
    test: impl FnOnce() -> F,
) -> BTreeMap<String, f64> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test());
    });
    read(&snapshotter)
}

async fn status(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

fn get_with(path: &str, token: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.body(Body::empty()).unwrap()
}

const SUBJECT: &str = "alice-7f3e";

#[test]
fn requests_are_counted_by_outcome_error_and_status() {
    let issuer = TestIssuer::new();
    let valid = issuer
        .token()
        .scopes(["users:read"])
        .subject(SUBJECT)
        .sign();
    let narrow = issuer.token().scopes(["other"]).subject(SUBJECT).sign();
    let expired = issuer.token().subject(SUBJECT).expired().sign();
    let forged = issuer.token().subject(SUBJECT).forged().sign();
    let tokens = [
        valid.clone(),
        narrow.clone(),
        expired.clone(),
        forged.clone(),
    ];
    let metrics = recorded(|| async move {
        let validator = issuer.validator_builder().token_cache(16).build().unwrap();
        let app = Router::new()
            .route(
                "/users",
                get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
            )
            .layer(BearerLayer::new(validator.clone()));
        let optional = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(BearerLayer::optional(validator));
        assert_eq!(status(&app, get_with("/users", Some(&valid))).await, 200);
        assert_eq!(status(&app, get_with("/users", Some(&valid))).await, 200);
        assert_eq!(status(&app, get_with("/users", Some(&narrow))).await, 403);
        assert_eq!(status(&app, get_with("/users", Some(&expired))).await, 401);
        assert_eq!(status(&app, get_with("/users", Some(&forged))).await, 401);
        assert_eq!(status(&app, get_with("/users", None)).await, 401);
        assert_eq!(status(&app, get_with("/users", Some("a b"))).await, 400);
        assert_eq!(status(&optional, get_with("/", None)).await, 200);
    });
    let expect = snapshot::USERS_REQUESTS.into_iter().chain([
        ("tower_bearer_requests_total{outcome=unauthenticated}", 1.0),
        // Every request the layer decided: seven on `app`, one on `optional`.
        ("tower_bearer_validation_seconds{}", 8.0),
    ]);
    for (name, value) in expect {
        assert_eq!(metrics.get(name), Some(&value), "{name} in {metrics:#?}");
    }
    // The public constants name what is recorded.
    use tower_bearer::metrics::{
        GUARD_REJECTIONS, REQUESTS, TOKEN_CACHE, TOKEN_ERRORS, VALIDATION_SECONDS,
    };
    for name in [
        REQUESTS,
        TOKEN_ERRORS,
        GUARD_REJECTIONS,
        TOKEN_CACHE,
        VALIDATION_SECONDS,
    ] {
        assert!(
            metrics.keys().any(|k| k.starts_with(&format!("{name}{{"))),
            "{name}"
        );
    }
    // Misses: the first `valid`, `narrow`, `expired`, `forged` and the malformed one.
    assert_eq!(metrics["tower_bearer_token_cache_total{result=miss}"], 5.0);
    no_secret_in_labels(&metrics, &tokens);
}

/// Label values come from a fixed vocabulary: no token, no subject, no claim value.
fn no_secret_in_labels(metrics: &BTreeMap<String, f64>, tokens: &[String]) {
    for name in metrics.keys() {
        for token in tokens {
            for part in token.split('.') {
                assert!(!name.contains(part), "{name} carries a token");
            }
        }
        assert!(!name.contains(SUBJECT), "{name} carries a claim value");
        let labels = name.split_once('{').unwrap().1.trim_end_matches('}');
        for label in labels.split(',').filter(|l| !l.is_empty()) {
            let value = label.split_once('=').unwrap().1;
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}: label values are fixed identifiers"
            );
        }
    }
}

#[test]
fn a_replayed_dpop_proof_is_counted() {
    let issuer = TestIssuer::new();
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let proof = client.proof("GET", "http://api.test/me", &token);
    let metrics = recorded(|| async move {
        let dpop = Dpop::required()
            .public_base_url("http://api.test")
            .build()
            .unwrap();
        let app = Router::new()
            .route("/me", get(|| async { "ok" }))
            .layer(BearerLayer::new(issuer.validator()).dpop(dpop));
        for expected in [200, 401] {
            let req = Request::get("/me")
                .header("authorization", format!("DPoP {token}"))
                .header("dpop", &proof)
                .body(Body::empty())
                .unwrap();
            assert_eq!(status(&app, req).await, expected);
        }
    });
    assert_eq!(metrics["tower_bearer_dpop_replays_refused_total{}"], 1.0);
    let name = tower_bearer::metrics::DPOP_REPLAYS;
    assert!(metrics.contains_key(&format!("{name}{{}}")));
    assert_eq!(
        metrics
            ["tower_bearer_requests_total{error=invalid_dpop_proof,outcome=rejected,status=401}"],
        1.0
    );
}

#[test]
fn introspection_calls_are_counted_by_outcome() {
    const ACTIVE: &str = "Xk2vq8NnR4tYb7LmP0sWc3HdJ9fGa1Ue";
    const INACTIVE: &str = "Qw3eR5tY7uI9oP1aS3dF5gH7jK9lZ1xC";
    let metrics = recorded(|| async move {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let answer = json!({
            "active": true, "scope": "users:read", "sub": SUBJECT, "iss": TEST_ISSUER,
            "aud": TEST_AUDIENCE, "exp": now + 600, "token_type": "Bearer",
        });
        let (url, _calls) =
            introspection_endpoint::introspection_endpoint(vec![(ACTIVE, answer)]).await;
        let intro = Introspection::builder("rs", "secret")
            .endpoint(url)
            .remote_options(RemoteOptions::new().allow_http(true))
            .build()
            .unwrap();
        let validator = Validator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
            .introspection(intro)
            .build()
            .unwrap();
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(BearerLayer::new(validator));
        assert_eq!(status(&app, get_with("/", Some(ACTIVE))).await, 200);
        // Cached: no second call.
        assert_eq!(status(&app, get_with("/", Some(ACTIVE))).await, 200);
        assert_eq!(status(&app, get_with("/", Some(INACTIVE))).await, 401);
    });
    assert_eq!(
        metrics["tower_bearer_introspection_requests_total{outcome=active}"],
        1.0
    );
    assert_eq!(
        metrics["tower_bearer_introspection_requests_total{outcome=inactive}"],
        1.0
    );
    no_secret_in_labels(&metrics, &[ACTIVE.into(), INACTIVE.into()]);
    let name = tower_bearer::metrics::INTROSPECTIONS;
    assert!(metrics.keys().any(|k| k.starts_with(&format!("{name}{{"))));
}

#[test]
fn key_fetches_and_the_key_set_age_are_recorded() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let jwks = issuer.jwks();
    let metrics = recorded(|| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let keys = Router::new().route("/jwks", get(move || async move { jwks }));
        tokio::spawn(async move { axum::serve(listener, keys).await });
        let validator = Validator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
            .jwks_url(format!("http://{addr}/jwks"))
            .remote_options(RemoteOptions::new().allow_http(true))
            .build()
            .unwrap();
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(BearerLayer::new(validator));
        assert_eq!(status(&app, get_with("/", Some(&token))).await, 200);
        assert_eq!(status(&app, get_with("/", Some(&token))).await, 200);
        // A key source that is down.
        let down = Validator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
            .jwks_url("http://127.0.0.1:9/jwks")
            .remote_options(
                RemoteOptions::new()
                    .allow_http(true)
                    .timeout(Duration::from_millis(300)),
            )
            .build()
            .unwrap();
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(BearerLayer::new(down));
        assert_eq!(status(&app, get_with("/", Some(&token))).await, 503);
    });
    assert_eq!(metrics["tower_bearer_jwks_fetches_total{outcome=ok}"], 1.0);
    assert!(metrics["tower_bearer_jwks_fetches_total{outcome=error}"] >= 1.0);
    for name in [
        tower_bearer::metrics::JWKS_FETCHES,
        tower_bearer::metrics::KEY_SET_AGE,
    ] {
        assert!(
            metrics.keys().any(|k| k.starts_with(&format!("{name}{{"))),
            "{name}"
        );
    }
    let age = metrics["tower_bearer_key_set_age_seconds{}"];
    assert!((0.0..5.0).contains(&age), "age {age}");
    assert_eq!(
        metrics["tower_bearer_requests_total{error=temporarily_unavailable,outcome=rejected,status=503}"],
        1.0
    );
    assert_eq!(
        metrics["tower_bearer_token_errors_total{reason=keys_unavailable}"],
        1.0
    );
}

#[test]
fn describe_names_every_metric() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    use tower_bearer::metrics::*;
    metrics::with_local_recorder(&recorder, || {
        describe();
        // Descriptions show in a snapshot once a metric exists: make all nine exist.
        for name in [
            REQUESTS,
            TOKEN_ERRORS,
            GUARD_REJECTIONS,
            JWKS_FETCHES,
            TOKEN_CACHE,
            INTROSPECTIONS,
            DPOP_REPLAYS,
        ] {
            metrics::counter!(name).increment(1);
        }
        metrics::gauge!(KEY_SET_AGE).set(1.0);
        metrics::histogram!(VALIDATION_SECONDS).record(0.001);
    });
    let snapshot = snapshotter.snapshot().into_vec();
    assert_eq!(snapshot.len(), 9);
    for (key, unit, description, _) in snapshot {
        assert!(
            description.is_some(),
            "{:?} has a description",
            key.key().name()
        );
        if [VALIDATION_SECONDS, KEY_SET_AGE].contains(&key.key().name()) {
            assert_eq!(unit, Some(metrics::Unit::Seconds));
        }
    }
}
