//! The `metrics` feature with a global recorder and `describe()`: the per-request metrics are
//! registered once, so requests cost the recorder no lookup, and they still count the same;
//! a thread's local recorder in force meanwhile gets its own. One test: a process has one
//! global recorder.

#[path = "common/snapshot.rs"]
mod snapshot;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::Request;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::debugging::DebuggingRecorder;
use snapshot::read;
use tower::ServiceExt;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer};

/// A recorder that counts the lookups made of it.
struct Counting {
    inner: DebuggingRecorder,
    lookups: Arc<AtomicUsize>,
}

impl Recorder for Counting {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }
    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }
    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.register_counter(key, metadata)
    }
    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.register_gauge(key, metadata)
    }
    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.register_histogram(key, metadata)
    }
}

fn get_with(token: Option<&str>) -> Request<Body> {
    let mut req = Request::get("/users");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.body(Body::empty()).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn after_describe_requests_cost_the_global_recorder_no_lookup() {
    let inner = DebuggingRecorder::new();
    let snapshotter = inner.snapshotter();
    let lookups = Arc::new(AtomicUsize::new(0));
    metrics::set_global_recorder(Counting {
        inner,
        lookups: lookups.clone(),
    })
    .expect("the only global recorder");
    tower_bearer::metrics::describe();
    let registered = lookups.load(Ordering::SeqCst);
    assert!(
        registered > 20,
        "describe() registered {registered} handles"
    );

    let issuer = TestIssuer::new();
    let valid = issuer.token().scopes(["users:read"]).sign();
    let narrow = issuer.token().scopes(["other"]).sign();
    let expired = issuer.token().expired().sign();
    let forged = issuer.token().forged().sign();
    let validator = issuer.validator_builder().token_cache(16).build().unwrap();
    let app = Router::new()
        .route(
            "/users",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(validator));
    let status = |token: Option<&str>| {
        block_on(app.clone().oneshot(get_with(token)))
            .unwrap()
            .status()
    };
    assert_eq!(status(Some(&valid)), 200);
    assert_eq!(status(Some(&valid)), 200);
    assert_eq!(status(Some(&narrow)), 403);
    assert_eq!(status(Some(&expired)), 401);
    assert_eq!(status(Some(&forged)), 401);
    assert_eq!(status(None), 401);
    assert_eq!(status(Some("a b")), 400);
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        registered,
        "requests looked metrics up in the global recorder"
    );

    let global = read(&snapshotter);
    let expect = snapshot::USERS_REQUESTS.into_iter().chain([
        ("tower_bearer_token_cache_total{result=miss}", 5.0),
        ("tower_bearer_validation_seconds{}", 7.0),
    ]);
    for (name, value) in expect {
        assert_eq!(global.get(name), Some(&value), "{name} in {global:#?}");
    }

    // A thread's local recorder is the one in force: it gets the request, the global does not.
    let local = DebuggingRecorder::new();
    let local_snapshot = local.snapshotter();
    metrics::with_local_recorder(&local, || assert_eq!(status(Some(&forged)), 401));
    let local = read(&local_snapshot);
    assert_eq!(
        local.get("tower_bearer_token_errors_total{reason=invalid_signature}"),
        Some(&1.0),
        "{local:#?}"
    );
    assert_eq!(
        local.get("tower_bearer_validation_seconds{}"),
        Some(&1.0),
        "{local:#?}"
    );
    // (A snapshot takes the counts since the previous one.)
    let since = read(&snapshotter);
    assert!(
        since.values().all(|&n| n == 0.0),
        "the global recorder counted it too: {since:#?}"
    );
}
