//! Handles to the metrics every request touches, registered once with the global recorder.
//!
//! A `counter!` at the point of use asks the recorder in force for its handle every time;
//! Prometheus's recorder, for one, copies the key and looks it up in a locked map, which
//! costs a refused request about what refusing it does. [`register`] (from `describe()`)
//! registers every per-request metric once, on a new thread (where no thread-local recorder
//! can be set, so it is the global recorder that answers), and [`get`] hands them out only
//! while that same recorder is the one in force: a thread's local recorder, or a global one
//! installed afterwards, gets each metric looked up as before.

use std::sync::OnceLock;

use metrics::{Counter, Histogram, Recorder};

use super::REASONS;
use crate::reject::ErrorCode;

/// How many error codes the by-code counters count.
pub(super) const CODES: usize = 10;

pub(super) struct Handles {
    /// The address of the recorder they were registered with: the global recorder, which
    /// lives as long as the process and has state (is not zero-sized), so no other
    /// recorder ever has it.
    recorder: usize,
    pub(super) accepted: Counter,
    pub(super) unauthenticated: Counter,
    pub(super) rejected: [Counter; CODES],
    pub(super) guard_rejected: [Counter; CODES],
    pub(super) token_errors: [Counter; REASONS],
    pub(super) cache_hit: Counter,
    pub(super) cache_miss: Counter,
    pub(super) seconds: Histogram,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

fn address(recorder: &dyn Recorder) -> usize {
    (recorder as *const dyn Recorder).cast::<()>() as usize
}

/// The recorder in force on this thread.
fn in_force() -> usize {
    metrics::with_recorder(address)
}

/// The handles, while the recorder in force is the one they were registered with.
#[inline]
pub(super) fn get() -> Option<&'static Handles> {
    let handles = HANDLES.get()?;
    (in_force() == handles.recorder).then_some(handles)
}

/// Register the handles with the global recorder (once; later calls do nothing).
pub(super) fn register() {
    if HANDLES.get().is_some() {
        return;
    }
    let probe = std::thread::Builder::new()
        .name("tower-bearer-metrics".into())
        .spawn(|| {
            // A recorder without state (the no-op one when none is installed) may share its
            // address with another: nothing to keep for it.
            let before = metrics::with_recorder(|r| std::mem::size_of_val(r) > 0).then(in_force)?;
            let handles = Handles {
                recorder: before,
                accepted: metrics::counter!("tower_bearer_requests_total", "outcome" => "accepted"),
                unauthenticated: metrics::counter!(
                    "tower_bearer_requests_total",
                    "outcome" => "unauthenticated"
                ),
                rejected: std::array::from_fn(super::rejected_counter),
                guard_rejected: std::array::from_fn(super::guard_rejected_counter),
                token_errors: std::array::from_fn(super::reason_counter),
                cache_hit: metrics::counter!("tower_bearer_token_cache_total", "result" => "hit"),
                cache_miss: metrics::counter!("tower_bearer_token_cache_total", "result" => "miss"),
                seconds: metrics::histogram!("tower_bearer_validation_seconds"),
            };
            // A global recorder installed meanwhile: some handles may be the old one's.
            (in_force() == before).then_some(handles)
        });
    // Without a thread (or if it failed), every metric is looked up at each use, as before.
    if let Ok(Ok(Some(handles))) = probe.map(|t| t.join()) {
        let _ = HANDLES.set(handles);
    }
}

/// The number of `code` in the by-code counters (`super::by_code!`'s numbering).
#[inline]
pub(super) fn code_index(code: ErrorCode) -> usize {
    match code {
        ErrorCode::Unauthorized => 0,
        ErrorCode::InvalidRequest => 1,
        ErrorCode::InvalidToken => 2,
        ErrorCode::InsufficientScope => 3,
        ErrorCode::TemporarilyUnavailable => 4,
        ErrorCode::ServerError => 5,
        ErrorCode::InvalidDpopProof => 6,
        ErrorCode::UseDpopNonce => 7,
        ErrorCode::InsufficientUserAuthentication => 8,
        ErrorCode::AccessDenied => 9,
    }
}
