//! Reading a `metrics_util` debugging recorder's snapshot (shared by the metrics tests).

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, Snapshotter};

/// Counters and gauges by `name{label=value,…}` (labels sorted); histograms by their count.
pub(crate) fn read(snapshotter: &Snapshotter) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let value = match value {
            DebugValue::Counter(n) => n as f64,
            DebugValue::Gauge(g) => g.into_inner(),
            DebugValue::Histogram(samples) => samples.len() as f64,
        };
        out.insert(name, value);
    }
    out
}

/// What the requests both metrics tests send to a guarded `/users` record: a valid token
/// twice (the second a cache hit), one lacking the scope, an expired one, a forged one, none,
/// and `a b` (no `b64token`).
#[allow(dead_code)]
pub(crate) const USERS_REQUESTS: [(&str, f64); 8] = [
    // `valid` twice and `narrow` once passed the layer; the guard refused `narrow`.
    ("tower_bearer_requests_total{outcome=accepted}", 3.0),
    (
        "tower_bearer_requests_total{error=invalid_token,outcome=rejected,status=401}",
        2.0,
    ),
    (
        "tower_bearer_requests_total{error=unauthorized,outcome=rejected,status=401}",
        1.0,
    ),
    (
        "tower_bearer_requests_total{error=invalid_request,outcome=rejected,status=400}",
        1.0,
    ),
    ("tower_bearer_token_errors_total{reason=expired}", 1.0),
    (
        "tower_bearer_token_errors_total{reason=invalid_signature}",
        1.0,
    ),
    (
        "tower_bearer_guard_rejections_total{error=insufficient_scope,status=403}",
        1.0,
    ),
    // The second `valid` request was a hit.
    ("tower_bearer_token_cache_total{result=hit}", 1.0),
];
