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
//! | `tower_bearer_validation_seconds` | histogram | none: from the layer's call to its decision (including waits for keys, introspection, a shared replay store); not timed while the recorder in force is zero-sized, as the no-op one is when none is installed (so a zero-sized recorder of your own, keeping its state in statics, gets no decision time) |
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
mod handles;

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

/// Describe every metric (help text and unit) to the installed recorder, and keep handles
/// to the metrics every request touches, registered with the global recorder: afterwards a
/// request costs the recorder no lookup (Prometheus's, for one, hashes and copies the key
/// at every lookup, which costs a refused request about what refusing it does).
///
/// Optional, and to be called once, after installing the global recorder. Without it, or
/// while another recorder is in force (a thread's local recorder, or a global one installed
/// afterwards), each metric is looked up in the recorder in force at every use.
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
    handles::register();
}

/// A request's decision time; nothing without the feature, and no clock read while the
/// recorder in force is zero-sized (the no-op recorder in force while none is installed: a
/// zero-sized recorder of one's own, keeping its state in statics, is not timed either).
#[derive(Clone, Copy)]
pub(crate) struct Timer {
    #[cfg(feature = "metrics")]
    started: Option<std::time::Instant>,
}

impl Timer {
    #[inline]
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(feature = "metrics")]
            started: ::metrics::with_recorder(|r| std::mem::size_of_val(r) != 0)
                .then(std::time::Instant::now),
        }
    }

    #[inline]
    pub(crate) fn done(self) {
        #[cfg(feature = "metrics")]
        if let Some(started) = self.started {
            let seconds = started.elapsed().as_secs_f64();
            match handles::get() {
                Some(h) => h.seconds.record(seconds),
                None => ::metrics::histogram!("tower_bearer_validation_seconds").record(seconds),
            }
        }
    }
}

// Every key below is written out with literal names and label values: the `metrics` macros
// then build it once, in a `static`, instead of on every call (a computed label value costs
// an allocation per call).

#[inline]
pub(crate) fn accepted() {
    #[cfg(feature = "metrics")]
    match handles::get() {
        Some(h) => h.accepted.increment(1),
        None => {
            ::metrics::counter!("tower_bearer_requests_total", "outcome" => "accepted").increment(1)
        }
    }
}

#[inline]
pub(crate) fn unauthenticated() {
    #[cfg(feature = "metrics")]
    match handles::get() {
        Some(h) => h.unauthenticated.increment(1),
        None => ::metrics::counter!("tower_bearer_requests_total", "outcome" => "unauthenticated")
            .increment(1),
    }
}

/// The counter of error code number `i` (see [`handles::code_index`]), the status being the
/// code's own; a counter that counts nothing for any other number.
#[cfg(feature = "metrics")]
macro_rules! by_code {
    ($i:expr, $name:literal $(, $k:literal => $v:literal)*) => {{
        use ::metrics::counter;
        match $i {
            0 => counter!($name $(, $k => $v)*, "error" => "unauthorized", "status" => "401"),
            1 => counter!($name $(, $k => $v)*, "error" => "invalid_request", "status" => "400"),
            2 => counter!($name $(, $k => $v)*, "error" => "invalid_token", "status" => "401"),
            3 => counter!($name $(, $k => $v)*, "error" => "insufficient_scope", "status" => "403"),
            4 => counter!($name $(, $k => $v)*, "error" => "temporarily_unavailable", "status" => "503"),
            5 => counter!($name $(, $k => $v)*, "error" => "server_error", "status" => "500"),
            6 => counter!($name $(, $k => $v)*, "error" => "invalid_dpop_proof", "status" => "401"),
            7 => counter!($name $(, $k => $v)*, "error" => "use_dpop_nonce", "status" => "401"),
            8 => counter!($name $(, $k => $v)*, "error" => "insufficient_user_authentication", "status" => "401"),
            9 => counter!($name $(, $k => $v)*, "error" => "access_denied", "status" => "403"),
            _ => ::metrics::Counter::noop(),
        }
    }};
}

/// `tower_bearer_requests_total{outcome="rejected"}` for error code number `i`.
#[cfg(feature = "metrics")]
fn rejected_counter(i: usize) -> ::metrics::Counter {
    by_code!(i, "tower_bearer_requests_total", "outcome" => "rejected")
}

/// `tower_bearer_guard_rejections_total` for error code number `i`.
#[cfg(feature = "metrics")]
fn guard_rejected_counter(i: usize) -> ::metrics::Counter {
    by_code!(i, "tower_bearer_guard_rejections_total")
}

#[inline]
pub(crate) fn rejected(rejection: &crate::reject::Rejection) {
    #[cfg(feature = "metrics")]
    {
        let i = handles::code_index(rejection.code());
        match handles::get() {
            Some(h) => h.rejected[i].increment(1),
            None => rejected_counter(i).increment(1),
        }
    }
    let _ = rejection;
}

#[inline]
pub(crate) fn guard_rejected(rejection: &crate::reject::Rejection) {
    #[cfg(feature = "metrics")]
    {
        let i = handles::code_index(rejection.code());
        match handles::get() {
            Some(h) => h.guard_rejected[i].increment(1),
            None => guard_rejected_counter(i).increment(1),
        }
    }
    let _ = rejection;
}

/// How many reasons `tower_bearer_token_errors_total` counts.
#[cfg(feature = "metrics")]
pub(crate) const REASONS: usize = 26;

/// The number of `err`'s reason: one counter per `TokenError` variant, labelled with its
/// name, never its text (a check's own message could carry anything).
#[cfg(feature = "metrics")]
fn reason_index(err: &TokenError) -> usize {
    match err {
        TokenError::TooLong => 0,
        TokenError::Malformed(_) => 1,
        TokenError::UnsupportedAlgorithm => 2,
        TokenError::AlgorithmMismatch => 3,
        TokenError::UnknownKey => 4,
        TokenError::InvalidSignature => 5,
        TokenError::Expired => 6,
        TokenError::NotYetValid => 7,
        TokenError::IssuedInFuture => 8,
        TokenError::MissingClaim(_) => 9,
        TokenError::InvalidClaim(_) => 10,
        TokenError::IssuerMismatch => 11,
        TokenError::TenantNotAllowed => 12,
        TokenError::AudienceMismatch => 13,
        TokenError::TypeNotAllowed => 14,
        TokenError::CriticalHeader => 15,
        TokenError::BoundToken => 16,
        TokenError::IntrospectionUnavailable { .. } => 17,
        TokenError::Inactive => 18,
        TokenError::NotDpopBound => 19,
        TokenError::DpopKeyMismatch => 20,
        TokenError::CertificateRequired => 21,
        TokenError::CertificateMismatch => 22,
        TokenError::Rejected(_) => 23,
        TokenError::CheckUnavailable { .. } => 24,
        TokenError::Unavailable { .. } => 25,
    }
}

/// `tower_bearer_token_errors_total` for reason number `i`; a counter that counts nothing for
/// any other number.
#[cfg(feature = "metrics")]
fn reason_counter(i: usize) -> ::metrics::Counter {
    use ::metrics::counter;
    match i {
        0 => counter!("tower_bearer_token_errors_total", "reason" => "too_long"),
        1 => counter!("tower_bearer_token_errors_total", "reason" => "malformed"),
        2 => counter!("tower_bearer_token_errors_total", "reason" => "unsupported_algorithm"),
        3 => counter!("tower_bearer_token_errors_total", "reason" => "algorithm_mismatch"),
        4 => counter!("tower_bearer_token_errors_total", "reason" => "unknown_key"),
        5 => counter!("tower_bearer_token_errors_total", "reason" => "invalid_signature"),
        6 => counter!("tower_bearer_token_errors_total", "reason" => "expired"),
        7 => counter!("tower_bearer_token_errors_total", "reason" => "not_yet_valid"),
        8 => counter!("tower_bearer_token_errors_total", "reason" => "issued_in_future"),
        9 => counter!("tower_bearer_token_errors_total", "reason" => "missing_claim"),
        10 => counter!("tower_bearer_token_errors_total", "reason" => "invalid_claim"),
        11 => counter!("tower_bearer_token_errors_total", "reason" => "issuer_mismatch"),
        12 => counter!("tower_bearer_token_errors_total", "reason" => "tenant_not_allowed"),
        13 => counter!("tower_bearer_token_errors_total", "reason" => "audience_mismatch"),
        14 => counter!("tower_bearer_token_errors_total", "reason" => "type_not_allowed"),
        15 => counter!("tower_bearer_token_errors_total", "reason" => "critical_header"),
        16 => counter!("tower_bearer_token_errors_total", "reason" => "bound_token"),
        17 => counter!("tower_bearer_token_errors_total", "reason" => "introspection_unavailable"),
        18 => counter!("tower_bearer_token_errors_total", "reason" => "inactive"),
        19 => counter!("tower_bearer_token_errors_total", "reason" => "not_dpop_bound"),
        20 => counter!("tower_bearer_token_errors_total", "reason" => "dpop_key_mismatch"),
        21 => counter!("tower_bearer_token_errors_total", "reason" => "certificate_required"),
        22 => counter!("tower_bearer_token_errors_total", "reason" => "certificate_mismatch"),
        23 => counter!("tower_bearer_token_errors_total", "reason" => "rejected_by_check"),
        24 => counter!("tower_bearer_token_errors_total", "reason" => "check_unavailable"),
        25 => counter!("tower_bearer_token_errors_total", "reason" => "keys_unavailable"),
        _ => ::metrics::Counter::noop(),
    }
}

#[inline]
pub(crate) fn token_error(err: &crate::error::TokenError) {
    #[cfg(feature = "metrics")]
    {
        let i = reason_index(err);
        match handles::get() {
            Some(h) => h.token_errors[i].increment(1),
            None => reason_counter(i).increment(1),
        }
    }
    let _ = err;
}

#[inline]
pub(crate) fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    match (handles::get(), hit) {
        (Some(h), true) => h.cache_hit.increment(1),
        (Some(h), false) => h.cache_miss.increment(1),
        (None, true) => {
            ::metrics::counter!("tower_bearer_token_cache_total", "result" => "hit").increment(1)
        }
        (None, false) => {
            ::metrics::counter!("tower_bearer_token_cache_total", "result" => "miss").increment(1)
        }
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
    if ok {
        ::metrics::counter!("tower_bearer_jwks_fetches_total", "outcome" => "ok").increment(1);
    } else {
        ::metrics::counter!("tower_bearer_jwks_fetches_total", "outcome" => "error").increment(1);
    }
    let _ = ok;
}

#[cfg(feature = "remote")]
#[inline]
pub(crate) fn key_set_age(age: std::time::Duration) {
    #[cfg(feature = "metrics")]
    ::metrics::gauge!("tower_bearer_key_set_age_seconds").set(age.as_secs_f64());
    let _ = age;
}

/// An introspection answer.
#[cfg(feature = "remote")]
#[derive(Clone, Copy)]
pub(crate) enum Introspected {
    Active,
    Inactive,
    Error,
    Shared,
}

#[cfg(feature = "remote")]
#[inline]
pub(crate) fn introspection(outcome: Introspected) {
    #[cfg(feature = "metrics")]
    {
        use ::metrics::counter;
        match outcome {
            Introspected::Active => {
                counter!("tower_bearer_introspection_requests_total", "outcome" => "active")
            }
            Introspected::Inactive => {
                counter!("tower_bearer_introspection_requests_total", "outcome" => "inactive")
            }
            Introspected::Error => {
                counter!("tower_bearer_introspection_requests_total", "outcome" => "error")
            }
            Introspected::Shared => {
                counter!("tower_bearer_introspection_requests_total", "outcome" => "shared")
            }
        }
        .increment(1);
    }
    let _ = outcome;
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::handles::{code_index, CODES};
    use super::*;
    use crate::reject::ErrorCode;
    use metrics_util::debugging::DebuggingRecorder;

    /// A zero-sized recorder (the no-op one, when none is installed) costs a request no
    /// clock read and no histogram; one with state gets the decision time.
    #[test]
    fn requests_are_timed_only_for_a_recorder_with_state() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static HISTOGRAMS: AtomicUsize = AtomicUsize::new(0);
        struct ZeroSized;
        impl ::metrics::Recorder for ZeroSized {
            fn describe_counter(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn describe_gauge(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn describe_histogram(
                &self,
                _: ::metrics::KeyName,
                _: Option<::metrics::Unit>,
                _: ::metrics::SharedString,
            ) {
            }
            fn register_counter(
                &self,
                _: &::metrics::Key,
                _: &::metrics::Metadata<'_>,
            ) -> ::metrics::Counter {
                ::metrics::Counter::noop()
            }
            fn register_gauge(
                &self,
                _: &::metrics::Key,
                _: &::metrics::Metadata<'_>,
            ) -> ::metrics::Gauge {
                ::metrics::Gauge::noop()
            }
            fn register_histogram(
                &self,
                _: &::metrics::Key,
                _: &::metrics::Metadata<'_>,
            ) -> ::metrics::Histogram {
                HISTOGRAMS.fetch_add(1, Ordering::SeqCst);
                ::metrics::Histogram::noop()
            }
        }
        ::metrics::with_local_recorder(&ZeroSized, || Timer::start().done());
        assert_eq!(HISTOGRAMS.load(Ordering::SeqCst), 0);
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        ::metrics::with_local_recorder(&recorder, || Timer::start().done());
        assert_eq!(snapshotter.snapshot().into_vec().len(), 1);
    }

    /// Every number names one counter of its own, and a code's number names that code's
    /// `error` and `status` labels.
    #[test]
    fn numbered_counters_are_distinct_and_match_their_codes() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let codes = [
            ErrorCode::Unauthorized,
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidToken,
            ErrorCode::InsufficientScope,
            ErrorCode::TemporarilyUnavailable,
            ErrorCode::ServerError,
            ErrorCode::InvalidDpopProof,
            ErrorCode::UseDpopNonce,
            ErrorCode::InsufficientUserAuthentication,
            ErrorCode::AccessDenied,
        ];
        assert_eq!(codes.len(), CODES);
        ::metrics::with_local_recorder(&recorder, || {
            for code in codes {
                rejected_counter(code_index(code)).increment(1);
                guard_rejected_counter(code_index(code)).increment(2);
            }
            for i in 0..REASONS {
                reason_counter(i).increment(3);
            }
            // Past the end: counters that count nothing.
            rejected_counter(CODES).increment(1);
            reason_counter(REASONS).increment(1);
        });
        let snapshot = snapshotter.snapshot().into_vec();
        assert_eq!(snapshot.len(), 2 * CODES + REASONS);
        for code in codes {
            let error = code.as_str();
            let status = code.status().as_u16().to_string();
            for (name, n) in [(REQUESTS, 1), (GUARD_REJECTIONS, 2)] {
                let found = snapshot.iter().filter(|(key, _, _, value)| {
                    let key = key.key();
                    let label = |k: &str| key.labels().find(|l| l.key() == k).map(|l| l.value());
                    key.name() == name
                        && label("error") == Some(error)
                        && label("status") == Some(status.as_str())
                        && matches!(value, metrics_util::debugging::DebugValue::Counter(c) if *c == n)
                });
                assert_eq!(found.count(), 1, "{name} {error} {status}");
            }
        }
        let reasons: std::collections::BTreeSet<_> = snapshot
            .iter()
            .filter(|(key, ..)| key.key().name() == TOKEN_ERRORS)
            .filter_map(|(key, ..)| key.key().labels().next().map(|l| l.value().to_owned()))
            .collect();
        assert_eq!(reasons.len(), REASONS);
    }
}
