use http::header::{CONTENT_TYPE, RETRY_AFTER};

use super::*;
use crate::error::TokenError;

#[test]
fn challenge_without_error_for_missing_credentials() {
    let r = Rejection::missing_credentials();
    assert_eq!(r.www_authenticate(None).unwrap(), "Bearer");
    assert_eq!(
        r.www_authenticate(Some("api")).unwrap(),
        "Bearer realm=\"api\""
    );
}

#[test]
fn challenge_escapes_realm_and_restricts_description() {
    let r = Rejection::new(ErrorCode::InvalidToken, "bad \"x\"\\\r\nSet-Cookie: a=b é");
    let v = r.www_authenticate(Some("a\"b\\c\r\n")).unwrap();
    assert_eq!(
        v,
        "Bearer realm=\"a\\\"b\\\\c??\", error=\"invalid_token\", error_description=\"bad 'x'/??Set-Cookie: a=b ?\""
    );
}

#[test]
fn no_challenge_for_server_errors() {
    assert!(Rejection::missing_layer("RequireScope")
        .www_authenticate(None)
        .is_none());
    let r: Rejection = TokenError::Unavailable { retry_after: 5 }.into();
    assert!(r.www_authenticate(None).is_none());
    let resp = r.to_response(None, &ErrorFormat::json());
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()[RETRY_AFTER], "5");
}

#[test]
fn problem_json_body() {
    let r = Rejection::new(ErrorCode::InsufficientScope, "insufficient scope")
        .with_scope(Some("a b".into()));
    let resp = r.to_response(None, &ErrorFormat::problem_json());
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/problem+json");
    let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"type":"about:blank","title":"Forbidden","status":403,
            "detail":"insufficient scope","error":"insufficient_scope","scope":"a b"})
    );
}
