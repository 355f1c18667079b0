//! Counters, gauges and histograms through the [`metrics`](https://docs.rs/metrics) facade
//! (feature `metrics`): install any recorder (Prometheus, StatsD, OpenTelemetry…) and they
//! appear; without one they cost a branch.
//!
//! Every label value comes from a fixed set written in this crate: never a token, a claim
//! value, an issuer, a path or a header.
//!
//! | name | type | labels |
//! |---|---|---|
//! | `tower_bearer_requests_total` | counter | `outcome`: `accepted`, `unauthenticated` (an optional layer let a request without credentials through), `rejected`; rejected ones also `error` (the RFC 6750 / 9449 error code, `unauthorized` for no credentials) and `status` |
//! | `tower_bearer_token_errors_total` | counter | `reason`: why a token was refused (`expired`, `invalid_signature`, `unknown_key`, `audience_mismatch`…, see [`TokenError`]) |
//! | `tower_bearer_guard_rejections_total` | counter | `error` (`insufficient_scope`, `insufficient_user_authentication`, `access_denied`, `unauthorized` for a guard behind an optional layer, `invalid_request` for a message the MCP guard cannot read, `server_error` for a guard without the layer), `status`: from the layers, the extractors and `#[require_scope]` |
//! | `tower_bearer_validation_seconds` | histogram | none: from the layer's call to its decision (including waits for keys, introspection, a shared replay store) |
//! | `tower_bearer_jwks_fetches_total` | counter | `outcome`: `ok`, `error` |
//! | `tower_bearer_key_set_age_seconds` | gauge | none: the age of the remote key set a request last looked up, also while it is past its stale window or being refetched (one gauge for every remote key set) |
//! | `tower_bearer_token_cache_total` | counter | `result`: `hit`, `miss` (the verified-token cache) |
//! | `tower_bearer_introspection_requests_total` | counter | `outcome`: `active`, `inactive`, `error`, `shared` (answered by another instance through the answer store) |
//! | `tower_bearer_dpop_replays_refused_total` | counter | none |
//!
//! ```
//! // At start-up, after installing your recorder:
//! tower_bearer::metrics::describe();
//! ```
//!
//! [`TokenError`]: crate::TokenError

#[cfg(feature = "metrics")]
use crate::error::TokenError;
#[cfg(feature = "metrics")]
use crate::reject::Rejection;

/// `tower_bearer_requests_total`.
pub const REQUESTS: &str = "tower_bearer_requests_total";
/// `tower_bearer_token_errors_total`.
pub const TOKEN_ERRORS: &str = "tower_bearer_token_errors_total";
/// `tower_bearer_guard_rejections_total`.
pub const GUARD_REJECTIONS: &str = "tower_bearer_guard_rejections_total";
/// `tower_bearer_validation_seconds`.
pub const VALIDATION_SECONDS: &str = "tower_bearer_validation_seconds";
/// `tower_bearer_jwks_fetches_total`.
pub const JWKS_FETCHES: &str = "tower_bearer_jwks_fetches_total";
/// `tower_bearer_key_set_age_seconds`.
pub const KEY_SET_AGE: &str = "tower_bearer_key_set_age_seconds";
/// `tower_bearer_token_cache_total`.
pub const TOKEN_CACHE: &str = "tower_bearer_token_cache_total";
/// `tower_bearer_introspection_requests_total`.
pub const INTROSPECTIONS: &str = "tower_bearer_introspection_requests_total";
/// `tower_bearer_dpop_replays_refused_total`.
pub const DPOP_REPLAYS: &str = "tower_bearer_dpop_replays_refused_total";

/// Describe every metric (help text and unit) to the installed recorder. Optional: call it
/// once after installing the recorder.
#[cfg(feature = "metrics")]
pub fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(REQUESTS, "Requests the bearer layer decided, by outcome");
    describe_counter!(TOKEN_ERRORS, "Tokens refused, by reason");
    describe_counter!(GUARD_REJECTIONS, "Requests refused by a scope guard");
    describe_histogram!(
        VALIDATION_SECONDS,
        Unit::Seconds,
        "Time from the bearer layer's call to its decision"
    );
    describe_counter!(JWKS_FETCHES, "Key set fetches, by outcome");
    describe_gauge!(
        KEY_SET_AGE,
        Unit::Seconds,
        "Age of the remote key set used by the latest request"
    );
    describe_counter!(TOKEN_CACHE, "Verified-token cache lookups, by result");
    describe_counter!(INTROSPECTIONS, "Token introspection answers, by outcome");
    describe_counter!(DPOP_REPLAYS, "DPoP proofs refused as replays");
}

// The metrics on every request name themselves with literals, not the constants above: the
// `metrics` macros keep a literal name and literal labels in a `static` key, where a
// constant's key is built (and hashed) on every call. A test checks that they agree.

/// A request's decision time; nothing without the feature.
#[derive(Clone, Copy)]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl Timer {
    #[inline]
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(feature = "metrics")]
            started: std::time::Instant::now(),
        }
    }

    #[inline]
    pub(crate) fn done(self) {
        #[cfg(feature = "metrics")]
        ::metrics::histogram!("tower_bearer_validation_seconds")
            .record(self.started.elapsed().as_secs_f64());
    }
}

#[inline]
pub(crate) fn accepted() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tower_bearer_requests_total", "outcome" => "accepted").increment(1);
}

#[inline]
pub(crate) fn unauthenticated() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tower_bearer_requests_total", "outcome" => "unauthenticated").increment(1);
}

#[cfg(feature = "metrics")]
fn error_label(rejection: &Rejection) -> &'static str {
    rejection.code().as_str()
}

#[cfg(feature = "metrics")]
fn status_label(rejection: &Rejection) -> &'static str {
    // A fixed set: `as_str` of a status the crate itself chose.
    match rejection.status().as_u16() {
        400 => "400",
        401 => "401",
        403 => "403",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}

#[inline]
pub(crate) fn rejected(rejection: &crate::reject::Rejection) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(
        REQUESTS,
        "outcome" => "rejected",
        "error" => error_label(rejection),
        "status" => status_label(rejection)
    )
    .increment(1);
    let _ = rejection;
}

#[inline]
pub(crate) fn guard_rejected(rejection: &crate::reject::Rejection) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(
        GUARD_REJECTIONS,
        "error" => error_label(rejection),
        "status" => status_label(rejection)
    )
    .increment(1);
    let _ = rejection;
}

#[inline]
pub(crate) fn token_error(err: &crate::error::TokenError) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(TOKEN_ERRORS, "reason" => reason(err)).increment(1);
    let _ = err;
}

/// The label of a token error: one per variant, never its text (a check's own message could
/// carry anything).
#[cfg(feature = "metrics")]
pub(crate) fn reason(err: &TokenError) -> &'static str {
    match err {
        TokenError::TooLong => "too_long",
        TokenError::Malformed(_) => "malformed",
        TokenError::UnsupportedAlgorithm => "unsupported_algorithm",
        TokenError::AlgorithmMismatch => "algorithm_mismatch",
        TokenError::UnknownKey => "unknown_key",
        TokenError::InvalidSignature => "invalid_signature",
        TokenError::Expired => "expired",
        TokenError::NotYetValid => "not_yet_valid",
        TokenError::IssuedInFuture => "issued_in_future",
        TokenError::MissingClaim(_) => "missing_claim",
        TokenError::InvalidClaim(_) => "invalid_claim",
        TokenError::IssuerMismatch => "issuer_mismatch",
        TokenError::TenantNotAllowed => "tenant_not_allowed",
        TokenError::AudienceMismatch => "audience_mismatch",
        TokenError::TypeNotAllowed => "type_not_allowed",
        TokenError::CriticalHeader => "critical_header",
        TokenError::BoundToken => "bound_token",
        TokenError::IntrospectionUnavailable { .. } => "introspection_unavailable",
        TokenError::Inactive => "inactive",
        TokenError::NotDpopBound => "not_dpop_bound",
        TokenError::DpopKeyMismatch => "dpop_key_mismatch",
        TokenError::CertificateRequired => "certificate_required",
        TokenError::CertificateMismatch => "certificate_mismatch",
        TokenError::Rejected(_) => "rejected_by_check",
        TokenError::CheckUnavailable { .. } => "check_unavailable",
        TokenError::Unavailable { .. } => "keys_unavailable",
    }
}

#[inline]
pub(crate) fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    if hit {
        ::metrics::counter!("tower_bearer_token_cache_total", "result" => "hit").increment(1);
    } else {
        ::metrics::counter!("tower_bearer_token_cache_total", "result" => "miss").increment(1);
    }
    let _ = hit;
}

#[inline]
pub(crate) fn dpop_replay() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!("tower_bearer_dpop_replays_refused_total").increment(1);
}

/// A key set fetch's outcome.
#[cfg(feature = "remote")]
#[inline]
pub(crate) fn jwks_fetch(ok: bool) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(JWKS_FETCHES, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    let _ = ok;
}

#[cfg(feature = "remote")]
#[inline]
pub(crate) fn key_set_age(age: std::time::Duration) {
    #[cfg(feature = "metrics")]
    ::metrics::gauge!(KEY_SET_AGE).set(age.as_secs_f64());
    let _ = age;
}

/// An introspection answer: `active`, `inactive`, `error` or `shared`.
#[cfg(feature = "remote")]
#[inline]
pub(crate) fn introspection(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(INTROSPECTIONS, "outcome" => outcome).increment(1);
    let _ = outcome;
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    /// The literals of the hot-path metrics are the public constants.
    #[test]
    fn literal_names_are_the_constants() {
        let src = include_str!("metrics.rs");
        for name in [
            super::REQUESTS,
            super::VALIDATION_SECONDS,
            super::TOKEN_CACHE,
            super::DPOP_REPLAYS,
        ] {
            assert!(src.contains(&format!("!(\"{name}\"")), "{name}");
        }
    }
}
