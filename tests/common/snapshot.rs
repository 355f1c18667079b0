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
