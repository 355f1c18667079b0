//! [`Rejection`]: what a client is answered.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::HeaderValue;
use http::StatusCode;

use super::code::ErrorCode;
use super::reason::Reason;
use crate::error::TokenError;

/// An answer to a request that was not let through: what a client will see.
///
/// Build the response with [`Rejection::to_response`]; a [custom responder](crate::ErrorFormat::custom)
/// receives it to render its own body.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub(crate) code: ErrorCode,
    pub(crate) description: Cow<'static, str>,
    pub(crate) scope: Option<Arc<str>>,
    pub(crate) retry_after: Option<u64>,
    /// The request used the `DPoP` scheme: answer with a `DPoP` challenge.
    pub(crate) dpop: bool,
    /// A fresh server nonce for `DPoP-Nonce`.
    pub(crate) nonce: Option<Arc<str>>,
    /// What re-authentication must achieve (RFC 9470).
    pub(crate) step_up: Option<Arc<StepUp>>,
    /// Why, when the code and description are one of the fixed ones.
    pub(crate) reason: Option<Reason>,
}

/// The parameters of an `insufficient_user_authentication` answer (RFC 9470 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StepUp {
    /// Acceptable `acr` values, space-separated, in order of preference.
    pub(crate) acr_values: Option<Box<str>>,
    /// The allowed age of the authentication event, in seconds.
    pub(crate) max_age: Option<u64>,
}

impl Rejection {
    /// A rejection with the given code and description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            scope: None,
            retry_after: None,
            dpop: false,
            nonce: None,
            step_up: None,
            reason: None,
        }
    }

    /// The rejection for `reason`: its code and description.
    #[inline]
    pub(crate) fn fixed(reason: Reason) -> Self {
        Self {
            code: reason.code(),
            description: Cow::Borrowed(reason.description()),
            scope: None,
            retry_after: None,
            dpop: false,
            nonce: None,
            step_up: None,
            reason: Some(reason),
        }
    }

    /// Why this request was refused, when the reason is one of the fixed ones.
    #[inline]
    pub(crate) fn reason(&self) -> Option<Reason> {
        self.reason
    }

    /// The reason, when the answer depends on nothing else than it, the scheme and the
    /// layer's configuration (no scope, nonce, retry hint or step-up parameters).
    #[inline]
    pub(crate) fn fixed_reason(&self) -> Option<Reason> {
        let reason = self.reason()?;
        let plain = self.scope.is_none()
            && self.retry_after.is_none()
            && self.nonce.is_none()
            && self.step_up.is_none();
        plain.then_some(reason)
    }

    /// Answer with a `DPoP` challenge: the request used the DPoP scheme.
    pub(crate) fn in_dpop_scheme(mut self) -> Self {
        self.dpop = true;
        self
    }

    /// `503` with `Retry-After`, for a server-side reason other than missing keys.
    pub(crate) fn unavailable(description: &'static str, retry_after: u64) -> Self {
        let mut r = Self::new(ErrorCode::TemporarilyUnavailable, description);
        r.retry_after = Some(retry_after);
        r
    }

    /// Send `nonce` in a `DPoP-Nonce` header.
    pub(crate) fn with_nonce(mut self, nonce: String) -> Self {
        self.nonce = Some(Arc::from(nonce));
        self
    }

    pub(crate) fn missing_credentials() -> Self {
        Self::fixed(Reason::MissingCredentials)
    }

    pub(crate) fn invalid_request(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub(crate) fn missing_layer(what: &'static str) -> Self {
        Self::new(
            ErrorCode::ServerError,
            Cow::Owned(format!(
                "{what} used without tower_bearer::BearerLayer in front of it: add `.layer(BearerLayer::new(validator))` outside this route"
            )),
        )
    }

    /// The scopes to name in the challenge (`scope="…"`), space-delimited.
    pub(crate) fn with_scope(mut self, scope: Option<Arc<str>>) -> Self {
        self.scope = scope;
        self
    }

    /// `insufficient_user_authentication` with these parameters.
    pub(crate) fn step_up(step_up: Arc<StepUp>) -> Self {
        let mut r = Self::new(
            ErrorCode::InsufficientUserAuthentication,
            "a stronger or more recent authentication is required",
        );
        r.step_up = Some(step_up);
        r
    }

    /// For `insufficient_user_authentication`: the acceptable `acr` values, space-separated in
    /// order of preference.
    pub fn acr_values(&self) -> Option<&str> {
        self.step_up.as_ref()?.acr_values.as_deref()
    }

    /// For `insufficient_user_authentication`: the allowed age of the authentication, in
    /// seconds.
    pub fn max_age(&self) -> Option<u64> {
        self.step_up.as_ref()?.max_age
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// What failed, in a few words; never contains the token or key material.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The scopes named in the challenge, space-delimited, if any.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Seconds after which a retry may succeed (503 only).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The `WWW-Authenticate` value for this rejection, or `None` for 500 and 503.
    pub fn www_authenticate(&self, realm: Option<&str>) -> Option<HeaderValue> {
        self.challenge(realm, None, None)
    }
}

impl From<Reason> for Rejection {
    #[inline]
    fn from(reason: Reason) -> Self {
        Self::fixed(reason)
    }
}

impl From<TokenError> for Rejection {
    fn from(err: TokenError) -> Self {
        if let Some(reason) = Reason::of(&err) {
            return Self::fixed(reason);
        }
        match err {
            TokenError::Unavailable { retry_after } => Rejection {
                code: ErrorCode::TemporarilyUnavailable,
                description: Cow::Borrowed("signing keys are not available yet, retry later"),
                scope: None,
                retry_after: Some(retry_after),
                dpop: false,
                nonce: None,
                step_up: None,
                reason: None,
            },
            TokenError::IntrospectionUnavailable { retry_after } => Rejection::unavailable(
                "token introspection is unavailable, retry later",
                retry_after,
            ),
            TokenError::DpopKeyMismatch => {
                Rejection::new(ErrorCode::InvalidDpopProof, err.to_string())
            }
            TokenError::Rejected(reason) => Rejection::new(ErrorCode::InvalidToken, reason),
            TokenError::CheckUnavailable { retry_after } => {
                Rejection::unavailable("token check unavailable, retry later", retry_after)
            }
            other => Rejection::new(ErrorCode::InvalidToken, other.to_string()),
        }
    }
}
