//! The one allocation a validation produces.

use super::registered::Registered;
use crate::scope::index::ScopeIndex;

/// Everything a validation produces, in one allocation that [`TokenClaims`] and
/// [`Scopes`](crate::Scopes) share: the registered claims, the claims JSON, and the index of
/// the granted scopes (which usually points into that JSON rather than copying it).
#[derive(Clone)]
pub(crate) struct Grant {
    pub(crate) registered: Registered,
    pub(crate) json: String,
    pub(crate) scopes: ScopeIndex,
}
