//! The claims fast path against serde_json on arbitrary text: it may decline, or agree.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = std::str::from_utf8(data) {
        if let Err(diff) = tower_bearer::__fuzz::claims_fast_path_agrees(json) {
            panic!("{diff}");
        }
    }
});
