//! The three segments of a compact JWS (RFC 7515 §7.1).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use super::codec::parse_object;
use crate::error::TokenError;

const SEGMENTS: TokenError = TokenError::Malformed("expected three dot-separated segments");

/// A token cut at its first and last dot.
pub(crate) struct Segments<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
}

impl<'a> Segments<'a> {
    /// The first and the last dot: the header and the signature are short, so this reads
    /// little of the token.
    #[inline]
    pub(crate) fn split(token: &'a [u8]) -> Result<Self, TokenError> {
        let (Some(first), Some(last)) = (memchr::memchr(b'.', token), memchr::memrchr(b'.', token))
        else {
            return Err(SEGMENTS);
        };
        if first == last {
            return Err(SEGMENTS);
        }
        Ok(Self {
            header: &token[..first],
            payload: &token[first + 1..last],
            signature: &token[last + 1..],
        })
    }

    /// The error to report for a failure found before the claims were decoded: a dot inside
    /// the claims segment means more than three segments, and that is reported first.
    #[inline]
    pub(crate) fn blame(&self, e: TokenError) -> TokenError {
        if memchr::memchr(b'.', self.payload).is_some() {
            SEGMENTS
        } else {
            e
        }
    }

    /// The length of the signing input, `header.payload`.
    #[inline]
    pub(crate) fn signed_len(&self) -> usize {
        self.header.len() + 1 + self.payload.len()
    }
}

/// Three dot-separated segments: a JWS, for the local validator; anything else (an opaque
/// token, a JWE) goes to introspection.
#[cfg(feature = "remote")]
pub(crate) fn jws_shaped(token: &[u8]) -> bool {
    token.iter().filter(|&&b| b == b'.').count() == 2
}

/// The `iss` of an unverified token, only to choose which issuer's keys verify it.
pub(crate) fn peek_issuer(token: &[u8]) -> Result<String, TokenError> {
    #[derive(Deserialize)]
    struct Iss {
        #[serde(default)]
        iss: Option<serde_json::Value>,
    }
    let payload = token.split(|&b| b == b'.').nth(1).ok_or(SEGMENTS)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed("claims are not base64url"))?;
    match parse_object::<Iss>(&bytes).map(|i| i.iss) {
        Some(Some(serde_json::Value::String(s))) => Ok(s),
        Some(Some(_)) => Err(TokenError::InvalidClaim("iss")),
        Some(None) => Err(TokenError::MissingClaim("iss")),
        None => Err(TokenError::Malformed("claims are not a valid JSON object")),
    }
}
