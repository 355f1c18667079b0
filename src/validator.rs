//! The validation policy: which issuers, audiences, keys and token types are accepted.
//!
//! ```
//! use tower_bearer::{Algorithm, Validator};
//!
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef", Algorithm::HS256)
//!     .build()?;
//! # let _ = validator;
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```
//!
//! # What is checked, in order
//!
//! 1. Length, before any parsing (default 8 KiB).
//! 2. Three base64url segments, canonical encoding, header a JSON object without duplicate
//!    members.
//! 3. `alg` is one this crate knows (never `none`); `crit` absent; `typ` allowed by the policy.
//! 4. The key: by `kid`, and the header's `alg` must be that key's one algorithm. `jku`, `x5u`,
//!    `jwk` and `x5c` are never read.
//! 5. The signature, through the crate's own crypto backend.
//! 6. The claims: a JSON object without duplicate registered members; `exp` present and
//!    numeric; `nbf` and `iat` numeric when present; all three checked against the clock
//!    with the leeway; `iss` a string equal to a configured issuer; `aud` a string or array
//!    of strings containing a configured audience; no `cnf` (sender-constrained tokens are not
//!    bearer tokens) unless it is a DPoP `cnf.jkt` matched by a verified proof
//!    ([`crate::dpop`]); required claims present.
//! 7. Your own checks, in the order they were added.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use crate::cache::TokenCache;
use crate::claims::{Grant, Registered, TokenClaims};
use crate::error::{ConfigError, TokenError};
use crate::header::Typ;
use crate::keys::{parse_jwks, Algorithm, Key, KeySet};
#[cfg(feature = "remote")]
use crate::remote::{Fetch, Lookup, RemoteKeys, RemoteOptions, Source};
use crate::scope::{CompiledHierarchy, ScopeClaims, ScopeHierarchy, ScopeIndex, Scopes};

/// The default maximum token length, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// The default clock leeway for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY: u64 = 30;
/// The largest NumericDate accepted: 9999-12-31T23:59:59Z.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Which `typ` header values are accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypPolicy {
    /// `at+jwt` or `application/at+jwt` (any case), `JWT`, or no `typ` (the default).
    #[default]
    Lenient,
    /// RFC 9068: only `at+jwt` or `application/at+jwt` (any case). Tells access tokens from
    /// ID tokens signed by the same issuer.
    Strict,
}

type ClaimCheck = Arc<dyn Fn(&TokenClaims) -> Result<(), Cow<'static, str>> + Send + Sync>;

/// A validated token: its claims and granted scopes.
#[derive(Debug, Clone)]
pub struct Authenticated {
    claims: TokenClaims,
    scopes: Scopes,
}

impl Authenticated {
    /// The claims.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Both, by value.
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

/// Validates access tokens. Cheap to clone; share one per trusted issuer set.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Kind>,
}

// Lives behind an Arc: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Kind {
    One(Inner),
    /// Several issuers, each with its own keys, chosen by the token's `iss`.
    Many {
        by_issuer: HashMap<String, Validator>,
        max_len: usize,
    },
}

/// Where a validator's keys come from.
enum Keys {
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

/// The outcome of one synchronous validation attempt.
pub(crate) enum Step {
    Done(Result<Authenticated, TokenError>),
    /// Keys must be fetched first (cold cache, or an unknown `kid` after the cooldown).
    #[cfg(feature = "remote")]
    Wait(Arc<RemoteKeys>, u64),
    /// An opaque token that must be introspected (this validator is single-issuer).
    #[cfg(feature = "remote")]
    Introspect(Validator),
}

struct Inner {
    issuers: Vec<String>,
    audiences: Vec<String>,
    check_issuer: bool,
    check_audience: bool,
    keys: Keys,
    leeway: f64,
    typ: TypPolicy,
    max_len: usize,
    required: Vec<String>,
    scope_claims: ScopeClaims,
    hierarchy: Option<Arc<CompiledHierarchy>>,
    checks: Vec<ClaimCheck>,
    cache: Option<TokenCache>,
    #[cfg(feature = "remote")]
    introspection: Option<crate::introspect::Introspection>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = match &*self.inner {
            Kind::One(i) => i,
            Kind::Many { by_issuer, .. } => {
                return f
                    .debug_struct("Validator")
                    .field("issuers", &by_issuer.values().collect::<Vec<_>>())
                    .finish()
            }
        };
        f.debug_struct("Validator")
            .field("issuers", &i.issuers)
            .field("audiences", &i.audiences)
            .field("keys", &i.keys)
            .field("leeway", &i.leeway)
            .field("typ", &i.typ)
            .field("max_len", &i.max_len)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Start configuring a validator.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }

    /// Several issuers, each validated by its own validator (own keys, audience, policy):
    /// a token goes to the validator of its `iss`, read before verification, and is then
    /// verified against that issuer's keys only.
    ///
    /// # Errors
    /// If a validator skips the issuer check, or two validators claim the same issuer.
    pub fn multi_issuer(
        validators: impl IntoIterator<Item = Validator>,
    ) -> Result<Validator, ConfigError> {
        let mut by_issuer = HashMap::new();
        let mut max_len = 0;
        for v in validators {
            let Kind::One(inner) = &*v.inner else {
                return Err(ConfigError::Invalid(
                    "multi_issuer takes single-issuer validators, not another multi_issuer".into(),
                ));
            };
            if !inner.check_issuer {
                return Err(ConfigError::Invalid(
                    "a validator in multi_issuer must check its issuer: remove insecure_skip_issuer_check()".into(),
                ));
            }
            max_len = max_len.max(inner.max_len);
            for iss in &inner.issuers {
                if by_issuer.insert(iss.clone(), v.clone()).is_some() {
                    return Err(ConfigError::Invalid(
                        format!("issuer {iss:?} is configured twice in multi_issuer").into(),
                    ));
                }
            }
        }
        if by_issuer.is_empty() {
            return Err(ConfigError::MissingIssuer);
        }
        Ok(Validator {
            inner: Arc::new(Kind::Many { by_issuer, max_len }),
        })
    }

    /// The configured maximum token length.
    pub fn max_token_len(&self) -> usize {
        match &*self.inner {
            Kind::One(i) => i.max_len,
            Kind::Many { max_len, .. } => *max_len,
        }
    }

    /// Whether every remote key source has a usable key set (always true for static keys).
    /// Use it for a readiness probe.
    pub fn keys_loaded(&self) -> bool {
        match &*self.inner {
            Kind::One(i) => match &i.keys {
                Keys::Static(_) => true,
                #[cfg(feature = "remote")]
                Keys::Remote(r) => r.is_loaded(),
            },
            Kind::Many { by_issuer, .. } => by_issuer.values().all(Validator::keys_loaded),
        }
    }

    /// Fetch every remote key set now, to fail fast at start-up (a no-op for static keys).
    ///
    /// # Errors
    /// The first source that could not be loaded.
    #[cfg(feature = "remote")]
    pub async fn warm_up(&self) -> Result<(), crate::remote::FetchError> {
        match &*self.inner {
            Kind::One(i) => match &i.keys {
                Keys::Static(_) => Ok(()),
                Keys::Remote(r) => r.refresh_now().await,
            },
            Kind::Many { by_issuer, .. } => {
                for v in by_issuer.values() {
                    Box::pin(v.warm_up()).await?;
                }
                Ok(())
            }
        }
    }

    /// Validate a compact JWS access token without waiting on the network: with remote
    /// keys, a cold cache answers [`TokenError::Unavailable`] and an unknown `kid`
    /// [`TokenError::UnknownKey`]. Use [`Validator::validate_async`] to wait for a fetch.
    ///
    /// # Errors
    /// Why the token is not accepted; see [`TokenError`].
    pub fn validate(&self, token: &str) -> Result<Authenticated, TokenError> {
        match self.step(token, false, None) {
            Step::Done(result) => result,
            #[cfg(feature = "remote")]
            Step::Wait(remote, _) => Err(TokenError::Unavailable {
                retry_after: remote.unavailable(),
            }),
            // Only a cached answer can be given without waiting.
            #[cfg(feature = "remote")]
            Step::Introspect(v) => Err(TokenError::IntrospectionUnavailable {
                retry_after: v.introspection_retry_after(),
            }),
        }
    }

    /// Validate, fetching keys first when the cache is cold or the `kid` is unknown (at most
    /// one fetch per cooldown, shared by concurrent callers).
    ///
    /// # Errors
    /// Why the token is not accepted; see [`TokenError`].
    pub async fn validate_async(&self, token: &str) -> Result<Authenticated, TokenError> {
        match self.step(token, true, None) {
            Step::Done(result) => result,
            #[cfg(feature = "remote")]
            Step::Wait(remote, generation) => {
                let _ = remote.refresh(generation).await;
                match self.step(token, false, None) {
                    Step::Done(result) => result,
                    Step::Wait(remote, _) => Err(TokenError::Unavailable {
                        retry_after: remote.unavailable(),
                    }),
                    Step::Introspect(v) => v.introspect(token, None).await,
                }
            }
            #[cfg(feature = "remote")]
            Step::Introspect(v) => v.introspect(token, None).await,
        }
    }

    #[cfg(feature = "remote")]
    fn introspection_retry_after(&self) -> u64 {
        match &*self.inner {
            Kind::One(Inner {
                introspection: Some(i),
                ..
            }) => i.retry_after(),
            _ => 1,
        }
    }

    /// Ask the introspection endpoint about an opaque token and check the answer.
    #[cfg(feature = "remote")]
    pub(crate) async fn introspect(
        &self,
        token: &str,
        binding: Option<&str>,
    ) -> Result<Authenticated, TokenError> {
        let Kind::One(inner) = &*self.inner else {
            return Err(TokenError::IntrospectionUnavailable { retry_after: 1 });
        };
        let Some(introspection) = &inner.introspection else {
            return Err(TokenError::IntrospectionUnavailable { retry_after: 1 });
        };
        let unavailable = |_why: &str| TokenError::IntrospectionUnavailable {
            retry_after: introspection.retry_after(),
        };
        let json = match introspection.ask(token).await {
            Ok(json) => json,
            Err(e) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(error = %e, "token introspection failed");
                let _ = &e;
                return Err(unavailable("endpoint"));
            }
        };
        #[derive(Deserialize)]
        struct Active {
            active: bool,
            #[serde(default)]
            token_type: Option<String>,
        }
        let (active, token_type) = match parse_object::<Active>(json.as_bytes()) {
            Some(a) => (a.active, a.token_type),
            None => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    "token introspection answered something that is not an RFC 7662 response"
                );
                return Err(unavailable("response"));
            }
        };
        if !active {
            introspection.remember(token, None, None);
            return Err(TokenError::Inactive);
        }
        // Only access tokens: an authorization server that also answers for refresh tokens
        // says so in `token_type` (RFC 7662 §2.2; `DPoP` for bound ones, RFC 9449 §6.2).
        if let Some(t) = token_type.as_deref() {
            if !t.eq_ignore_ascii_case("bearer") && !t.eq_ignore_ascii_case("dpop") {
                return Err(TokenError::InvalidClaim("token_type"));
            }
        }
        let mut registered = match parse_object_str::<Registered>(&json) {
            Some(r) => r,
            None => return Err(diagnose_claims(&json)),
        };
        if !registered.rebase(&json) {
            return Err(TokenError::Malformed("claims could not be indexed"));
        }
        inner.check_introspected(&registered, &json)?;
        check_binding(registered.cnf.as_ref(), binding)?;
        let exp = registered.exp;
        let auth = inner.finish(registered, json)?;
        introspection.remember(token, Some(&auth), exp);
        Ok(auth)
    }

    /// One attempt; `may_wait`: whether a fetch may be asked for.
    ///
    /// `binding`: the RFC 7638 thumbprint of the key whose DPoP proof came with the token
    /// (already verified), or `None` for a plain bearer token.
    pub(crate) fn step(&self, token: &str, may_wait: bool, binding: Option<&str>) -> Step {
        match &*self.inner {
            #[cfg(feature = "remote")]
            Kind::One(inner) if inner.introspection.is_some() && !jws_shaped(token) => {
                if token.len() > inner.max_len {
                    return Step::Done(Err(TokenError::TooLong));
                }
                match inner.introspection.as_ref().and_then(|i| i.cached(token)) {
                    Some(Some(auth)) => Step::Done(match inner.recheck_cached(auth, binding) {
                        Ok(auth) => Ok(auth),
                        Err(Halt::Fail(e)) => Err(e),
                        Err(Halt::Wait(..)) => Err(TokenError::Inactive),
                    }),
                    Some(None) => Step::Done(Err(TokenError::Inactive)),
                    None => Step::Introspect(self.clone()),
                }
            }
            Kind::One(inner) => inner.step(token, may_wait, binding),
            Kind::Many { by_issuer, max_len } => {
                if token.len() > *max_len {
                    return Step::Done(Err(TokenError::TooLong));
                }
                match peek_issuer(token) {
                    Ok(iss) => match by_issuer.get(iss.as_str()) {
                        Some(v) => v.step(token, may_wait, binding),
                        None => Step::Done(Err(TokenError::IssuerMismatch)),
                    },
                    Err(e) => Step::Done(Err(e)),
                }
            }
        }
    }
}

/// Three dot-separated segments: a JWS, for the local validator; anything else (an opaque
/// token, a JWE) goes to introspection.
#[cfg(feature = "remote")]
fn jws_shaped(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

/// The `iss` of an unverified token, only to choose which issuer's keys verify it.
fn peek_issuer(token: &str) -> Result<String, TokenError> {
    #[derive(Deserialize)]
    struct Iss {
        #[serde(default)]
        iss: Option<serde_json::Value>,
    }
    let payload = token.split('.').nth(1).ok_or(TokenError::Malformed(
        "expected three dot-separated segments",
    ))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed("claims are not base64url"))?;
    match parse_object::<Iss>(&bytes).map(|i| i.iss) {
        Some(Some(serde_json::Value::String(s))) => Ok(s),
        Some(Some(_)) => Err(TokenError::InvalidClaim("iss")),
        Some(None) => Err(TokenError::MissingClaim("iss")),
        None => Err(TokenError::Malformed("claims are not a valid JSON object")),
    }
}

/// Why a validation attempt stopped.
enum Halt {
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
    fn step(&self, token: &str, may_wait: bool, binding: Option<&str>) -> Step {
        match self.run(token, may_wait, binding) {
            Ok(auth) => Step::Done(Ok(auth)),
            Err(Halt::Fail(e)) => Step::Done(Err(e)),
            #[cfg(feature = "remote")]
            Err(Halt::Wait(remote, generation)) => Step::Wait(remote, generation),
        }
    }

    /// The version of the key set a verification happens under (static keys never change).
    fn keys_version(&self) -> u64 {
        match &self.keys {
            Keys::Static(_) => 0,
            #[cfg(feature = "remote")]
            Keys::Remote(remote) => remote.version(),
        }
    }

    /// A cache hit still checks the clock and runs the application's checks.
    fn recheck_cached(
        &self,
        auth: Authenticated,
        binding: Option<&str>,
    ) -> Result<Authenticated, Halt> {
        let c = auth.claims().registered();
        check_binding(c.cnf.as_ref(), binding)?;
        let now = now();
        if c.exp.is_some_and(|exp| now - self.leeway >= exp) {
            return Err(TokenError::Expired.into());
        }
        if c.nbf.is_some_and(|nbf| now + self.leeway < nbf) {
            return Err(TokenError::NotYetValid.into());
        }
        for check in &self.checks {
            check(auth.claims()).map_err(TokenError::Rejected)?;
        }
        Ok(auth)
    }

    fn run(
        &self,
        token: &str,
        may_wait: bool,
        binding: Option<&str>,
    ) -> Result<Authenticated, Halt> {
        let inner = self;
        if token.len() > inner.max_len {
            return Err(TokenError::TooLong.into());
        }
        let keys_version = match &self.cache {
            Some(cache) => {
                let version = self.keys_version();
                if let Some(auth) = cache.get(token, version) {
                    return self.recheck_cached(auth, binding);
                }
                version
            }
            None => 0,
        };
        // The first and the last dot: the header and the signature are short, so this reads
        // little of the token. A dot inside the claims segment means more than three
        // segments; that is reported first, before anything the other checks would say.
        const SEGMENTS: TokenError = TokenError::Malformed("expected three dot-separated segments");
        let (Some(first), Some(last)) = (token.find('.'), token.rfind('.')) else {
            return Err(SEGMENTS.into());
        };
        if first == last {
            return Err(SEGMENTS.into());
        }
        let (header_b64, payload_b64, sig_b64) =
            (&token[..first], &token[first + 1..last], &token[last + 1..]);
        let segments = |e: TokenError| {
            if payload_b64.contains('.') {
                SEGMENTS
            } else {
                e
            }
        };

        let header = crate::header::facts(header_b64).map_err(segments)?;
        let alg = header.alg;
        if !typ_allowed(inner.typ, header.typ) {
            return Err(segments(TokenError::TypeNotAllowed).into());
        }
        // Claims before key and signature: every check must pass anyway, and this way the
        // commonest rejection (an expired token) costs no signature check and no key fetch.
        let payload = base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(payload_b64)
            .map_err(|_| segments(TokenError::Malformed("claims are not base64url")))?;
        let json = String::from_utf8(payload)
            .map_err(|_| TokenError::Malformed("claims are not UTF-8"))?;
        let registered = match crate::claims::parse_fast(&json) {
            Some(r) => r,
            None => {
                let mut r = match parse_object_str::<Registered>(&json) {
                    Some(r) => r,
                    None => return Err(diagnose_claims(&json).into()),
                };
                if !r.rebase(&json) {
                    return Err(TokenError::Malformed("claims could not be indexed").into());
                }
                r
            }
        };
        self.check_claims(&registered, &json)?;
        check_binding(registered.cnf.as_ref(), binding)?;
        let kid = header.kid.as_deref();
        #[cfg(feature = "remote")]
        let fetched: Arc<KeySet>;
        let set: &KeySet = match &inner.keys {
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
        let key = match set.select(kid, alg) {
            Ok(key) => key,
            #[cfg(feature = "remote")]
            Err(TokenError::UnknownKey) if may_wait => match &inner.keys {
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
        verify(
            key,
            token,
            header_b64.len() + 1 + payload_b64.len(),
            sig_b64,
        )?;

        let auth = inner.finish(registered, json)?;
        if let Some(cache) = &self.cache {
            cache.insert(token, &auth, keys_version);
        }
        Ok(auth)
    }

    /// Scopes, claims and the application's checks, for a token whose claims passed.
    fn finish(&self, registered: Registered, json: String) -> Result<Authenticated, TokenError> {
        let index = self
            .scope_claims
            .extract(&registered, &json, self.hierarchy.clone());
        let custom = index.is_none();
        let grant = Arc::new(Grant {
            registered,
            json,
            scopes: index.unwrap_or_else(|| ScopeIndex::empty(None)),
        });
        let claims = TokenClaims::from_grant(grant.clone());
        let scopes = if custom {
            self.scope_claims
                .custom_scopes(&claims, self.hierarchy.clone())
        } else {
            Scopes::from_grant(grant)
        };
        for check in &self.checks {
            check(&claims).map_err(TokenError::Rejected)?;
        }
        Ok(Authenticated { claims, scopes })
    }

    /// An active introspection answer: like a JWT's claims, except that `exp` and `iss` may
    /// be absent (the issuer vouched for the token directly).
    #[cfg(feature = "remote")]
    fn check_introspected(&self, c: &Registered, json: &str) -> Result<(), TokenError> {
        let now = now();
        if let Some(exp) = c.exp {
            numeric_date(exp, "exp")?;
            if now - self.leeway >= exp {
                return Err(TokenError::Expired);
            }
        }
        if let Some(nbf) = c.nbf {
            numeric_date(nbf, "nbf")?;
            if now + self.leeway < nbf {
                return Err(TokenError::NotYetValid);
            }
        }
        if let Some(iat) = c.iat {
            numeric_date(iat, "iat")?;
            if iat > now + self.leeway {
                return Err(TokenError::IssuedInFuture);
            }
        }
        if self.check_issuer {
            if let Some(iss) = &c.iss {
                if !self.issuers.iter().any(|i| i == iss.get(json)) {
                    return Err(TokenError::IssuerMismatch);
                }
            }
        }
        if self.check_audience {
            let aud = c.aud.as_ref().ok_or(TokenError::MissingClaim("aud"))?;
            if !aud
                .iter(json)
                .any(|a| self.audiences.iter().any(|ours| ours == a))
            {
                return Err(TokenError::AudienceMismatch);
            }
        }
        if !self.required.is_empty() {
            check_required(&self.required, c, json)?;
        }
        Ok(())
    }

    fn check_claims(&self, c: &Registered, json: &str) -> Result<(), TokenError> {
        let inner = self;
        let now = now();
        let leeway = inner.leeway;

        let exp = c.exp.ok_or(TokenError::MissingClaim("exp"))?;
        numeric_date(exp, "exp")?;
        if now - leeway >= exp {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = c.nbf {
            numeric_date(nbf, "nbf")?;
            if now + leeway < nbf {
                return Err(TokenError::NotYetValid);
            }
        }
        if let Some(iat) = c.iat {
            numeric_date(iat, "iat")?;
            if iat > now + leeway {
                return Err(TokenError::IssuedInFuture);
            }
        }

        if inner.check_issuer {
            let iss = c.iss.as_ref().ok_or(TokenError::MissingClaim("iss"))?;
            let iss = iss.get(json);
            if !inner.issuers.iter().any(|i| i == iss) {
                return Err(TokenError::IssuerMismatch);
            }
        }
        if inner.check_audience {
            let aud = c.aud.as_ref().ok_or(TokenError::MissingClaim("aud"))?;
            if !aud
                .iter(json)
                .any(|a| inner.audiences.iter().any(|ours| ours == a))
            {
                return Err(TokenError::AudienceMismatch);
            }
        }
        if !inner.required.is_empty() {
            check_required(&inner.required, c, json)?;
        }
        Ok(())
    }
}

/// RFC 9449 §7.1 and RFC 7800: a token bound to a key passes only with a proof by that key;
/// a proof only comes with a bound token; confirmation methods other than `jkt` (mTLS) are
/// never satisfied here.
fn check_binding(
    cnf: Option<&crate::claims::Cnf>,
    binding: Option<&str>,
) -> Result<(), TokenError> {
    match (cnf, binding) {
        (None, None) => Ok(()),
        (Some(c), _) if c.other || c.jkt.is_none() => Err(TokenError::BoundToken),
        (Some(_), None) => Err(TokenError::BoundToken),
        (None, Some(_)) => Err(TokenError::NotDpopBound),
        (Some(c), Some(proof)) => {
            let jkt = c.jkt.as_deref().unwrap_or_default();
            // Thumbprints are public; a plain comparison leaks nothing.
            if jkt == proof {
                Ok(())
            } else {
                Err(TokenError::DpopKeyMismatch)
            }
        }
    }
}

fn check_required(required: &[String], c: &Registered, json: &str) -> Result<(), TokenError> {
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
fn static_name(name: &str) -> &'static str {
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

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn numeric_date(v: f64, name: &'static str) -> Result<(), TokenError> {
    if v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v) {
        Ok(())
    } else {
        Err(TokenError::InvalidClaim(name))
    }
}

fn typ_allowed(policy: TypPolicy, typ: Typ) -> bool {
    match policy {
        TypPolicy::Lenient => matches!(typ, Typ::Absent | Typ::Jwt | Typ::AtJwt),
        TypPolicy::Strict => typ == Typ::AtJwt,
    }
}

/// Decode canonical unpadded base64url into `buf` (SIMD where the CPU has it); `None` when
/// the input is not canonical base64url or does not fit.
pub(crate) fn b64_into<'b>(src: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    let n = b64.decoded_length(src.as_bytes()).ok()?;
    let out = buf.get_mut(..n)?;
    b64.decode(src.as_bytes(), base64_simd::Out::from_slice(out))
        .ok()
        .map(|d| &*d)
}

/// Largest signature we decode: RSA-8192 (1024 bytes).
const MAX_SIGNATURE: usize = 1024;

fn verify(key: &Key, token: &str, signed_len: usize, sig_b64: &str) -> Result<(), TokenError> {
    let mut buf = [0u8; MAX_SIGNATURE];
    if sig_b64.len() > MAX_SIGNATURE * 4 / 3 + 4 {
        return Err(TokenError::InvalidSignature);
    }
    let signature =
        b64_into(sig_b64, &mut buf).ok_or(TokenError::Malformed("signature is not base64url"))?;
    if key.verify(&token.as_bytes()[..signed_len], signature) {
        Ok(())
    } else {
        Err(TokenError::InvalidSignature)
    }
}

/// Parse a JSON object; `None` for anything else (serde's derive would also take an array).
pub(crate) fn parse_object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// [`parse_object`] for text already known to be UTF-8: serde_json then skips validating
/// every string again.
fn parse_object_str<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace())?;
    if first != b'{' {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The slow path after the claims failed to parse: say which registered claim is at fault.
fn diagnose_claims(json: &str) -> TokenError {
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) else {
        return TokenError::Malformed("claims are not a JSON object");
    };
    for name in [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "client_id",
        "azp",
        "scope",
        "scp",
    ] {
        if let Some(v) = map.get(name) {
            let mut one = serde_json::Map::new();
            one.insert(name.to_owned(), v.clone());
            if serde_json::from_value::<Registered>(serde_json::Value::Object(one)).is_err() {
                return TokenError::InvalidClaim(static_claim(name));
            }
        }
    }
    TokenError::Malformed("claims contain a duplicated member")
}

fn static_claim(name: &str) -> &'static str {
    match name {
        "azp" => "azp",
        "scope" => "scope",
        "scp" => "scp",
        other => static_name(other),
    }
}

/// The JOSE header members we read. `jku`, `x5u`, `jwk`, `x5c` are deliberately not among
/// them: they are never followed or trusted.
/// Configures a [`Validator`].
///
/// Issuer and audience are required; skipping either check takes an explicitly named
/// opt-out.
#[derive(Default)]
#[must_use]
pub struct ValidatorBuilder {
    issuers: Vec<String>,
    audiences: Vec<String>,
    skip_issuer: bool,
    skip_audience: bool,
    keys: Vec<Key>,
    errors: Vec<ConfigError>,
    leeway: Option<u64>,
    typ: TypPolicy,
    max_len: Option<usize>,
    required: Vec<String>,
    scope_claims: ScopeClaims,
    hierarchy: Option<ScopeHierarchy>,
    checks: Vec<ClaimCheck>,
    #[cfg(feature = "remote")]
    remote: Option<Source>,
    #[cfg(feature = "remote")]
    remote_options: RemoteOptions,
    #[cfg(feature = "remote")]
    fetcher: Option<Arc<dyn Fetch>>,
    cache_entries: usize,
    #[cfg(feature = "remote")]
    introspection: Option<crate::introspect::Introspection>,
}

impl fmt::Debug for ValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorBuilder")
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl ValidatorBuilder {
    /// Accept tokens whose `iss` equals this exactly. Call again to trust several issuers
    /// that share this validator's keys.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Accept tokens whose `aud` contains this. Call again to accept several.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accept any `iss`. Only safe when the keys belong to exactly one issuer.
    pub fn insecure_skip_issuer_check(mut self) -> Self {
        self.skip_issuer = true;
        self
    }

    /// Accept any `aud`. Unsafe when the issuer serves more than one resource (RFC 8725 §3.9).
    pub fn insecure_skip_audience_check(mut self) -> Self {
        self.skip_audience = true;
        self
    }

    /// Add a verification key.
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Add several keys.
    pub fn keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.keys.extend(keys);
        self
    }

    fn push(mut self, key: Result<Key, ConfigError>) -> Self {
        match key {
            Ok(k) => self.keys.push(k),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Add an HMAC secret; errors surface from [`ValidatorBuilder::build`].
    pub fn hmac_secret(self, secret: impl AsRef<[u8]>, alg: Algorithm) -> Self {
        self.push(Key::hmac(secret, alg))
    }

    /// Add an RSA public key in PEM for `alg`.
    pub fn rsa_pem(self, pem: impl AsRef<[u8]>, alg: Algorithm) -> Self {
        self.push(Key::rsa_pem(pem, alg))
    }

    /// Add an EC (P-256 or P-384) public key in PEM.
    pub fn ec_pem(self, pem: impl AsRef<[u8]>) -> Self {
        self.push(Key::ec_pem(pem))
    }

    /// Add an Ed25519 public key in PEM.
    pub fn ed_pem(self, pem: impl AsRef<[u8]>) -> Self {
        self.push(Key::ed_pem(pem))
    }

    /// Add one JWK, as JSON text.
    pub fn jwk(self, json: &str) -> Self {
        self.push(Key::jwk(json))
    }

    /// Add every signature key of a JWKS document (`{"keys": [...]}`), as JSON text.
    ///
    /// Keys marked `use: enc`, symmetric (`oct`) keys and keys of types this crate does not
    /// verify are skipped. A key that looks usable but is not (an RSA key under 2048 bits, a
    /// malformed member) is an error, and so is a document with no usable key.
    pub fn jwks_json(mut self, json: &str) -> Self {
        match parse_jwks(json) {
            Ok(parsed) => {
                let bad: Vec<&String> = parsed
                    .skipped
                    .iter()
                    .filter(|s| !s.ends_with("not a public signature key"))
                    .collect();
                if let Some(first) = bad.first() {
                    self.errors
                        .push(ConfigError::InvalidJwks(Cow::Owned((*first).clone())));
                } else if parsed.keys.is_empty() {
                    self.errors.push(ConfigError::InvalidJwks(Cow::Borrowed(
                        "the document has no public signature key",
                    )));
                }
                self.keys.extend(parsed.keys);
            }
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Fetch keys from a JWKS endpoint (feature `remote`), cached; see
    /// [`remote`](crate::remote) for how the cache behaves.
    #[cfg(feature = "remote")]
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.remote = Some(Source::Jwks(url.into()));
        self
    }

    /// Discover the JWKS endpoint from the issuer's metadata (OpenID Connect, then
    /// RFC 8414), and fetch keys from it (feature `remote`). Needs exactly one `.issuer(..)`.
    #[cfg(feature = "remote")]
    pub fn discover(mut self) -> Self {
        self.remote = Some(Source::Discover(String::new()));
        self
    }

    /// Timeouts, caps, cooldown and freshness of remote keys (feature `remote`).
    #[cfg(feature = "remote")]
    pub fn remote_options(mut self, options: RemoteOptions) -> Self {
        self.remote_options = options;
        self
    }

    /// Fetch remote documents with your own client (feature `remote`).
    #[cfg(feature = "remote")]
    pub fn fetcher(mut self, fetcher: impl Fetch) -> Self {
        self.fetcher = Some(Arc::new(fetcher));
        self
    }

    /// Accept opaque tokens through RFC 7662 introspection ([`crate::introspect`]): tokens
    /// that are not shaped like a JWS go to the endpoint; JWTs are still verified with this
    /// validator's keys, if it has any (with introspection, keys are optional).
    #[cfg(feature = "remote")]
    ///
    /// Each validator keeps its own cache of answers (they were checked against its
    /// audiences, issuers and claim checks), even when it is given a clone of another's
    /// `Introspection`.
    pub fn introspection(mut self, introspection: crate::introspect::Introspection) -> Self {
        self.introspection = Some(introspection.with_own_cache());
        self
    }

    /// Remember up to `max_entries` verified tokens, so that a client presenting the same
    /// token again costs a hash and a byte compare instead of a signature check (see
    /// [`cache`](crate::cache) for what is still checked on a hit). `0` (the default) turns
    /// it off. Memory: about `max_entries` × (token length + claims JSON + 500 bytes), plus
    /// per thread private copies of up to four entries that thread hits repeatedly.
    pub fn token_cache(mut self, max_entries: usize) -> Self {
        self.cache_entries = max_entries;
        self
    }

    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds (default 30, at most 300).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = Some(seconds);
        self
    }

    /// Which `typ` header values are accepted.
    pub fn typ(mut self, policy: TypPolicy) -> Self {
        self.typ = policy;
        self
    }

    /// RFC 9068 profile: `typ` must be `at+jwt`, and `sub`, `client_id`, `iat` and `jti` must
    /// be present (besides `iss`, `aud`, `exp`, which always are).
    pub fn rfc9068_strict(self) -> Self {
        self.typ(TypPolicy::Strict)
            .require_claims(["sub", "client_id", "iat", "jti"])
    }

    /// Claims that must be present (any name; `iss`, `aud` and `exp` always are).
    pub fn require_claims<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for n in names {
            let n = n.into();
            if !self.required.contains(&n) {
                self.required.push(n);
            }
        }
        self
    }

    /// The maximum token length in bytes, checked before any parsing (default 8 KiB).
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_len = Some(bytes);
        self
    }

    /// Where granted scopes are read from (default: `scope` and `scp`).
    pub fn scope_claims(mut self, source: ScopeClaims) -> Self {
        self.scope_claims = source;
        self
    }

    /// Opt-in implication between scopes, applied by every guard.
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.hierarchy = Some(hierarchy);
        self
    }

    /// Your own check, run after the standard ones; an `Err` rejects the token with
    /// `401 invalid_token` and its message as `error_description` (keep it free of secrets).
    ///
    /// ```
    /// # use tower_bearer::{Validator, Algorithm};
    /// let validator = Validator::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("api")
    ///     .hmac_secret([7u8; 32], Algorithm::HS256)
    ///     .check(|claims| match claims.client_id() {
    ///         Some("web-app" | "cli") => Ok(()),
    ///         _ => Err("client not allowed".into()),
    ///     })
    ///     .build()?;
    /// # let _ = validator;
    /// # Ok::<(), tower_bearer::ConfigError>(())
    /// ```
    pub fn check<F>(mut self, check: F) -> Self
    where
        F: Fn(&TokenClaims) -> Result<(), Cow<'static, str>> + Send + Sync + 'static,
    {
        self.checks.push(Arc::new(check));
        self
    }

    /// Build the validator.
    ///
    /// # Errors
    /// No issuer or audience (without the explicit opt-out), no keys, a key that failed to
    /// load, duplicate key ids, an invalid scope in the hierarchy, or an out-of-range setting.
    pub fn build(self) -> Result<Validator, ConfigError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        if self.issuers.is_empty() && !self.skip_issuer {
            return Err(ConfigError::MissingIssuer);
        }
        if self.audiences.is_empty() && !self.skip_audience {
            return Err(ConfigError::MissingAudience);
        }
        if self.issuers.iter().any(|i| i.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "an issuer is empty or blank: pass the issuer identifier exactly as it appears in `iss`, such as https://auth.example.com".into(),
            ));
        }
        if self.audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "an audience is empty or blank: pass this API's identifier exactly as it appears in `aud`, such as https://api.example.com".into(),
            ));
        }
        #[cfg(feature = "remote")]
        let keys = match self.remote {
            Some(source) => {
                if !self.keys.is_empty() {
                    return Err(ConfigError::Invalid(
                        "both static keys and a remote key source configured: choose one (use multi_issuer for several issuers)".into(),
                    ));
                }
                let source =
                    match source {
                        Source::Discover(_) => match self.issuers.as_slice() {
                            [one] => Source::Discover(one.clone()),
                            _ => return Err(ConfigError::Invalid(
                                "discover() needs exactly one issuer; use multi_issuer for several"
                                    .into(),
                            )),
                        },
                        jwks => jwks,
                    };
                Keys::Remote(Arc::new(RemoteKeys::new(
                    source,
                    self.fetcher,
                    self.remote_options,
                )?))
            }
            None if self.introspection.is_some() => Keys::Static(KeySet::new(self.keys)?),
            None => Keys::Static(static_keys(self.keys)?),
        };
        #[cfg(not(feature = "remote"))]
        let keys = Keys::Static(static_keys(self.keys)?);
        let leeway = self.leeway.unwrap_or(DEFAULT_LEEWAY);
        if leeway > 300 {
            return Err(ConfigError::Invalid(
                "leeway above 300 seconds: clock skew should be seconds, not minutes".into(),
            ));
        }
        let max_len = self.max_len.unwrap_or(DEFAULT_MAX_TOKEN_LEN);
        if max_len < 64 {
            return Err(ConfigError::Invalid(
                "max_token_len below 64 bytes cannot hold any JWT".into(),
            ));
        }
        let hierarchy = match &self.hierarchy {
            Some(h) => Some(Arc::new(h.compile()?)),
            None => None,
        };
        Ok(Validator {
            inner: Arc::new(Kind::One(Inner {
                issuers: self.issuers,
                audiences: self.audiences,
                check_issuer: !self.skip_issuer,
                check_audience: !self.skip_audience,
                keys,
                leeway: leeway as f64,
                typ: self.typ,
                max_len,
                required: self.required,
                scope_claims: self.scope_claims,
                hierarchy,
                checks: self.checks,
                cache: (self.cache_entries > 0).then(|| TokenCache::new(self.cache_entries)),
                #[cfg(feature = "remote")]
                introspection: self.introspection,
            })),
        })
    }
}

fn static_keys(keys: Vec<Key>) -> Result<KeySet, ConfigError> {
    let set = KeySet::new(keys)?;
    if set.is_empty() {
        return Err(ConfigError::NoKeys);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        /// The SIMD decoder agrees with the `base64` crate's strict decoder on everything,
        /// canonical or not, and never writes past the buffer.
        #[test]
        fn simd_base64_agrees_with_strict_decoding(
            s in "[A-Za-z0-9_=+/.-]{0,48}",
            cap in 0usize..40,
        ) {
            let mut buf = vec![0u8; cap];
            let ours = b64_into(&s, &mut buf).map(<[u8]>::to_vec);
            let mut reference = vec![0u8; 64];
            let theirs = URL_SAFE_NO_PAD
                .decode_slice(&s, &mut reference)
                .ok()
                .map(|n| reference[..n].to_vec())
                .filter(|d| d.len() <= cap);
            proptest::prop_assert_eq!(ours, theirs);
        }
    }
    use super::*;
    use crate::testing::{sign_with, TestIssuer};

    /// Sign raw header and claims JSON with the HS256 test issuer's secret.
    fn raw_token(issuer: &TestIssuer, claims: &str) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(crate::testing::HMAC_SECRET);
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"test-hs256"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let sig = sign_with(&key, issuer.algorithm(), message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[test]
    fn escaped_claim_strings_are_decoded_before_comparison() {
        let issuer = TestIssuer::with_algorithm(Algorithm::HS256);
        let claims = r#"{"iss":"https:\/\/issuer.test","aud":["x","https:\/\/api.test"],
            "sub":"al\u0069ce","exp":99999999999,"scope":"a b"}"#;
        let auth = issuer
            .validator()
            .validate(&raw_token(&issuer, claims))
            .unwrap();
        assert_eq!(auth.claims().issuer(), "https://issuer.test");
        assert_eq!(auth.claims().subject(), Some("alice"));
        assert_eq!(
            auth.claims().audience().collect::<Vec<_>>(),
            ["x", "https://api.test"]
        );
    }

    #[test]
    fn borrowed_claim_strings_read_back_from_the_json() {
        let issuer = TestIssuer::with_algorithm(Algorithm::HS256);
        let claims = r#"{"iss":"https://issuer.test","aud":"https://api.test","sub":"bob",
            "jti":"j-1","client_id":"cli","exp":99999999999}"#;
        let auth = issuer
            .validator()
            .validate(&raw_token(&issuer, claims))
            .unwrap();
        let c = auth.claims();
        assert_eq!(
            (c.issuer(), c.subject(), c.jwt_id(), c.client_id()),
            ("https://issuer.test", Some("bob"), Some("j-1"), Some("cli"))
        );
        assert_eq!(c.audience().collect::<Vec<_>>(), ["https://api.test"]);
    }
}
