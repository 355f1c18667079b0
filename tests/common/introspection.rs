//! An RFC 7662 introspection endpoint on 127.0.0.1 for the tests that need one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::Router;
use serde_json::{json, Value};

/// The endpoint's state: calls made, and the answer for each token.
type Endpoint = (Arc<AtomicUsize>, Arc<Vec<(&'static str, Value)>>);

/// An introspection endpoint on 127.0.0.1: `token` → answer (unknown tokens are inactive;
/// a JSON string is sent as it is), counting calls.
pub(crate) async fn introspection_endpoint(
    answers: Vec<(&'static str, Value)>,
) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(answers);
    let state = (calls.clone(), answers);
    let app = Router::new()
        .route(
            "/introspect",
            axum::routing::post(
                |State((calls, answers)): State<Endpoint>, body: String| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let token = body
                        .split('&')
                        .find_map(|p| p.strip_prefix("token="))
                        .unwrap_or_default()
                        .to_owned();
                    // A JSON string value is sent as it is (raw answer text).
                    match answers.iter().find(|(k, _)| *k == token) {
                        Some((_, Value::String(raw))) => raw.clone(),
                        Some((_, v)) => v.to_string(),
                        None => json!({"active": false}).to_string(),
                    }
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/introspect"), calls)
}
