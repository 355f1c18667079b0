//! An MCP server (rmcp, streamable HTTP at `/mcp`) as an OAuth 2.0 resource server, set up
//! the way the Model Context Protocol's authorization spec asks. The README's "MCP servers"
//! section maps each requirement to the line that meets it.
//!
//! ```text
//! RS_ISSUER=https://auth.example.com cargo run --example mcp_server
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `RS_BIND` | listen address (default `127.0.0.1:3000`; `127.0.0.1:0` picks a port) |
//! | `RS_ISSUER` | the authorization server (required): expected `iss`, keys by discovery, and the metadata's `authorization_servers` |
//! | `RS_RESOURCE` | the MCP endpoint's URL: this server's resource identifier and the audience its tokens must name (default `http://ADDR/mcp`, the bound address) |
//! | `RS_ALLOW_HTTP` | `1` permits a plain-http issuer (loopback tests); otherwise https only |
//!
//! Tools: `whoami` (needs `mcp:tools`) answers the token's subject, or its client id;
//! `admin_reset` needs `mcp:admin`, which also grants `mcp:tools`. Every other message, and
//! the `GET`/`DELETE` of the transport, needs `mcp:tools`.
//!
//! Once it accepts connections it prints `listening on http://ADDR` on stdout. A bad
//! configuration exits with status 2 and one line on stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use http::request::Parts;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use tower_bearer::mcp::{check_tool, McpScopesLayer, DEFAULT_MCP_BODY_LIMIT};
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::{BearerLayer, ScopeHierarchy, ScopeRequirement, TokenClaims, Validator};

/// The tools. rmcp hands each call the HTTP request's parts, where `BearerLayer` put the
/// token's claims and scopes and `McpScopesLayer` its decision.
#[derive(Clone)]
struct Tools;

fn refused(e: tower_bearer::mcp::ToolScopeError) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::error(vec![ContentBlock::text(
        e.to_string(),
    )]))
}

#[tool_router]
impl Tools {
    /// Who the token speaks for.
    #[tool(description = "The token's subject, or its client id")]
    async fn whoami(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        // The guard in front already checked this; a handler checks its own requirement too.
        if let Err(e) = check_tool(
            &parts.extensions,
            "whoami",
            &ScopeRequirement::all(["mcp:tools"]),
        ) {
            return refused(e);
        }
        let claims = parts.extensions.get::<TokenClaims>();
        let who = claims
            .and_then(|c| c.subject().or_else(|| c.client_id()))
            .unwrap_or("(no subject)");
        Ok(CallToolResult::success(vec![ContentBlock::text(who)]))
    }

    /// An administrative action (a no-op here).
    #[tool(description = "Reset the server's state (needs mcp:admin)")]
    async fn admin_reset(
        &self,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(e) = check_tool(
            &parts.extensions,
            "admin_reset",
            &ScopeRequirement::all(["mcp:admin"]),
        ) {
            return refused(e);
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
            .with_instructions("tower-bearer MCP example: whoami, admin_reset")
    }
}

struct Config {
    bind: SocketAddr,
    issuer: String,
    resource: Option<String>,
    allow_http: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn config() -> Result<Config, String> {
    let bind = var("RS_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
    let bind = bind
        .parse()
        .map_err(|_| format!("RS_BIND={bind:?} is not an address (127.0.0.1:3000)"))?;
    let issuer = var("RS_ISSUER").ok_or("RS_ISSUER is required")?;
    let allow_http = match var("RS_ALLOW_HTTP").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(format!("RS_ALLOW_HTTP={other:?} must be 0 or 1")),
    };
    Ok(Config {
        bind,
        issuer,
        resource: var("RS_RESOURCE"),
        allow_http,
    })
}

/// The server, for the resource identifier `resource` (the MCP endpoint's URL).
fn app(config: &Config, resource: &str) -> Result<(Router, Validator), String> {
    // Tool scopes: `admin_reset` needs mcp:admin; every other message needs mcp:tools.
    let scopes = McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"]))
        .tool("admin_reset", ScopeRequirement::all(["mcp:admin"]));
    // RFC 9728: the resource, its authorization server and scopes; served outside the
    // bearer layer, at /.well-known/oauth-protected-resource/mcp.
    let metadata = ResourceMetadata::builder(resource)
        .authorization_server(&config.issuer)
        .scopes_from_guards(scopes.guards())
        .resource_name("tower-bearer MCP example")
        .build()
        .map_err(|e| format!("RS_RESOURCE: {e}"))?;
    // The audience is this server's own resource URL: a token issued for any other resource
    // is refused. Keys come from the issuer's discovery document.
    let validator = Validator::builder()
        .issuer(&config.issuer)
        .audience(resource)
        .discover()
        .remote_options(RemoteOptions::new().allow_http(config.allow_http))
        .scope_hierarchy(ScopeHierarchy::new().implies("mcp:admin", ["mcp:tools"]))
        .build()
        .map_err(|e| e.to_string())?;
    // rmcp refuses Host headers it does not know (DNS rebinding): allow the resource's host.
    // Its body cap is the guard's, so that every message the guard read is one rmcp reads.
    let host = resource
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .ok_or_else(|| format!("RS_RESOURCE={resource:?} is not an absolute URL"))?;
    let mcp = StreamableHttpService::new(
        || Ok(Tools),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .with_allowed_hosts([host])
            .with_max_request_body_bytes(DEFAULT_MCP_BODY_LIMIT),
    );
    let mcp = tower::ServiceBuilder::new()
        .layer(scopes)
        .map_response(|r: http::Response<_>| r.map(axum::body::Body::new))
        .service(mcp);
    let router = Router::new()
        .route_service("/mcp", mcp)
        // Optional mode: a request without a token reaches the guard, whose 401 names the
        // scope; every challenge names the metadata document (resource_metadata).
        .layer(BearerLayer::optional(validator.clone()).resource_metadata(&metadata))
        .layer(metadata.layer());
    Ok((router, validator))
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("mcp_server: configuration error: {e}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let config = config().unwrap_or_else(|e| fail(e));
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .unwrap_or_else(|e| fail(format_args!("cannot bind {}: {e}", config.bind)));
    let addr = listener.local_addr().map_or(config.bind, |a| a);
    let resource = config
        .resource
        .clone()
        .unwrap_or_else(|| format!("http://{addr}/mcp"));
    let (app, validator) = app(&config, &resource).unwrap_or_else(|e| fail(e));
    // Load keys in the background; until then the endpoint answers 503.
    tokio::spawn(async move {
        if let Err(e) = validator.warm_up().await {
            eprintln!("mcp_server: keys not loaded yet ({e}); answering 503 until they are");
        }
    });
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("mcp_server: server error: {e}");
        std::process::exit(1);
    }
}
