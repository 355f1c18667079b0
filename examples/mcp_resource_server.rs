//! A resource server set up the way the Model Context Protocol's authorization spec
//! (2025-11-25, kept by 2026-07-28) asks of an MCP server. The README's "MCP" section maps
//! each requirement to the line that meets it.
//!
//! ```text
//! cargo run --example mcp_resource_server              # self-test on loopback, then exit
//! cargo run --example mcp_resource_server -- --serve   # keep serving; prints a token
//! ```
//!
//! The tour calls the server like an MCP client would: first without a token (401 naming the
//! metadata document and the scope), then fetches the metadata, then calls with a token that
//! lacks the scope (403), a token for another resource (401), and a good one (200).

use std::future::IntoFuture;

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer, ScopeHierarchy, TokenClaims};

/// The MCP endpoint: a JSON-RPC echo of `tools/list`, enough to show the authorization flow.
async fn mcp(claims: TokenClaims, Json(request): Json<Value>) -> Json<Value> {
    Json(json!({
        "jsonrpc": "2.0",
        "id": request.get("id").cloned().unwrap_or(Value::Null),
        "result": { "tools": [], "caller": claims.subject() },
    }))
}

fn app(issuer: &TestIssuer, resource: &str) -> Result<Router, tower_bearer::ConfigError> {
    // The scope this server's tools need; `mcp:admin` implies it (the 2026 revision asks
    // servers to honour such hierarchies).
    let tools = RequireScopeLayer::all(["mcp:tools"]);
    let metadata = ResourceMetadata::builder(resource)
        .authorization_server(issuer.issuer_id())
        .scopes_from_guards([tools.guard()])
        .resource_name("tower-bearer MCP example")
        .build()?;
    let validator = issuer
        .validator_builder()
        .scope_hierarchy(ScopeHierarchy::new().implies("mcp:admin", ["mcp:tools"]))
        .build()?;
    Ok(Router::new()
        .route("/mcp", post(mcp).route_layer(tools))
        // Optional mode: an unauthenticated request reaches the guard, whose 401 names the
        // scope the client should ask for, next to resource_metadata.
        .layer(BearerLayer::optional(validator).resource_metadata(&metadata))
        .layer(metadata.layer()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // The audience is this server's resource identifier (RFC 8707): tokens minted for any
    // other resource are refused.
    let resource = format!("http://127.0.0.1:{}/mcp", addr.port());
    let issuer = TestIssuer::new().audience(resource.clone());
    let server = tokio::spawn(axum::serve(listener, app(&issuer, &resource)?).into_future());

    if std::env::args().any(|a| a == "--serve") {
        println!("listening on http://{addr}");
        println!("token: {}", issuer.token().scopes(["mcp:tools"]).sign());
        server.await??;
        return Ok(());
    }

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let call = |method: &'static str, path: String, token: Option<String>| {
        let client = client.clone();
        async move {
            let mut req = http::Request::builder()
                .method(method)
                .uri(format!("http://{addr}{path}"))
                .header("content-type", "application/json");
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
            let resp = client
                .request(req.body(http_body_util::Full::new(bytes::Bytes::from(body)))?)
                .await?;
            let status = resp.status();
            let challenge = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await?
                .to_bytes();
            Ok::<_, Box<dyn std::error::Error>>((status, challenge, body))
        }
    };
    let metadata_path = "/.well-known/oauth-protected-resource/mcp".to_owned();
    let other_resource = TestIssuer::new().audience("https://elsewhere.example/mcp");
    let cases = [
        ("no token", "POST", "/mcp".to_owned(), None),
        ("metadata document", "GET", metadata_path, None),
        (
            "token without mcp:tools",
            "POST",
            "/mcp".to_owned(),
            Some(issuer.token().scopes(["profile"]).sign()),
        ),
        (
            "token for another resource",
            "POST",
            "/mcp".to_owned(),
            Some(other_resource.token().scopes(["mcp:tools"]).sign()),
        ),
        (
            "token with mcp:admin",
            "POST",
            "/mcp".to_owned(),
            Some(issuer.token().scopes(["mcp:admin"]).sign()),
        ),
    ];
    for (label, method, path, token) in cases {
        let (status, challenge, body) = call(method, path, token).await?;
        println!("{label:<28} -> {status}");
        if let Some(c) = challenge {
            println!("{:<28}    WWW-Authenticate: {c}", "");
        }
        println!("{:<28}    {}", "", String::from_utf8_lossy(&body));
    }
    server.abort();
    Ok(())
}
