//! The claim rules, each written once and called by every path that needs it: a JWT's
//! claims, a verified-token cache hit, and an introspection answer.
//!
//! | rule | function | JWT | cache hit | introspection answer |
//! |---|---|---|---|---|
//! | token length cap | [`length::check`] | yes | (before the lookup) | yes |
//! | `exp`, `nbf`, `iat` with the leeway | [`time::check`] | `exp` required | yes | `exp` optional |
//! | issuer (or a tenant template) | [`identity::issuer`], [`tenant::TenantIssuer::check`] | required | (bytes unchanged) | when present |
//! | audience (`aud`, or `client_id`) | [`identity::audience`] | yes | (bytes unchanged) | yes |
//! | claim values (`token_use`, `email_verified`, when configured) | [`identity::values`] | yes | (bytes unchanged) | yes |
//! | required claims | [`required::check`] | yes | (bytes unchanged) | yes |
//! | `typ` | [`typ::allowed`] | yes | (bytes unchanged) | no header |
//! | `cnf` binding | [`binding::check`] | yes | yes | yes |
//!
//! A cache hit is the same token bytes a full validation accepted, so only what depends on
//! the clock or on the request (the binding) is checked again.

pub(crate) mod binding;
pub(crate) mod identity;
pub(crate) mod length;
pub(crate) mod required;
pub(crate) mod tenant;
pub(crate) mod time;
pub(crate) mod typ;

use crate::claims::registered::Registered;
use crate::error::TokenError;

/// Where claims come from: a JWT must carry `exp` and `iss`; an introspection answer may
/// omit them (the issuer vouched for the token directly, RFC 7662 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Jwt,
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    Introspection,
}

/// The policy the claim rules apply: issuers, audiences, leeway, required claims.
#[derive(Debug)]
pub(crate) struct ClaimRules {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) check_issuer: bool,
    pub(crate) check_audience: bool,
    pub(crate) leeway: f64,
    pub(crate) required: Vec<String>,
    /// Which claim the audiences are compared with.
    pub(crate) audience_claim: identity::AudienceClaim,
    /// Claims that must have a given value (`token_use`, `email_verified`).
    pub(crate) values: Vec<(Box<str>, identity::ExpectedValue)>,
    /// An issuer template filled from `tid` (multi-tenant issuers), besides `issuers`.
    pub(crate) tenant: Option<tenant::TenantIssuer>,
}

impl ClaimRules {
    /// Every standard check of a token's claims, in the order their failures are reported.
    #[inline]
    pub(crate) fn check(
        &self,
        c: &Registered,
        json: &str,
        origin: Origin,
    ) -> Result<(), TokenError> {
        let jwt = origin == Origin::Jwt;
        let times = if jwt {
            time::Times::Jwt
        } else {
            time::Times::Answer
        };
        time::check(c, time::now(), self.leeway, times)?;
        if self.check_issuer {
            match (&self.tenant, identity::issuer(c, json, &self.issuers, jwt)) {
                (Some(tenant), Err(TokenError::IssuerMismatch)) => tenant.check(c, json)?,
                (_, result) => result?,
            }
        }
        if self.check_audience {
            identity::audience(c, json, &self.audiences, self.audience_claim)?;
        }
        required::check(&self.required, c, json)?;
        if self.values.is_empty() {
            Ok(())
        } else {
            identity::values(json, &self.values)
        }
    }

    /// A cache hit: the token's bytes passed [`ClaimRules::check`] before, so only the clock
    /// can have changed the answer.
    #[inline]
    pub(crate) fn recheck(&self, c: &Registered) -> Result<(), TokenError> {
        time::check(c, time::now(), self.leeway, time::Times::Again)
    }
}
