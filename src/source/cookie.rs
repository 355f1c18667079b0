//! A token in a cookie (a browser app behind a backend-for-frontend).
//!
//! RFC 6265 §4.2.1: `cookie-string = cookie-pair *( ";" SP cookie-pair )`, and HTTP/2 may
//! split it over several `Cookie` header fields (RFC 9113 §8.2.3). Only the configured name is
//! looked at: other cookies are never judged, however malformed.

use http::header::{HeaderValue, COOKIE};
use http::HeaderMap;

use crate::reject::{Reason, Rejection};

/// Whether `name` is an RFC 6265 `cookie-name` (an RFC 9110 `token`).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(super::custom_header::is_tchar)
}

/// The cookie `name`: the `Cookie` field it is in and its value's byte range there.
/// `Ok(None)` when there is no such cookie or its value is empty (how a cleared cookie often
/// lingers); `400` when it is sent twice (a sibling domain can plant a second cookie of the
/// same name, and which one is meant cannot be known).
pub(crate) fn find<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<(&'a HeaderValue, usize, usize)>, Rejection> {
    let name = name.as_bytes();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut found = None;
    for field in headers.get_all(COOKIE) {
        // Bytes, not text: another cookie's value may hold any byte (browsers accept UTF-8),
        // and that must not hide ours. Only our value must be visible ASCII.
        let bytes = field.as_bytes();
        let mut at = 0;
        for pair in bytes.split(|&b| b == b';') {
            let pair_start = at;
            at += pair.len() + 1;
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let n = &pair[..eq];
            let n_start = n.iter().position(|b| !blank(b)).unwrap_or(n.len());
            let n_end = n.iter().rposition(|b| !blank(b)).map_or(n_start, |i| i + 1);
            if &n[n_start..n_end.max(n_start)] != name {
                continue;
            }
            if found.is_some() {
                return Err(Reason::TwoTokenCookies.into());
            }
            let value = &pair[eq + 1..];
            let lead = value.iter().take_while(|b| blank(b)).count();
            let trail = value[lead..].iter().rev().take_while(|b| blank(b)).count();
            let mut start = pair_start + eq + 1 + lead;
            let mut end = pair_start + pair.len() - trail;
            // RFC 6265 allows the value in double quotes.
            if end >= start + 2 && bytes[start] == b'"' && bytes[end - 1] == b'"' {
                start += 1;
                end -= 1;
            }
            if !bytes[start..end].iter().all(|b| (0x21..=0x7e).contains(b)) {
                return Err(Reason::MalformedBearerToken.into());
            }
            found = Some((field, start, end));
        }
    }
    Ok(found.filter(|&(_, start, end)| end > start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(fields: &[&'static str], name: &str) -> Result<Option<String>, Rejection> {
        let mut h = HeaderMap::new();
        for f in fields {
            h.append(COOKIE, HeaderValue::from_static(f));
        }
        Ok(
            find(&h, name)?
                .map(|(v, s, e)| String::from_utf8(v.as_bytes()[s..e].to_vec()).unwrap()),
        )
    }

    #[test]
    fn finds_the_named_cookie_among_others() {
        let at = |f: &[&'static str]| cookie(f, "at").unwrap();
        assert_eq!(at(&["at=abc.def"]).as_deref(), Some("abc.def"));
        assert_eq!(at(&["a=1; at=abc; b=2"]).as_deref(), Some("abc"));
        assert_eq!(at(&["a=1;at=abc;b=2"]).as_deref(), Some("abc"));
        assert_eq!(at(&["a=1", "at=\"abc\""]).as_deref(), Some("abc"));
        assert_eq!(at(&["xat=abc; atx=abc; AT=abc"]), None, "names are exact");
        assert_eq!(at(&["at="]), None, "an empty cookie is no token");
        assert_eq!(at(&["at=\"\""]), None);
        assert_eq!(at(&["junk; =; ;;; at=x=y"]).as_deref(), Some("x=y"));
        assert_eq!(at(&[" at = abc "]).as_deref(), Some("abc"));
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn other_cookies_may_hold_any_byte() {
        let mut h = HeaderMap::new();
        let field = HeaderValue::from_bytes(b"x=\xc3\xa9t\xc3\xa9; at=abc.def; y=\xff").unwrap();
        h.insert(COOKIE, field);
        let (v, s, e) = find(&h, "at").unwrap().unwrap();
        assert_eq!(&v.as_bytes()[s..e], b"abc.def");
        // Our own value must be visible ASCII.
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_bytes(b"at=ab\xc3\xa9").unwrap());
        assert!(find(&h, "at").is_err());
    }

    #[test]
    fn the_same_cookie_twice_is_a_malformed_request() {
        assert!(cookie(&["at=a; at=b"], "at").is_err());
        assert!(cookie(&["at=a", "at=a"], "at").is_err());
    }
}
