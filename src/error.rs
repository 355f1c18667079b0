//! Errors, and their RFC 6750 rendering.
//!
//! Three kinds of error live here:
//!
//! * [`ConfigError`]: a validator or key could not be built. Returned at start-up, never
//!   at request time.
//! * [`TokenError`]: why a presented token was not accepted. Each maps to
//!   `401 invalid_token`, except [`TokenError::Unavailable`] (`503`).
//! * [`Rejection`]: the answer a client gets (status, `WWW-Authenticate`, body), built from
//!   either of the above or from a failed scope check. [`ErrorFormat`] chooses its body.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

/// A validator, key or requirement could not be built from its configuration.
///
/// The message says what is wrong and how to fix it. These errors happen at start-up; a
/// validator that built successfully never reports a configuration problem per request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No expected issuer was configured.
    #[error("no issuer configured: call `.issuer(\"https://your-issuer\")`, or `.insecure_skip_issuer_check()` if you really accept tokens from any issuer")]
    MissingIssuer,
    /// No expected audience was configured.
    #[error("no audience configured: call `.audience(\"your-api-identifier\")`, or `.insecure_skip_audience_check()` if every token of this issuer is meant for you")]
    MissingAudience,
    /// No key was configured.
    #[error("no verification key configured: add one with `.key(..)`, `.jwks_json(..)`, `.rsa_pem(..)`, `.ec_pem(..)`, `.ed_pem(..)` or `.hmac_secret(..)`")]
    NoKeys,
    /// A key could not be parsed.
    #[error("invalid {what} key: {reason}")]
    InvalidKey {
        /// Which kind of key was expected.
        what: &'static str,
        /// What was wrong with it.
        reason: Cow<'static, str>,
    },
    /// An RSA key is shorter than 2048 bits.
    #[error("RSA key of {bits} bits refused: RSA keys must be at least 2048 bits (RFC 7518 §3.3)")]
    WeakRsaKey {
        /// The key's modulus length.
        bits: usize,
    },
    /// An HMAC secret is shorter than the hash output of its algorithm.
    #[error("HMAC secret of {len} bytes refused for {alg}: it must be at least {min} bytes of random data (RFC 7518 §3.2); do not use a password")]
    WeakHmacSecret {
        /// The algorithm the secret was configured for.
        alg: &'static str,
        /// The secret's length in bytes.
        len: usize,
        /// The minimum length for that algorithm.
        min: usize,
    },
    /// An algorithm was named for a key that cannot use it.
    #[error("algorithm {alg} does not fit {key} key{hint}")]
    AlgorithmMismatch {
        /// The algorithm named.
        alg: &'static str,
        /// The key's type.
        key: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// An algorithm name is not one this crate verifies.
    #[error("unsupported algorithm {0:?}: use one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA")]
    UnsupportedAlgorithm(String),
    /// A JWKS document could not be used.
    #[error("invalid JWKS document: {0}")]
    InvalidJwks(Cow<'static, str>),
    /// Two keys carry the same `kid`.
    #[error("two keys share the key id {0:?}: key ids must be unique within a key set")]
    DuplicateKeyId(String),
    /// A scope string is not a valid RFC 6749 §3.3 scope token.
    #[error("invalid scope {0:?}: a scope is one or more characters from %x21 / %x23-5B / %x5D-7E (no spaces, quotes or backslashes)")]
    InvalidScope(String),
    /// A scope requirement lists no scope.
    #[error("empty scope requirement: `all([])` and `any([])` must name at least one scope")]
    EmptyRequirement,
    /// Some other configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(Cow<'static, str>),
}

/// Why a bearer token was not accepted.
///
/// `Display` gives the short description that goes into `error_description`; it never contains
/// the token or any key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured maximum.
    #[error("token too long")]
    TooLong,
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm this crate never accepts, or none.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The header's algorithm is not the one the selected key is for.
    #[error("algorithm not allowed for this key")]
    AlgorithmMismatch,
    /// No configured key has the token's `kid`, or no key fits a token without `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// A registered claim has the wrong JSON type or an out-of-range value.
    #[error("invalid claim {0}")]
    InvalidClaim(&'static str),
    /// `iss` is not one of the configured issuers.
    #[error("issuer mismatch")]
    IssuerMismatch,
    /// `aud` does not contain a configured audience.
    #[error("audience mismatch")]
    AudienceMismatch,
    /// The `typ` header is not allowed by the policy.
    #[error("token type not allowed")]
    TypeNotAllowed,
    /// The header lists critical extensions (`crit`) this crate does not understand.
    #[error("unsupported critical header")]
    CriticalHeader,
    /// The token is bound to a key (`cnf`) and cannot be used as a plain bearer token.
    #[error("token is sender-constrained (cnf) and cannot be used as a bearer token")]
    BoundToken,
    /// The introspection endpoint could not be asked, or gave no usable answer; the request
    /// should be retried (`503`).
    #[error("token introspection unavailable")]
    IntrospectionUnavailable {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
    /// The introspection endpoint says the token is not active (revoked, expired, unknown).
    #[error("token is not active")]
    Inactive,
    /// A token presented with a DPoP proof is not bound to a key (no `cnf.jkt`).
    #[error("token is not DPoP-bound (no cnf.jkt) but was presented with a DPoP proof")]
    NotDpopBound,
    /// The DPoP proof was signed by another key than the one the token is bound to.
    #[error("DPoP proof key does not match the token's cnf.jkt")]
    DpopKeyMismatch,
    /// A claim check supplied by the application refused the token.
    #[error("{0}")]
    Rejected(Cow<'static, str>),
    /// No key could be loaded yet; the request should be retried.
    #[error("signing keys unavailable")]
    Unavailable {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
}

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
        }
    }

    /// The HTTP status this code is answered with.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidDpopProof
            | Self::UseDpopNonce => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this code appears as `error="…"` in a `Bearer` challenge.
    const fn in_challenge(self) -> bool {
        matches!(
            self,
            Self::InvalidRequest
                | Self::InvalidToken
                | Self::InsufficientScope
                | Self::InvalidDpopProof
                | Self::UseDpopNonce
        )
    }

    /// Whether the response carries a `WWW-Authenticate` challenge at all.
    const fn challenges(self) -> bool {
        matches!(
            self,
            Self::Unauthorized
                | Self::InvalidRequest
                | Self::InvalidToken
                | Self::InsufficientScope
                | Self::InvalidDpopProof
                | Self::UseDpopNonce
        )
    }

    /// Codes that only a `DPoP` challenge carries.
    const fn dpop_only(self) -> bool {
        matches!(self, Self::InvalidDpopProof | Self::UseDpopNonce)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An answer to a request that was not let through: what a client will see.
///
/// Build the response with [`Rejection::to_response`]; a [custom responder](ErrorFormat::custom)
/// receives it to render its own body.
#[derive(Debug, Clone)]
pub struct Rejection {
    code: ErrorCode,
    description: Cow<'static, str>,
    scope: Option<Arc<str>>,
    retry_after: Option<u64>,
    /// The request used the `DPoP` scheme: answer with a `DPoP` challenge.
    dpop: bool,
    /// A fresh server nonce for `DPoP-Nonce`.
    nonce: Option<Arc<str>>,
}

/// How `DPoP` challenges are written for a layer that accepts DPoP (RFC 9449 §7.1).
#[derive(Debug, Clone)]
pub(crate) struct DpopChallenge {
    /// Space-separated `algs` value.
    pub(crate) algs: Arc<str>,
    /// Bearer tokens are not accepted at all: every challenge is `DPoP`.
    pub(crate) required: bool,
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
        }
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
        Self::new(ErrorCode::Unauthorized, "bearer token required")
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

    /// The challenges for this rejection: one `Bearer` or `DPoP` challenge, or both when a
    /// layer accepts either and the request brought no credentials.
    pub(crate) fn challenges(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
    ) -> (Option<HeaderValue>, Option<HeaderValue>) {
        let Some(d) = dpop else {
            return (self.challenge(realm, resource_metadata, None), None);
        };
        let algs = Some(&*d.algs);
        if self.dpop || d.required || self.code.dpop_only() {
            (self.challenge(realm, resource_metadata, algs), None)
        } else if self.code == ErrorCode::Unauthorized {
            let bearer = self.challenge(realm, resource_metadata, None);
            (bearer, self.challenge(realm, resource_metadata, algs))
        } else {
            (self.challenge(realm, resource_metadata, None), None)
        }
    }

    /// One challenge, with RFC 9728's `resource_metadata` parameter when given; `dpop_algs`:
    /// a `DPoP` challenge with these `algs`, else `Bearer`.
    pub(crate) fn challenge(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop_algs: Option<&str>,
    ) -> Option<HeaderValue> {
        if !self.code.challenges() {
            return None;
        }
        let mut out = String::with_capacity(96);
        out.push_str(if dpop_algs.is_some() {
            "DPoP"
        } else {
            "Bearer"
        });
        let mut first = true;
        let mut param = |out: &mut String, name: &str| {
            out.push_str(if first { " " } else { ", " });
            first = false;
            out.push_str(name);
            out.push_str("=\"");
        };
        if let Some(realm) = realm {
            param(&mut out, "realm");
            push_quoted(&mut out, realm);
            out.push('"');
        }
        if self.code.in_challenge() {
            param(&mut out, "error");
            out.push_str(self.code.as_str());
            out.push('"');
            param(&mut out, "error_description");
            push_restricted(&mut out, &self.description);
            out.push('"');
        }
        if let Some(scope) = &self.scope {
            param(&mut out, "scope");
            push_restricted(&mut out, scope);
            out.push('"');
        }
        if let Some(algs) = dpop_algs {
            param(&mut out, "algs");
            push_restricted(&mut out, algs);
            out.push('"');
        }
        if let Some(url) = resource_metadata {
            param(&mut out, "resource_metadata");
            push_quoted(&mut out, url);
            out.push('"');
        }
        // Every byte pushed above is visible ASCII or a space, so this cannot fail.
        HeaderValue::from_str(&out).ok()
    }

    /// Render the response with the given realm and body format.
    pub fn to_response(&self, realm: Option<&str>, format: &ErrorFormat) -> Response<Bytes> {
        self.render(realm, None, None, format)
    }

    pub(crate) fn render(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
        format: &ErrorFormat,
    ) -> Response<Bytes> {
        let mut response = match &format.0 {
            Format::Json => json_response(self, false),
            Format::ProblemJson => json_response(self, true),
            Format::Empty => Response::new(Bytes::new()),
            Format::Custom(f) => f(self),
        };
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        let (first, second) = self.challenges(realm, resource_metadata, dpop);
        if let Some(challenge) = first {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(challenge) = second {
            headers.append(WWW_AUTHENTICATE, challenge);
        }
        if let Some(nonce) = self
            .nonce
            .as_deref()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            headers.insert(http::HeaderName::from_static("dpop-nonce"), nonce);
        }
        if let Some(secs) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<TokenError> for Rejection {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Unavailable { retry_after } => Rejection {
                code: ErrorCode::TemporarilyUnavailable,
                description: Cow::Borrowed("signing keys are not available yet, retry later"),
                scope: None,
                retry_after: Some(retry_after),
                dpop: false,
                nonce: None,
            },
            TokenError::IntrospectionUnavailable { retry_after } => Rejection::unavailable(
                "token introspection is unavailable, retry later",
                retry_after,
            ),
            TokenError::DpopKeyMismatch => {
                Rejection::new(ErrorCode::InvalidDpopProof, err.to_string())
            }
            TokenError::Rejected(reason) => Rejection::new(ErrorCode::InvalidToken, reason),
            other => Rejection::new(ErrorCode::InvalidToken, other.to_string()),
        }
    }
}

fn json_response(rejection: &Rejection, problem: bool) -> Response<Bytes> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<&'a str>,
        error: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<&'a str>,
    }
    let status = rejection.status();
    // The body names scopes only for insufficient_scope; a 401 carries them in its challenge.
    let body_scope = rejection
        .scope()
        .filter(|_| rejection.code == ErrorCode::InsufficientScope);
    let body = if problem {
        Body {
            kind: Some("about:blank"),
            title: status.canonical_reason(),
            status: Some(status.as_u16()),
            detail: Some(rejection.description()),
            error: rejection.code.as_str(),
            error_description: None,
            scope: body_scope,
        }
    } else {
        Body {
            kind: None,
            title: None,
            status: None,
            detail: None,
            error: rejection.code.as_str(),
            error_description: Some(rejection.description()),
            scope: body_scope,
        }
    };
    // Serializing a struct of strings and integers into a Vec cannot fail.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(Bytes::from(bytes));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(if problem {
            "application/problem+json"
        } else {
            "application/json"
        }),
    );
    response
}

/// Append `value` as the inside of an RFC 9110 quoted-string: `"` and `\` are escaped, and
/// anything that is not visible ASCII or a space becomes `?`, so no value can break the header.
fn push_quoted(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
}

/// Append `value` restricted to RFC 6750's `error_description`/`scope` characters
/// (`%x20-21 / %x23-5B / %x5D-7E`): those values may not contain `"` or `\` even escaped.
fn push_restricted(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
}

type CustomResponder = Arc<dyn Fn(&Rejection) -> Response<Bytes> + Send + Sync>;

/// How a rejection's body is written.
///
/// The status, `WWW-Authenticate`, `Retry-After` and `Cache-Control: no-store` headers are set
/// in every format, so a custom responder cannot forget the challenge.
#[derive(Clone, Default)]
pub struct ErrorFormat(Format);

#[derive(Clone, Default)]
enum Format {
    #[default]
    Json,
    ProblemJson,
    Empty,
    Custom(CustomResponder),
}

impl ErrorFormat {
    /// `application/json`: `{"error": "...", "error_description": "...", "scope": "..."}` (the
    /// default).
    pub fn json() -> Self {
        Self(Format::Json)
    }

    /// RFC 9457 `application/problem+json`, with `error` and `scope` as extension members.
    pub fn problem_json() -> Self {
        Self(Format::ProblemJson)
    }

    /// No body at all.
    pub fn empty() -> Self {
        Self(Format::Empty)
    }

    /// Your own responder. Status and challenge headers are set after it runs.
    ///
    /// ```
    /// use tower_bearer::{ErrorFormat, Rejection};
    /// use bytes::Bytes;
    ///
    /// let format = ErrorFormat::custom(|rejection: &Rejection| {
    ///     http::Response::new(Bytes::from(format!("denied: {}", rejection.description())))
    /// });
    /// # let _ = format;
    /// ```
    pub fn custom<F>(responder: F) -> Self
    where
        F: Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static,
    {
        Self(Format::Custom(Arc::new(responder)))
    }
}

impl fmt::Debug for ErrorFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Format::Json => "ErrorFormat::Json",
            Format::ProblemJson => "ErrorFormat::ProblemJson",
            Format::Empty => "ErrorFormat::Empty",
            Format::Custom(_) => "ErrorFormat::Custom",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_without_error_for_missing_credentials() {
        let r = Rejection::missing_credentials();
        assert_eq!(r.www_authenticate(None).unwrap(), "Bearer");
        assert_eq!(
            r.www_authenticate(Some("api")).unwrap(),
            "Bearer realm=\"api\""
        );
    }

    #[test]
    fn challenge_escapes_realm_and_restricts_description() {
        let r = Rejection::new(ErrorCode::InvalidToken, "bad \"x\"\\\r\nSet-Cookie: a=b é");
        let v = r.www_authenticate(Some("a\"b\\c\r\n")).unwrap();
        assert_eq!(
            v,
            "Bearer realm=\"a\\\"b\\\\c??\", error=\"invalid_token\", error_description=\"bad 'x'/??Set-Cookie: a=b ?\""
        );
    }

    #[test]
    fn no_challenge_for_server_errors() {
        assert!(Rejection::missing_layer("RequireScope")
            .www_authenticate(None)
            .is_none());
        let r: Rejection = TokenError::Unavailable { retry_after: 5 }.into();
        assert!(r.www_authenticate(None).is_none());
        let resp = r.to_response(None, &ErrorFormat::json());
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()[RETRY_AFTER], "5");
    }

    #[test]
    fn problem_json_body() {
        let r = Rejection::new(ErrorCode::InsufficientScope, "insufficient scope")
            .with_scope(Some("a b".into()));
        let resp = r.to_response(None, &ErrorFormat::problem_json());
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/problem+json");
        let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"about:blank","title":"Forbidden","status":403,
                "detail":"insufficient scope","error":"insufficient_scope","scope":"a b"})
        );
    }
}
