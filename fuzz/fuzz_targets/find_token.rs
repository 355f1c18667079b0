//! Finding the token: arbitrary `Authorization` bytes and URIs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (header, rest) = data.split_at(split);
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(header) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
    let uri = std::str::from_utf8(rest.get(1..).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse::<http::Uri>().ok())
        .unwrap_or_else(|| http::Uri::from_static("/"));
    for allow_query in [false, true] {
        if let Some(token) = tower_bearer::__fuzz::find_token(&headers, &uri, allow_query) {
            assert!(!token.is_empty() && token.len() <= 8192);
        }
    }
});
