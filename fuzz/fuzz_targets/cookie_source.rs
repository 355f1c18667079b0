//! Finding the token in cookies and a named header, and the cross-site rule: arbitrary
//! `Cookie`, `x-api-token`, `Origin`, `Referer` and `Upgrade` bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let method = match parts.next().and_then(|m| m.first()) {
        Some(b) if b % 2 == 0 => http::Method::GET,
        _ => http::Method::POST,
    };
    let mut headers = http::HeaderMap::new();
    for name in ["cookie", "cookie", "x-api-token", "origin", "referer", "upgrade"] {
        if let Some(v) = parts.next().and_then(|b| http::HeaderValue::from_bytes(b).ok()) {
            headers.append(name, v);
        }
    }
    if let Ok(Some(token)) = tower_bearer::__fuzz::find_token_in_cookies(&method, &headers) {
        assert!(!token.is_empty() && token.len() <= 8192);
        // Bytes: a `Cookie` field may hold other cookies' non-ASCII bytes around ours.
        let inside = headers.iter().any(|(_, v)| {
            v.as_bytes()
                .windows(token.len())
                .any(|w| w == &token[..])
        });
        assert!(inside, "the token is bytes of one header");
    }
});
