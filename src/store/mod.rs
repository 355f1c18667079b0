//! Seams for state that the instances of a service may share: the DPoP replay cache, DPoP
//! nonces and introspection answers, in memory by default; on Redis with feature `redis`
//! ([`redis`]).
//!
//! A store answers at once ([`Pending::Ready`]: an in-memory store, on the request's own
//! thread) or after a round trip ([`Pending::Later`]: a store in another process). The layer
//! keeps the first on its synchronous path and waits for the second, so a shared store can be
//! plugged in without touching the layer.
//!
//! A store that cannot answer returns a [`StoreError`]; the request is then refused with
//! `503` and `Retry-After` (fail closed: a replay never passes because a store was down).
//!
//! ```
//! use tower_bearer::dpop::Dpop;
//! use tower_bearer::store::{Insert, Pending, ReplayStore, SeenProof, StoreError};
//!
//! /// A store that remembers nothing: for illustration only, it would let replays through.
//! #[derive(Debug)]
//! struct Forgetful;
//!
//! impl ReplayStore for Forgetful {
//!     fn insert(&self, _proof: SeenProof) -> Pending<Result<Insert, StoreError>> {
//!         Pending::Ready(Ok(Insert::Fresh))
//!     }
//! }
//!
//! let dpop = Dpop::allowed().replay_store(Forgetful).build()?;
//! # let _ = dpop;
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```

#[cfg(feature = "redis")]
pub mod redis;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A store's answer: now, or after a round trip.
pub enum Pending<T> {
    /// The answer, given at once.
    Ready(T),
    /// The answer, once this future completes. It must not borrow the request.
    Later(Pin<Box<dyn Future<Output = T> + Send + 'static>>),
}

impl<T> Pending<T> {
    /// Wait for the answer.
    pub async fn resolve(self) -> T {
        match self {
            Pending::Ready(t) => t,
            Pending::Later(f) => f.await,
        }
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pending::Ready(_) => "Pending::Ready",
            Pending::Later(_) => "Pending::Later",
        })
    }
}

/// A store could not answer (unreachable, timed out, out of memory). Never shown to clients.
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(Cow<'static, str>);

impl StoreError {
    /// Why the store could not answer, for the server's logs (no token or claim value).
    pub fn new(why: impl Into<Cow<'static, str>>) -> Self {
        Self(why.into())
    }
}

/// A verified DPoP proof to remember: its key and `jti`, until it could no longer be
/// accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SeenProof {
    /// The RFC 7638 thumbprint of the proof's key, base64url.
    pub jkt: String,
    /// The proof's `jti` (at most 256 bytes).
    pub jti: String,
    /// Seconds since the epoch after which the proof is refused anyway, so its entry may go.
    pub expires: u64,
    /// Seconds since the epoch, now.
    pub now: u64,
}

/// What a replay store did with a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Insert {
    /// Not seen before; remembered until it expires.
    Fresh,
    /// Seen before and still live: a replay (`401 invalid_dpop_proof`).
    Replayed,
    /// This proof key already holds its share of the store (`401 invalid_dpop_proof`).
    TooMany,
    /// The store is full of live entries (`503`); nothing was evicted.
    Full,
}

/// The DPoP replay cache (RFC 9449 §11.1): each proof once, for as long as it could be
/// accepted. Set on [`DpopBuilder::replay_store`](crate::dpop::DpopBuilder::replay_store);
/// the default is in memory ([`DpopBuilder::replay_cache`](crate::dpop::DpopBuilder::replay_cache)).
///
/// An implementation must insert atomically (two instances racing with one proof: exactly
/// one sees [`Insert::Fresh`]) and must never drop a live entry early, which would reopen
/// the replay window.
pub trait ReplayStore: Send + Sync + fmt::Debug + 'static {
    /// Remember `proof`, or say why not.
    fn insert(&self, proof: SeenProof) -> Pending<Result<Insert, StoreError>>;
}

/// DPoP server nonces (RFC 9449 §8): issue a fresh one, tell a current one. Set on
/// [`DpopBuilder::nonce_store`](crate::dpop::DpopBuilder::nonce_store). The built-in nonces
/// ([`DpopBuilder::require_nonce`](crate::dpop::DpopBuilder::require_nonce)) are stateless,
/// an HMAC of the time window, so instances given the same
/// [`nonce_key`](crate::dpop::DpopBuilder::nonce_key) share them without a store.
pub trait NonceStore: Send + Sync + fmt::Debug + 'static {
    /// A nonce for a client to put in its next proof; `now` in seconds since the epoch.
    fn issue(&self, now: u64) -> String;
    /// Whether `nonce` (from a client's proof) is current.
    fn check(&self, nonce: &str, now: u64) -> bool;
}

/// What an introspection answer store holds for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredAnswer {
    /// The endpoint's answer for an active token, as JSON text (it is checked again by the
    /// validator that reads it, as if the endpoint had just sent it).
    Active(String),
    /// The token is inactive, or its answer was refused by this validator's checks.
    Refused,
}

/// Introspection answers shared by instances (RFC 7662 §4 lets a resource server cache
/// them), so that each token is asked of the endpoint once, not once per instance. Set on
/// [`IntrospectionBuilder::answer_store`](crate::introspect::IntrospectionBuilder::answer_store).
///
/// Entries are keyed by a keyed hash of the token (HMAC-SHA256 under a secret every
/// instance shares), never by the token. A store that cannot answer is not a reason to
/// refuse a request: the validator asks the endpoint instead. Every instance sharing a
/// store must validate with the same policy (issuers, audiences, checks), since refusals are
/// shared too.
pub trait AnswerStore: Send + Sync + fmt::Debug + 'static {
    /// The answer stored under `key`, if any and not expired.
    fn get(&self, key: [u8; 32]) -> Pending<Result<Option<StoredAnswer>, StoreError>>;
    /// Store `answer` under `key` for at most `ttl`.
    fn put(
        &self,
        key: [u8; 32],
        answer: StoredAnswer,
        ttl: std::time::Duration,
    ) -> Pending<Result<(), StoreError>>;
}
