//! [`McpScopesLayer`]: scopes per MCP tool, for a Model Context Protocol server on the
//! streamable HTTP transport.
//!
//! MCP sends every call to one endpoint as a JSON-RPC message in a `POST` body, so a guard by
//! path cannot tell `tools/call whoami` from `tools/call admin_reset`. This one reads the
//! message (up to a size cap), applies the named tool's requirement to a `tools/call` and a
//! default requirement to everything else, and hands the very same bytes on.
//!
//! | situation | answer |
//! |---|---|
//! | the requirement is met | the inner service runs, with an [`McpMessage`] in the extensions |
//! | scopes missing it | `403`, `error="insufficient_scope"`, `scope="<the tool's scopes>"` (+ `resource_metadata`), so the client can step up |
//! | unauthenticated (optional mode) | `401` with the default requirement's `scope="…"`, before the body is read |
//! | a batch, a repeated key (`method`, `params`, `params.name`, …), not one JSON object, a `tools/call` without a string `params.name` | `400 invalid_request` |
//! | a body over the cap (by `Content-Length`, or once read) | `400 invalid_request` |
//! | no `BearerLayer` in front | `500 server_error` |
//!
//! Only `POST` carries a JSON-RPC message; `GET` (the server's event stream) and `DELETE`
//! (end of session) need the default requirement and keep their bodies untouched.
//!
//! A tool handler re-checks its own requirement with [`check_tool`], from the HTTP request
//! parts its MCP server hands it.
//!
//! ```
//! use axum::Router;
//! use tower_bearer::mcp::{McpBody, McpScopesLayer};
//! use tower_bearer::{BearerLayer, ScopeRequirement};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//! # let mcp_service = tower::service_fn(|_req: http::Request<McpBody<axum::body::Body>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
//! # });
//! let scopes = McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"]))
//!     .tool("admin_reset", ScopeRequirement::all(["mcp:admin"]));
//! let app: Router = Router::new()
//!     .route_service("/mcp", tower::ServiceBuilder::new().layer(scopes).service(mcp_service))
//!     // Optional mode: a request without a token reaches the guard, whose 401 names the scope.
//!     .layer(BearerLayer::optional(validator));
//! ```
//!
//! Rejections are written into the inner service's response body type, which must be
//! `From<Bytes>`; rmcp's `StreamableHttpService` answers with a boxed body, so map it
//! (`ServiceBuilder::map_response(|r| r.map(axum::body::Body::new))`), as
//! `examples/mcp_server.rs` does. Give the MCP server a body cap no smaller than this
//! guard's ([`McpScopesLayer::limit`]).

mod check;
mod message;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use tower_layer::Layer;
use tower_service::Service;

pub use check::{check_tool, McpMessage, ToolScopeError};

use super::require_scope::{reject, ScopeGuard};
use crate::error::ConfigError;
use crate::reject::render::Render;
use crate::reject::Rejection;
use crate::scope::Scopes;

/// The default cap on a buffered JSON-RPC message: 1 MiB.
pub const DEFAULT_MCP_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Debug)]
struct Config {
    default: ScopeGuard,
    /// Sorted by name, for a binary search.
    tools: Vec<(Box<str>, ScopeGuard)>,
    limit: usize,
}

impl Config {
    fn guard(&self, tool: Option<&str>) -> &ScopeGuard {
        tool.and_then(|t| {
            self.tools
                .binary_search_by(|(name, _)| (**name).cmp(t))
                .ok()
        })
        .map_or(&self.default, |at| &self.tools[at].1)
    }
}

/// Scope requirements per MCP tool; see the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct McpScopesLayer {
    config: Arc<Config>,
}

impl McpScopesLayer {
    /// Every message needs `default` (`ScopeRequirement::all(["mcp:tools"])`, say), except a
    /// `tools/call` of a tool given its own requirement with [`tool`](Self::tool). Tools
    /// without a rule get `default`.
    pub fn new(default: impl Into<ScopeGuard>) -> Self {
        Self {
            config: Arc::new(Config {
                default: default.into(),
                tools: Vec::new(),
                limit: DEFAULT_MCP_BODY_LIMIT,
            }),
        }
    }

    /// A `tools/call` of the tool `name` needs `requirement` instead of the default. Its 403
    /// names this requirement's scopes.
    ///
    /// # Panics
    /// If `name` is empty or already has a rule; see [`try_tool`](Self::try_tool).
    #[track_caller]
    pub fn tool(self, name: impl AsRef<str>, requirement: impl Into<ScopeGuard>) -> Self {
        self.try_tool(name, requirement)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A `tools/call` of the tool `name` needs `requirement`.
    ///
    /// # Errors
    /// If `name` is empty or already has a rule.
    pub fn try_tool(
        mut self,
        name: impl AsRef<str>,
        requirement: impl Into<ScopeGuard>,
    ) -> Result<Self, ConfigError> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(ConfigError::Invalid("MCP tool name is empty".into()));
        }
        let config = Arc::make_mut(&mut self.config);
        match config.tools.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(_) => {
                return Err(ConfigError::Invalid(
                    format!("MCP tool {name:?} has two rules").into(),
                ))
            }
            Err(at) => config.tools.insert(at, (name.into(), requirement.into())),
        }
        Ok(self)
    }

    /// The largest JSON-RPC message buffered (default [`DEFAULT_MCP_BODY_LIMIT`]); a larger
    /// one is answered `400 invalid_request`. Keep it no larger than the MCP server's own cap,
    /// so that a message the guard read is one the server reads too.
    pub fn limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).limit = bytes;
        self
    }

    /// The requirement a `tools/call` of `tool` gets (the default for a tool without a rule).
    pub fn requirement(&self, tool: &str) -> &crate::ScopeRequirement {
        self.config.guard(Some(tool)).requirement()
    }

    /// Every guard, the default first, e.g. to list their scopes in RFC 9728 metadata
    /// (`scopes_from_guards`).
    pub fn guards(&self) -> impl Iterator<Item = &ScopeGuard> {
        std::iter::once(&self.config.default).chain(self.config.tools.iter().map(|(_, g)| g))
    }
}

impl<S> Layer<S> for McpScopesLayer {
    type Service = McpScopes<S>;

    fn layer(&self, inner: S) -> Self::Service {
        McpScopes {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service produced by [`McpScopesLayer`]. A `POST` reaches the inner service with the
/// buffered body (`Either::Left`); other methods with their own (`Either::Right`).
#[derive(Clone)]
pub struct McpScopes<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for McpScopes<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpScopes")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

impl<S> McpScopes<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The response future of [`McpScopes`].
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

/// The request body the inner service of [`McpScopes`] receives.
pub type McpBody<B> = Either<Full<Bytes>, B>;

fn invalid<ResBody: From<Bytes>>(
    parts: http::request::Parts,
    description: &'static str,
) -> Response<ResBody> {
    let render = crate::bearer::context::context(&parts.extensions)
        .cloned()
        .unwrap_or_else(|| Arc::new(Render::default()));
    let req = Request::from_parts(parts, ());
    reject(&req, &Rejection::invalid_request(description), &render)
}

impl<S, B, ResBody> Service<Request<B>> for McpScopes<S>
where
    S: Service<Request<McpBody<B>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let config = self.config.clone();
        // Unauthenticated (or no layer in front): answer before reading a byte of the body.
        if req.extensions().get::<Scopes>().is_none() {
            if let Err((rejection, render)) = config.default.check_rejection(req.extensions()) {
                let response = reject(&req, &rejection, &render);
                return Box::pin(std::future::ready(Ok(response)));
            }
        }
        if req.method() != Method::POST {
            let response = match config.default.check_rejection(req.extensions()) {
                Ok(()) => {
                    let requirement = config.default.requirement().clone();
                    req.extensions_mut()
                        .insert(McpMessage::new(None, None, requirement));
                    return Box::pin(self.inner.call(req.map(Either::Right)));
                }
                Err((rejection, render)) => reject(&req, &rejection, &render),
            };
            return Box::pin(std::future::ready(Ok(response)));
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > config.limit as u64) {
            let (parts, _) = req.into_parts();
            let response = invalid(parts, "JSON-RPC message too large");
            return Box::pin(std::future::ready(Ok(response)));
        }
        // The ready service goes into the future; a fresh clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let bytes = match Limited::new(body, config.limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(invalid(parts, "JSON-RPC message too large or unreadable"));
                }
            };
            let message = match message::parse(&bytes) {
                Ok(message) => message,
                Err(description) => return Ok(invalid(parts, description)),
            };
            let guard = config.guard(message.tool.as_deref());
            if let Err((rejection, render)) = guard.check_rejection(&parts.extensions) {
                let req = Request::from_parts(parts, ());
                return Ok(reject(&req, &rejection, &render));
            }
            let requirement = guard.requirement().clone();
            parts
                .extensions
                .insert(McpMessage::new(message.method, message.tool, requirement));
            inner
                .call(Request::from_parts(parts, Either::Left(Full::new(bytes))))
                .await
        })
    }
}
