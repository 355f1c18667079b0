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

mod cache;
mod error;
mod fetch;
mod options;

pub use cache::DiscoveredEndpoints;
pub(crate) use cache::{rfc8414_url, Lookup, RemoteKeys, Source};
pub use error::FetchError;
pub(crate) use fetch::read_capped;
pub use fetch::{Fetch, FetchFuture, Fetched, HttpFetcher};
pub use options::RemoteOptions;

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "testing"))]
mod cache_tests;
