//! RFC 9449 DPoP: sender-constrained access tokens.
//!
//! A DPoP client holds a key pair, the authorization server binds the access token to the
//! public key (`cnf.jkt`, its RFC 7638 thumbprint), and every request carries a fresh proof
//! JWT signed with the private key:
//!
//! ```text
//! Authorization: DPoP eyJhbGciOiJFUzI1NiIs…
//! DPoP: eyJ0eXAiOiJkcG9wK2p3dCIs…
//! ```
//!
//! A stolen token is useless without the key. Turn DPoP on per layer with
//! [`BearerLayer::dpop`](crate::BearerLayer::dpop):
//!
//! ```
//! use tower_bearer::{dpop::Dpop, BearerLayer};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! let dpop = Dpop::required()
//!     // The URL clients see; behind a proxy it differs from what the server sees.
//!     .public_base_url("https://api.example.com")
//!     .build()?;
//! let layer = BearerLayer::new(validator).dpop(dpop);
//! # let _ = layer;
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```
//!
//! # Policy
//!
//! * No `dpop(..)` on the layer: the `DPoP` scheme is not understood (like any other scheme),
//!   and DPoP-bound tokens presented as `Bearer` are rejected, as are all `cnf`-bound tokens.
//! * [`Dpop::allowed`]: `Bearer` for unbound tokens, `DPoP` for bound ones. A bound token
//!   presented as `Bearer` is rejected (§7.2); an unbound token presented as `DPoP` is too.
//! * [`Dpop::required`]: only `DPoP`; every challenge is a `DPoP` challenge.
//!
//! # What is checked (RFC 9449 §4.3 and §7.1)
//!
//! Exactly one `DPoP` header holding a compact JWS (at most 8 KiB); header `typ` `dpop+jwt`,
//! `alg` one of the allowed asymmetric algorithms, `jwk` a public key of that type without
//! any private member; the signature by that `jwk`; claims `jti` (1–256 bytes), `htm` equal to
//! the request method, `htu` equal to the request URL after RFC 3986 normalisation and without
//! query and fragment, `iat` within the proof lifetime (default 60 s, plus a small leeway for
//! clocks ahead), `ath` the base64url SHA-256 of the access token, and `nonce` when server
//! nonces are on; then the access token is validated as usual and its `cnf.jkt` must equal
//! the proof key's thumbprint. Only after all of that is the `jti` recorded: a replayed
//! proof is refused for as long as it could be accepted. The replay cache is bounded; when it
//! is full of live entries, new proofs get `503` rather than evicting entries early (which
//! would reopen the replay window).

mod htu;
mod nonce;
mod policy;
mod proof;
mod replay;
mod thumbprint;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Uri};

use crate::error::ConfigError;
use crate::keys::Algorithm;
use crate::reject::{DpopChallenge, ErrorCode, Reason, Rejection};
use crate::store::{Insert, NonceStore, Pending, ReplayStore, SeenProof, StoreError};
use htu::normalize;
use nonce::Nonces;
use policy::Policy;
pub(crate) use proof::Proof;
use proof::ProofError;
use replay::Replay;
pub use thumbprint::thumbprint;

/// Whether bearer tokens are still accepted next to DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Bearer` (unbound tokens) and `DPoP` (bound tokens).
    Allowed,
    /// `DPoP` only.
    Required,
}

/// The DPoP policy of a layer; build with [`Dpop::allowed`] or [`Dpop::required`]. Cheap to
/// clone; clones share the replay cache.
#[derive(Clone)]
pub struct Dpop {
    inner: Arc<Policy>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Dpop")
            .field("mode", &i.mode)
            .field("algs", &i.algs)
            .field("base_url", &i.base_url)
            .field("proof_lifetime", &i.lifetime)
            .field("nonces", &i.nonce.is_some())
            .finish_non_exhaustive()
    }
}

impl Dpop {
    /// Accept `DPoP` next to `Bearer`.
    pub fn allowed() -> DpopBuilder {
        DpopBuilder::new(DpopMode::Allowed)
    }

    /// Accept only `DPoP`.
    pub fn required() -> DpopBuilder {
        DpopBuilder::new(DpopMode::Required)
    }

    /// The policy.
    pub fn mode(&self) -> DpopMode {
        self.inner.mode
    }

    /// The proof algorithms accepted, for RFC 9728's `dpop_signing_alg_values_supported`.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algs
    }

    pub(crate) fn challenge(&self) -> DpopChallenge {
        self.inner.challenge.clone()
    }

    pub(crate) fn required_rejection(&self) -> Rejection {
        Rejection::fixed(Reason::DpopRequired).in_dpop_scheme()
    }

    /// Check the request's proof for `token` (everything but replay); the key thumbprint and
    /// what to record once the token itself has been accepted.
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Uri,
        token: &str,
    ) -> Result<Proof, Rejection> {
        self.inner
            .verify(headers, method, uri, token, now())
            .map_err(|e| match e {
                ProofError::Invalid(why) => {
                    Rejection::new(ErrorCode::InvalidDpopProof, why).in_dpop_scheme()
                }
                ProofError::Nonce(why) => match &self.inner.nonce {
                    Some(n) => Rejection::new(ErrorCode::UseDpopNonce, why)
                        .in_dpop_scheme()
                        .with_nonce(n.issue(now())),
                    None => Rejection::new(ErrorCode::InvalidDpopProof, why).in_dpop_scheme(),
                },
            })
    }

    /// Record a verified proof's `jti` in the replay store; a rejection if it was seen
    /// before, or if the store could not answer.
    pub(crate) fn record(&self, proof: &Proof) -> Pending<Result<(), Rejection>> {
        let now = now();
        // A proof that outlived its window while keys were fetched or the token was
        // introspected is refused: recording it would store an entry that is already dead,
        // and let copies of it through.
        if proof.expires <= now {
            return Pending::Ready(Err(Rejection::new(
                ErrorCode::InvalidDpopProof,
                "DPoP proof expired while the request was being checked",
            )
            .in_dpop_scheme()));
        }
        let seen = SeenProof {
            jkt: proof.jkt.clone(),
            jti: proof.jti.clone(),
            expires: proof.expires,
            now,
        };
        let retry_after = self.inner.lifetime.max(1);
        match self.inner.replay.insert(seen) {
            Pending::Ready(answer) => Pending::Ready(verdict(answer, retry_after)),
            Pending::Later(answer) => {
                Pending::Later(Box::pin(async move { verdict(answer.await, retry_after) }))
            }
        }
    }
}

/// What the replay store's answer means for the request.
fn verdict(answer: Result<Insert, StoreError>, retry_after: u64) -> Result<(), Rejection> {
    match answer {
        Ok(Insert::Fresh) => Ok(()),
        Ok(Insert::Replayed) => Err({
            crate::metrics::dpop_replay();
            Rejection::new(
                ErrorCode::InvalidDpopProof,
                "DPoP proof replayed (jti seen before)",
            )
            .in_dpop_scheme()
        }),
        // This client's doing, not the server's: refuse its proofs, keep serving others.
        Ok(Insert::TooMany) => Err(Rejection::new(
            ErrorCode::InvalidDpopProof,
            "too many proofs for this key within the proof lifetime, retry later",
        )
        .in_dpop_scheme()),
        Ok(Insert::Full) => Err(Rejection::unavailable(
            "DPoP replay cache is full, retry later",
            retry_after,
        )
        .in_dpop_scheme()),
        // Fail closed: a replay must never pass because the store was down.
        Err(e) => {
            #[cfg(feature = "tracing")]
            tracing::warn!(error = %e, "DPoP replay store failed");
            let _ = e;
            Err(
                Rejection::unavailable("DPoP replay store unavailable, retry later", 1)
                    .in_dpop_scheme(),
            )
        }
    }
}

/// Configures a [`Dpop`] policy.
#[must_use]
pub struct DpopBuilder {
    mode: DpopMode,
    algs: Vec<Algorithm>,
    base_url: Option<String>,
    default_scheme: &'static str,
    lifetime: Duration,
    leeway: Duration,
    nonce: Option<Duration>,
    nonce_key: Option<[u8; 32]>,
    nonce_store: Option<Arc<dyn NonceStore>>,
    replay_entries: usize,
    replay_store: Option<Arc<dyn ReplayStore>>,
}

impl fmt::Debug for DpopBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopBuilder")
            .field("mode", &self.mode)
            .field("algs", &self.algs)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl DpopBuilder {
    fn new(mode: DpopMode) -> Self {
        use Algorithm as A;
        Self {
            mode,
            algs: vec![
                A::ES256,
                A::ES384,
                A::EdDSA,
                A::PS256,
                A::PS384,
                A::PS512,
                A::RS256,
                A::RS384,
                A::RS512,
            ],
            base_url: None,
            default_scheme: "https",
            lifetime: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            nonce: None,
            nonce_key: None,
            nonce_store: None,
            replay_entries: 100_000,
            replay_store: None,
        }
    }

    /// The proof algorithms to accept (default: every asymmetric one this crate verifies).
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algs = algs.into_iter().collect();
        self
    }

    /// The scheme and authority clients use to reach this service, such as
    /// `https://api.example.com` (a path prefix is allowed: `https://example.com/api`). The
    /// proof's `htu` must equal it followed by the request's path. Without it, the URL is
    /// rebuilt from the request: its scheme and authority when absolute (HTTP/2), else
    /// `https` (or `http` after [`DpopBuilder::plain_http`]) and the `Host` header.
    /// With the `axum` feature, the request's path is the one the client addressed: under
    /// `Router::nest` that is axum's `OriginalUri`, not the path inside the nested router.
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Without a public base URL, assume requests arrived over plain `http` (local
    /// development and tests); the default assumes `https`.
    pub fn plain_http(mut self) -> Self {
        self.default_scheme = "http";
        self
    }

    /// How old a proof's `iat` may be (default 60 s). Also how long its `jti` is remembered.
    pub fn proof_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How far in the future a proof's `iat` may be, for client clocks ahead (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Require server nonces (RFC 9449 §9): a proof without a current nonce is answered 401
    /// `use_dpop_nonce` with a fresh one in `DPoP-Nonce`. Nonces are stateless (an HMAC of the
    /// time window under a key made at start-up) and valid for `lifetime` to twice that.
    pub fn require_nonce(mut self, lifetime: Duration) -> Self {
        self.nonce = Some(lifetime);
        self
    }

    /// The key of the built-in nonces, instead of one made at start-up: instances behind one
    /// load balancer that share it accept each other's nonces. Keep it secret (whoever has it
    /// can make nonces). Needs [`require_nonce`](Self::require_nonce).
    pub fn nonce_key(mut self, key: [u8; 32]) -> Self {
        self.nonce_key = Some(key);
        self
    }

    /// Require server nonces, issued and checked by `store` (see [`crate::store`]) instead of
    /// the built-in ones.
    pub fn nonce_store(mut self, store: impl NonceStore) -> Self {
        self.nonce_store = Some(Arc::new(store));
        self
    }

    /// How many proofs the replay cache remembers (default 100 000).
    ///
    /// One proof key (`jkt`) may hold at most `max(8, max_entries / 64)` of them at a time
    /// (1 562 by default: about 24 requests a second per key with the default 60 s lifetime
    /// and 5 s leeway). Beyond that, that key's proofs are answered `401`
    /// `invalid_dpop_proof` ("too many proofs for this key") until its older proofs expire,
    /// while other clients keep working; so one client cannot fill the cache for everyone.
    /// Raise `max_entries` for clients that send more. Where a proof is stored is chosen by a
    /// keyed hash with a secret made at start-up, so clients cannot aim their `jti`s at one
    /// part of the cache.
    pub fn replay_cache(mut self, max_entries: usize) -> Self {
        self.replay_entries = max_entries;
        self
    }

    /// Remember proofs in `store` instead of this process's memory, for instances that share
    /// one replay cache (see [`crate::store`]). [`replay_cache`](Self::replay_cache) then
    /// does not apply.
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.replay_store = Some(Arc::new(store));
        self
    }

    /// Check the configuration.
    ///
    /// # Errors
    /// No algorithms, an HMAC algorithm (proofs are signed with the client's private key), a
    /// base URL that is not an absolute `http(s)` URL without query or fragment, a zero
    /// lifetime or replay cache, or no randomness for nonces or the replay cache's secret.
    pub fn build(self) -> Result<Dpop, ConfigError> {
        let bad = |why: String| ConfigError::Invalid(why.into());
        if self.algs.is_empty() {
            return Err(bad("DPoP needs at least one proof algorithm".into()));
        }
        if let Some(a) = self
            .algs
            .iter()
            .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(bad(format!(
                "DPoP proofs are signed with the client's private key: {a} (HMAC) cannot be a proof algorithm"
            )));
        }
        let base_url = match self.base_url {
            None => None,
            Some(url) => {
                if url.contains(['?', '#']) {
                    return Err(bad(format!(
                        "DPoP public base URL {url:?} must not have a query or fragment"
                    )));
                }
                let normal = normalize(url.trim_end_matches('/')).ok_or_else(|| {
                    bad(format!(
                        "DPoP public base URL {url:?} is not an absolute http(s) URL, such as https://api.example.com"
                    ))
                })?;
                Some(normal.trim_end_matches('/').to_owned())
            }
        };
        if self.lifetime.is_zero() || self.lifetime > Duration::from_secs(3600) {
            return Err(bad(
                "DPoP proof lifetime must be above zero and at most an hour (proofs are meant to be fresh)".into(),
            ));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(bad(
                "DPoP leeway above 300 seconds: clock skew should be seconds, not minutes".into(),
            ));
        }
        if self.replay_entries == 0 {
            return Err(bad(
                "DPoP replay cache must hold at least one entry: without it proofs can be replayed"
                    .into(),
            ));
        }
        let nonce: Option<Arc<dyn NonceStore>> = match (self.nonce_store, self.nonce) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "both require_nonce() and nonce_store() configured: choose one".into(),
                ))
            }
            (Some(store), None) => Some(store),
            (None, None) if self.nonce_key.is_some() => {
                return Err(bad(
                    "nonce_key() without require_nonce(): the key is for the built-in nonces"
                        .into(),
                ))
            }
            (None, None) => None,
            (None, Some(lifetime)) if lifetime.as_secs() == 0 => {
                return Err(bad("DPoP nonce lifetime must be at least one second".into()))
            }
            (None, Some(lifetime)) if lifetime > Duration::from_secs(3600) => {
                return Err(bad(
                    "DPoP nonce lifetime above 1 hour: a nonce is meant to be fresh".into(),
                ))
            }
            (None, Some(lifetime)) => {
                let key = match self.nonce_key {
                    Some(key) => key,
                    None => {
                        let mut key = [0u8; 32];
                        getrandom::getrandom(&mut key)
                            .map_err(|e| bad(format!("no randomness for DPoP nonces: {e}")))?;
                        key
                    }
                };
                Some(Arc::new(Nonces {
                    key,
                    window: lifetime.as_secs(),
                }))
            }
        };
        let mut replay_secret = [0u8; 32];
        getrandom::getrandom(&mut replay_secret)
            .map_err(|e| bad(format!("no randomness for the DPoP replay cache: {e}")))?;
        let algs_text = self
            .algs
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Dpop {
            inner: Arc::new(Policy {
                mode: self.mode,
                challenge: DpopChallenge {
                    algs: Arc::from(algs_text),
                    required: self.mode == DpopMode::Required,
                },
                algs: self.algs,
                base_url,
                default_scheme: self.default_scheme,
                lifetime: self.lifetime.as_secs().max(1),
                leeway: self.leeway.as_secs(),
                nonce,
                replay: match self.replay_store {
                    Some(store) => store,
                    None => Arc::new(Replay::new(self.replay_entries, &replay_secret)),
                },
            }),
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
