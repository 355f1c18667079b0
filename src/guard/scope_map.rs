//! [`ScopeMapLayer`]: scope requirements by request path, for a server whose routes are not
//! each wrapped in a guard, a tonic gRPC server above all (`/pkg.Service/Method`).
//!
//! | situation | answer |
//! |---|---|
//! | the path's requirement is met | the inner service runs |
//! | scopes missing it | `403 insufficient_scope` naming the path's scopes (gRPC: `PERMISSION_DENIED`) |
//! | a path with no rule, by default | `403 access_denied` (fail closed; see [`ScopeMapLayer::otherwise`]) |
//! | unauthenticated (optional mode) | `401` |
//! | no `BearerLayer` in front | `500 server_error` |
//!
//! ```
//! use tower_bearer::{BearerLayer, ScopeMapLayer, ScopeRequirement};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//! let scopes = ScopeMapLayer::new()
//!     .path("/grpc.health.v1.Health/Check", ScopeRequirement::all(["health:read"]))
//!     .prefix("/inventory.v1.Stock/", ScopeRequirement::all(["stock:read"]))
//!     .path("/inventory.v1.Stock/Update", ScopeRequirement::all(["stock:write"]));
//! let stack = tower::ServiceBuilder::new()
//!     .layer(BearerLayer::new(validator))
//!     .layer(scopes);
//! # let _ = stack;
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::require_scope::reject;
use super::require_scope::ScopeGuard;
use crate::bearer::context::{addressed_uri, context};
use crate::bearer::future::ResponseFuture;
use crate::error::ConfigError;
use crate::reject::render::Render;
use crate::reject::{ErrorCode, Rejection};
use crate::scope::Scopes;

/// What paths without a rule get.
#[derive(Clone, Debug)]
enum Otherwise {
    Deny,
    Authenticated,
    Guard(ScopeGuard),
}

#[derive(Clone, Debug)]
struct Map {
    /// Sorted by path, for a binary search.
    exact: Vec<(Box<str>, ScopeGuard)>,
    /// Longest first, so the most specific prefix wins.
    prefixes: Vec<(Box<str>, ScopeGuard)>,
    otherwise: Otherwise,
}

/// Scope requirements by request path; see the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct ScopeMapLayer {
    map: Arc<Map>,
}

impl Default for ScopeMapLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ScopeMapLayer {
    /// No rules yet; paths without a rule are refused (`403 access_denied`).
    pub fn new() -> Self {
        Self {
            map: Arc::new(Map {
                exact: Vec::new(),
                prefixes: Vec::new(),
                otherwise: Otherwise::Deny,
            }),
        }
    }

    /// Requests for exactly `path` need `requirement`. An exact rule wins over every prefix.
    ///
    /// # Panics
    /// If `path` does not start with `/` or already has a rule; see [`try_path`](Self::try_path).
    #[track_caller]
    pub fn path(self, path: impl AsRef<str>, requirement: impl Into<ScopeGuard>) -> Self {
        self.try_path(path, requirement)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Requests for exactly `path` need `requirement`.
    ///
    /// # Errors
    /// If `path` does not start with `/` or already has a rule.
    pub fn try_path(
        mut self,
        path: impl AsRef<str>,
        requirement: impl Into<ScopeGuard>,
    ) -> Result<Self, ConfigError> {
        let path = checked(path.as_ref(), "path")?;
        let map = Arc::make_mut(&mut self.map);
        match map.exact.binary_search_by(|(p, _)| (**p).cmp(path)) {
            Ok(_) => return Err(twice("path", path)),
            Err(at) => map.exact.insert(at, (path.into(), requirement.into())),
        }
        Ok(self)
    }

    /// Requests whose path starts with `prefix` (`/pkg.Service/`: every method of a gRPC
    /// service) need `requirement`, unless an exact rule or a longer prefix applies. A prefix
    /// ends with `/`, so that it covers whole path segments only.
    ///
    /// # Panics
    /// If `prefix` does not start with `/` or already has a rule; see
    /// [`try_prefix`](Self::try_prefix).
    #[track_caller]
    pub fn prefix(self, prefix: impl AsRef<str>, requirement: impl Into<ScopeGuard>) -> Self {
        self.try_prefix(prefix, requirement)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Requests whose path starts with `prefix` need `requirement`.
    ///
    /// # Errors
    /// If `prefix` does not start and end with `/`, or already has a rule.
    pub fn try_prefix(
        mut self,
        prefix: impl AsRef<str>,
        requirement: impl Into<ScopeGuard>,
    ) -> Result<Self, ConfigError> {
        let prefix = checked(prefix.as_ref(), "prefix")?;
        if !prefix.ends_with('/') {
            // `/pkg.Stock` would also cover `/pkg.StockAdmin/Delete`.
            return Err(ConfigError::Invalid(
                format!("scope map prefix {prefix:?} must end with '/' (\"/pkg.Service/\": every method of one service)").into(),
            ));
        }
        let map = Arc::make_mut(&mut self.map);
        if map.prefixes.iter().any(|(p, _)| &**p == prefix) {
            return Err(twice("prefix", prefix));
        }
        map.prefixes.push((prefix.into(), requirement.into()));
        map.prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(self)
    }

    /// Paths without a rule need `requirement` (instead of being refused).
    pub fn otherwise(mut self, requirement: impl Into<ScopeGuard>) -> Self {
        Arc::make_mut(&mut self.map).otherwise = Otherwise::Guard(requirement.into());
        self
    }

    /// Paths without a rule need a valid token and no scope (instead of being refused).
    pub fn otherwise_authenticated(mut self) -> Self {
        Arc::make_mut(&mut self.map).otherwise = Otherwise::Authenticated;
        self
    }

    /// Every guard of the map, e.g. to list their scopes in RFC 9728 metadata.
    pub fn guards(&self) -> impl Iterator<Item = &ScopeGuard> {
        let otherwise = match &self.map.otherwise {
            Otherwise::Guard(g) => Some(g),
            _ => None,
        };
        self.map
            .exact
            .iter()
            .chain(&self.map.prefixes)
            .map(|(_, g)| g)
            .chain(otherwise)
    }
}

fn checked<'a>(path: &'a str, what: &str) -> Result<&'a str, ConfigError> {
    if path.starts_with('/') {
        Ok(path)
    } else {
        Err(ConfigError::Invalid(
            format!(
                "scope map {what} {path:?} must start with '/' (gRPC: \"/pkg.Service/Method\")"
            )
            .into(),
        ))
    }
}

fn twice(what: &str, path: &str) -> ConfigError {
    ConfigError::Invalid(format!("scope map {what} {path:?} has two rules").into())
}

impl Map {
    fn check(&self, path: &str, ext: &http::Extensions) -> Result<(), (Rejection, Arc<Render>)> {
        if let Ok(at) = self.exact.binary_search_by(|(p, _)| (**p).cmp(path)) {
            return self.exact[at].1.check_rejection(ext);
        }
        if let Some((_, guard)) = self.prefixes.iter().find(|(p, _)| path.starts_with(&**p)) {
            return guard.check_rejection(ext);
        }
        let deny = match &self.otherwise {
            Otherwise::Guard(guard) => return guard.check_rejection(ext),
            Otherwise::Deny => true,
            Otherwise::Authenticated => false,
        };
        let Some(render) = context(ext) else {
            return Err((Rejection::missing_layer("ScopeMap"), Arc::default()));
        };
        match ext.get::<Scopes>() {
            None => Err((Rejection::missing_credentials(), render.clone())),
            Some(_) if deny => Err((
                Rejection::new(ErrorCode::AccessDenied, "no access rule for this path"),
                render.clone(),
            )),
            Some(_) => Ok(()),
        }
    }
}

impl<S> Layer<S> for ScopeMapLayer {
    type Service = ScopeMap<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ScopeMap {
            inner,
            map: self.map.clone(),
        }
    }
}

/// The service produced by [`ScopeMapLayer`].
#[derive(Clone)]
pub struct ScopeMap<S> {
    inner: S,
    map: Arc<Map>,
}

impl<S: fmt::Debug> fmt::Debug for ScopeMap<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeMap")
            .field("inner", &self.inner)
            .field("map", &self.map)
            .finish()
    }
}

impl<S> ScopeMap<S> {
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ScopeMap<S>
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
        // Rules name the path the client addressed (under `Router::nest`, too).
        match self.map.check(addressed_uri(&req).path(), req.extensions()) {
            Ok(()) => ResponseFuture::inner_future(self.inner.call(req)),
            Err((rejection, render)) => {
                ResponseFuture::rejected_response(reject(&req, &rejection, &render))
            }
        }
    }
}
