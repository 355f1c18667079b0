//! What [`McpScopes`](super::McpScopes) decided for a request ([`McpMessage`], in its
//! extensions), and the re-check a tool handler runs from them ([`check_tool`]).

use http::Extensions;

use super::message::TOOLS_CALL;
use crate::scope::{ScopeRequirement, Scopes};

/// What [`McpScopes`](super::McpScopes) read from a request and required of it, put into the
/// request's extensions before the MCP server sees it.
///
/// An MCP server that hands its handlers the HTTP request parts (rmcp does) can read it there;
/// [`check_tool`] does.
#[derive(Clone, Debug)]
pub struct McpMessage {
    method: Option<Box<str>>,
    tool: Option<Box<str>>,
    requirement: ScopeRequirement,
}

impl McpMessage {
    pub(super) fn new(
        method: Option<String>,
        tool: Option<String>,
        requirement: ScopeRequirement,
    ) -> Self {
        Self {
            method: method.map(String::into_boxed_str),
            tool: tool.map(String::into_boxed_str),
            requirement,
        }
    }

    /// The JSON-RPC method of a `POST`; `None` for a response or error message, and for
    /// requests without a JSON-RPC body (`GET`, `DELETE`).
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// The tool a `tools/call` names.
    pub fn tool(&self) -> Option<&str> {
        self.tool.as_deref()
    }

    /// The requirement the guard applied (and the token met).
    pub fn requirement(&self) -> &ScopeRequirement {
        &self.requirement
    }
}

/// Why [`check_tool`] refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolScopeError {
    /// No [`McpMessage`] in the extensions: the request did not pass
    /// [`McpScopesLayer`](super::McpScopesLayer).
    #[error("the tool call did not pass McpScopesLayer: add it in front of the MCP service")]
    NotGuarded,
    /// The guard read another method or another tool from the request than the handler
    /// runs for.
    #[error("the guard decided for another tool or method than the one running")]
    OtherTool,
    /// The request carries no validated token.
    #[error("no authenticated token")]
    Unauthenticated,
    /// The token lacks the tool's scopes.
    #[error("insufficient scope: this tool needs {needed}")]
    InsufficientScope {
        /// The scopes the tool needs, space-delimited (as in a challenge).
        needed: String,
    },
}

/// Re-check a tool's requirement in its handler, from the HTTP request's extensions: the
/// guard ran, decided for a `tools/call` of this very `tool`, and the token's scopes meet
/// `requirement` (with the validator's [`ScopeHierarchy`](crate::ScopeHierarchy)).
///
/// A second line of defence: a handler reached without the guard, or through a reading of
/// the request that named another tool, or a guard configured with a weaker requirement than
/// the tool's own, is refused here.
///
/// ```
/// use tower_bearer::mcp::{check_tool, ToolScopeError};
/// use tower_bearer::ScopeRequirement;
///
/// // In an rmcp tool: `Extension(parts): Extension<http::request::Parts>`.
/// let parts = http::Request::new(()).into_parts().0;
/// let admin = ScopeRequirement::all(["mcp:admin"]);
/// assert_eq!(check_tool(&parts.extensions, "admin_reset", &admin), Err(ToolScopeError::NotGuarded));
/// ```
///
/// # Errors
/// [`ToolScopeError`] says which check failed.
pub fn check_tool(
    extensions: &Extensions,
    tool: &str,
    requirement: &ScopeRequirement,
) -> Result<(), ToolScopeError> {
    let message = extensions
        .get::<McpMessage>()
        .ok_or(ToolScopeError::NotGuarded)?;
    if message.method() != Some(TOOLS_CALL) || message.tool() != Some(tool) {
        return Err(ToolScopeError::OtherTool);
    }
    let scopes = extensions
        .get::<Scopes>()
        .ok_or(ToolScopeError::Unauthenticated)?;
    if scopes.satisfies(requirement) {
        Ok(())
    } else {
        Err(ToolScopeError::InsufficientScope {
            needed: requirement.challenge_scopes(),
        })
    }
}
