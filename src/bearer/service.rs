//! [`Bearer`]: the service that finds, checks and records the token of each request.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::context::AuthContext;
use super::future::{Mark, ResponseFuture};
use super::{BearerLayer, Config};
use crate::claims::Authenticated;
use crate::dpop::{DpopMode, Proof};
use crate::error::TokenError;
use crate::jwt::{Step, Validator};
use crate::metrics;
use crate::reject::{Reason, Rejection};
use crate::rules::binding::Presented;
use crate::source::{self, BearerToken, RequestView, Via};
use crate::store::Pending;

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
                return ResponseFuture::inner(self.inner.call(req), Mark::None);
            }
        }

        let timer = metrics::Timer::start();
        // The client certificate first: a certificate header nobody may send is refused
        // whatever else the request carries.
        let cert = match &config.certificates {
            None => None,
            Some(certificates) => match certificates.find(req.headers(), req.extensions()) {
                Ok(cert) => cert,
                Err(rejection) => {
                    timer.done();
                    return ResponseFuture::rejected(reject(config, &req, &rejection), Mark::None);
                }
            },
        };
        let max_len = config.validator.max_token_len();
        let found = if config.sources.needs_parts() {
            // A custom source reads the request's parts; the body stays aside meanwhile.
            let (parts, body) = req.into_parts();
            let found = config
                .sources
                .find_in_parts(&parts, max_len, config.dpop.is_some());
            req = Request::from_parts(parts, body);
            found
        } else {
            let view = RequestView {
                method: req.method(),
                headers: req.headers(),
                uri: req.uri(),
                extensions: req.extensions(),
            };
            config.sources.find(view, max_len, config.dpop.is_some())
        };
        let result = match found {
            Ok(Some(source::Found { token, via, vary })) => {
                let private = Mark::new(via.private(), vary);
                if via.ambient() {
                    if let Err(rejection) = config.sources.check_origin(req.method(), req.headers())
                    {
                        timer.done();
                        return ResponseFuture::rejected(
                            reject(config, &req, &rejection),
                            Mark::None,
                        );
                    }
                }
                match dpop_proof(config, &req, &token, via) {
                    Err(rejection) => Err((rejection, private)),
                    Ok(proof) => {
                        let binding = presented(&proof, &cert);
                        match config.validator.step(token.as_bytes(), true, binding) {
                            Step::Done(Ok(auth)) => match record(config, proof.as_ref()) {
                                Pending::Ready(Ok(())) => {
                                    insert(
                                        &mut req,
                                        auth,
                                        token.with_render(config.render.clone()),
                                    );
                                    Ok(private)
                                }
                                Pending::Ready(Err(rejection)) => Err((rejection, private)),
                                Pending::Later(recorded) => {
                                    // A shared replay store answers after a round trip.
                                    let clone = self.inner.clone();
                                    let inner = std::mem::replace(&mut self.inner, clone);
                                    let config = self.config.clone();
                                    let future = async move {
                                        let recorded = recorded.await;
                                        timer.done();
                                        call_or_reject(config, inner, req, token, auth, recorded)
                                            .await
                                    };
                                    return ResponseFuture::waiting(Box::pin(future), private);
                                }
                            },
                            Step::Done(Err(err)) => Err((token_rejection(&token, err), private)),
                            #[cfg(feature = "tokio")]
                            pending => {
                                // Off the hot path: keys must be fetched, the token
                                // introspected or the application's asynchronous checks run
                                // first. The ready service goes into the
                                // future; a fresh clone stays for the next call.
                                let clone = self.inner.clone();
                                let inner = std::mem::replace(&mut self.inner, clone);
                                let config = self.config.clone();
                                let future = async move {
                                    let binding = presented(&proof, &cert);
                                    let result = settle(&config, &token, binding, pending).await;
                                    finish(config, inner, req, token, proof, result, timer).await
                                };
                                return ResponseFuture::waiting(Box::pin(future), private);
                            }
                        }
                    }
                }
            }
            Ok(None) if config.optional => {
                metrics::unauthenticated();
                req.extensions_mut()
                    .insert(AuthContext(config.render.clone()));
                // A token in a cookie or named header would have changed this answer.
                Ok(config.vary.clone().map_or(Mark::None, Mark::VaryOnly))
            }
            Ok(None) => Err((Rejection::missing_credentials(), Mark::None)),
            // Rejections are `Cache-Control: no-store` whatever the source.
            Err(rejection) => Err((rejection, Mark::None)),
        };
        timer.done();
        match result {
            Ok(private) => ResponseFuture::inner(self.inner.call(req), private),
            Err((rejection, private)) => {
                ResponseFuture::rejected(reject(config, &req, &rejection), private)
            }
        }
    }
}

/// The verified DPoP proof for a `DPoP`-scheme token; `None` for a bearer token where bearer
/// tokens are accepted. Inlined: for a bearer token without DPoP it is two tests.
#[inline(always)]
fn dpop_proof<B>(
    config: &Config,
    req: &Request<B>,
    token: &BearerToken,
    via: Via,
) -> Result<Option<Proof>, Rejection> {
    match (&config.dpop, via) {
        (Some(dpop), Via::Dpop) => {
            if !source::grammar::is_b64token(token.as_bytes()) {
                return Err(Rejection::fixed(Reason::MalformedDpopToken).in_dpop_scheme());
            }
            // The client signed the URL it addressed.
            let uri = super::context::addressed_uri(req);
            dpop.verify(req.headers(), req.method(), uri, token.as_str())
                .map(Some)
        }
        (Some(dpop), _) if dpop.mode() == DpopMode::Required => Err(dpop.required_rejection()),
        _ => Ok(None),
    }
}

/// What the request presents besides its token: the verified proof's key, the certificate.
#[inline]
fn presented<'a>(
    proof: &'a Option<Proof>,
    cert: &'a Option<crate::mtls::ClientCertificate>,
) -> Presented<'a> {
    Presented {
        dpop: proof.as_ref().map(|p| p.jkt.as_str()),
        cert: cert.as_ref(),
    }
}

/// After the token was accepted: remember the proof, refusing a replay.
fn record(config: &Config, proof: Option<&Proof>) -> Pending<Result<(), Rejection>> {
    match (&config.dpop, proof) {
        (Some(dpop), Some(proof)) => dpop.record(proof),
        _ => Pending::Ready(Ok(())),
    }
}

/// The end of every path that waited: insert and call the inner service, or reject.
async fn call_or_reject<S, ReqBody, ResBody>(
    config: Arc<Config>,
    mut inner: S,
    mut req: Request<ReqBody>,
    token: BearerToken,
    auth: Authenticated,
    recorded: Result<(), Rejection>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    match recorded {
        Ok(()) => {
            insert(&mut req, auth, token.with_render(config.render.clone()));
            std::future::poll_fn(|cx| inner.poll_ready(cx)).await?;
            inner.call(req).await
        }
        Err(rejection) => Ok(reject(&config, &req, &rejection)),
    }
}

/// The rendered answer for `rejection` (and its trace). Every refusal of the layer ends here:
/// the outcome is `rejection.code()`, and `rejection.reason()` for the fixed ones, whose
/// answer is a clone of the one rendered first.
fn reject<B, ResBody: From<Bytes>>(
    config: &Config,
    req: &Request<B>,
    rejection: &Rejection,
) -> Response<ResBody> {
    #[cfg(feature = "tracing")]
    crate::reject::trace::rejection(rejection, req.method(), req.uri());
    metrics::rejected(rejection);
    config
        .render
        .respond_to(rejection, req.method(), req.headers())
}

fn token_rejection(token: &BearerToken, err: TokenError) -> Rejection {
    metrics::token_error(&err);
    let rejection = source::rejection_for(token, err);
    if token.is_dpop() {
        rejection.in_dpop_scheme()
    } else {
        rejection
    }
}

fn insert<B>(req: &mut Request<B>, auth: Authenticated, token: BearerToken) {
    metrics::accepted();
    let (claims, scopes) = auth.into_parts();
    let ext = req.extensions_mut();
    ext.insert(claims);
    ext.insert(scopes);
    ext.insert(token);
}

/// Wait for what `pending` needs (a key fetch, an introspection call, asynchronous checks):
/// the token's verdict.
#[cfg(feature = "tokio")]
async fn settle(
    config: &Config,
    token: &BearerToken,
    binding: Presented<'_>,
    pending: Step,
) -> Result<Authenticated, TokenError> {
    #[cfg(feature = "remote")]
    let pending = match pending {
        Step::Wait(remote, generation) => {
            let _ = remote.refresh(generation).await;
            config.validator.step(token.as_bytes(), false, binding)
        }
        other => other,
    };
    let _ = (config, token, binding);
    match pending {
        Step::Done(result) => result,
        #[cfg(feature = "remote")]
        Step::Wait(remote, _) => Err(TokenError::Unavailable {
            retry_after: remote.unavailable(),
        }),
        #[cfg(feature = "remote")]
        // Only a `b64token` (ASCII) is sent for introspection (`step_opaque` checked it).
        Step::Introspect(v) => match std::str::from_utf8(token.as_bytes()) {
            Ok(text) => v.introspect(text, binding).await,
            Err(_) => Err(TokenError::Malformed("not an RFC 6750 b64token")),
        },
        Step::Check(auth, v) => v.run_async_checks(auth).await,
    }
}

/// The end of the slow path: insert and call, or reject.
#[cfg(feature = "tokio")]
async fn finish<S, ReqBody, ResBody>(
    config: Arc<Config>,
    inner: S,
    req: Request<ReqBody>,
    token: BearerToken,
    proof: Option<Proof>,
    result: Result<Authenticated, TokenError>,
    timer: metrics::Timer,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    match result {
        Ok(auth) => {
            let recorded = record(&config, proof.as_ref()).resolve().await;
            timer.done();
            call_or_reject(config, inner, req, token, auth, recorded).await
        }
        Err(err) => {
            timer.done();
            Ok(reject(&config, &req, &token_rejection(&token, err)))
        }
    }
}
