//! Why a fetch failed.

use std::time::Duration;

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
