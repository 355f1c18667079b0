//! Tokens in a form body (RFC 6750 §2.2), opt-in.
//!
//! [`FormTokenLayer`] buffers the body of `application/x-www-form-urlencoded` requests other
//! than `GET`/`HEAD` (up to a size cap), and hands an `access_token` field to
//! [`BearerLayer`](crate::BearerLayer), which must sit *inside* it. The body is passed on
//! unchanged. A request that also carries a token in the `Authorization` header is answered
//! `400 invalid_request`.
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower_bearer::{BearerLayer, FormTokenLayer};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//! let stack = ServiceBuilder::new()
//!     .layer(FormTokenLayer::new())      // outer: finds the form token
//!     .layer(BearerLayer::new(validator)); // inner: validates it
//! # let _ = stack;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, Limited};
use tower_layer::Layer;
use tower_service::Service;

use super::grammar::percent_decode;
use crate::reject::render::Render;
use crate::reject::Rejection;

/// The token of a form body, put into the extensions by `FormTokenLayer`.
#[derive(Clone)]
pub(crate) struct FormToken(pub(crate) String);

/// The default cap on a buffered form body.
pub const DEFAULT_FORM_LIMIT: usize = 64 * 1024;

/// Finds `access_token` in form bodies; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct FormTokenLayer {
    limit: usize,
}

impl Default for FormTokenLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl FormTokenLayer {
    /// With the default 64 KiB body cap.
    pub const fn new() -> Self {
        Self {
            limit: DEFAULT_FORM_LIMIT,
        }
    }

    /// The largest form body buffered; larger ones are answered `400 invalid_request`.
    pub const fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }
}

impl<S> Layer<S> for FormTokenLayer {
    type Service = FormTokenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FormTokenService {
            inner,
            limit: self.limit,
        }
    }
}

/// The service produced by [`FormTokenLayer`].
#[derive(Debug, Clone)]
pub struct FormTokenService<S> {
    inner: S,
    limit: usize,
}

impl<S> FormTokenService<S> {
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

/// The response future of [`FormTokenService`].
pub type FormFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

fn is_form<B>(req: &Request<B>) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return false;
    }
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// `Ok(None)`: no token field. `Err`: more than one.
fn token_field(body: &[u8]) -> Result<Option<String>, ()> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(None);
    };
    let mut found = None;
    for pair in text.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == "access_token" {
            if found.is_some() {
                return Err(());
            }
            found = Some(percent_decode(value).ok_or(())?);
        }
    }
    Ok(found)
}

impl<S, B, ResBody> Service<Request<B>> for FormTokenService<S>
where
    S: Service<Request<Either<Full<Bytes>, B>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = FormFuture<Response<ResBody>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if !is_form(&req) {
            return Box::pin(self.inner.call(req.map(Either::Right)));
        }
        // The ready service goes into the future; a fresh clone stays for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limit = self.limit;
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let reject = |description: &'static str| {
                Render::default().respond(&Rejection::invalid_request(description))
            };
            let bytes = match Limited::new(body, limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return Ok(reject("form body too large or unreadable")),
            };
            match token_field(&bytes) {
                Ok(Some(token)) => {
                    parts.extensions.insert(FormToken(token));
                }
                Ok(None) => {}
                Err(()) => return Ok(reject("malformed or repeated access_token field")),
            }
            inner
                .call(Request::from_parts(parts, Either::Left(Full::new(bytes))))
                .await
        })
    }
}
