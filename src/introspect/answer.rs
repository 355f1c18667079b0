//! Reading an RFC 7662 answer: active or not, an access token or not, and its claims.

use serde::Deserialize;

use crate::claims::registered::Registered;
use crate::error::TokenError;
use crate::jwt::codec::{parse_claims, parse_object};

/// What an introspection answer says.
// Read once per endpoint call and moved straight on: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Answer {
    /// `"active": false`: revoked, expired or unknown.
    Inactive,
    /// An active access token, with its claims indexed into the answer's JSON.
    Active(Registered),
}

/// Why an answer could not be used.
pub(crate) enum Unusable {
    /// Not an RFC 7662 response at all: the endpoint misbehaves (503).
    NotAnAnswer,
    /// An active answer for something that is not an access token, or with claims of the
    /// wrong type (401).
    Refused(TokenError),
}

/// Read `json`, an answer of the introspection endpoint.
pub(crate) fn read(json: &str) -> Result<Answer, Unusable> {
    #[derive(Deserialize)]
    struct Active {
        active: bool,
        #[serde(default)]
        token_type: Option<String>,
    }
    let (active, token_type) = match parse_object::<Active>(json.as_bytes()) {
        Some(a) => (a.active, a.token_type),
        None => return Err(Unusable::NotAnAnswer),
    };
    if !active {
        return Ok(Answer::Inactive);
    }
    // Only access tokens: an authorization server that also answers for refresh tokens
    // says so in `token_type` (RFC 7662 §2.2; `DPoP` for bound ones, RFC 9449 §6.2).
    if let Some(t) = token_type.as_deref() {
        if !t.eq_ignore_ascii_case("bearer") && !t.eq_ignore_ascii_case("dpop") {
            return Err(Unusable::Refused(TokenError::InvalidClaim("token_type")));
        }
    }
    parse_claims(json, false)
        .map(Answer::Active)
        .map_err(Unusable::Refused)
}
