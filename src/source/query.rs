//! `?access_token=` (RFC 6750 §2.3), only when the layer enables it.

use http::Uri;

use super::checked;
use super::grammar::percent_decode;
use super::token::BearerToken;
use crate::reject::{Reason, Rejection};
use crate::rules::length;

pub(crate) fn find(uri: &Uri, max_len: usize) -> Result<Option<BearerToken>, Rejection> {
    let Some(query) = uri.query() else {
        return Ok(None);
    };
    let mut found: Option<String> = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "access_token" {
            continue;
        }
        if found.is_some() {
            return Err(Reason::TwoQueryTokens.into());
        }
        // Before decoding: each byte of the token is at most three bytes escaped.
        length::check(value.len(), max_len.saturating_mul(3))?;
        let decoded =
            percent_decode(value).ok_or_else(|| Rejection::fixed(Reason::MalformedQueryToken))?;
        found = Some(decoded);
    }
    match found {
        None => Ok(None),
        Some(t) if t.is_empty() => Err(Reason::EmptyQueryToken.into()),
        Some(t) => checked(&t, max_len).map(Some),
    }
}
