//! The whole validation of an arbitrary token against a fixed key set.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, Validator};

fn validators() -> &'static [Validator] {
    static V: OnceLock<Vec<Validator>> = OnceLock::new();
    V.get_or_init(|| {
        [
            Algorithm::ES256,
            Algorithm::HS256,
            Algorithm::RS256,
            Algorithm::EdDSA,
        ]
        .into_iter()
        .map(|a| TestIssuer::with_algorithm(a).validator())
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    for v in validators() {
        // No input the fuzzer can make carries a valid signature.
        assert!(v.validate(&token).is_err());
    }
});
