//! The authenticating middleware: [`BearerLayer`], [`Bearer`] and its [`ResponseFuture`].
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_bearer::{BearerLayer, Scopes};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! async fn me(scopes: Scopes) -> String {
//!     format!("{} scopes", scopes.len())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .layer(BearerLayer::new(validator).realm("example"))
//!     .route("/health", get(|| async { "ok" })); // added after the layer: not covered
//! ```
//!
//! # Layer order
//!
//! Put tower-http's `CorsLayer` *outside* this layer (in axum: call `.layer(cors)` after
//! `.layer(bearer)`), so CORS preflight `OPTIONS` requests, which never carry a token, are
//! answered before authentication. Routes added to an axum `Router` after `.layer(..)` are not
//! covered; for anything else use [`BearerLayer::skip_if`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL};
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::{ErrorFormat, Rejection};
use crate::token::{self, FormToken, Method};
use crate::validator::{Step, Validator};

type SkipFn = Arc<dyn Fn(&http::request::Parts) -> bool + Send + Sync>;

/// How rejections are rendered; shared with guards and extractors through the request's
/// extensions so every answer of one service looks the same.
#[derive(Debug, Default, Clone)]
pub(crate) struct Render {
    pub(crate) realm: Option<Arc<str>>,
    pub(crate) format: ErrorFormat,
    pub(crate) resource_metadata: Option<Arc<str>>,
    pub(crate) dpop: Option<crate::error::DpopChallenge>,
}

impl Render {
    pub(crate) fn respond<B: From<Bytes>>(&self, rejection: &Rejection) -> Response<B> {
        rejection
            .render(
                self.realm.as_deref(),
                self.resource_metadata.as_deref(),
                self.dpop.as_ref(),
                &self.format,
            )
            .map(B::from)
    }
}

/// Put into the extensions of requests that pass [`Bearer`] unauthenticated (optional mode);
/// its presence tells guards and extractors that the layer ran. Authenticated requests carry
/// the same settings in their [`BearerToken`](crate::BearerToken), which saves an extension.
#[derive(Clone, Debug)]
pub(crate) struct AuthContext(pub(crate) Arc<Render>);

/// How this request's rejections render, if a `Bearer` layer saw it.
pub(crate) fn context(ext: &http::Extensions) -> Option<&Arc<Render>> {
    match ext.get::<crate::BearerToken>().and_then(|t| t.render()) {
        Some(render) => Some(render),
        None => ext.get::<AuthContext>().map(|c| &c.0),
    }
}

#[derive(Clone)]
struct Config {
    validator: Validator,
    render: Arc<Render>,
    optional: bool,
    allow_query: bool,
    skip: Option<SkipFn>,
    dpop: Option<crate::dpop::Dpop>,
}

/// Validates the bearer token of every request and puts [`TokenClaims`](crate::TokenClaims),
/// [`Scopes`](crate::Scopes) and [`BearerToken`](crate::BearerToken) into its extensions, or
/// answers with an RFC 6750 error.
#[derive(Clone)]
#[must_use]
pub struct BearerLayer {
    config: Arc<Config>,
}

impl fmt::Debug for BearerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("BearerLayer")
            .field("validator", &c.validator)
            .field("realm", &c.render.realm)
            .field("format", &c.render.format)
            .field("optional", &c.optional)
            .field("allow_query", &c.allow_query)
            .field("skip", &c.skip.is_some())
            .finish()
    }
}

impl BearerLayer {
    /// Every request must carry a valid token.
    pub fn new(validator: Validator) -> Self {
        Self {
            config: Arc::new(Config {
                validator,
                render: Arc::new(Render::default()),
                optional: false,
                allow_query: false,
                skip: None,
                dpop: None,
            }),
        }
    }

    /// Requests without credentials pass through unauthenticated (no claims in the
    /// extensions); requests with bad credentials are still rejected. Guards behind it answer
    /// unauthenticated requests with `401`.
    pub fn optional(validator: Validator) -> Self {
        let mut layer = Self::new(validator);
        Arc::make_mut(&mut layer.config).optional = true;
        layer
    }

    /// The `realm` of every challenge (default: none).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.render = Arc::new(Render {
            realm: Some(Arc::from(realm.into())),
            ..(*config.render).clone()
        });
        self
    }

    /// How rejection bodies are written (default: JSON).
    pub fn error_format(mut self, format: ErrorFormat) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.render = Arc::new(Render {
            format,
            ..(*config.render).clone()
        });
        self
    }

    /// Name an RFC 9728 metadata document in every challenge (`resource_metadata="…"`), as
    /// the MCP authorization spec requires. Serve the document with
    /// [`ResourceMetadata::layer`](crate::metadata::ResourceMetadata::layer).
    pub fn resource_metadata(mut self, metadata: &crate::metadata::ResourceMetadata) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.render = Arc::new(Render {
            resource_metadata: Some(Arc::from(metadata.url())),
            ..(*config.render).clone()
        });
        self
    }

    /// Accept DPoP-bound tokens (RFC 9449) under this policy; see [`crate::dpop`]. Challenges
    /// then name the accepted proof algorithms (`DPoP algs="…"`).
    pub fn dpop(mut self, dpop: crate::dpop::Dpop) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.render = Arc::new(Render {
            dpop: Some(dpop.challenge()),
            ..(*config.render).clone()
        });
        config.dpop = Some(dpop);
        self
    }

    /// Also accept `?access_token=` (RFC 6750 §2.3). Off by default: URLs end up in logs and
    /// browser history. Responses to such requests get `Cache-Control: private`.
    pub fn allow_query_token(mut self) -> Self {
        Arc::make_mut(&mut self.config).allow_query = true;
        self
    }

    /// Let requests for which `predicate` returns `true` through without authentication
    /// (health checks, metrics). They look unauthenticated to what follows: `Option<…>`
    /// extractors give `None`, guards answer 401.
    ///
    /// ```
    /// # use tower_bearer::BearerLayer;
    /// # let validator = tower_bearer::testing::TestIssuer::new().validator();
    /// let layer = BearerLayer::new(validator).skip_if(|req| req.uri.path() == "/health");
    /// # let _ = layer;
    /// ```
    pub fn skip_if<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).skip = Some(Arc::new(predicate));
        self
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service produced by [`BearerLayer`].
#[derive(Clone)]
pub struct Bearer<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for Bearer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("inner", &self.inner)
            .field("validator", &self.config.validator)
            .finish_non_exhaustive()
    }
}

impl<S> Bearer<S> {
    /// Shorthand for [`BearerLayer::new`].
    pub fn layer(validator: Validator) -> BearerLayer {
        BearerLayer::new(validator)
    }

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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let config = &*self.config;
        if let Some(skip) = &config.skip {
            let (parts, body) = req.into_parts();
            let skipped = skip(&parts);
            req = Request::from_parts(parts, body);
            if skipped {
                // Not authenticated, but the layer did run: `Option<…>` extractors see
                // `None` and guards answer 401, rather than reporting a missing layer.
                req.extensions_mut()
                    .insert(AuthContext(config.render.clone()));
                return ResponseFuture::inner(self.inner.call(req), false);
            }
        }

        let found = token::find(
            req.headers(),
            req.uri(),
            req.extensions().get::<FormToken>(),
            config.allow_query,
            config.validator.max_token_len(),
            config.dpop.is_some(),
        );
        let result = match found {
            Ok(Some((token, method, text))) => {
                let private = method == Method::Query;
                match dpop_proof(config, &req, &token, method) {
                    Err(rejection) => Err((rejection, private)),
                    Ok(proof) => {
                        let binding = proof.as_ref().map(|p| p.jkt.as_str());
                        let text = text.unwrap_or_else(|| token.as_str());
                        match config.validator.step(text, true, binding) {
                            Step::Done(Ok(auth)) => match record(config, proof.as_ref()) {
                                Ok(()) => {
                                    insert(
                                        &mut req,
                                        auth,
                                        token.with_render(config.render.clone()),
                                    );
                                    Ok(private)
                                }
                                Err(rejection) => Err((rejection, private)),
                            },
                            Step::Done(Err(err)) => Err((token_rejection(&token, err), private)),
                            #[cfg(feature = "remote")]
                            pending @ (Step::Wait(..) | Step::Introspect(..)) => {
                                // Off the hot path: keys must be fetched or the token
                                // introspected first. The ready service goes into the
                                // future; a fresh clone stays for the next call.
                                let clone = self.inner.clone();
                                let inner = std::mem::replace(&mut self.inner, clone);
                                let config = self.config.clone();
                                let future = slow_path(config, inner, req, token, proof, pending);
                                return ResponseFuture::waiting(Box::pin(future), private);
                            }
                        }
                    }
                }
            }
            Ok(None) if config.optional => {
                req.extensions_mut()
                    .insert(AuthContext(config.render.clone()));
                Ok(false)
            }
            Ok(None) => Err((Rejection::missing_credentials(), false)),
            Err(rejection) => Err((rejection, config.allow_query && has_query_token(&req))),
        };
        match result {
            Ok(private) => ResponseFuture::inner(self.inner.call(req), private),
            Err((rejection, private)) => {
                #[cfg(feature = "tracing")]
                crate::trace_rejection(&rejection, req.method(), req.uri());
                ResponseFuture::rejected(config.render.respond(&rejection), private)
            }
        }
    }
}

/// The verified DPoP proof for a `DPoP`-scheme token; `None` for a bearer token where bearer
/// tokens are accepted.
fn dpop_proof<B>(
    config: &Config,
    req: &Request<B>,
    token: &crate::BearerToken,
    method: Method,
) -> Result<Option<crate::dpop::Proof>, Rejection> {
    match (&config.dpop, method) {
        (Some(dpop), Method::Dpop) => {
            if !token::is_b64token(token.as_str()) {
                return Err(Rejection::invalid_request("malformed DPoP token").in_dpop_scheme());
            }
            dpop.verify(req.headers(), req.method(), req.uri(), token.as_str())
                .map(Some)
        }
        (Some(dpop), _) if dpop.mode() == crate::dpop::DpopMode::Required => {
            Err(dpop.required_rejection())
        }
        _ => Ok(None),
    }
}

/// After the token was accepted: remember the proof, refusing a replay.
fn record(config: &Config, proof: Option<&crate::dpop::Proof>) -> Result<(), Rejection> {
    match (&config.dpop, proof) {
        (Some(dpop), Some(proof)) => dpop.record(proof),
        _ => Ok(()),
    }
}

fn token_rejection(token: &crate::BearerToken, err: crate::TokenError) -> Rejection {
    let rejection = token::rejection_for(token, err);
    if token.is_dpop() {
        rejection.in_dpop_scheme()
    } else {
        rejection
    }
}

fn insert<B>(req: &mut Request<B>, auth: crate::Authenticated, token: crate::BearerToken) {
    let (claims, scopes) = auth.into_parts();
    let ext = req.extensions_mut();
    ext.insert(claims);
    ext.insert(scopes);
    ext.insert(token);
}

/// Wait for what `pending` needs (a key fetch, or an introspection call), then answer.
#[cfg(feature = "remote")]
async fn slow_path<S, ReqBody, ResBody>(
    config: Arc<Config>,
    inner: S,
    req: Request<ReqBody>,
    token: crate::BearerToken,
    proof: Option<crate::dpop::Proof>,
    pending: Step,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    let binding = proof.as_ref().map(|p| p.jkt.as_str());
    let pending = match pending {
        Step::Wait(remote, generation) => {
            let _ = remote.refresh(generation).await;
            config.validator.step(token.as_str(), false, binding)
        }
        other => other,
    };
    let result = match pending {
        Step::Done(result) => result,
        Step::Wait(remote, _) => Err(crate::TokenError::Unavailable {
            retry_after: remote.unavailable(),
        }),
        Step::Introspect(v) => v.introspect(token.as_str(), binding).await,
    };
    finish(config, inner, req, token, proof, result).await
}

/// The end of the slow path: insert and call, or reject.
#[cfg(feature = "remote")]
async fn finish<S, ReqBody, ResBody>(
    config: Arc<Config>,
    mut inner: S,
    mut req: Request<ReqBody>,
    token: crate::BearerToken,
    proof: Option<crate::dpop::Proof>,
    result: Result<crate::Authenticated, crate::TokenError>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    let rejection = match result {
        Ok(auth) => match record(&config, proof.as_ref()) {
            Ok(()) => {
                insert(&mut req, auth, token.with_render(config.render.clone()));
                std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
                return inner.call(req).await;
            }
            Err(rejection) => rejection,
        },
        Err(err) => token_rejection(&token, err),
    };
    #[cfg(feature = "tracing")]
    crate::trace_rejection(&rejection, req.method(), req.uri());
    Ok(config.render.respond(&rejection))
}

fn has_query_token<B>(req: &Request<B>) -> bool {
    req.uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("access_token=")))
}

type Waiting<B, E> = Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>>;

pin_project! {
    /// Response future of [`Bearer`] and [`RequireScope`](crate::RequireScope).
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
        private: bool,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
        // Only when keys must be fetched before the token can be checked.
        Waiting { future: Waiting<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    #[cfg(feature = "remote")]
    fn waiting(future: Waiting<B, E>, private: bool) -> Self {
        Self {
            kind: Kind::Waiting { future },
            private,
        }
    }

    pub(crate) fn inner_future(future: F) -> Self {
        Self::inner(future, false)
    }

    pub(crate) fn rejected_response(response: Response<B>) -> Self {
        Self::rejected(response, false)
    }

    fn inner(future: F, private: bool) -> Self {
        Self {
            kind: Kind::Inner { future },
            private,
        }
    }

    fn rejected(response: Response<B>, private: bool) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
            private,
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.kind.project() {
            KindProj::Inner { future } => ready!(future.poll(cx))?,
            KindProj::Waiting { future } => ready!(future.as_mut().poll(cx))?,
            KindProj::Rejected { response } => match response.take() {
                Some(r) => r,
                None => panic!("ResponseFuture polled after completion"),
            },
        };
        if *this.private {
            mark_private(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}

/// RFC 6750 §2.3: responses to a query-token request should not be cached publicly.
fn mark_private<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    let already = headers
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("private") || v.contains("no-store"));
    if !already {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    }
}
