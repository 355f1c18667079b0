//! Claims the configuration requires (RFC 9068 §2.2's `sub`, `client_id`, `iat`, `jti`, or
//! any other name). A claim that is `null` is absent.

use crate::claims::registered::Registered;
use crate::error::TokenError;

/// Every name in `required` is present in the claims.
#[inline]
pub(crate) fn check(required: &[String], c: &Registered, json: &str) -> Result<(), TokenError> {
    if required.is_empty() {
        return Ok(());
    }
    let mut others: Option<serde_json::Map<String, serde_json::Value>> = None;
    for name in required {
        let present = match name.as_str() {
            "iss" => c.iss.is_some(),
            "sub" => c.sub.is_some(),
            "aud" => c.aud.is_some(),
            "exp" => c.exp.is_some(),
            "nbf" => c.nbf.is_some(),
            "iat" => c.iat.is_some(),
            "jti" => c.jti.is_some(),
            "client_id" => c.client_id.is_some(),
            other => {
                let map =
                    others.get_or_insert_with(|| serde_json::from_str(json).unwrap_or_default());
                map.get(other).is_some_and(|v| !v.is_null())
            }
        };
        if !present {
            return Err(TokenError::MissingClaim(static_name(name)));
        }
    }
    Ok(())
}

/// Registered claim names as `&'static str` for error messages; others are named generically.
pub(crate) fn static_name(name: &str) -> &'static str {
    match name {
        "iss" => "iss",
        "sub" => "sub",
        "aud" => "aud",
        "exp" => "exp",
        "nbf" => "nbf",
        "iat" => "iat",
        "jti" => "jti",
        "client_id" => "client_id",
        _ => "(required by configuration)",
    }
}
