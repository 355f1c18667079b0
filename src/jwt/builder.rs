//! [`ValidatorBuilder`]: every setting of a [`Validator`], checked when it is built.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::single::{ClaimCheck, Inner, Keys};
use super::validator::{Kind, Validator};
use crate::cache::TokenCache;
use crate::claims::TokenClaims;
use crate::error::ConfigError;
use crate::keys::jwk::parse_jwks;
#[cfg(feature = "remote")]
use crate::keys::remote::{Fetch, RemoteKeys, RemoteOptions, Source};
use crate::keys::set::KeySet;
use crate::keys::{Algorithm, Key};
use crate::rules::identity::{AudienceClaim, Expected, ExpectedValue};
use crate::rules::length::DEFAULT_MAX_TOKEN_LEN;
use crate::rules::tenant::TenantIssuer;
#[cfg(feature = "remote")]
use crate::rules::tenant::PLACEHOLDER;
use crate::rules::typ::TypPolicy;
use crate::rules::ClaimRules;
use crate::scope::{ScopeClaims, ScopeHierarchy};

/// The default clock leeway for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY: u64 = 30;

impl Validator {
    /// Start configuring a validator.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }
}

/// Who may send Google ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoogleCallers {
    /// `google_id_tokens()` alone: a configuration error.
    Unnamed,
    /// `google_accounts([...])`.
    Named,
    /// `any_google_account()`.
    Any,
}

/// Configures a [`Validator`].
///
/// Issuer and audience are required; skipping either check takes an explicitly named
/// opt-out.
#[derive(Default)]
#[must_use]
pub struct ValidatorBuilder {
    issuers: Vec<String>,
    audiences: Vec<String>,
    audience_claim: AudienceClaim,
    values: Vec<(Box<str>, ExpectedValue)>,
    google: Option<GoogleCallers>,
    issuer_template: Option<String>,
    tenants: Option<Vec<String>>,
    any_tenant: bool,
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
    #[cfg(feature = "tokio")]
    async_checks: Vec<super::checks::AsyncCheck>,
    #[cfg(feature = "tokio")]
    check_deadline: Option<std::time::Duration>,
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

    /// Accept tokens from a multi-tenant issuer (Entra ID): `template` holds one `{tenantid}`
    /// placeholder (`https://login.microsoftonline.com/{tenantid}/v2.0`). A token passes when
    /// its `tid` claim is a tenant id (a GUID), is allowed ([`tenants`](Self::tenants), or
    /// every tenant with [`any_tenant`](Self::any_tenant)), and its `iss` equals the template
    /// filled with that `tid`. Nothing is fetched per tenant: the keys come from the one key
    /// source configured (Entra's common JWKS, or [`discover`](Self::discover), which reads
    /// the document at the template filled with `common` and accepts the template as its
    /// `issuer`). Fixed issuers configured with [`issuer`](Self::issuer) are accepted too.
    ///
    /// ```
    /// # use tower_bearer::Validator;
    /// # let jwks = tower_bearer::testing::TestIssuer::new().jwks();
    /// let validator = Validator::builder()
    ///     .issuer_template("https://login.microsoftonline.com/{tenantid}/v2.0")
    ///     .tenants(["9188040d-6c67-4c5b-b112-36a304b66dad"])
    ///     .audience("api://my-api")
    ///     .jwks_json(&jwks) // or .jwks_url("https://login.microsoftonline.com/common/discovery/v2.0/keys")
    ///     .build()?;
    /// # Ok::<(), tower_bearer::ConfigError>(())
    /// ```
    pub fn issuer_template(mut self, template: impl Into<String>) -> Self {
        self.issuer_template = Some(template.into());
        self
    }

    /// The tenants (`tid`, GUIDs) an [`issuer_template`](Self::issuer_template) may be filled
    /// with; a token of another tenant is refused (`401`, "tenant not allowed").
    pub fn tenants<I>(mut self, tenants: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.tenants
            .get_or_insert_with(Vec::new)
            .extend(tenants.into_iter().map(Into::into));
        self
    }

    /// Let an [`issuer_template`](Self::issuer_template) be filled with any tenant's id:
    /// every Entra ID organisation's tokens whose `aud` is yours are then accepted. Right
    /// for a multi-tenant SaaS API that authorises tenants itself (read `tid` from the
    /// claims); otherwise list them with [`tenants`](Self::tenants).
    pub fn any_tenant(mut self) -> Self {
        self.any_tenant = true;
        self
    }

    /// Compare the configured audiences with the token's `client_id` claim instead of `aud`:
    /// for access tokens that name their intended client there and carry no `aud` (Amazon
    /// Cognito). A token without `client_id`, or for another client, is refused (`401`).
    ///
    /// ```
    /// # use tower_bearer::Validator;
    /// # let jwks = tower_bearer::testing::TestIssuer::new().jwks();
    /// let validator = Validator::builder()
    ///     .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example")
    ///     .audience("3n4b5urk1ft4fl3mg5e62d9ado") // the app client id
    ///     .audience_from_client_id()
    ///     .token_use("access")
    ///     .jwks_json(&jwks)
    ///     .build()?;
    /// # Ok::<(), tower_bearer::ConfigError>(())
    /// ```
    pub fn audience_from_client_id(mut self) -> Self {
        self.audience_claim = AudienceClaim::ClientId;
        self
    }

    /// Require the `token_use` claim to equal `value` (Amazon Cognito marks access tokens
    /// `access` and ID tokens `id`): an ID token presented as an access token is refused.
    pub fn token_use(mut self, value: impl Into<String>) -> Self {
        self.values.retain(|(n, _)| &**n != "token_use");
        self.values.push((
            "token_use".into(),
            ExpectedValue {
                name: "token_use",
                value: Expected::Str(value.into().into_boxed_str()),
            },
        ));
        self
    }

    /// Accept Google-signed ID tokens, as Google sends them service to service (Cloud Run,
    /// Pub/Sub push, IAP): `iss` `https://accounts.google.com` or `accounts.google.com` (both
    /// spellings occur), and `email_verified` must be `true`. Set your service's URL or
    /// client id with [`audience`](Self::audience), and Google's keys with
    /// `.jwks_url(GOOGLE_JWKS_URL)` (feature `remote`). ID tokens are not access tokens: this
    /// is an explicit opt-in; without it such tokens fail the issuer check like any other.
    ///
    /// Any Google service account, in any project, can mint an ID token for any audience, so
    /// name the callers: [`google_accounts`](Self::google_accounts) (their `email`), or
    /// [`any_google_account`](Self::any_google_account) to accept them all (and decide in
    /// your own [`check`](Self::check)); [`build`](Self::build) fails without one of them.
    /// The rules apply to every token this validator accepts: give Google's tokens their
    /// own validator.
    ///
    /// ```
    /// # use tower_bearer::Validator;
    /// # let jwks = tower_bearer::testing::TestIssuer::new().jwks();
    /// let validator = Validator::builder()
    ///     .google_id_tokens()
    ///     .google_accounts(["pusher@my-project.iam.gserviceaccount.com"])
    ///     .audience("https://orders-abc123-ew.a.run.app")
    ///     .jwks_json(&jwks) // in production: .jwks_url(tower_bearer::jwt::GOOGLE_JWKS_URL)
    ///     .build()?;
    /// # Ok::<(), tower_bearer::ConfigError>(())
    /// ```
    pub fn google_id_tokens(mut self) -> Self {
        for iss in super::GOOGLE_ISSUERS {
            if !self.issuers.iter().any(|i| i == iss) {
                self.issuers.push(iss.to_owned());
            }
        }
        self.values.retain(|(n, _)| &**n != "email_verified");
        self.values.push((
            "email_verified".into(),
            ExpectedValue {
                name: "email_verified",
                value: Expected::Bool(true),
            },
        ));
        self.google = Some(self.google.unwrap_or(GoogleCallers::Unnamed));
        self
    }

    /// With [`google_id_tokens`](Self::google_id_tokens): the callers accepted, by their
    /// token's `email` (a service account's address); a token of anyone else is refused
    /// (`401`, "invalid claim email").
    pub fn google_accounts<I>(mut self, emails: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let emails: Vec<Box<str>> = emails
            .into_iter()
            .map(|e| e.into().into_boxed_str())
            .collect();
        self.values.retain(|(n, _)| &**n != "email");
        self.values.push((
            "email".into(),
            ExpectedValue {
                name: "email",
                value: Expected::OneOf(emails),
            },
        ));
        self.google = Some(GoogleCallers::Named);
        self
    }

    /// With [`google_id_tokens`](Self::google_id_tokens): accept the ID tokens of every
    /// Google account whose token names your audience, and decide who may do what yourself.
    pub fn any_google_account(mut self) -> Self {
        self.google = Some(GoogleCallers::Any);
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
        self.remote = Some(Source::Discover {
            base: String::new(),
            issuer: String::new(),
        });
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

    /// Your own asynchronous check (feature `tokio`): a revocation list in a database, a
    /// tenant's status. It runs after the signature, every standard check and the
    /// synchronous [`check`](Self::check)s passed, on every request (a verified-token cache
    /// hit included), within the [deadline](Self::check_deadline) shared by all of them.
    /// [`CheckError::Refused`](crate::CheckError::Refused) answers `401 invalid_token`;
    /// [`CheckError::Unavailable`](crate::CheckError::Unavailable) and the deadline `503`
    /// with `Retry-After`. [`Validator::validate`] cannot wait for it and answers
    /// [`TokenError::CheckUnavailable`](crate::TokenError::CheckUnavailable): use
    /// [`Validator::validate_async`] or the layer.
    ///
    /// ```
    /// # use tower_bearer::{Algorithm, CheckError, Validator};
    /// let validator = Validator::builder()
    ///     .issuer("https://auth.example.com")
    ///     .audience("api")
    ///     .hmac_secret([7u8; 32], Algorithm::HS256)
    ///     .check_async(|claims| async move {
    ///         // Look the token's `jti` up in a revocation list.
    ///         match claims.jwt_id() {
    ///             Some("revoked-1") => Err(CheckError::Refused("token revoked".into())),
    ///             _ => Ok(()),
    ///         }
    ///     })
    ///     .build()?;
    /// # let _ = validator;
    /// # Ok::<(), tower_bearer::ConfigError>(())
    /// ```
    #[cfg(feature = "tokio")]
    pub fn check_async<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(TokenClaims) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), crate::error::CheckError>> + Send + 'static,
    {
        self.async_checks.push(super::checks::AsyncCheck {
            check: Arc::new(move |claims| Box::pin(check(claims))),
            passed: None,
        });
        self
    }

    /// An asynchronous check whose pass may be remembered for `ttl` (at most a day): a
    /// token it passed is not checked again until `ttl` has gone by, verified-token cache
    /// hits included. Refusals and failures are never remembered. Choose `ttl` as the delay
    /// you accept between a revocation and its effect. A `ttl` of zero or above a day makes
    /// [`build`](Self::build) fail.
    #[cfg(feature = "tokio")]
    pub fn check_async_cached<F, Fut>(mut self, ttl: std::time::Duration, check: F) -> Self
    where
        F: Fn(TokenClaims) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), crate::error::CheckError>> + Send + 'static,
    {
        if ttl.is_zero() || ttl > std::time::Duration::from_secs(24 * 3600) {
            self.errors.push(ConfigError::Invalid(
                "check_async_cached: the time-to-live must be above zero and at most a day".into(),
            ));
        }
        self.async_checks.push(super::checks::AsyncCheck {
            check: Arc::new(move |claims| Box::pin(check(claims))),
            passed: Some(Arc::new(super::checks::Passed::new(ttl))),
        });
        self
    }

    /// How long all of a token's asynchronous checks together may take (default 2 s, at
    /// most 60 s); past it the request is answered `503`.
    #[cfg(feature = "tokio")]
    pub fn check_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.check_deadline = Some(deadline);
        self
    }

    /// Build the validator.
    ///
    /// # Errors
    /// No issuer or audience (without the explicit opt-out), no keys, a key that failed to
    /// load, duplicate key ids, an invalid scope in the hierarchy, or an out-of-range setting.
    pub fn build(mut self) -> Result<Validator, ConfigError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        match self.google {
            Some(GoogleCallers::Unnamed) => {
                return Err(ConfigError::Invalid(
                    "google_id_tokens() accepts every Google account's tokens for your audience: name the callers with google_accounts([...]), or call any_google_account()".into(),
                ))
            }
            Some(_) if !self.issuers.iter().any(|i| super::GOOGLE_ISSUERS.contains(&i.as_str())) => {
                return Err(ConfigError::Invalid(
                    "google_accounts(..) and any_google_account() go with google_id_tokens()".into(),
                ))
            }
            _ => {}
        }
        let tenant = match (&self.issuer_template, self.tenants.take(), self.any_tenant) {
            (None, None, false) => None,
            (None, _, _) => {
                return Err(ConfigError::Invalid(
                    "tenants(..) and any_tenant() need an issuer_template(\"https://…/{tenantid}/…\")".into(),
                ))
            }
            (Some(t), None, false) => {
                return Err(ConfigError::Invalid(
                    format!("issuer template {t:?} needs the tenants it may be filled with: .tenants([\"<tenant id>\", …]), or .any_tenant() to accept every tenant").into(),
                ))
            }
            (Some(_), Some(_), true) => {
                return Err(ConfigError::Invalid(
                    "tenants(..) and any_tenant() both called: choose one".into(),
                ))
            }
            (Some(t), tenants, _) => Some(TenantIssuer::new(t, tenants)?),
        };
        if self.issuers.is_empty() && tenant.is_none() && !self.skip_issuer {
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
                        Source::Discover { .. } => match (self.issuers.as_slice(), &tenant) {
                            // Entra ID's multi-tenant document lives at the template filled
                            // with `common`, and names the template as its issuer.
                            ([], Some(t)) => Source::Discover {
                                base: t.template.replace(PLACEHOLDER, "common"),
                                issuer: t.template.clone(),
                            },
                            ([one], None) => Source::Discover {
                                base: one.clone(),
                                issuer: one.clone(),
                            },
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
        #[cfg(feature = "tokio")]
        let async_checks = {
            let deadline = self
                .check_deadline
                .unwrap_or(super::checks::DEFAULT_CHECK_DEADLINE);
            if deadline.is_zero() || deadline > super::checks::MAX_CHECK_DEADLINE {
                return Err(ConfigError::Invalid(
                    "check_deadline must be above zero and at most 60 seconds".into(),
                ));
            }
            (!self.async_checks.is_empty()).then(|| super::checks::AsyncChecks {
                list: self.async_checks,
                deadline,
            })
        };
        let hierarchy = match &self.hierarchy {
            Some(h) => Some(Arc::new(h.compile()?)),
            None => None,
        };
        Ok(Validator {
            inner: Arc::new(Kind::One(Inner {
                rules: ClaimRules {
                    issuers: self.issuers,
                    audiences: self.audiences,
                    check_issuer: !self.skip_issuer,
                    check_audience: !self.skip_audience,
                    leeway: leeway as f64,
                    required: self.required,
                    audience_claim: self.audience_claim,
                    values: self.values,
                    tenant,
                },
                keys,
                typ: self.typ,
                max_len,
                scope_claims: self.scope_claims,
                hierarchy,
                checks: self.checks,
                cache: (self.cache_entries > 0).then(|| TokenCache::new(self.cache_entries)),
                #[cfg(feature = "tokio")]
                async_checks,
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
