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

/// Which claim names the token's intended recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum AudienceClaim {
    /// `aud` (RFC 7519 §4.1.3), a string or an array.
    #[default]
    Aud,
    /// `client_id` (Amazon Cognito access tokens carry no `aud`).
    ClientId,
}

/// The audience claim is present and contains one of `audiences`.
#[inline]
pub(crate) fn audience(
    c: &Registered,
    json: &str,
    audiences: &[String],
    claim: AudienceClaim,
) -> Result<(), TokenError> {
    if claim == AudienceClaim::ClientId {
        let client = c
            .client_id
            .as_ref()
            .ok_or(TokenError::MissingClaim("client_id"))?;
        let client = client.get(json);
        return if audiences.iter().any(|ours| ours == client) {
            Ok(())
        } else {
            Err(TokenError::AudienceMismatch)
        };
    }
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

/// `token_use` (Amazon Cognito: `access` or `id`) equals `expected`.
pub(crate) fn token_use(json: &str, expected: &str) -> Result<(), TokenError> {
    #[derive(serde::Deserialize)]
    struct TokenUse<'a> {
        #[serde(borrow, default)]
        token_use: Option<std::borrow::Cow<'a, str>>,
    }
    let found: TokenUse<'_> =
        serde_json::from_str(json).map_err(|_| TokenError::InvalidClaim("token_use"))?;
    match found.token_use {
        Some(t) if t == expected => Ok(()),
        Some(_) => Err(TokenError::InvalidClaim("token_use")),
        None => Err(TokenError::MissingClaim("token_use")),
    }
}
