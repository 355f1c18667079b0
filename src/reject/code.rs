//! [`ErrorCode`]: the `error` of an RFC 6750 answer.

use std::fmt;

use http::StatusCode;

/// The `error` code of a rejection (RFC 6750 §3.1), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No credentials were presented (401, challenge without `error`).
    Unauthorized,
    /// The request was malformed (400).
    InvalidRequest,
    /// The token was not accepted (401).
    InvalidToken,
    /// The token lacks a required scope (403).
    InsufficientScope,
    /// Keys could not be loaded (503).
    TemporarilyUnavailable,
    /// The service is misconfigured (500), e.g. a guard without the bearer layer.
    ServerError,
    /// The DPoP proof is missing, malformed or does not fit the request (401, RFC 9449 §7.1).
    InvalidDpopProof,
    /// The DPoP proof must carry the server's nonce, sent in `DPoP-Nonce` (401, RFC 9449 §9).
    UseDpopNonce,
    /// The token is valid and has the scopes, but the authentication behind it is too weak
    /// or too old for this route (401, RFC 9470): the challenge names `acr_values` and/or
    /// `max_age` for the client to ask the authorization server again.
    InsufficientUserAuthentication,
    /// The request was refused whatever its token: a cookie-borne token from a foreign
    /// `Origin` (403, no challenge: no other token would help).
    AccessDenied,
}

impl ErrorCode {
    /// The code as it appears in the JSON body.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::AccessDenied => "access_denied",
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
        }
    }

    /// The HTTP status this code is answered with.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidDpopProof
            | Self::UseDpopNonce
            | Self::InsufficientUserAuthentication => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InsufficientScope | Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this code appears as `error="…"` in a `Bearer` challenge.
    pub(crate) const fn in_challenge(self) -> bool {
        matches!(
            self,
            Self::InvalidRequest
                | Self::InvalidToken
                | Self::InsufficientScope
                | Self::InvalidDpopProof
                | Self::UseDpopNonce
                | Self::InsufficientUserAuthentication
        )
    }

    /// Whether the response carries a `WWW-Authenticate` challenge at all.
    pub(crate) const fn challenges(self) -> bool {
        matches!(
            self,
            Self::Unauthorized
                | Self::InvalidRequest
                | Self::InvalidToken
                | Self::InsufficientScope
                | Self::InvalidDpopProof
                | Self::UseDpopNonce
                | Self::InsufficientUserAuthentication
        )
    }

    /// Codes that only a `DPoP` challenge carries.
    pub(crate) const fn dpop_only(self) -> bool {
        matches!(self, Self::InvalidDpopProof | Self::UseDpopNonce)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
