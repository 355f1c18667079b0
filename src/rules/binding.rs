//! Sender-constrained tokens (RFC 7800 `cnf`, RFC 9449 §6.1 `cnf.jkt`).

use crate::claims::registered::Cnf;
use crate::error::TokenError;

/// A token bound to a key passes only with a proof by that key; a proof only comes with a
/// bound token; confirmation methods other than `jkt` (mTLS) are never satisfied here.
///
/// `binding`: the RFC 7638 thumbprint of the key whose DPoP proof came with the token
/// (already verified), or `None` for a plain bearer token.
#[inline]
pub(crate) fn check(cnf: Option<&Cnf>, binding: Option<&str>) -> Result<(), TokenError> {
    match (cnf, binding) {
        (None, None) => Ok(()),
        (Some(c), _) if c.other || c.jkt.is_none() => Err(TokenError::BoundToken),
        (Some(_), None) => Err(TokenError::BoundToken),
        (None, Some(_)) => Err(TokenError::NotDpopBound),
        (Some(c), Some(proof)) => {
            let jkt = c.jkt.as_deref().unwrap_or_default();
            // Thumbprints are public; a plain comparison leaks nothing.
            if jkt == proof {
                Ok(())
            } else {
                Err(TokenError::DpopKeyMismatch)
            }
        }
    }
}
