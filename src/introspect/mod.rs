//! RFC 7662 token introspection: opaque access tokens, checked by the authorization server
//! that issued them (feature `remote`).
//!
//! Give a validator an [`Introspection`] and it accepts opaque tokens next to JWTs: a token
//! shaped like a JWS (three dot-separated segments) is verified locally with the validator's
//! keys, anything else is sent to the introspection endpoint. A validator with introspection
//! and no keys serves opaque tokens only.
//!
//! ```no_run
//! use tower_bearer::introspect::Introspection;
//! use tower_bearer::{BearerLayer, Validator};
//!
//! # fn main() -> Result<(), tower_bearer::ConfigError> {
//! let introspection = Introspection::builder("my-api", "client-secret")
//!     .endpoint("https://auth.example.com/oauth2/introspect")
//!     .build()?;
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .introspection(introspection) // plus `.discover()` or keys to take JWTs as well
//!     .build()?;
//! let layer = BearerLayer::new(validator);
//! # let _ = layer; Ok(()) }
//! ```
//!
//! # What the answer must say
//!
//! `active: true`; `token_type`, when present, `Bearer` or `DPoP` (a refresh token is not an
//! access token); `exp`, `nbf`, `iat` (when present) are checked against the clock like a
//! JWT's; `iss`, when present, must be a configured issuer; `aud` must contain a configured
//! audience (a response without `aud` is refused unless the validator skips the audience
//! check); a `cnf` binds the token as for JWTs (DPoP `cnf.jkt`). `scope`, `client_id`, `sub`,
//! `username` and the rest land in the same [`TokenClaims`](crate::TokenClaims) and
//! [`Scopes`](crate::Scopes) as a JWT's, and your own claim checks run on them.
//!
//! # Caching and outages
//!
//! Active answers are cached until their `exp`, and never longer than
//! [`IntrospectionBuilder::max_cache_ttl`] (default 5 min; a token revoked at the
//! authorization server may be accepted that long); inactive answers for
//! [`IntrospectionBuilder::inactive_cache_ttl`] (default 10 s). The cache is bounded
//! (default 10 000 entries, keyed by the whole token; concurrent requests with one token share
//! one call to the endpoint; inactive answers in a separate, smaller
//! cache so a flood of made-up tokens cannot push out the active ones). Each validator keeps
//! its own cache, since an answer is only good for the audience that checked it. When the
//! endpoint cannot be reached,
//! times out, answers an error status or something that is not an introspection response,
//! the request gets `503` with `Retry-After`, never `401`: the token may well be valid.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

pub(crate) mod answer;
mod shared;

use crate::cache::TokenCache;
use crate::error::ConfigError;
use crate::keys::remote::{FetchError, RemoteOptions};
use crate::store::AnswerStore;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1,
/// RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the form-encoded client id and secret (the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// An RFC 7662 introspection client with its cache. Cheap to clone.
#[derive(Clone)]
pub struct Introspection {
    inner: Arc<Inner>,
    cache: Arc<Caches>,
}

/// Calls in flight, by token: concurrent requests with the same token share one call.
type Flights = std::sync::Mutex<std::collections::HashMap<u128, Flight>>;
type Flight = (Box<str>, Arc<tokio::sync::OnceCell<Result<String, String>>>);

/// Removes its flight when the call that started it ends, however it ends (a cancelled
/// request included); waiters that still hold the cell finish it themselves.
struct Landing<'a> {
    flights: &'a Flights,
    key: u128,
    cell: Arc<tokio::sync::OnceCell<Result<String, String>>>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights
            .get(&self.key)
            .is_some_and(|(_, cell)| Arc::ptr_eq(cell, &self.cell))
        {
            flights.remove(&self.key);
        }
    }
}

/// Answers, checked by one validator: active ones, and (apart, so a flood of unknown tokens
/// cannot push out the active ones) inactive ones.
struct Caches {
    active: TokenCache,
    inactive: TokenCache,
}

impl Caches {
    fn new(entries: usize) -> Self {
        Self {
            active: TokenCache::new(entries.max(1)),
            inactive: TokenCache::new((entries / 4).max(1)),
        }
    }
}

struct Inner {
    endpoint: Endpoint,
    client_id: String,
    client_secret: String,
    auth: ClientAuth,
    client: reqwest::Client,
    max_body: usize,
    allow_http: bool,
    cache_entries: usize,
    max_ttl: u64,
    inactive_ttl: u64,
    retry_after: u64,
    flights: Flights,
    /// Answers shared with other instances, and the secret their keys are made with.
    shared: Option<(Arc<dyn AnswerStore>, Hmac<Sha256>)>,
}

enum Endpoint {
    Fixed(String),
    /// Read from the issuer's metadata on first use, so a service starts while the
    /// authorization server is down.
    Discover {
        issuer: String,
        found: tokio::sync::OnceCell<String>,
        /// When discovery last failed: retried at most every [`DISCOVERY_COOLDOWN`].
        failed: std::sync::Mutex<Option<std::time::Instant>>,
    },
}

/// How long a failed discovery is not retried (requests meanwhile get 503).
const DISCOVERY_COOLDOWN: Duration = Duration::from_secs(5);

impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = match &self.inner.endpoint {
            Endpoint::Fixed(url) => url.as_str(),
            Endpoint::Discover { issuer, .. } => issuer.as_str(),
        };
        f.debug_struct("Introspection")
            .field("endpoint", &endpoint)
            .field("client_id", &self.inner.client_id)
            .field("auth", &self.inner.auth)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Introspection {
    /// Start configuring; the resource server's own client credentials at the authorization
    /// server.
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> IntrospectionBuilder {
        IntrospectionBuilder {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            endpoint: None,
            discover: None,
            auth: ClientAuth::default(),
            options: RemoteOptions::default(),
            cache_entries: 10_000,
            max_ttl: Duration::from_secs(300),
            inactive_ttl: Duration::from_secs(10),
            shared: None,
        }
    }

    /// The same client and settings with a cache of its own.
    pub(crate) fn with_own_cache(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            cache: Arc::new(Caches::new(self.inner.cache_entries)),
        }
    }

    /// A cached answer for exactly this token: `Some(None)` when it was inactive.
    pub(crate) fn cached(&self, token: &str) -> Option<Option<crate::Authenticated>> {
        let now = now();
        if let Some(hit) = self.cache.active.get_until(token.as_bytes(), now) {
            return Some(hit);
        }
        self.cache
            .inactive
            .get_until(token.as_bytes(), now)
            .map(|_| None)
    }

    pub(crate) fn remember(
        &self,
        token: &str,
        auth: Option<&crate::Authenticated>,
        exp: Option<f64>,
    ) {
        let now = now();
        let until = match auth {
            Some(_) => {
                let cap = now.saturating_add(self.inner.max_ttl);
                match exp {
                    Some(exp) if exp.is_finite() && exp >= 0.0 => cap.min(exp as u64),
                    _ => cap,
                }
            }
            None => now.saturating_add(self.inner.inactive_ttl),
        };
        if until > now {
            match auth {
                Some(a) => self
                    .cache
                    .active
                    .insert_until(token.as_bytes(), Some(a.clone()), until),
                None => self
                    .cache
                    .inactive
                    .insert_until(token.as_bytes(), None, until),
            }
        }
    }

    pub(crate) fn retry_after(&self) -> u64 {
        self.inner.retry_after
    }

    /// Ask the endpoint about `token`: the response's JSON object text. Concurrent calls for
    /// the same token share one request to the endpoint.
    pub(crate) async fn ask(&self, token: &str) -> Result<String, FetchError> {
        let key = xxhash_rust::xxh3::xxh3_128(token.as_bytes());
        let (cell, landing) = {
            let mut flights = self.inner.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get(&key) {
                Some((t, cell)) if **t == *token => (cell.clone(), None),
                _ => {
                    let cell = Arc::new(tokio::sync::OnceCell::new());
                    flights.insert(key, (token.into(), cell.clone()));
                    let landing = Landing {
                        flights: &self.inner.flights,
                        key,
                        cell: cell.clone(),
                    };
                    (cell, Some(landing))
                }
            }
        };
        let result = cell
            .get_or_init(|| async { self.ask_endpoint(token).await.map_err(|e| e.to_string()) })
            .await
            .clone();
        drop(landing);
        result.map_err(|reason| FetchError::Transport {
            url: "the introspection endpoint".into(),
            reason,
        })
    }

    async fn ask_endpoint(&self, token: &str) -> Result<String, FetchError> {
        let inner = &self.inner;
        let url = match &inner.endpoint {
            Endpoint::Fixed(url) => url.clone(),
            Endpoint::Discover {
                issuer,
                found,
                failed,
            } => {
                if found.get().is_none() {
                    let last = *failed.lock().unwrap_or_else(|e| e.into_inner());
                    if last.is_some_and(|t| t.elapsed() < DISCOVERY_COOLDOWN) {
                        return Err(FetchError::Discovery {
                            issuer: issuer.clone(),
                            reason: "discovery failed moments ago; waiting before the next try"
                                .into(),
                        });
                    }
                }
                match found.get_or_try_init(|| self.discover(issuer)).await {
                    Ok(url) => url.clone(),
                    Err(e) => {
                        *failed.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(std::time::Instant::now());
                        return Err(e);
                    }
                }
            }
        };
        let mut form = vec![("token", token), ("token_type_hint", "access_token")];
        let mut request = inner.client.post(&url).header("accept", "application/json");
        match inner.auth {
            ClientAuth::ClientSecretBasic => {
                // RFC 6749 §2.3.1: each part form-urlencoded before Basic.
                use base64::Engine as _;
                let pair = format!(
                    "{}:{}",
                    form_encode(&inner.client_id),
                    form_encode(&inner.client_secret)
                );
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                request = request.header("authorization", format!("Basic {basic}"));
            }
            ClientAuth::ClientSecretPost => {
                form.push(("client_id", &inner.client_id));
                form.push(("client_secret", &inner.client_secret));
            }
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        let bytes = self.send(&url, request).await?;
        String::from_utf8(bytes).map_err(|_| FetchError::Transport {
            url: url.clone(),
            reason: "introspection response is not UTF-8".into(),
        })
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, FetchError> {
        let inner = &self.inner;
        if !inner.allow_http && !url.to_ascii_lowercase().starts_with("https://") {
            return Err(FetchError::InsecureUrl { url: url.into() });
        }
        let transport = |e: reqwest::Error| FetchError::Transport {
            url: url.into(),
            reason: e.to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        crate::keys::remote::read_capped(response, url, inner.max_body).await
    }

    /// RFC 8414 / OpenID discovery of `introspection_endpoint`; the document's `issuer` must be
    /// the configured one.
    async fn discover(&self, issuer: &str) -> Result<String, FetchError> {
        #[derive(Deserialize)]
        struct Doc {
            issuer: Option<String>,
            introspection_endpoint: Option<String>,
        }
        let base = issuer.trim_end_matches('/');
        let candidates = [
            format!("{base}/.well-known/openid-configuration"),
            crate::keys::remote::rfc8414_url(issuer),
        ];
        let mut last = None;
        for url in candidates {
            let request = self
                .inner
                .client
                .get(&url)
                .header("accept", "application/json");
            match self.send(&url, request).await {
                Ok(body) => {
                    let doc: Doc =
                        serde_json::from_slice(&body).map_err(|e| FetchError::Discovery {
                            issuer: issuer.into(),
                            reason: format!("not a metadata document: {e}"),
                        })?;
                    if doc.issuer.as_deref() != Some(issuer) {
                        return Err(FetchError::Discovery {
                            issuer: issuer.into(),
                            reason: "the document's issuer is not the configured issuer".into(),
                        });
                    }
                    return doc.introspection_endpoint.ok_or(FetchError::Discovery {
                        issuer: issuer.into(),
                        reason: "no introspection_endpoint in the metadata".into(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(FetchError::Discovery {
            issuer: issuer.into(),
            reason: "no metadata document".into(),
        }))
    }
}

/// Configures an [`Introspection`].
#[must_use]
pub struct IntrospectionBuilder {
    client_id: String,
    client_secret: String,
    endpoint: Option<String>,
    discover: Option<String>,
    auth: ClientAuth,
    options: RemoteOptions,
    cache_entries: usize,
    max_ttl: Duration,
    inactive_ttl: Duration,
    shared: Option<(Arc<dyn AnswerStore>, [u8; 32])>,
}

impl fmt::Debug for IntrospectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionBuilder")
            .field("client_id", &self.client_id)
            .field("endpoint", &self.endpoint)
            .field("discover", &self.discover)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl IntrospectionBuilder {
    /// The introspection endpoint's URL.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Find the endpoint in `issuer`'s metadata (OpenID Connect discovery, then RFC 8414),
    /// on first use.
    pub fn discover(mut self, issuer: impl Into<String>) -> Self {
        self.discover = Some(issuer.into());
        self
    }

    /// How to authenticate (default `client_secret_basic`).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Timeout, body cap and `allow_http` for calls to the endpoint (the key-fetching
    /// settings in it do not apply here).
    pub fn remote_options(mut self, options: RemoteOptions) -> Self {
        self.options = options;
        self
    }

    /// Entries of the result cache (default 10 000; 0 turns caching off).
    pub fn cache(mut self, max_entries: usize) -> Self {
        self.cache_entries = max_entries;
        self
    }

    /// The longest an active answer is reused (default 5 min; never past the token's `exp`).
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// How long an inactive answer is reused (default 10 s).
    pub fn inactive_cache_ttl(mut self, ttl: Duration) -> Self {
        self.inactive_ttl = ttl;
        self
    }

    /// Share answers with other instances through `store` (see [`crate::store`]): a token
    /// one instance asked about is not asked again by another while the answer is fresh.
    /// `key` makes the store's keys from the tokens (HMAC-SHA256); every instance sharing
    /// the store must use the same key, and keep it secret. This process's own cache still
    /// answers first.
    pub fn answer_store(mut self, store: impl AnswerStore, key: [u8; 32]) -> Self {
        self.shared = Some((Arc::new(store), key));
        self
    }

    /// Check the configuration.
    ///
    /// # Errors
    /// No endpoint or both an endpoint and discovery, an empty client id, a plain-http URL
    /// without `allow_http`, or an HTTP client that cannot be built.
    pub fn build(self) -> Result<Introspection, ConfigError> {
        let bad = |why: String| ConfigError::Invalid(why.into());
        if self.client_id.is_empty() {
            return Err(bad(
                "introspection needs the resource server's client_id at the authorization server"
                    .into(),
            ));
        }
        for (value, limit, message) in [
            (
                self.options.timeout,
                Duration::from_secs(300),
                "timeout above 5 minutes",
            ),
            (
                self.max_ttl,
                Duration::from_secs(24 * 3600),
                "max_cache_ttl above 1 day",
            ),
            (
                self.inactive_ttl,
                Duration::from_secs(3600),
                "inactive_cache_ttl above 1 hour",
            ),
        ] {
            if value > limit {
                return Err(bad(message.into()));
            }
        }
        let allow_http = self.options.allow_http;
        let check = |url: &str| {
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("https://") || (allow_http && lower.starts_with("http://")) {
                Ok(())
            } else {
                Err(bad(format!(
                    "introspection URL {url:?} must be https (plain http only with RemoteOptions::allow_http, for tests)"
                )))
            }
        };
        let endpoint = match (self.endpoint, self.discover) {
            (Some(url), None) => {
                check(&url)?;
                Endpoint::Fixed(url)
            }
            (None, Some(issuer)) => {
                check(&issuer)?;
                Endpoint::Discover {
                    issuer,
                    found: tokio::sync::OnceCell::new(),
                    failed: std::sync::Mutex::new(None),
                }
            }
            (None, None) => {
                return Err(bad(
                    "introspection needs .endpoint(url) or .discover(issuer)".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(bad(
                    "introspection takes .endpoint(url) or .discover(issuer), not both".into(),
                ))
            }
        };
        // Credentials go with every call: never follow a redirect with them.
        let client = reqwest::Client::builder()
            .timeout(self.options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!allow_http)
            .build()
            .map_err(|e| bad(format!("HTTP client: {e}")))?;
        let cache = Arc::new(Caches::new(self.cache_entries));
        Ok(Introspection {
            cache,
            inner: Arc::new(Inner {
                endpoint,
                client_id: self.client_id,
                client_secret: self.client_secret,
                auth: self.auth,
                client,
                max_body: self.options.max_body,
                allow_http,
                cache_entries: self.cache_entries,
                max_ttl: if self.cache_entries == 0 {
                    0
                } else {
                    self.max_ttl.as_secs()
                },
                inactive_ttl: if self.cache_entries == 0 {
                    0
                } else {
                    self.inactive_ttl.as_secs()
                },
                retry_after: self.options.timeout.as_secs().clamp(1, 30),
                flights: std::sync::Mutex::new(std::collections::HashMap::new()),
                shared: match self.shared {
                    Some((store, key)) => Some((
                        store,
                        <Hmac<Sha256> as Mac>::new_from_slice(&key)
                            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
                    )),
                    None => None,
                },
            }),
        })
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::form_encode;

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b+c/d:é"), "a+b%2Bc%2Fd%3A%C3%A9");
    }
}
