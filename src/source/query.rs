//! `?access_token=` (RFC 6750 §2.3), only when the layer enables it.

use http::Uri;

use super::checked;
use super::grammar::percent_decode;
use super::token::BearerToken;
use crate::reject::Rejection;
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
            return Err(Rejection::invalid_request(
                "more than one access_token parameter",
            ));
        }
        // Before decoding: each byte of the token is at most three bytes escaped.
        length::check(value.len(), max_len.saturating_mul(3))?;
        let decoded = percent_decode(value)
            .ok_or_else(|| Rejection::invalid_request("malformed access_token parameter"))?;
        found = Some(decoded);
    }
    match found {
        None => Ok(None),
        Some(t) if t.is_empty() => Err(Rejection::invalid_request("empty access_token parameter")),
        Some(t) => checked(&t, max_len).map(Some),
    }
}
