//! The signature check, through the selected key.

use super::codec::b64_into;
use crate::error::TokenError;
use crate::keys::Key;

/// Largest signature we decode: RSA-8192 (1024 bytes).
const MAX_SIGNATURE: usize = 1024;

/// `sig_b64` is `key`'s signature over the first `signed_len` bytes of `token`.
#[inline]
pub(crate) fn verify(
    key: &Key,
    token: &str,
    signed_len: usize,
    sig_b64: &str,
) -> Result<(), TokenError> {
    let mut buf = [0u8; MAX_SIGNATURE];
    if sig_b64.len() > MAX_SIGNATURE * 4 / 3 + 4 {
        return Err(TokenError::InvalidSignature);
    }
    let signature =
        b64_into(sig_b64, &mut buf).ok_or(TokenError::Malformed("signature is not base64url"))?;
    if key.verify(&token.as_bytes()[..signed_len], signature) {
        Ok(())
    } else {
        Err(TokenError::InvalidSignature)
    }
}
