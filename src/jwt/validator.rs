//! [`Validator`]: one issuer's policy, or several chosen by `iss`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::segments::peek_issuer;
use super::single::{Halt, Inner, Keys};
use crate::claims::Authenticated;
use crate::error::TokenError;
#[cfg(feature = "remote")]
use crate::keys::remote::RemoteKeys;
use crate::rules;
use crate::rules::binding::Presented;

/// Validates access tokens. Cheap to clone; share one per trusted issuer set.
#[derive(Clone)]
pub struct Validator {
    pub(crate) inner: Arc<Kind>,
}

// Lives behind an Arc: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Kind {
    One(Inner),
    /// Several issuers, each with its own keys, chosen by the token's `iss`.
    Many {
        by_issuer: HashMap<String, Validator>,
        max_len: usize,
    },
}

/// The outcome of one synchronous validation attempt.
pub(crate) enum Step {
    Done(Result<Authenticated, TokenError>),
    /// Keys must be fetched first (cold cache, or an unknown `kid` after the cooldown).
    #[cfg(feature = "remote")]
    Wait(Arc<RemoteKeys>, u64),
    /// An opaque token that must be introspected (this validator is single-issuer).
    #[cfg(feature = "remote")]
    Introspect(Validator),
    /// A token that passed every standard check, for this (single-issuer) validator's
    /// asynchronous checks.
    #[cfg(feature = "tokio")]
    Check(Authenticated, Validator),
}

impl From<Result<Authenticated, Halt>> for Step {
    fn from(result: Result<Authenticated, Halt>) -> Self {
        match result {
            Ok(auth) => Step::Done(Ok(auth)),
            Err(Halt::Fail(e)) => Step::Done(Err(e)),
            #[cfg(feature = "remote")]
            Err(Halt::Wait(remote, generation)) => Step::Wait(remote, generation),
        }
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = match &*self.inner {
            Kind::One(i) => i,
            Kind::Many { by_issuer, .. } => {
                return f
                    .debug_struct("Validator")
                    .field("issuers", &by_issuer.values().collect::<Vec<_>>())
                    .finish()
            }
        };
        f.debug_struct("Validator")
            .field("issuers", &i.rules.issuers)
            .field("audiences", &i.rules.audiences)
            .field("keys", &i.keys)
            .field("leeway", &i.rules.leeway)
            .field("typ", &i.typ)
            .field("max_len", &i.max_len)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// The configured maximum token length.
    pub fn max_token_len(&self) -> usize {
        match &*self.inner {
            Kind::One(i) => i.max_len,
            Kind::Many { max_len, .. } => *max_len,
        }
    }

    /// Whether every remote key source has a usable key set (always true for static keys).
    /// Use it for a readiness probe.
    pub fn keys_loaded(&self) -> bool {
        match &*self.inner {
            Kind::One(i) => match &i.keys {
                Keys::Static(_) => true,
                #[cfg(feature = "remote")]
                Keys::Remote(r) => r.is_loaded(),
            },
            Kind::Many { by_issuer, .. } => by_issuer.values().all(Validator::keys_loaded),
        }
    }

    /// The authorization server's endpoints (token, authorization) named by the discovery
    /// document, for a single-issuer validator built with
    /// [`discover`](crate::ValidatorBuilder::discover) once that document has been read
    /// (after [`warm_up`](Self::warm_up) or the first token). `None` before that, and for
    /// static keys, a JWKS URL or several issuers. Use it to document the API (OpenAPI
    /// security schemes, feature `utoipa`).
    #[cfg(feature = "remote")]
    pub fn discovered_endpoints(&self) -> Option<crate::keys::remote::DiscoveredEndpoints> {
        match &*self.inner {
            Kind::One(i) => match &i.keys {
                Keys::Remote(r) => r.endpoints().map(|e| (*e).clone()),
                Keys::Static(_) => None,
            },
            Kind::Many { .. } => None,
        }
    }

    /// Fetch every remote key set now, to fail fast at start-up (a no-op for static keys).
    ///
    /// # Errors
    /// The first source that could not be loaded.
    #[cfg(feature = "remote")]
    pub async fn warm_up(&self) -> Result<(), crate::keys::remote::FetchError> {
        match &*self.inner {
            Kind::One(i) => match &i.keys {
                Keys::Static(_) => Ok(()),
                Keys::Remote(r) => r.refresh_now().await,
            },
            Kind::Many { by_issuer, .. } => {
                for v in by_issuer.values() {
                    Box::pin(v.warm_up()).await?;
                }
                Ok(())
            }
        }
    }

    /// Validate a compact JWS access token without waiting on the network: with remote
    /// keys, a cold cache answers [`TokenError::Unavailable`] and an unknown `kid`
    /// [`TokenError::UnknownKey`]. Use [`Validator::validate_async`] to wait for a fetch.
    ///
    /// # Errors
    /// Why the token is not accepted; see [`TokenError`].
    pub fn validate(&self, token: &str) -> Result<Authenticated, TokenError> {
        match self.step(token.as_bytes(), false, Presented::NOTHING) {
            Step::Done(result) => result,
            #[cfg(feature = "remote")]
            Step::Wait(remote, _) => Err(TokenError::Unavailable {
                retry_after: remote.unavailable(),
            }),
            // Only a cached answer can be given without waiting.
            #[cfg(feature = "remote")]
            Step::Introspect(v) => Err(TokenError::IntrospectionUnavailable {
                retry_after: v.introspection_retry_after(),
            }),
            // Asynchronous checks cannot run here: use `validate_async`.
            #[cfg(feature = "tokio")]
            Step::Check(..) => Err(TokenError::CheckUnavailable { retry_after: 1 }),
        }
    }

    /// Validate, fetching keys first when the cache is cold or the `kid` is unknown (at most
    /// one fetch per cooldown, shared by concurrent callers).
    ///
    /// # Errors
    /// Why the token is not accepted; see [`TokenError`].
    pub async fn validate_async(&self, token: &str) -> Result<Authenticated, TokenError> {
        match self.step(token.as_bytes(), true, Presented::NOTHING) {
            Step::Done(result) => result,
            #[cfg(feature = "remote")]
            Step::Wait(remote, generation) => {
                let _ = remote.refresh(generation).await;
                match self.step(token.as_bytes(), false, Presented::NOTHING) {
                    Step::Done(result) => result,
                    Step::Wait(remote, _) => Err(TokenError::Unavailable {
                        retry_after: remote.unavailable(),
                    }),
                    Step::Introspect(v) => v.introspect(token, Presented::NOTHING).await,
                    Step::Check(auth, v) => v.run_async_checks(auth).await,
                }
            }
            #[cfg(feature = "remote")]
            Step::Introspect(v) => v.introspect(token, Presented::NOTHING).await,
            #[cfg(feature = "tokio")]
            Step::Check(auth, v) => v.run_async_checks(auth).await,
        }
    }

    /// The application's asynchronous checks, for a token that passed every other check.
    #[cfg(feature = "tokio")]
    pub(crate) async fn run_async_checks(
        &self,
        auth: Authenticated,
    ) -> Result<Authenticated, TokenError> {
        match &*self.inner {
            Kind::One(Inner {
                async_checks: Some(checks),
                ..
            }) => checks.run(auth).await,
            _ => Ok(auth),
        }
    }

    /// A single-issuer validator's answer, with its asynchronous checks still to run.
    ///
    /// `step` is called after the test for asynchronous checks: without them its answer is
    /// returned as it is, written in place, rather than moved through a test of its variant.
    #[inline(always)]
    fn after(&self, inner: &Inner, step: impl FnOnce() -> Step) -> Step {
        #[cfg(feature = "tokio")]
        if inner.async_checks.is_some() {
            return match step() {
                Step::Done(Ok(auth)) => Step::Check(auth, self.clone()),
                other => other,
            };
        }
        let _ = inner;
        step()
    }

    /// One attempt; `may_wait`: whether a fetch may be asked for.
    ///
    /// `binding`: the RFC 7638 thumbprint of the key whose DPoP proof came with the token
    /// (already verified), or `None` for a plain bearer token.
    pub(crate) fn step(&self, token: &[u8], may_wait: bool, binding: Presented<'_>) -> Step {
        // The length cap of the kind matched here, not through `max_token_len`: that would
        // match the kind a second time on every request.
        match &*self.inner {
            Kind::One(inner) => {
                if let Err(e) = rules::length::check(token.len(), inner.max_len) {
                    return Step::Done(Err(e));
                }
                #[cfg(feature = "remote")]
                if inner.introspection.is_some() && !super::segments::jws_shaped(token) {
                    return self.after(inner, || inner.step_opaque(self, token, binding));
                }
                self.after(inner, || {
                    inner.step(token, may_wait, binding, Step::Done, Step::from)
                })
            }
            Kind::Many { by_issuer, max_len } => {
                if let Err(e) = rules::length::check(token.len(), *max_len) {
                    return Step::Done(Err(e));
                }
                match peek_issuer(token) {
                    Ok(iss) => match by_issuer.get(iss.as_str()) {
                        Some(v) => v.step(token, may_wait, binding),
                        None => Step::Done(Err(TokenError::IssuerMismatch)),
                    },
                    Err(e) => Step::Done(Err(e)),
                }
            }
        }
    }
}
