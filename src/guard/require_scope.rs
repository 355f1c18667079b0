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
use crate::claims::TokenClaims;
use crate::error::ConfigError;
use crate::reject::render::Render;
use crate::reject::{ErrorCode, Rejection, StepUp};
use crate::scope::{IntoRequirement, ScopeRequirement, Scopes};

/// A requirement with its challenge text computed once, and optionally a step-up rule
/// (RFC 9470) on the authentication behind the token.
#[derive(Clone)]
pub struct ScopeGuard {
    requirement: ScopeRequirement,
    challenge: Option<Arc<str>>,
    step_up: Option<StepUpRule>,
}

/// How far in the future an `auth_time` may be (clock skew), in seconds.
const AUTH_TIME_SKEW: f64 = 30.0;

/// `acr` one of `acr`, `auth_time` at most `max_age` seconds old.
#[derive(Clone, Debug, Default)]
struct StepUpRule {
    acr: Vec<Box<str>>,
    max_age: Option<u64>,
    answer: Arc<StepUp>,
}

impl StepUpRule {
    fn with(mut self, acr: Option<Vec<Box<str>>>, max_age: Option<u64>) -> Self {
        if let Some(acr) = acr {
            self.acr = acr;
        }
        if max_age.is_some() {
            self.max_age = max_age;
        }
        let acr_values = (!self.acr.is_empty()).then(|| self.acr.join(" ").into_boxed_str());
        self.answer = Arc::new(StepUp {
            acr_values,
            max_age: self.max_age,
        });
        self
    }

    /// Whether the token's authentication event meets the rule: its `acr` is one of the
    /// allowed values and its `auth_time` recent enough. A missing claim, or one of the wrong
    /// JSON type, does not.
    fn met(&self, claims: Option<&TokenClaims>) -> bool {
        let Some(claims) = claims else { return false };
        if !self.acr.is_empty() {
            let acr = claims.get::<String>("acr").ok().flatten();
            if !acr.is_some_and(|acr| self.acr.iter().any(|a| **a == *acr)) {
                return false;
            }
        }
        if let Some(max_age) = self.max_age {
            let auth_time = claims.get::<f64>("auth_time").ok().flatten();
            // An authentication in the future (beyond clock skew) is no evidence of a
            // recent one.
            let now = crate::rules::time::now();
            let recent = auth_time.is_some_and(|t| {
                t.is_finite() && t <= now + AUTH_TIME_SKEW && now - t <= max_age as f64
            });
            if !recent {
                return false;
            }
        }
        true
    }
}

impl fmt::Debug for ScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("requirement", &self.requirement)
            .field("hide_scopes", &self.challenge.is_none())
            .field("acr_values", &self.step_up.as_ref().map(|s| &s.acr))
            .field("max_age", &self.step_up.as_ref().and_then(|s| s.max_age))
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
            step_up: None,
        }
    }

    /// Step-up (RFC 9470): the token's `acr` claim must be one of `values`, else the answer is
    /// `401 insufficient_user_authentication` with `acr_values="…"` (in this order: list
    /// the preferred value first). Checked after the scopes: a token without them gets `403`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_bearer::{RequireScopeLayer, ScopeGuard, ScopeRequirement};
    ///
    /// let transfer = RequireScopeLayer::from_guard(
    ///     ScopeGuard::new(ScopeRequirement::all(["accounts:write"]))
    ///         .acr_values(["urn:example:mfa"])
    ///         .max_age(Duration::from_secs(300)),
    /// );
    /// # let _ = transfer;
    /// ```
    ///
    /// # Panics
    /// If the list is empty or a value is not a valid `acr` value (the characters of a scope
    /// token: no spaces, quotes or backslashes); see [`try_acr_values`](Self::try_acr_values).
    #[must_use]
    #[track_caller]
    pub fn acr_values<I>(self, values: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.try_acr_values(values)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Step-up on `acr`; see [`acr_values`](Self::acr_values).
    ///
    /// # Errors
    /// If the list is empty or a value is not a valid `acr` value.
    pub fn try_acr_values<I>(mut self, values: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut acr = Vec::new();
        for v in values {
            let v = v.as_ref();
            if !crate::scope::is_valid_scope(v) {
                return Err(ConfigError::Invalid(
                    format!("acr value {v:?}: use the characters of a scope token (no spaces, quotes or backslashes)").into(),
                ));
            }
            acr.push(Box::from(v));
        }
        if acr.is_empty() {
            return Err(ConfigError::Invalid(
                "acr_values must name at least one value".into(),
            ));
        }
        self.step_up = Some(
            self.step_up
                .take()
                .unwrap_or_default()
                .with(Some(acr), None),
        );
        Ok(self)
    }

    /// Step-up (RFC 9470): the token's `auth_time` must be at most `max_age` old (whole
    /// seconds), else the answer is `401 insufficient_user_authentication` with
    /// `max_age="…"`. Checked after the scopes.
    #[must_use]
    pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
        self.step_up = Some(
            self.step_up
                .take()
                .unwrap_or_default()
                .with(None, Some(max_age.as_secs())),
        );
        self
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
            Some(scopes) if scopes.satisfies(&self.requirement) => match &self.step_up {
                None => return Ok(()),
                Some(rule) if rule.met(extensions.get::<TokenClaims>()) => return Ok(()),
                Some(rule) => Rejection::step_up(rule.answer.clone()),
            },
            Some(_) => Rejection::new(ErrorCode::InsufficientScope, "insufficient scope")
                .with_scope(self.challenge.clone()),
            None => Rejection::missing_credentials().with_scope(self.challenge.clone()),
        };
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
                BearerFuture::rejected_response(reject(&req, &rejection, &render))
            }
        }
    }
}

/// A guard's answer to `req` (and its trace): gRPC for a gRPC call, else HTTP.
pub(crate) fn reject<B, ResBody: From<Bytes>>(
    req: &Request<B>,
    rejection: &Rejection,
    render: &Render,
) -> Response<ResBody> {
    #[cfg(feature = "tracing")]
    crate::reject::trace::rejection(rejection, req.method(), req.uri());
    crate::metrics::guard_rejected(rejection);
    render.respond_to(rejection, req.method(), req.headers())
}
