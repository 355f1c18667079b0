//! The `tracing` feature: one event per rejection, with its reason and route, at debug level
//! (warn for server-side problems), and never the token.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::Request;
use tower::ServiceExt;
use tower_bearer::testing::TestIssuer;
use tower_bearer::RequireScopeLayer;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

async fn send(app: &Router, uri: &str, token: Option<&str>) -> u16 {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn one_event_per_rejection_without_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let issuer = TestIssuer::new();
    let protected: Router = Router::new()
        .route(
            "/users",
            get(|| async { "users" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(issuer.layer());
    let unlayered: Router = Router::new().route(
        "/orphan",
        get(|| async { "x" }).route_layer(RequireScopeLayer::all(["users:read"])),
    );

    let good = issuer.token().scopes(["users:read"]).sign();
    let expired = issuer.token().scopes(["users:read"]).expired().sign();
    let forged = issuer.token().forged().sign();
    let unscoped = issuer.token().sign();

    assert_eq!(send(&protected, "/users", Some(&good)).await, 200);
    assert_eq!(
        send(
            &protected,
            "/users?access_token=secret-in-query",
            Some(&expired)
        )
        .await,
        401
    );
    assert_eq!(send(&protected, "/users", Some(&forged)).await, 401);
    assert_eq!(send(&protected, "/users", Some(&unscoped)).await, 403);
    assert_eq!(send(&unlayered, "/orphan", None).await, 500);

    let logs = captured.text();
    let events: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("bearer request rejected"))
        .collect();
    assert_eq!(
        events.len(),
        4,
        "one per rejection, none for the accepted request:\n{logs}"
    );
    assert!(
        events[0].contains("DEBUG") && events[0].contains("token expired"),
        "{}",
        events[0]
    );
    assert!(
        events[0].contains("path=\"/users\"") || events[0].contains("path=/users"),
        "{}",
        events[0]
    );
    assert!(events[1].contains("invalid signature"), "{}", events[1]);
    assert!(events[2].contains("insufficient_scope"), "{}", events[2]);
    assert!(
        events[3].contains("WARN") && events[3].contains("server_error"),
        "{}",
        events[3]
    );

    for token in [&good, &expired, &forged, &unscoped] {
        for segment in token.split('.') {
            assert!(
                !logs.contains(segment),
                "a token segment leaked into the logs"
            );
        }
    }
    assert!(
        !logs.contains("secret-in-query"),
        "the query string leaked into the logs"
    );
}
