//! Fetching documents: the [`Fetch`] seam and the default [`HttpFetcher`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use super::error::FetchError;
use super::options::RemoteOptions;
use crate::error::ConfigError;

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

pub(crate) fn parse_max_age(value: &str) -> Option<Duration> {
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
