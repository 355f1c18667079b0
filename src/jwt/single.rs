//! One issuer's validation: the steps of a JWS access token, in order.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::codec::parse_claims_into;
use super::segments::Segments;
use super::signature::verify;
use crate::cache::TokenCache;
use crate::claims::grant::Grant;
use crate::claims::registered::Registered;
use crate::claims::{Authenticated, TokenClaims};
use crate::error::TokenError;
#[cfg(feature = "remote")]
use crate::keys::remote::{Lookup, RemoteKeys};
use crate::keys::set::KeySet;
use crate::rules::binding::{self, Presented};
use crate::rules::typ::TypPolicy;
use crate::rules::{ClaimRules, Origin};
use crate::scope::hierarchy::CompiledHierarchy;
use crate::scope::index::ScopeIndex;
use crate::scope::{ScopeClaims, Scopes};

/// An application's own claim check.
pub(crate) type ClaimCheck =
    Arc<dyn Fn(&TokenClaims) -> Result<(), Cow<'static, str>> + Send + Sync>;

/// Where a validator's keys come from.
pub(crate) enum Keys {
    Static(KeySet),
    #[cfg(feature = "remote")]
    Remote(Arc<RemoteKeys>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(k) => fmt::Debug::fmt(k, f),
            #[cfg(feature = "remote")]
            Self::Remote(r) => fmt::Debug::fmt(r, f),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) rules: ClaimRules,
    pub(crate) keys: Keys,
    pub(crate) typ: TypPolicy,
    pub(crate) max_len: usize,
    pub(crate) scope_claims: ScopeClaims,
    pub(crate) hierarchy: Option<Arc<CompiledHierarchy>>,
    pub(crate) checks: Vec<ClaimCheck>,
    pub(crate) cache: Option<TokenCache>,
    #[cfg(feature = "tokio")]
    pub(crate) async_checks: Option<super::checks::AsyncChecks>,
    #[cfg(feature = "remote")]
    pub(crate) introspection: Option<crate::introspect::Introspection>,
}

/// Why a validation attempt stopped.
pub(crate) enum Halt {
    Fail(TokenError),
    #[cfg(feature = "remote")]
    Wait(Arc<RemoteKeys>, u64),
}

impl From<TokenError> for Halt {
    fn from(e: TokenError) -> Self {
        Self::Fail(e)
    }
}

impl Inner {
    /// The version of the key set a verification happens under (static keys never change).
    fn keys_version(&self) -> u64 {
        match &self.keys {
            Keys::Static(_) => 0,
            #[cfg(feature = "remote")]
            Keys::Remote(remote) => remote.version(),
        }
    }

    /// Whether the key set is usable now (static keys always are).
    fn keys_usable(&self) -> bool {
        match &self.keys {
            Keys::Static(_) => true,
            #[cfg(feature = "remote")]
            Keys::Remote(remote) => remote.usable(),
        }
    }

    /// A cache hit still checks the clock, the binding and the application's checks.
    pub(crate) fn recheck_cached(
        &self,
        auth: Authenticated,
        binding: Presented<'_>,
    ) -> Result<Authenticated, TokenError> {
        let c = auth.claims().registered();
        binding::check(c.cnf.as_deref(), binding)?;
        self.rules.recheck(c)?;
        self.run_checks(auth.claims())?;
        Ok(auth)
    }

    /// The application's own checks, in the order they were added.
    fn run_checks(&self, claims: &TokenClaims) -> Result<(), TokenError> {
        for check in &self.checks {
            check(claims).map_err(TokenError::Rejected)?;
        }
        Ok(())
    }

    /// Validate a JWS (its length was checked by the caller): the verified-token cache
    /// first, then every step.
    ///
    /// A cache hit answers through `hit` rather than through [`Inner::run`]'s
    /// `Result<_, Halt>`: the hit is the hot path, and each conversion of the answer costs it
    /// moves and tests.
    ///
    /// `hit` and `ran` shape the two answers into the caller's type (the validator's step),
    /// so that this file need not know it; both are inlined.
    #[inline]
    pub(crate) fn step<S>(
        &self,
        token: &str,
        may_wait: bool,
        binding: Presented<'_>,
        hit: impl FnOnce(Result<Authenticated, TokenError>) -> S,
        ran: impl FnOnce(Result<Authenticated, Halt>) -> S,
    ) -> S {
        let keys_version = match &self.cache {
            Some(cache) => {
                let version = self.keys_version();
                if let Some(auth) = cache.get(token, version) {
                    // Only while the key set would still verify it: past a remote set's stale
                    // window, the request gets what it would get without the cache.
                    if self.keys_usable() {
                        crate::metrics::token_cache(true);
                        return hit(self.recheck_cached(auth, binding));
                    }
                }
                version
            }
            None => 0,
        };
        let result = self.run(token, may_wait, binding, keys_version);
        #[cfg(feature = "metrics")]
        if self.cache.is_some() {
            // A run that waits for keys is asked again once they are in: count that one.
            #[cfg(feature = "remote")]
            let waits = matches!(result, Err(Halt::Wait(..)));
            #[cfg(not(feature = "remote"))]
            let waits = false;
            if !waits {
                crate::metrics::token_cache(false);
            }
        }
        ran(result)
    }

    /// Validate a JWS that the cache did not answer for; `keys_version`: the key set version
    /// to cache the answer under.
    fn run(
        &self,
        token: &str,
        may_wait: bool,
        binding: Presented<'_>,
        keys_version: u64,
    ) -> Result<Authenticated, Halt> {
        let s = Segments::split(token)?;
        let header = super::header::facts(s.header).map_err(|e| s.blame(e))?;
        if !crate::rules::typ::allowed(self.typ, header.typ) {
            return Err(s.blame(TokenError::TypeNotAllowed).into());
        }
        // Claims before key and signature: every check must pass anyway, and this way the
        // commonest rejection (an expired token) costs no signature check and no key fetch.
        let payload = base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(s.payload)
            .map_err(|_| s.blame(TokenError::Malformed("claims are not base64url")))?;
        let json = String::from_utf8(payload)
            .map_err(|_| TokenError::Malformed("claims are not UTF-8"))?;
        // The grant is assembled on the stack from the start, the claims parsed into it, so
        // that they are moved once: into its allocation, after every check passed.
        let mut grant = Grant {
            registered: Registered::default(),
            json,
            scopes: ScopeIndex::empty(None),
        };
        parse_claims_into(&grant.json, true, &mut grant.registered)?;
        self.rules
            .check(&grant.registered, &grant.json, Origin::Jwt)?;
        binding::check(grant.registered.cnf.as_deref(), binding)?;
        let kid = header.kid.as_deref();
        #[cfg(feature = "remote")]
        let fetched: Arc<KeySet>;
        // Without `remote` the match has one arm; it is the same code either way.
        #[allow(clippy::infallible_destructuring_match)]
        let set: &KeySet = match &self.keys {
            Keys::Static(set) => set,
            #[cfg(feature = "remote")]
            Keys::Remote(remote) => match remote.lookup() {
                Lookup::Keys(set) => {
                    fetched = set;
                    &fetched
                }
                Lookup::Fetch(generation) if may_wait => {
                    return Err(Halt::Wait(remote.clone(), generation))
                }
                Lookup::Fetch(_) => {
                    return Err(TokenError::Unavailable {
                        retry_after: remote.unavailable(),
                    }
                    .into())
                }
                Lookup::Unavailable { retry_after } => {
                    return Err(TokenError::Unavailable { retry_after }.into())
                }
            },
        };
        let key = match set.select(kid, header.alg) {
            Ok(key) => key,
            #[cfg(feature = "remote")]
            Err(TokenError::UnknownKey) if may_wait => match &self.keys {
                Keys::Remote(remote) => match remote.may_refetch() {
                    Some(generation) => return Err(Halt::Wait(remote.clone(), generation)),
                    None => return Err(TokenError::UnknownKey.into()),
                },
                Keys::Static(_) => return Err(TokenError::UnknownKey.into()),
            },
            Err(e) => return Err(e.into()),
        };
        #[cfg(not(feature = "remote"))]
        let _ = may_wait;
        verify(key, token, s.signed_len(), s.signature)?;

        let auth = self.finish_grant(grant)?;
        if let Some(cache) = &self.cache {
            cache.insert(token, &auth, keys_version);
        }
        Ok(auth)
    }

    /// Scopes, claims and the application's checks, for a token whose claims passed
    /// (an introspection answer's).
    #[cfg(feature = "remote")]
    pub(crate) fn finish(
        &self,
        registered: Registered,
        json: String,
    ) -> Result<Authenticated, TokenError> {
        self.finish_grant(Grant {
            registered,
            json,
            scopes: ScopeIndex::empty(None),
        })
    }

    /// [`Inner::finish`] for claims already in a grant (its `scopes` still empty).
    #[inline]
    fn finish_grant(&self, mut grant: Grant) -> Result<Authenticated, TokenError> {
        let index =
            self.scope_claims
                .extract(&grant.registered, &grant.json, self.hierarchy.clone());
        let custom = index.is_none();
        if let Some(index) = index {
            grant.scopes = index;
        }
        let grant = Arc::new(grant);
        let claims = TokenClaims::from_grant(grant.clone());
        let scopes = if custom {
            self.scope_claims
                .custom_scopes(&claims, self.hierarchy.clone())
        } else {
            Scopes::from_grant(grant)
        };
        self.run_checks(&claims)?;
        Ok(Authenticated::new(claims, scopes))
    }
}
