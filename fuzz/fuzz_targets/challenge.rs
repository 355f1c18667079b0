//! Rendering challenges and bodies from arbitrary realm, description and scope text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tower_bearer::{ErrorCode, ErrorFormat, Rejection};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\u{0}');
    let realm = parts.next().unwrap_or_default().to_owned();
    let description = parts.next().unwrap_or_default().to_owned();
    for code in [
        ErrorCode::Unauthorized,
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidToken,
        ErrorCode::InsufficientScope,
    ] {
        let r = Rejection::new(code, description.clone());
        let challenge = r.www_authenticate(Some(&realm)).expect("a challenge");
        let value = challenge.to_str().expect("visible ASCII");
        assert!(value.starts_with("Bearer"));
        assert!(!value.contains('\r') && !value.contains('\n'));
        for format in [ErrorFormat::json(), ErrorFormat::problem_json()] {
            let resp = r.to_response(Some(&realm), &format);
            let _: serde_json::Value = serde_json::from_slice(resp.body()).expect("JSON body");
        }
    }
});
