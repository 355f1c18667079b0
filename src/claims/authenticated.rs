//! [`Authenticated`]: a validated token's claims and scopes.

use std::sync::Arc;

use super::grant::Grant;
use super::token_claims::TokenClaims;
use crate::scope::Scopes;

/// A validated token: its claims and granted scopes.
#[derive(Debug, Clone)]
pub struct Authenticated {
    claims: TokenClaims,
    scopes: Scopes,
}

impl Authenticated {
    #[inline]
    pub(crate) fn new(claims: TokenClaims, scopes: Scopes) -> Self {
        Self { claims, scopes }
    }

    /// The claims.
    #[inline]
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Both, by value.
    #[inline]
    pub fn into_parts(self) -> (TokenClaims, Scopes) {
        (self.claims, self.scopes)
    }

    /// A deep copy that shares no reference count with `self`, for one thread's own use.
    pub(crate) fn detached(&self) -> Self {
        let claims = Arc::new(Grant::clone(self.claims.grant()));
        let scopes = if Arc::ptr_eq(self.claims.grant(), self.scopes.grant()) {
            claims.clone()
        } else {
            Arc::new(Grant::clone(self.scopes.grant()))
        };
        Self {
            claims: TokenClaims::from_grant(claims),
            scopes: Scopes::from_grant(scopes),
        }
    }
}
