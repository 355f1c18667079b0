//! tonic gRPC servers (feature `tonic`).
//!
//! [`BearerLayer`], [`RequireScopeLayer`](crate::RequireScopeLayer) and [`ScopeMapLayer`]
//! answer a gRPC call (`content-type: application/grpc`) in gRPC on any server: a
//! trailers-only response whose `grpc-status` is `UNAUTHENTICATED`, `PERMISSION_DENIED`,
//! `UNAVAILABLE` or `INTERNAL`, with the RFC 6750 challenge as `www-authenticate` metadata
//! (see [`ErrorCode::grpc_code`](crate::ErrorCode::grpc_code)). A handler reads
//! [`TokenClaims`](crate::TokenClaims) and [`Scopes`](crate::Scopes) from
//! `tonic::Request::extensions()`.
//!
//! tonic's response body cannot be built from bytes, which a rejection needs; [`GrpcLayer`]
//! puts the bearer layer and a [`ScopeMapLayer`] (requirements by `/pkg.Service/Method`) in
//! front of a tonic service or a whole server, and carries the service's body in
//! `axum_core::body::Body`, which tonic accepts.
//!
//! ```no_run
//! use tonic::transport::Server;
//! use tower_bearer::grpc::GrpcLayer;
//! use tower_bearer::{BearerLayer, ScopeMapLayer, ScopeRequirement};
//! # async fn run(validator: tower_bearer::Validator) -> Result<(), Box<dyn std::error::Error>> {
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let scopes = ScopeMapLayer::new()
//!     .path("/grpc.health.v1.Health/Check", ScopeRequirement::all(["health:read"]));
//! Server::builder()
//!     .layer(GrpcLayer::new(BearerLayer::new(validator), scopes)) // every service
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! For one service only, wrap it: `.add_service(layer.layer(service))` (the wrapped service
//! keeps its gRPC name).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum_core::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::{Bearer, BearerLayer};
use crate::guard::scope_map::{ScopeMap, ScopeMapLayer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// [`BearerLayer`] and a [`ScopeMapLayer`] for a tonic server or service; see the
/// [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct GrpcLayer {
    bearer: BearerLayer,
    scopes: ScopeMapLayer,
}

impl GrpcLayer {
    /// Authenticate every call with `bearer`, then apply `scopes` by method path.
    pub fn new(bearer: BearerLayer, scopes: ScopeMapLayer) -> Self {
        Self { bearer, scopes }
    }
}

/// The service produced by [`GrpcLayer`].
pub type Grpc<S> = Bearer<ScopeMap<AnyBody<S>>>;

impl<S> Layer<S> for GrpcLayer {
    type Service = Grpc<S>;

    fn layer(&self, inner: S) -> Self::Service {
        self.bearer.layer(self.scopes.layer(AnyBody { inner }))
    }
}

/// Carries the inner service's response body in `axum_core::body::Body`, which rejections
/// can be written into.
#[derive(Clone, Debug)]
pub struct AnyBody<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AnyBody<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = AnyBodyFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        AnyBodyFuture {
            future: self.inner.call(req),
        }
    }
}

pin_project! {
    /// Response future of [`AnyBody`].
    pub struct AnyBodyFuture<F> {
        #[pin]
        future: F,
    }
}

impl<F> fmt::Debug for AnyBodyFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyBodyFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for AnyBodyFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = ready!(self.project().future.poll(cx))?;
        Poll::Ready(Ok(response.map(Body::new)))
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for AnyBody<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for ScopeMap<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Bearer<S> {
    const NAME: &'static str = S::NAME;
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for crate::RequireScope<S> {
    const NAME: &'static str = S::NAME;
}
