//! A raw token in a header the user names (`X-Api-Token: <token>`, no scheme).

use http::header::{HeaderName, HeaderValue, AUTHORIZATION, COOKIE};
use http::HeaderMap;

use crate::reject::{Reason, Rejection};

/// RFC 9110 §5.6.2 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why `name` cannot carry a raw token, if it cannot.
pub(crate) fn refuse_name(name: &HeaderName) -> Option<&'static str> {
    if name == AUTHORIZATION || name == COOKIE || name.as_str() == "dpop" {
        Some("is already read by its own token source; name another header")
    } else if name.as_str() == "proxy-authorization" {
        Some("carries credentials for a proxy, not for this resource")
    } else {
        None
    }
}

/// The header's value, `Ok(None)` when absent, `400` when sent twice, empty or not text.
pub(crate) fn find<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<(&'a HeaderValue, &'a str)>, Rejection> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Reason::TwoTokenHeaders.into());
    }
    match value.to_str() {
        Ok("") | Err(_) => Err(Reason::MalformedTokenHeader.into()),
        Ok(text) => Ok(Some((value, text))),
    }
}
