//! A token in a cookie (a browser app behind a backend-for-frontend).
//!
//! RFC 6265 §4.2.1: `cookie-string = cookie-pair *( ";" SP cookie-pair )`, and HTTP/2 may
//! split it over several `Cookie` header fields (RFC 9113 §8.2.3). Only the configured name is
//! looked at: other cookies are never judged, however malformed.

use http::header::{HeaderValue, COOKIE};
use http::HeaderMap;

use crate::reject::Rejection;

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
    let mut found = None;
    for field in headers.get_all(COOKIE) {
        // A field that is not visible ASCII holds no pair we could match by name; skip it
        // rather than judge another application's cookies.
        let Ok(text) = field.to_str() else { continue };
        let mut at = 0;
        for pair in text.split(';') {
            let pair_start = at;
            at += pair.len() + 1;
            let Some((n, value)) = pair.split_once('=') else {
                continue;
            };
            if n.trim_matches([' ', '\t']) != name {
                continue;
            }
            if found.is_some() {
                return Err(Rejection::invalid_request("more than one token cookie"));
            }
            let value_start = pair_start + n.len() + 1;
            let trimmed = value.trim_matches([' ', '\t']);
            let lead = value.len() - value.trim_start_matches([' ', '\t']).len();
            // RFC 6265 allows the value in double quotes.
            let (start, len) = match trimmed.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(inner) => (value_start + lead + 1, inner.len()),
                None => (value_start + lead, trimmed.len()),
            };
            found = Some((field, start, start + len));
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
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn the_same_cookie_twice_is_a_malformed_request() {
        assert!(cookie(&["at=a; at=b"], "at").is_err());
        assert!(cookie(&["at=a", "at=a"], "at").is_err());
    }
}
