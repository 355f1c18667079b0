//! `Authorization: Bearer <b64token>` (RFC 6750 §2.1), and `DPoP <token>` (RFC 9449 §7.1)
//! where the layer accepts DPoP.

use http::header::AUTHORIZATION;
use http::HeaderMap;

use super::token::BearerToken;
use super::{Found, Via};
use crate::reject::{Reason, Rejection};
use crate::rules::length;

pub(crate) fn find(
    headers: &HeaderMap,
    max_len: usize,
    dpop: bool,
) -> Result<Option<Found>, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Reason::TwoAuthorizationHeaders.into());
    }
    let bytes = value.as_bytes();
    // The scheme, case-insensitively; another scheme is not ours to judge.
    let scheme_is =
        |name: &[u8]| bytes.len() >= name.len() && bytes[..name.len()].eq_ignore_ascii_case(name);
    let (scheme, via): (&[u8], _) = if scheme_is(b"bearer") {
        (b"bearer", Via::Header)
    } else if dpop && scheme_is(b"dpop") {
        (b"dpop", Via::Dpop)
    } else {
        return Ok(None);
    };
    let empty = || {
        Rejection::fixed(if via == Via::Dpop {
            Reason::DpopWithoutToken
        } else {
            Reason::BearerWithoutToken
        })
    };
    let rest = &bytes[scheme.len()..];
    if rest.is_empty() {
        return Err(empty());
    }
    if rest[0] != b' ' {
        // `BearerX …` is another scheme (the name goes on: a `tchar`, RFC 9110 §5.6.2);
        // anything else after our scheme's name (`Bearer<TAB>…`, `Bearer,…`) is our scheme
        // with malformed credentials, not the absence of them.
        let tchar = rest[0].is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&rest[0]);
        return if tchar {
            Ok(None)
        } else {
            Err(Reason::MalformedAuthorization.into())
        };
    }
    let start = scheme.len() + rest.iter().take_while(|&&b| b == b' ').count();
    let token = &bytes[start..];
    if token.is_empty() {
        return Err(empty());
    }
    length::check(token.len(), max_len)?;
    // Not checked as text here: a token that fails validation is checked against the
    // `b64token` grammar then (400 or 401), and one that passes is three base64url segments.
    let mut t = BearerToken::from_header(value.clone(), start);
    t.dpop = via == Via::Dpop;
    Ok(Some(Found {
        token: t,
        via,
        vary: None,
    }))
}
