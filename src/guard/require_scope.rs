//! The scope guard: [`RequireScopeLayer`], [`RequireScope`] and [`ScopeGuard`].
//!
//! A guard reads the [`Scopes`] that [`BearerLayer`](crate::BearerLayer) put into the
//! request and answers:
//!
//! | situation | answer |
//! |---|---|
//! | requirement met | the inner service runs |
//! | scopes missing it | `403`, `error="insufficient_scope"`, `scope="<every scope the route names>"` |
//! | unauthenticated (optional mode) | `401`, challenge with `scope="…"` and no error |
//! | no `BearerLayer` in front | `500 server_error` naming the missing layer |
//!
//! The tower layer, the axum extractor and the `#[require_scope]` macro share this code, so
//! they answer byte for byte alike.
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_bearer::{BearerLayer, RequireScopeLayer};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! let app: Router = Router::new()
//!     .route("/users", get(|| async { "users" })
//!         .route_layer(RequireScopeLayer::all(["users:read"])))
//!     .route("/accounts", get(|| async { "accounts" })
//!         .route_layer(RequireScopeLayer::any(["accounts:read", "accounts:write"])))
//!     .layer(BearerLayer::new(validator));
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Extensions, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::context::context;
use crate::bearer::future::ResponseFuture as BearerFuture;
use crate::error::ConfigError;
use crate::reject::render::Render;
use crate::reject::{ErrorCode, Rejection};
use crate::scope::{IntoRequirement, ScopeRequirement, Scopes};

/// A requirement with its challenge text computed once.
#[derive(Clone)]
pub struct ScopeGuard {
    requirement: ScopeRequirement,
    challenge: Option<Arc<str>>,
}

impl fmt::Debug for ScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("requirement", &self.requirement)
            .field("hide_scopes", &self.challenge.is_none())
            .finish()
    }
}

impl ScopeGuard {
    /// A guard for this requirement.
    pub fn new(requirement: ScopeRequirement) -> Self {
        let challenge = Some(Arc::from(requirement.challenge_scopes()));
        Self {
            requirement,
            challenge,
        }
    }

    /// Leave `scope="…"` out of the answers, for services that prefer not to say which scopes
    /// a route needs.
    #[must_use]
    pub fn hide_scopes(mut self) -> Self {
        self.challenge = None;
        self
    }

    /// The requirement.
    pub fn requirement(&self) -> &ScopeRequirement {
        &self.requirement
    }

    /// Check a request's extensions; on failure, the response to send.
    pub fn check<B: From<Bytes>>(&self, extensions: &Extensions) -> Result<(), Response<B>> {
        self.check_rejection(extensions)
            .map_err(|(rejection, render)| render.respond(&rejection))
    }

    pub(crate) fn check_rejection(
        &self,
        extensions: &Extensions,
    ) -> Result<(), (Rejection, Arc<Render>)> {
        let Some(render) = context(extensions) else {
            return Err((Rejection::missing_layer("RequireScope"), Arc::default()));
        };
        let rejection = match extensions.get::<Scopes>() {
            Some(scopes) if scopes.satisfies(&self.requirement) => return Ok(()),
            Some(_) => Rejection::new(ErrorCode::InsufficientScope, "insufficient scope"),
            None => Rejection::missing_credentials(),
        };
        let rejection = rejection.with_scope(self.challenge.clone());
        // Answer in the scheme the client used.
        let rejection = match extensions.get::<crate::source::BearerToken>() {
            Some(token) if token.is_dpop() => rejection.in_dpop_scheme(),
            _ => rejection,
        };
        Err((rejection, render.clone()))
    }
}

impl From<ScopeRequirement> for ScopeGuard {
    fn from(requirement: ScopeRequirement) -> Self {
        Self::new(requirement)
    }
}

/// A tower layer that lets a request through only if its token grants the required scopes.
///
/// Use it as an axum `route_layer`, or anywhere behind [`BearerLayer`](crate::BearerLayer)
/// in a tower stack.
#[derive(Clone, Debug)]
#[must_use]
pub struct RequireScopeLayer {
    guard: Arc<ScopeGuard>,
}

impl RequireScopeLayer {
    /// A guard for any requirement.
    pub fn new(requirement: ScopeRequirement) -> Self {
        Self::from_guard(ScopeGuard::new(requirement))
    }

    /// From a prepared guard.
    pub fn from_guard(guard: ScopeGuard) -> Self {
        Self {
            guard: Arc::new(guard),
        }
    }

    /// Every one of these scopes.
    ///
    /// # Panics
    /// If a scope string is invalid or the list is empty, naming it; see
    /// [`RequireScopeLayer::try_all`].
    #[track_caller]
    pub fn all<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        Self::new(ScopeRequirement::all(scopes))
    }

    /// At least one of these scopes.
    ///
    /// # Panics
    /// If a scope string is invalid or the list is empty, naming it.
    #[track_caller]
    pub fn any<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        Self::new(ScopeRequirement::any(scopes))
    }

    /// Every one of these scopes.
    ///
    /// # Errors
    /// If a scope string is invalid or the list is empty.
    pub fn try_all<I>(scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        ScopeRequirement::try_all(scopes).map(Self::new)
    }

    /// At least one of these scopes.
    ///
    /// # Errors
    /// If a scope string is invalid or the list is empty.
    pub fn try_any<I>(scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        ScopeRequirement::try_any(scopes).map(Self::new)
    }

    /// The guard, e.g. to list its scopes in RFC 9728 metadata.
    pub fn guard(&self) -> &ScopeGuard {
        &self.guard
    }

    /// Leave `scope="…"` out of the answers.
    pub fn hide_scopes(self) -> Self {
        Self::from_guard((*self.guard).clone().hide_scopes())
    }
}

impl<S> Layer<S> for RequireScopeLayer {
    type Service = RequireScope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScope {
            inner,
            guard: self.guard.clone(),
        }
    }
}

/// The service produced by [`RequireScopeLayer`].
#[derive(Clone, Debug)]
pub struct RequireScope<S> {
    inner: S,
    guard: Arc<ScopeGuard>,
}

impl<S> RequireScope<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Response future of [`RequireScope`].
pub type ResponseFuture<F, B, E> = BearerFuture<F, B, E>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScope<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match self.guard.check_rejection(req.extensions()) {
            Ok(()) => BearerFuture::inner_future(self.inner.call(req)),
            Err((rejection, render)) => {
                #[cfg(feature = "tracing")]
                crate::reject::trace::rejection(&rejection, req.method(), req.uri());
                BearerFuture::rejected_response(render.respond_to(&rejection, req.headers()))
            }
        }
    }
}
