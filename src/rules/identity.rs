//! Issuer and audience (RFC 7519 §4.1.1, §4.1.3; RFC 8725 §3.8–3.9): exact string matches.

use crate::claims::registered::Registered;
use crate::error::TokenError;

/// `iss` equals one of `issuers`; absent is refused when `required`.
#[inline]
pub(crate) fn issuer(
    c: &Registered,
    json: &str,
    issuers: &[String],
    required: bool,
) -> Result<(), TokenError> {
    match &c.iss {
        Some(iss) => {
            let iss = iss.get(json);
            if issuers.iter().any(|i| i == iss) {
                Ok(())
            } else {
                Err(TokenError::IssuerMismatch)
            }
        }
        None if required => Err(TokenError::MissingClaim("iss")),
        None => Ok(()),
    }
}

/// `aud` is present and contains one of `audiences`.
#[inline]
pub(crate) fn audience(c: &Registered, json: &str, audiences: &[String]) -> Result<(), TokenError> {
    let aud = c.aud.as_ref().ok_or(TokenError::MissingClaim("aud"))?;
    if aud
        .iter(json)
        .any(|a| audiences.iter().any(|ours| ours == a))
    {
        Ok(())
    } else {
        Err(TokenError::AudienceMismatch)
    }
}
