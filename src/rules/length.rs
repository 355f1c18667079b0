//! The token length cap, checked before any parsing.

use crate::error::TokenError;

/// The default maximum token length, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// A token of `len` bytes is within the cap of `max_len` bytes.
#[inline]
pub(crate) fn check(len: usize, max_len: usize) -> Result<(), TokenError> {
    if len > max_len {
        Err(TokenError::TooLong)
    } else {
        Ok(())
    }
}
