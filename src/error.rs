//! Errors of configuration and of tokens.
//!
//! * [`ConfigError`]: a validator or key could not be built. Returned at start-up, never
//!   at request time.
//! * [`TokenError`]: why a presented token was not accepted. Each maps to
//!   `401 invalid_token`, except [`TokenError::Unavailable`] (`503`).
//!
//! The answer a client gets, [`Rejection`], and its body format, [`ErrorFormat`], live in
//! [`reject`](crate::reject); they are re-exported here under their old paths.

use std::borrow::Cow;

pub use crate::reject::{ErrorCode, ErrorFormat, Rejection};

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
    /// The token's tenant (`tid`) is not one of the allowed tenants of an issuer template.
    #[error("tenant not allowed")]
    TenantNotAllowed,
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
    /// The token is bound to a client certificate (`cnf.x5t#S256`, RFC 8705) and the request
    /// came without one.
    #[error("token is bound to a client certificate (cnf.x5t#S256) and none was presented")]
    CertificateRequired,
    /// The request's client certificate is not the one the token is bound to.
    #[error("client certificate does not match the token's cnf.x5t#S256")]
    CertificateMismatch,
    /// A claim check supplied by the application refused the token.
    #[error("{0}")]
    Rejected(Cow<'static, str>),
    /// An asynchronous claim check could not answer in time, or failed; the request should
    /// be retried (`503`).
    #[error("token check unavailable")]
    CheckUnavailable {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
    /// No key could be loaded yet; the request should be retried.
    #[error("signing keys unavailable")]
    Unavailable {
        /// Seconds after which a retry may succeed.
        retry_after: u64,
    },
}

/// What an asynchronous claim check ([`ValidatorBuilder::check_async`]) answers when it does
/// not accept the token.
///
/// [`ValidatorBuilder::check_async`]: crate::ValidatorBuilder::check_async
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The token is refused (`401 invalid_token`, with this as `error_description`: keep it
    /// free of secrets and claim values).
    #[error("{0}")]
    Refused(Cow<'static, str>),
    /// The check could not decide (a database down): `503` with `Retry-After`, never a
    /// silent pass. The text is for the server's logs only.
    #[error("check unavailable: {0}")]
    Unavailable(Cow<'static, str>),
}
