//! `McpScopesLayer` in front of a real rmcp server (streamable HTTP, in process): the tool
//! handlers find the token's claims and the guard's decision in the HTTP request parts rmcp
//! hands them, and re-check their requirement there.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use http::request::Parts;
use http::Request;
use http_body_util::BodyExt;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::mcp::{check_tool, McpScopesLayer};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, ScopeRequirement, TokenClaims};

#[derive(Clone)]
struct Tools;

#[tool_router]
impl Tools {
    #[tool(description = "The token's subject")]
    async fn whoami(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(e) = check_tool(
            &parts.extensions,
            "whoami",
            &ScopeRequirement::all(["mcp:tools"]),
        ) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                e.to_string(),
            )]));
        }
        let sub = parts
            .extensions
            .get::<TokenClaims>()
            .and_then(TokenClaims::subject)
            .unwrap_or("-")
            .to_owned();
        Ok(CallToolResult::success(vec![ContentBlock::text(sub)]))
    }

    #[tool(description = "Needs mcp:admin")]
    async fn admin_reset(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(e) = check_tool(
            &parts.extensions,
            "admin_reset",
            &ScopeRequirement::all(["mcp:admin"]),
        ) {
            return Ok(CallToolResult::error(vec![ContentBlock::text(
                e.to_string(),
            )]));
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "reset done",
        )]))
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

fn app(issuer: &TestIssuer, scopes: McpScopesLayer) -> Router {
    // Stateless, JSON answers: one request, one answer.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    let mcp = StreamableHttpService::new(
        || Ok(Tools),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mcp = tower::ServiceBuilder::new()
        .layer(scopes)
        .map_response(|r: http::Response<_>| r.map(Body::new))
        .service(mcp);
    Router::new()
        .route_service("/mcp", mcp)
        .layer(BearerLayer::optional(issuer.validator()))
}

async fn call(app: &Router, token: &str, tool: &str) -> (u16, Value) {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    );
    let req = Request::post("/mcp")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Body::from(body))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), app.clone().oneshot(req))
        .await
        .unwrap()
        .unwrap();
    let status = resp.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, json)
}

fn text(answer: &Value) -> (&Value, &str) {
    let result = &answer["result"];
    (
        &result["isError"],
        result["content"][0]["text"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn rmcp_tools_see_the_claims_and_the_decision() {
    let issuer = TestIssuer::new();
    let scopes = McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"]))
        .tool("admin_reset", ScopeRequirement::all(["mcp:admin"]));
    let app = app(&issuer, scopes);
    let tools = issuer.token().scopes(["mcp:tools"]).subject("alice").sign();
    let both = issuer.token().scopes(["mcp:tools", "mcp:admin"]).sign();

    let (status, answer) = call(&app, &tools, "whoami").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(text(&answer), (&false.into(), "alice"), "{answer}");
    let (status, _) = call(&app, &tools, "admin_reset").await;
    assert_eq!(status, 403);
    let (status, answer) = call(&app, &both, "admin_reset").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(text(&answer), (&false.into(), "reset done"), "{answer}");
}

#[tokio::test]
async fn a_tool_refuses_what_a_loose_guard_let_through() {
    let issuer = TestIssuer::new();
    // No rule for admin_reset: the guard applies the default.
    let app = app(
        &issuer,
        McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"])),
    );
    let tools = issuer.token().scopes(["mcp:tools"]).sign();
    let (status, answer) = call(&app, &tools, "admin_reset").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        text(&answer),
        (
            &true.into(),
            "insufficient scope: this tool needs mcp:admin"
        ),
        "{answer}"
    );
}
