//! Parsing arbitrary JWKS documents.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some((keys, skipped)) = tower_bearer::__fuzz::parse_jwks(text) {
            assert!(keys + skipped <= text.len());
        }
    }
});
