//! Keys from the network (feature `remote`): a JWKS URL, or discovery from the issuer.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tower_bearer::Validator;
//!
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .discover() // or .jwks_url("https://auth.example.com/.well-known/jwks.json")
//!     .build()?;
//! validator.warm_up().await?; // optional: fail fast at start-up
//! # Ok(()) }
//! ```
//!
//! # How the cache behaves
//!
//! * The hot path never waits on the network while a usable key set is cached.
//! * A token with an unknown `kid` triggers at most one refetch per
//!   [cooldown](RemoteOptions::cooldown), shared by every request waiting for it
//!   (single-flight). Within the cooldown it is rejected `401 invalid_token` without a fetch.
//! * The set is refreshed in the background before its time to live runs out (at 80% of
//!   it): `Cache-Control: max-age`, bounded by [`RemoteOptions::min_ttl`] and
//!   [`RemoteOptions::max_ttl`].
//! * When the endpoint fails, the last good set keeps serving for
//!   [`RemoteOptions::stale_window`]; retries back off exponentially and each failure is
//!   logged once (feature `tracing`), not per request. With no set loaded, requests get
//!   `503` with `Retry-After`, never `401`.
//! * Keys that are not for signatures, symmetric (`oct`), of an unsupported type or invalid
//!   are skipped one by one; the rest of the set still works.
//! * Discovery tries OpenID Connect's `/.well-known/openid-configuration`, then RFC 8414's
//!   `/.well-known/oauth-authorization-server`, and requires the document's `issuer` to equal
//!   the configured one exactly.
//! * Every fetch has a timeout and a body-size cap; only `https` unless
//!   [`RemoteOptions::allow_http`]; redirects are followed only within the same host.
//!
//! # Runtime
//!
//! The feature needs a [tokio](https://docs.rs/tokio) runtime: fetches, timeouts and
//! background refreshes run on it.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::ConfigError;
use crate::keys::{parse_jwks, Key, KeySet};

/// A boxed future returned by a [`Fetch`] implementation.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Fetched, FetchError>> + Send + 'a>>;

/// Fetches a document over HTTP. Implement it to bring your own client; the default is
/// [`HttpFetcher`] (reqwest with rustls).
///
/// Timeouts and the body cap of [`RemoteOptions`] are applied around every call as well.
pub trait Fetch: Send + Sync + 'static {
    /// `GET url`; a non-2xx answer is an error.
    fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a>;
}

/// A fetched document.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fetched {
    /// The body.
    pub body: Bytes,
    /// `Cache-Control: max-age`, if the response had one.
    pub max_age: Option<Duration>,
}

impl Fetched {
    /// A document without caching information.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            max_age: None,
        }
    }

    /// With `Cache-Control: max-age`.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

/// Why a key fetch failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request could not be made or the connection failed.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with a non-success status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// No answer within the timeout.
    #[error("{url} did not answer within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The body exceeded the cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// A plain-http URL without `allow_http`.
    #[error(
        "plain http refused for {url}: use https, or allow http explicitly (loopback tests only)"
    )]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// A redirect to another host, or too many redirects.
    #[error("redirect refused for {url}: {reason}")]
    Redirect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The document is not a usable JWKS.
    #[error("unusable JWKS from {url}: {reason}")]
    InvalidJwks {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Discovery failed.
    #[error("discovery for issuer {issuer} failed: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
}

/// Limits and timings of a remote key source.
#[derive(Debug, Clone)]
#[must_use]
pub struct RemoteOptions {
    pub(crate) timeout: Duration,
    pub(crate) max_body: usize,
    pub(crate) cooldown: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) default_ttl: Duration,
    pub(crate) stale_window: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) allow_http: bool,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_body: 256 * 1024,
            cooldown: Duration::from_secs(30),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            default_ttl: Duration::from_secs(600),
            stale_window: Duration::from_secs(3600),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            allow_http: false,
        }
    }
}

impl RemoteOptions {
    /// Defaults: timeout 5 s, body cap 256 KiB, unknown-`kid` cooldown 30 s, TTL 10 min
    /// without `Cache-Control` (bounded to 1 min – 24 h), stale window 1 h, backoff 1 s – 60 s,
    /// https only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Timeout of each fetch.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest document accepted, in bytes.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The least time between two fetches caused by unknown `kid`s.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The shortest time a fetched set is considered fresh, whatever `Cache-Control` says.
    pub fn min_ttl(mut self, ttl: Duration) -> Self {
        self.min_ttl = ttl;
        self
    }

    /// The longest time a fetched set is considered fresh.
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// Freshness when the response has no `max-age`.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// How long the last good set keeps serving after it went stale while fetches fail.
    pub fn stale_window(mut self, window: Duration) -> Self {
        self.stale_window = window;
        self
    }

    /// First and largest delay between retries after a failed fetch.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Permit plain-http URLs (discovery, JWKS). For loopback tests only.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.min_ttl > self.max_ttl {
            return Err(ConfigError::Invalid(
                "min_ttl is larger than max_ttl".into(),
            ));
        }
        if self.initial_backoff.is_zero() || self.initial_backoff > self.max_backoff {
            return Err(ConfigError::Invalid(
                "backoff must start above zero and not exceed its maximum".into(),
            ));
        }
        if self.timeout.is_zero() || self.max_body == 0 {
            return Err(ConfigError::Invalid(
                "fetch timeout and body cap must be above zero".into(),
            ));
        }
        Ok(())
    }

    fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let lower = url
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if lower.starts_with("https://") || (self.allow_http && lower.starts_with("http://")) {
            Ok(())
        } else if lower.starts_with("http://") {
            Err(FetchError::InsecureUrl { url: url.into() })
        } else {
            Err(FetchError::Transport {
                url: url.into(),
                reason: "not an http(s) URL".into(),
            })
        }
    }
}

/// The default fetcher: reqwest with rustls (no OpenSSL), the timeout and body cap of its
/// [`RemoteOptions`], redirects only within the same host (at most 3).
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    max_body: usize,
    allow_http: bool,
}

impl HttpFetcher {
    /// A fetcher with these limits.
    ///
    /// # Errors
    /// If the TLS stack cannot be initialised.
    pub fn new(options: &RemoteOptions) -> Result<Self, ConfigError> {
        let allow_http = options.allow_http;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let same_host = attempt
                .previous()
                .first()
                .is_some_and(|first| first.host_str() == attempt.url().host_str());
            if attempt.previous().len() > 3 {
                attempt.error("too many redirects")
            } else if !same_host {
                attempt.error("redirect to another host")
            } else if attempt.url().scheme() != "https" && !allow_http {
                attempt.error("redirect to plain http")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .redirect(policy)
            .https_only(!allow_http)
            .build()
            .map_err(|e| ConfigError::Invalid(format!("HTTP client: {e}").into()))?;
        Ok(Self {
            client,
            max_body: options.max_body,
            allow_http,
        })
    }
}

fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            max_age = v
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

/// A 2xx response's body, at most `max_body` bytes (checked against `Content-Length` first,
/// then while reading).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    url: &str,
    max_body: usize,
) -> Result<Vec<u8>, FetchError> {
    if !response.status().is_success() {
        return Err(FetchError::Status {
            url: url.into(),
            status: response.status().as_u16(),
        });
    }
    let too_large = || FetchError::TooLarge {
        url: url.into(),
        limit: max_body,
    };
    if response
        .content_length()
        .is_some_and(|n| n > max_body as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Transport {
        url: url.into(),
        reason: e.to_string(),
    })? {
        if body.len() + chunk.len() > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Fetch for HttpFetcher {
    fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            let transport = |e: reqwest::Error| {
                if e.is_redirect() {
                    FetchError::Redirect {
                        url: url.into(),
                        reason: "to another host, to plain http, or too many".into(),
                    }
                } else {
                    FetchError::Transport {
                        url: url.into(),
                        reason: e.to_string(),
                    }
                }
            };
            if !self.allow_http && !url.to_ascii_lowercase().starts_with("https://") {
                return Err(FetchError::InsecureUrl { url: url.into() });
            }
            let response = self.client.get(url).send().await.map_err(transport)?;
            let max_age = response
                .headers()
                .get(http::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_max_age);
            let body = read_capped(response, url, self.max_body).await?;
            Ok(Fetched {
                body: body.into(),
                max_age,
            })
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Jwks(String),
    Discover(String),
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    jwks_uri: Option<String>,
    /// When a background refresh starts: at 80% of the time to live, so rotation is picked
    /// up while the current set is still fresh.
    refresh_at: Option<Instant>,
    stale_until: Option<Instant>,
    last_attempt: Option<Instant>,
    next_retry: Option<Instant>,
    failures: u32,
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
            Source::Jwks(u) | Source::Discover(u) => u,
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
            Source::Jwks(u) | Source::Discover(u) => u.clone(),
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
                self.version.fetch_add(1, Ordering::AcqRel);
                s.refresh_at = Some(now + ttl.mul_f64(0.8));
                s.stale_until = Some(now + ttl + self.options.stale_window);
                s.failures = 0;
                s.next_retry = None;
                Ok(())
            }
            Err(e) => {
                s.failures = s.failures.saturating_add(1);
                let factor = 1u32 << (s.failures - 1).min(16);
                let backoff = self
                    .options
                    .initial_backoff
                    .saturating_mul(factor)
                    .min(self.options.max_backoff);
                s.next_retry = Some(now + backoff);
                if let Source::Discover(_) = self.source {
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
            Source::Discover(issuer) => {
                let cached = self.read().jwks_uri.clone();
                match cached {
                    Some(u) => u,
                    None => {
                        let u = self.discover(issuer).await?;
                        self.write().jwks_uri = Some(u.clone());
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

    async fn discover(&self, issuer: &str) -> Result<String, FetchError> {
        let trimmed = issuer.trim_end_matches('/');
        let oidc = format!("{trimmed}/.well-known/openid-configuration");
        let first = match self.discovery_document(issuer, &oidc).await {
            Ok(uri) => return Ok(uri),
            Err(e) => e,
        };
        let rfc8414 = rfc8414_url(issuer);
        match self.discovery_document(issuer, &rfc8414).await {
            Ok(uri) => Ok(uri),
            Err(second) => Err(FetchError::Discovery {
                issuer: issuer.into(),
                reason: format!("{first}; then {second}"),
            }),
        }
    }

    async fn discovery_document(&self, issuer: &str, url: &str) -> Result<String, FetchError> {
        #[derive(serde::Deserialize)]
        struct Doc {
            issuer: String,
            jwks_uri: String,
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
        Ok(doc.jwks_uri)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_parsing() {
        assert_eq!(
            parse_max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn rfc8414_inserts_well_known_before_path() {
        assert_eq!(
            rfc8414_url("https://h.example/tenant/a"),
            "https://h.example/.well-known/oauth-authorization-server/tenant/a"
        );
        assert_eq!(
            rfc8414_url("https://h.example"),
            "https://h.example/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn plain_http_refused_unless_allowed() {
        let o = RemoteOptions::new();
        assert!(matches!(
            o.check_url("http://x/jwks"),
            Err(FetchError::InsecureUrl { .. })
        ));
        assert!(o.check_url("https://x/jwks").is_ok());
        assert!(o
            .clone()
            .allow_http(true)
            .check_url("http://127.0.0.1/j")
            .is_ok());
        assert!(o.check_url("file:///etc/passwd").is_err());
    }
}

#[cfg(all(test, feature = "testing"))]
mod cache_tests {
    use super::*;
    use crate::testing::TestIssuer;
    use crate::{TokenError, Validator};
    use std::sync::atomic::AtomicUsize;

    /// Serves a scripted body and counts calls.
    struct Scripted {
        body: std::sync::Mutex<Result<String, u16>>,
        calls: Arc<AtomicUsize>,
    }

    impl Fetch for Scripted {
        fn get<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let body = self.body.lock().unwrap().clone();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                match body {
                    Ok(b) => Ok(Fetched::new(b)),
                    Err(status) => Err(FetchError::Status {
                        url: url.into(),
                        status,
                    }),
                }
            })
        }
    }

    fn jwks(issuer: &TestIssuer) -> String {
        let pem = crate::testing::keys::P256_PUBLIC;
        let key = Key::ec_pem(pem).unwrap();
        let point = match key.decoding.kind() {
            jsonwebtoken::DecodingKeyKind::SecretOrDer(b) => b.clone(),
            _ => unreachable!(),
        };
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"{}","x":"{}","y":"{}"}}]}}"#,
            issuer.public_key().kid().unwrap(),
            b64(&point[1..33]),
            b64(&point[33..])
        )
    }

    fn validator(issuer: &TestIssuer, body: Result<String, u16>) -> (Validator, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let v = Validator::builder()
            .issuer(issuer.issuer_id())
            .audience(issuer.audience_id())
            .jwks_url("https://issuer.test/jwks")
            .fetcher(Scripted {
                body: std::sync::Mutex::new(body),
                calls: calls.clone(),
            })
            .build()
            .unwrap();
        (v, calls)
    }

    #[tokio::test]
    async fn concurrent_first_requests_share_one_fetch() {
        let issuer = TestIssuer::new();
        let (v, calls) = validator(&issuer, Ok(jwks(&issuer)));
        assert!(!v.keys_loaded());
        let token = issuer.token().sign();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (v, t) = (v.clone(), token.clone());
                tokio::spawn(async move { v.validate_async(&t).await.is_ok() })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(v.keys_loaded());
    }

    #[tokio::test]
    async fn unknown_kid_refetches_once_per_cooldown() {
        let issuer = TestIssuer::new();
        let calls = Arc::new(AtomicUsize::new(0));
        // Tokens are signed before the clock of the cooldown starts: on a loaded machine a
        // debug build signs slowly enough to outlast a short cooldown.
        let storm_tokens = |round: usize| -> Vec<String> {
            (0..50)
                .map(|i| {
                    issuer
                        .token()
                        .header("kid", format!("random-{round}-{i}"))
                        .sign()
                })
                .collect()
        };
        let rounds = [storm_tokens(0), storm_tokens(1)];
        let cooldown = Duration::from_secs(1);
        let v = Validator::builder()
            .issuer(issuer.issuer_id())
            .audience(issuer.audience_id())
            .jwks_url("https://issuer.test/jwks")
            .remote_options(RemoteOptions::new().cooldown(cooldown))
            .fetcher(Scripted {
                body: std::sync::Mutex::new(Ok(jwks(&issuer))),
                calls: calls.clone(),
            })
            .build()
            .unwrap();
        v.warm_up().await.unwrap();
        let storm = |tokens: &[String]| {
            let v = v.clone();
            let tokens = tokens.to_vec();
            async move {
                for t in tokens {
                    assert_eq!(
                        v.validate_async(&t).await.unwrap_err(),
                        TokenError::UnknownKey
                    );
                }
            }
        };
        // Inside the cooldown that the warm-up fetch started: no fetch at all.
        storm(&rounds[0]).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // After it: one fetch for the whole storm.
        tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
        storm(&rounds[1]).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn expired_tokens_never_cause_a_fetch() {
        let issuer = TestIssuer::new();
        let (v, calls) = validator(&issuer, Ok(jwks(&issuer)));
        let expired = issuer.token().header("kid", "unknown").expired().sign();
        assert_eq!(
            v.validate_async(&expired).await.unwrap_err(),
            TokenError::Expired
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn cold_cache_with_endpoint_down_is_unavailable() {
        let issuer = TestIssuer::new();
        let (v, _) = validator(&issuer, Err(500));
        let err = v.validate_async(&issuer.token().sign()).await.unwrap_err();
        assert!(matches!(err, TokenError::Unavailable { retry_after } if retry_after >= 1));
    }
}
