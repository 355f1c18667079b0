//! Properties of cookie parsing and the cross-site rule, over generated `Cookie` headers.

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use tower_bearer::__fuzz::find_token_in_cookies;

/// Cookie names other than `at` (some of them close to it).
fn other_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("xat".to_owned()),
        Just("at_".to_owned()),
        Just("AT".to_owned()),
        "[a-z]{1,6}".prop_filter("not the token cookie", |n| n != "at"),
    ]
}

fn b64token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.~+/-]{1,64}={0,2}"
}

/// Values with no `;` (they would end the pair) and no control characters.
fn other_value() -> impl Strategy<Value = String> {
    "[ -:<-~]{0,12}".prop_map(|v| v.trim().to_owned())
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((other_name(), other_value()), 0..6)
}

fn headers(cookie: &str, extra: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("cookie", HeaderValue::from_str(cookie).unwrap());
    for (n, v) in extra {
        h.append(*n, HeaderValue::from_str(v).unwrap());
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The `at` cookie is found among any others, wherever it stands, quoted or not.
    #[test]
    fn the_token_cookie_is_found_among_others(
        before in pairs(), after in pairs(), token in b64token(), quoted in any::<bool>(),
    ) {
        let value = if quoted { format!("\"{token}\"") } else { token.clone() };
        let mut all: Vec<String> = before.iter().map(|(n, v)| format!("{n}={v}")).collect();
        all.push(format!("at={value}"));
        all.extend(after.iter().map(|(n, v)| format!("{n}={v}")));
        let cookie = all.join("; ");
        let found = find_token_in_cookies(&Method::GET, &headers(&cookie, &[]));
        prop_assert_eq!(found, Ok(Some(token.into_bytes())));
    }

    /// Other cookies alone are never a token.
    #[test]
    fn other_cookies_are_no_token(pairs in pairs()) {
        let cookie: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let cookie = cookie.join("; ");
        prop_assume!(!cookie.is_empty());
        let found = find_token_in_cookies(&Method::POST, &headers(&cookie, &[]));
        prop_assert_eq!(found, Ok(None));
    }

    /// Twice the token cookie is a malformed request, however the two are spread.
    #[test]
    fn the_token_cookie_twice_is_400(a in b64token(), b in b64token(), split in any::<bool>()) {
        let mut h = HeaderMap::new();
        if split {
            h.append("cookie", HeaderValue::from_str(&format!("at={a}")).unwrap());
            h.append("cookie", HeaderValue::from_str(&format!("x=1; at={b}")).unwrap());
        } else {
            h.insert("cookie", HeaderValue::from_str(&format!("at={a}; at={b}")).unwrap());
        }
        prop_assert_eq!(find_token_in_cookies(&Method::GET, &h), Err(400));
    }

    /// On an unsafe method a cookie token passes from the allowed origin only; a header token
    /// from anywhere.
    #[test]
    fn unsafe_methods_need_the_allowed_origin(token in b64token(), origin in "https?://[a-z.]{1,20}(:[0-9]{1,5})?") {
        let cookie = format!("at={token}");
        let allowed = origin == "https://app.example.com" || origin == "https://app.example.com:443";
        let found = find_token_in_cookies(&Method::POST, &headers(&cookie, &[("origin", &origin)]));
        if allowed {
            prop_assert_eq!(found, Ok(Some(token.clone().into_bytes())));
        } else {
            prop_assert_eq!(found, Err(403));
        }
        let mut h = HeaderMap::new();
        h.insert("x-api-token", HeaderValue::from_str(&token).unwrap());
        h.insert("origin", HeaderValue::from_str(&origin).unwrap());
        prop_assert_eq!(find_token_in_cookies(&Method::POST, &h), Ok(Some(token.into_bytes())));
    }

    /// Arbitrary header bytes never panic, and a found token is text of a header.
    #[test]
    fn arbitrary_headers_never_panic(
        cookie in prop::collection::vec(any::<u8>(), 0..80),
        origin in prop::collection::vec(any::<u8>(), 0..40),
        post in any::<bool>(),
    ) {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(&cookie) {
            h.insert("cookie", v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&origin) {
            h.insert("origin", v);
        }
        let method = if post { Method::POST } else { Method::GET };
        if let Ok(Some(token)) = find_token_in_cookies(&method, &h) {
            prop_assert!(!token.is_empty() && cookie.windows(token.len()).any(|w| w == &token[..]));
        }
    }
}
