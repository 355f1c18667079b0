//! Limits and timings of remote key sources.

use std::time::Duration;

use super::error::FetchError;
use crate::error::ConfigError;

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

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
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
        // Bounds that keep every `Instant` computed from these far from overflowing.
        const DAY: Duration = Duration::from_secs(24 * 3600);
        for (value, limit, message) in [
            (
                self.timeout,
                Duration::from_secs(300),
                "timeout above 5 minutes",
            ),
            (self.cooldown, DAY, "cooldown above 1 day"),
            (self.min_ttl, 7 * DAY, "min_ttl above 7 days"),
            (self.max_ttl, 7 * DAY, "max_ttl above 7 days"),
            (self.default_ttl, 7 * DAY, "default_ttl above 7 days"),
            (self.stale_window, 7 * DAY, "stale_window above 7 days"),
            (self.max_backoff, DAY, "backoff above 1 day"),
        ] {
            if value > limit {
                return Err(ConfigError::Invalid(message.into()));
            }
        }
        Ok(())
    }

    pub(crate) fn check_url(&self, url: &str) -> Result<(), FetchError> {
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
