//! Checking arbitrary `DPoP` proof header values (everything before the replay cache).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(jkt) = tower_bearer::__fuzz::dpop_proof(data, "/users", "tok") {
        // Only a proof that verified yields a thumbprint: 32 bytes of SHA-256, base64url.
        assert_eq!(jkt.len(), 43);
    }
});
