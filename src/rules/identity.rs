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
        if !audiences.iter().any(|ours| ours == client) {
            return Err(TokenError::AudienceMismatch);
        }
        // An `aud` naming another resource says the token is not for us, whoever the
        // client is.
        return match &c.aud {
            Some(aud)
                if !aud
                    .iter(json)
                    .any(|a| audiences.iter().any(|ours| ours == a)) =>
            {
                Err(TokenError::AudienceMismatch)
            }
            _ => Ok(()),
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

/// Each named claim is present and equals its value (`token_use: "access"` for Cognito,
/// `email_verified: true` for Google ID tokens). Read from the raw claims only when such a
/// rule is configured.
pub(crate) fn values(json: &str, expected: &[(Box<str>, ExpectedValue)]) -> Result<(), TokenError> {
    let claims: std::collections::HashMap<std::borrow::Cow<'_, str>, &serde_json::value::RawValue> =
        serde_json::from_str(json)
            .map_err(|_| TokenError::Malformed("claims are not a JSON object"))?;
    for (name, value) in expected {
        let Some(raw) = claims.get(&**name) else {
            return Err(TokenError::MissingClaim(value.name));
        };
        let matches = match &value.value {
            Expected::Str(s) => {
                serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get()).is_ok_and(|v| v == **s)
            }
            Expected::Bool(b) => serde_json::from_str::<bool>(raw.get()).is_ok_and(|v| v == *b),
            Expected::OneOf(list) => serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get())
                .is_ok_and(|v| list.iter().any(|s| **s == *v)),
        };
        if !matches {
            return Err(TokenError::InvalidClaim(value.name));
        }
    }
    Ok(())
}

/// A value a claim must have.
#[derive(Debug, Clone)]
pub(crate) struct ExpectedValue {
    /// The claim's name, for error descriptions (a fixed set: never a token's text).
    pub(crate) name: &'static str,
    pub(crate) value: Expected,
}

#[derive(Debug, Clone)]
pub(crate) enum Expected {
    Str(Box<str>),
    Bool(bool),
    OneOf(Vec<Box<str>>),
}
