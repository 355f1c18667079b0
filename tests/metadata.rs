//! RFC 9728 protected-resource metadata: the document, its well-known path, and the
//! `resource_metadata` parameter in every challenge.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer};

const URL: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

fn app(issuer: &TestIssuer) -> (Router, ResourceMetadata) {
    let users = RequireScopeLayer::all(["users:read"]);
    let metadata = ResourceMetadata::builder("https://api.example.com/mcp")
        .authorization_server(issuer.issuer_id())
        .scopes_from_guards([users.guard()])
        .resource_name("Example")
        .build()
        .unwrap();
    let router = Router::new()
        .route("/mcp/users", get(|| async { "users" }).route_layer(users))
        .layer(BearerLayer::new(issuer.validator()).resource_metadata(&metadata))
        .layer(metadata.layer());
    (router, metadata)
}

async fn send(
    app: &Router,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, challenge, body)
}

#[tokio::test]
async fn document_is_served_at_the_well_known_path_without_a_token() {
    let issuer = TestIssuer::new();
    let (app, metadata) = app(&issuer);
    assert_eq!(metadata.url(), URL);
    let (status, challenge, body) = send(&app, metadata.path(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(challenge, None);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "resource": "https://api.example.com/mcp",
            "authorization_servers": [issuer.issuer_id()],
            "scopes_supported": ["users:read"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Example"
        })
    );
}

#[tokio::test]
async fn unauthenticated_challenge_names_the_metadata() {
    let (app, _) = app(&TestIssuer::new());
    let (status, challenge, _) = send(&app, "/mcp/users", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.unwrap(),
        format!("Bearer resource_metadata=\"{URL}\"")
    );
}

#[tokio::test]
async fn invalid_token_challenge_names_the_metadata() {
    let issuer = TestIssuer::new();
    let (app, _) = app(&issuer);
    let (status, challenge, _) =
        send(&app, "/mcp/users", Some(&issuer.token().expired().sign())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.unwrap(),
        format!("Bearer error=\"invalid_token\", error_description=\"token expired\", resource_metadata=\"{URL}\"")
    );
}

#[tokio::test]
async fn insufficient_scope_challenge_names_scope_and_metadata() {
    let issuer = TestIssuer::new();
    let (app, _) = app(&issuer);
    let token = issuer.token().scopes(["other"]).sign();
    let (status, challenge, _) = send(&app, "/mcp/users", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge.unwrap(),
        format!("Bearer error=\"insufficient_scope\", error_description=\"insufficient scope\", scope=\"users:read\", resource_metadata=\"{URL}\"")
    );
}

#[tokio::test]
async fn other_methods_on_the_document_are_405() {
    let (app, metadata) = app(&TestIssuer::new());
    let req = Request::post(metadata.path()).body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
}
