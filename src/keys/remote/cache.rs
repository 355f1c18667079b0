//! One remote key source with its cache: single-flight fetches, refresh, stale window.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::error::FetchError;
use super::fetch::{Fetch, Fetched, HttpFetcher};
use super::options::RemoteOptions;
use crate::error::ConfigError;
use crate::keys::jwk::parse_jwks;
use crate::keys::set::KeySet;
use crate::keys::Key;

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Jwks(String),
    /// The metadata documents under `base`, whose `issuer` must be `issuer` (the same URL,
    /// except for a multi-tenant issuer template).
    Discover {
        base: String,
        issuer: String,
    },
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    jwks_uri: Option<String>,
    /// The endpoints of the last discovery document read; kept when a later fetch fails.
    endpoints: Option<Arc<DiscoveredEndpoints>>,
    /// When a background refresh starts: at 80% of the time to live, so rotation is picked
    /// up while the current set is still fresh.
    refresh_at: Option<Instant>,
    stale_until: Option<Instant>,
    last_attempt: Option<Instant>,
    next_retry: Option<Instant>,
    failures: u32,
    /// When the current set was fetched.
    fetched_at: Option<Instant>,
}

/// One remote key source with its cache.
pub(crate) struct RemoteKeys {
    source: Source,
    fetcher: Arc<dyn Fetch>,
    options: RemoteOptions,
    state: RwLock<State>,
    flight: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    /// Bumped each time a new key set replaces the old one.
    version: AtomicU64,
    /// `stale_until` in nanoseconds since `created` (0: no set), for an O(1) check on the
    /// token cache's hits.
    usable_until: AtomicU64,
    created: Instant,
    refreshing: AtomicBool,
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("source", &self.source)
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

/// What the hot path found in the cache.
pub(crate) enum Lookup {
    /// A usable set.
    Keys(Arc<KeySet>),
    /// Nothing usable; a fetch may be made now (`generation` to coalesce on).
    Fetch(u64),
    /// Nothing usable and retries are backing off.
    Unavailable { retry_after: u64 },
}

impl RemoteKeys {
    pub(crate) fn new(
        source: Source,
        fetcher: Option<Arc<dyn Fetch>>,
        options: RemoteOptions,
    ) -> Result<Self, ConfigError> {
        options.validate()?;
        let url = match &source {
            Source::Jwks(u) | Source::Discover { base: u, .. } => u,
        };
        options.check_url(url).map_err(|e| match e {
            FetchError::InsecureUrl { url } => ConfigError::Invalid(
                format!("plain http refused for {url}: use https, or RemoteOptions::allow_http(true) for loopback tests").into(),
            ),
            other => ConfigError::Invalid(other.to_string().into()),
        })?;
        let fetcher = match fetcher {
            Some(f) => f,
            None => Arc::new(HttpFetcher::new(&options)?),
        };
        Ok(Self {
            source,
            fetcher,
            options,
            state: RwLock::new(State::default()),
            flight: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            version: AtomicU64::new(0),
            usable_until: AtomicU64::new(0),
            created: Instant::now(),
            refreshing: AtomicBool::new(false),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Which key set is current; cached verifications under another one are not trusted.
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Whether the current set is still within its stale window: what `lookup` would serve,
    /// without the lock. Tokens verified under an unusable set are not answered from a cache.
    pub(crate) fn usable(&self) -> bool {
        let until = self.usable_until.load(Ordering::Acquire);
        let elapsed = u64::try_from(self.created.elapsed().as_nanos()).unwrap_or(u64::MAX);
        elapsed < until
    }

    pub(crate) fn is_loaded(&self) -> bool {
        let now = Instant::now();
        let s = self.read();
        s.keys.is_some() && s.stale_until.is_some_and(|t| now < t)
    }

    fn retry_after(&self, s: &State, now: Instant) -> u64 {
        s.next_retry
            .map_or(1, |t| t.saturating_duration_since(now).as_secs().max(1))
    }

    /// The hot path: the cached set, or what to do without one. Starts a background refresh
    /// when the set is past its time to live.
    pub(crate) fn lookup(self: &Arc<Self>) -> Lookup {
        let now = Instant::now();
        let s = self.read();
        // Also past the stale window and while fetches fail: an alert on the age must fire.
        if let Some(at) = s.fetched_at {
            crate::metrics::key_set_age(now.saturating_duration_since(at));
        }
        if let (Some(keys), Some(stale_until)) = (&s.keys, s.stale_until) {
            if now < stale_until {
                let refresh_due =
                    s.refresh_at.is_none_or(|t| now >= t) && s.next_retry.is_none_or(|t| now >= t);
                let keys = keys.clone();
                drop(s);
                if refresh_due {
                    self.spawn_refresh();
                }
                return Lookup::Keys(keys);
            }
        }
        if s.next_retry.is_some_and(|t| now < t) {
            return Lookup::Unavailable {
                retry_after: self.retry_after(&s, now),
            };
        }
        Lookup::Fetch(self.generation.load(Ordering::Acquire))
    }

    /// Whether an unknown `kid` may cause a fetch now (cooldown and backoff permitting).
    pub(crate) fn may_refetch(&self) -> Option<u64> {
        let now = Instant::now();
        let s = self.read();
        let cooled = s
            .last_attempt
            .is_none_or(|t| now.duration_since(t) >= self.options.cooldown);
        let backoff_over = s.next_retry.is_none_or(|t| now >= t);
        (cooled && backoff_over).then(|| self.generation.load(Ordering::Acquire))
    }

    pub(crate) fn unavailable(&self) -> u64 {
        let now = Instant::now();
        let s = self.read();
        self.retry_after(&s, now)
    }

    fn spawn_refresh(self: &Arc<Self>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let generation = self.generation.load(Ordering::Acquire);
        handle.spawn(async move {
            let _ = this.refresh(generation).await;
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetch unless another fetch completed since `seen` (single-flight: waiters on the same
    /// generation share one fetch).
    pub(crate) async fn refresh(&self, seen: u64) -> Result<(), FetchError> {
        let _flight = self.flight.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return Ok(());
        }
        let result = self.fetch().await;
        self.generation.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// Fetch now (still single-flight), for warming up.
    pub(crate) async fn refresh_now(&self) -> Result<(), FetchError> {
        let seen = self.generation.load(Ordering::Acquire);
        self.refresh(seen).await?;
        if self.is_loaded() {
            Ok(())
        } else {
            Err(FetchError::InvalidJwks {
                url: self.describe(),
                reason: "no key set could be loaded".into(),
            })
        }
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::Jwks(u) | Source::Discover { base: u, .. } => u.clone(),
        }
    }

    async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.options.check_url(url)?;
        let fetched = tokio::time::timeout(self.options.timeout, self.fetcher.get(url))
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.into(),
                timeout: self.options.timeout,
            })??;
        if fetched.body.len() > self.options.max_body {
            return Err(FetchError::TooLarge {
                url: url.into(),
                limit: self.options.max_body,
            });
        }
        Ok(fetched)
    }

    async fn fetch(&self) -> Result<(), FetchError> {
        let started = Instant::now();
        self.write().last_attempt = Some(started);
        let result = self.fetch_keys().await;
        let now = Instant::now();
        let mut s = self.write();
        match result {
            Ok((keys, max_age)) => {
                let ttl = max_age
                    .unwrap_or(self.options.default_ttl)
                    .clamp(self.options.min_ttl, self.options.max_ttl);
                s.keys = Some(Arc::new(keys));
                s.fetched_at = Some(now);
                crate::metrics::jwks_fetch(true);
                self.version.fetch_add(1, Ordering::AcqRel);
                s.refresh_at = Some(later(now, ttl.mul_f64(0.8)));
                let stale_until = later(now, ttl.saturating_add(self.options.stale_window));
                s.stale_until = Some(stale_until);
                let nanos = stale_until
                    .saturating_duration_since(self.created)
                    .as_nanos();
                self.usable_until
                    .store(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Release);
                s.failures = 0;
                s.next_retry = None;
                Ok(())
            }
            Err(e) => {
                crate::metrics::jwks_fetch(false);
                if let Some(at) = s.fetched_at {
                    crate::metrics::key_set_age(now.saturating_duration_since(at));
                }
                s.failures = s.failures.saturating_add(1);
                let factor = 1u32 << (s.failures - 1).min(16);
                let backoff = self
                    .options
                    .initial_backoff
                    .saturating_mul(factor)
                    .min(self.options.max_backoff);
                s.next_retry = Some(later(now, backoff));
                if let Source::Discover { .. } = self.source {
                    // The document may have moved; discover again next time.
                    s.jwks_uri = None;
                }
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    error = %e,
                    serving_stale = s.keys.is_some(),
                    retry_in_ms = backoff.as_millis() as u64,
                    "key fetch failed"
                );
                Err(e)
            }
        }
    }

    async fn fetch_keys(&self) -> Result<(KeySet, Option<Duration>), FetchError> {
        let jwks_uri = match &self.source {
            Source::Jwks(u) => u.clone(),
            Source::Discover { base, issuer } => {
                let cached = self.read().jwks_uri.clone();
                match cached {
                    Some(u) => u,
                    None => {
                        let (u, endpoints) = self.discover(base, issuer).await?;
                        let mut s = self.write();
                        s.jwks_uri = Some(u.clone());
                        s.endpoints = Some(Arc::new(endpoints));
                        u
                    }
                }
            }
        };
        let fetched = self.get(&jwks_uri).await?;
        let invalid = |reason: String| FetchError::InvalidJwks {
            url: jwks_uri.clone(),
            reason,
        };
        let text = std::str::from_utf8(&fetched.body).map_err(|_| invalid("not UTF-8".into()))?;
        let parsed = parse_jwks(text).map_err(|e| invalid(e.to_string()))?;
        let mut seen = HashSet::new();
        let keys: Vec<Key> = parsed
            .keys
            .into_iter()
            .filter(|k| k.kid().is_none_or(|kid| seen.insert(kid.to_owned())))
            .collect();
        #[cfg(feature = "tracing")]
        for reason in &parsed.skipped {
            tracing::debug!(url = %jwks_uri, reason = %reason, "JWKS key skipped");
        }
        if keys.is_empty() {
            return Err(invalid("no usable signature key in the set".into()));
        }
        let set = KeySet::new(keys).map_err(|e| invalid(e.to_string()))?;
        Ok((set, fetched.max_age))
    }

    /// The endpoints the discovery document named, once one was read.
    pub(crate) fn endpoints(&self) -> Option<Arc<DiscoveredEndpoints>> {
        self.read().endpoints.clone()
    }

    async fn discover(
        &self,
        base: &str,
        issuer: &str,
    ) -> Result<(String, DiscoveredEndpoints), FetchError> {
        let trimmed = base.trim_end_matches('/');
        let oidc = format!("{trimmed}/.well-known/openid-configuration");
        let first = match self.discovery_document(issuer, &oidc).await {
            Ok(uri) => return Ok(uri),
            Err(e) => e,
        };
        let rfc8414 = rfc8414_url(base);
        match self.discovery_document(issuer, &rfc8414).await {
            Ok(uri) => Ok(uri),
            Err(second) => Err(FetchError::Discovery {
                issuer: issuer.into(),
                reason: format!("{first}; then {second}"),
            }),
        }
    }

    async fn discovery_document(
        &self,
        issuer: &str,
        url: &str,
    ) -> Result<(String, DiscoveredEndpoints), FetchError> {
        #[derive(serde::Deserialize)]
        struct Doc {
            issuer: String,
            jwks_uri: String,
            // Not needed for keys: a value of the wrong type is dropped, not an error.
            #[serde(default, deserialize_with = "lenient_url")]
            token_endpoint: Option<String>,
            #[serde(default, deserialize_with = "lenient_url")]
            authorization_endpoint: Option<String>,
        }
        let fetched = self.get(url).await?;
        let doc: Doc =
            serde_json::from_slice(&fetched.body).map_err(|e| FetchError::Discovery {
                issuer: issuer.into(),
                reason: format!("{url} is not a metadata document with issuer and jwks_uri: {e}"),
            })?;
        if doc.issuer != issuer {
            return Err(FetchError::Discovery {
                issuer: issuer.into(),
                reason: format!("{url} names another issuer ({:?})", doc.issuer),
            });
        }
        self.options.check_url(&doc.jwks_uri)?;
        // Only URLs this client would itself call are passed on.
        let usable = |u: Option<String>| u.filter(|u| self.options.check_url(u).is_ok());
        let endpoints = DiscoveredEndpoints {
            token_endpoint: usable(doc.token_endpoint),
            authorization_endpoint: usable(doc.authorization_endpoint),
        };
        Ok((doc.jwks_uri, endpoints))
    }
}

/// An optional string member; any other JSON value counts as absent.
fn lenient_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: serde_json::Value = serde::Deserialize::deserialize(d)?;
    Ok(match value {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// The authorization server's endpoints named by the discovery document (OpenID Connect
/// Discovery or RFC 8414) that keys were discovered from; see
/// [`Validator::discovered_endpoints`](crate::Validator::discovered_endpoints).
///
/// An endpoint is kept only if it is a URL the key fetches would accept too (`https`, or
/// `http` with [`RemoteOptions::allow_http`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveredEndpoints {
    token_endpoint: Option<String>,
    authorization_endpoint: Option<String>,
}

impl DiscoveredEndpoints {
    /// `token_endpoint`, where clients obtain tokens.
    pub fn token_endpoint(&self) -> Option<&str> {
        self.token_endpoint.as_deref()
    }

    /// `authorization_endpoint`, where users authorize clients (authorization code flow).
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }
}

/// `now + d`, never panicking: the options are bounded at build time, so the fallback (a
/// year, or `now`) is only there to keep an overflow from being a panic.
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
pub(crate) fn rfc8414_url(issuer: &str) -> String {
    let (scheme, rest) = issuer.split_once("://").unwrap_or(("https", issuer));
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    format!("{scheme}://{host}/.well-known/oauth-authorization-server{path}")
}
