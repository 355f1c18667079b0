//! RFC 9440 `Client-Cert` values: arbitrary bytes never panic, and what is accepted is a
//! canonical byte sequence of a DER `SEQUENCE` within the cap.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(der) = tower_bearer::__fuzz::client_cert_header(data) {
        assert_eq!(der.first(), Some(&0x30));
        assert!(der.len() <= 16 * 1024);
        let inner = data.trim_ascii();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&der);
        assert_eq!(&inner[1..inner.len() - 1], encoded.as_bytes(), "canonical");
    }
});
