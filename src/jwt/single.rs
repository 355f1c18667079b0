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

/// Remote keys not at hand when a token arrives: decided once its claims passed.
enum Later<'a> {
    #[cfg(feature = "remote")]
    Fetch(&'a Arc<RemoteKeys>, u64),
    #[cfg(feature = "remote")]
    Unavailable(u64),
    #[cfg(not(feature = "remote"))]
    #[allow(dead_code)]
    Never(std::marker::PhantomData<&'a ()>),
}

impl Later<'_> {
    fn halt(self, may_wait: bool) -> Halt {
        match self {
            #[cfg(feature = "remote")]
            Later::Fetch(remote, generation) if may_wait => Halt::Wait(remote.clone(), generation),
            #[cfg(feature = "remote")]
            Later::Fetch(remote, _) => TokenError::Unavailable {
                retry_after: remote.unavailable(),
            }
            .into(),
            #[cfg(feature = "remote")]
            Later::Unavailable(retry_after) => TokenError::Unavailable { retry_after }.into(),
            #[cfg(not(feature = "remote"))]
            Later::Never(_) => {
                let _ = may_wait;
                TokenError::UnknownKey.into()
            }
        }
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
        token: &[u8],
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
        token: &[u8],
        may_wait: bool,
        binding: Presented<'_>,
        keys_version: u64,
    ) -> Result<Authenticated, Halt> {
        let s = Segments::split(token)?;
        let header = super::header::facts(s.header).map_err(|e| s.blame(e))?;
        if !crate::rules::typ::allowed(self.typ, header.typ) {
            return Err(s.blame(TokenError::TypeNotAllowed).into());
        }
        let kid = header.kid.as_deref();
        // The key, when the key set is at hand: a key that does not verify the header's
        // `alg`, or a `kid` a static set lacks, refuses the token before its claims are read.
        // A `kid` a remote set lacks, or remote keys not fetched yet, are decided after the
        // claims: an expired token never waits for a fetch nor causes a refetch.
        #[cfg(feature = "remote")]
        let fetched: Arc<KeySet>;
        let keys: Result<&KeySet, Later> = match &self.keys {
            Keys::Static(set) => Ok(set),
            #[cfg(feature = "remote")]
            Keys::Remote(remote) => match remote.lookup() {
                Lookup::Keys(set) => {
                    fetched = set;
                    Ok(&fetched)
                }
                Lookup::Fetch(generation) => Err(Later::Fetch(remote, generation)),
                Lookup::Unavailable { retry_after } => Err(Later::Unavailable(retry_after)),
            },
        };
        let key = match &keys {
            Ok(set) => match set.select(kid, header.alg) {
                Ok(key) => Some(key),
                Err(TokenError::UnknownKey) if self.refetches() => None,
                Err(e) => return Err(s.blame(e).into()),
            },
            Err(_) => None,
        };
        // An HMAC is checked before the claims: it costs about what they do, and a forged
        // token naming a key of the set then costs no claims work (and learns nothing about
        // its `iss` or `aud`). A public-key signature costs ten to a hundred times more, so
        // there the claims come first and an expired token costs no signature check.
        let hmac = key.filter(|k| k.is_hmac());
        if let Some(key) = hmac {
            verify(key, token, s.signed_len(), s.signature).map_err(|e| s.blame(e))?;
        }
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
        let key = match (key, keys) {
            (Some(key), _) => key,
            (None, Ok(_)) => return Err(self.unknown_key(may_wait)),
            (None, Err(later)) => return Err(later.halt(may_wait)),
        };
        if hmac.is_none() {
            verify(key, token, s.signed_len(), s.signature)?;
        }

        let auth = self.finish_grant(grant)?;
        if let Some(cache) = &self.cache {
            cache.insert(token, &auth, keys_version);
        }
        Ok(auth)
    }

    /// Whether a `kid` the key set lacks may be found by a refetch (remote keys).
    fn refetches(&self) -> bool {
        match &self.keys {
            Keys::Static(_) => false,
            #[cfg(feature = "remote")]
            Keys::Remote(_) => true,
        }
    }

    /// A `kid` the key set lacks: remote keys are refetched (within the cooldown) when the
    /// caller may wait.
    fn unknown_key(&self, may_wait: bool) -> Halt {
        #[cfg(feature = "remote")]
        if let (true, Keys::Remote(remote)) = (may_wait, &self.keys) {
            if let Some(generation) = remote.may_refetch() {
                return Halt::Wait(remote.clone(), generation);
            }
        }
        let _ = may_wait;
        TokenError::UnknownKey.into()
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
        let custom = !self.scope_claims.extract_into(
            &grant.registered,
            &grant.json,
            self.hierarchy.clone(),
            &mut grant.scopes,
        );
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
