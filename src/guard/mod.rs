//! Guards: what a route needs of an authenticated request. [`RequireScope`](require_scope)
//! as a layer and, with feature `axum`, as extractors; [`ScopeMapLayer`](scope_map) for
//! requirements by path (a gRPC server's methods); [`McpScopesLayer`](mcp) for requirements
//! per tool of an MCP server.

#[cfg(feature = "axum")]
pub mod extract;
pub mod mcp;
pub mod require_scope;
pub mod scope_map;
