//! The signature check, through the selected key.

use super::codec::b64_into;
use crate::error::TokenError;
use crate::keys::Key;

/// Largest signature we decode: RSA-8192 (1024 bytes).
const MAX_SIGNATURE: usize = 1024;

/// `sig_b64` is `key`'s signature over the first `signed_len` bytes of `token`.
///
/// The signature is decoded on the stack, into a buffer sized for it: HMAC, ECDSA and EdDSA
/// signatures (at most 64 bytes) do not pay for zeroing the 1 KiB an RSA-8192 one needs.
#[inline]
pub(crate) fn verify(
    key: &Key,
    token: &[u8],
    signed_len: usize,
    sig_b64: &[u8],
) -> Result<(), TokenError> {
    if sig_b64.len() > MAX_SIGNATURE * 4 / 3 + 4 {
        return Err(TokenError::InvalidSignature);
    }
    let check = |buf: &mut [u8]| {
        let signature =
            b64_into(sig_b64, buf).ok_or(TokenError::Malformed("signature is not base64url"))?;
        if key.verify(&token[..signed_len], signature) {
            Ok(())
        } else {
            Err(TokenError::InvalidSignature)
        }
    };
    // Up to 128 characters decode to at most 96 bytes.
    if sig_b64.len() <= SHORT_SIGNATURE * 4 / 3 {
        check(&mut [0u8; SHORT_SIGNATURE])
    } else if sig_b64.len() <= (MID_SIGNATURE * 4).div_ceil(3) {
        check(&mut [0u8; MID_SIGNATURE])
    } else {
        check(&mut [0u8; MAX_SIGNATURE])
    }
}

/// Largest signature decoded into the short buffer: HS512, ES384 (96 bytes).
const SHORT_SIGNATURE: usize = 96;

/// Largest signature decoded into the middle buffer: RSA-4096 (512 bytes), and the
/// RSA-2048 and RSA-3072 ones do not zero 1 KiB either.
const MID_SIGNATURE: usize = 512;
