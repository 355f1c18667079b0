//! axum extractors (feature `axum`, built on `axum-core` only).
//!
//! | extractor | gives | without a token (optional mode) |
//! |---|---|---|
//! | [`TokenClaims`] | registered claims + raw JSON | 401 |
//! | [`Claims<T>`] | your own `Deserialize` type | 401 |
//! | [`Scopes`] | granted scopes | 401 |
//! | [`BearerToken`] | the raw token (redacted `Debug`) | 401 |
//! | [`Authorized<M>`] | the scopes, after checking `M`'s requirement | 401 with `scope` |
//! | `Option<…>` of the first four | `None` | `None` |
//!
//! Each answers `500 server_error` when [`BearerLayer`](crate::BearerLayer) is missing: that
//! is a bug in the service, not in the request.
//!
//! ```
//! use tower_bearer::extract::{Authorized, Claims};
//! use tower_bearer::scope_marker;
//! use tower_bearer::ScopeRequirement;
//!
//! scope_marker!(pub UsersRead => ScopeRequirement::all(["users:read"]));
//!
//! #[derive(serde::Deserialize)]
//! struct MyClaims { sub: String }
//!
//! async fn list_users(_: Authorized<UsersRead>, Claims(c): Claims<MyClaims>) -> String {
//!     format!("hello {}", c.sub)
//! }
//! # let _: axum::routing::MethodRouter = axum::routing::get(list_users);
//! ```

use std::fmt;
use std::future::{ready, Future};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::require_scope::ScopeGuard;
use crate::bearer::context::context;
use crate::claims::{ClaimsError, TokenClaims};
use crate::reject::render::Render;
use crate::reject::{ErrorCode, Rejection};
use crate::scope::Scopes;
use crate::source::BearerToken;

/// Why an extractor refused the request. Renders like the layer's own rejections (same
/// realm and body format).
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRejection {
    rejection: Rejection,
    render: Arc<Render>,
}

impl AuthRejection {
    /// The status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        self.rejection.status()
    }

    /// The rejection (code, description, scope).
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// The description as plain text.
    pub fn body_text(&self) -> String {
        self.rejection.description().to_owned()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.rejection.code(),
            self.rejection.description()
        )
    }
}

impl std::error::Error for AuthRejection {}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        crate::metrics::guard_rejected(&self.rejection);
        self.render.respond(&self.rejection)
    }
}

/// `Ok(None)`: the layer ran and the request is unauthenticated.
fn lookup<'a, T: Clone + Send + Sync + 'static>(
    parts: &'a Parts,
    what: &'static str,
) -> Result<(Option<T>, &'a Arc<Render>), AuthRejection> {
    match context(&parts.extensions) {
        Some(render) => Ok((parts.extensions.get::<T>().cloned(), render)),
        None => Err(AuthRejection {
            rejection: Rejection::missing_layer(what),
            render: Arc::default(),
        }),
    }
}

fn required<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
    what: &'static str,
) -> Result<T, AuthRejection> {
    let (value, render) = lookup::<T>(parts, what)?;
    value.ok_or_else(|| AuthRejection {
        rejection: Rejection::missing_credentials(),
        render: render.clone(),
    })
}

macro_rules! extension_extractor {
    ($ty:ty, $name:literal) => {
        impl<S: Send + Sync> FromRequestParts<S> for $ty {
            type Rejection = AuthRejection;

            fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
                ready(required::<$ty>(parts, $name))
            }
        }

        impl<S: Send + Sync> OptionalFromRequestParts<S> for $ty {
            type Rejection = AuthRejection;

            fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
                ready(lookup::<$ty>(parts, $name).map(|(v, _)| v))
            }
        }
    };
}

extension_extractor!(TokenClaims, "the TokenClaims extractor");
extension_extractor!(Scopes, "the Scopes extractor");
extension_extractor!(BearerToken, "the BearerToken extractor");

/// Types [`Claims`] can produce: [`TokenClaims`] itself (no parsing), or any
/// `DeserializeOwned` type (parsed from the claims JSON).
pub trait FromClaims: Sized {
    /// Build from the validated claims.
    ///
    /// # Errors
    /// If the claims do not fit.
    fn from_claims(claims: &TokenClaims) -> Result<Self, ClaimsError>;
}

impl FromClaims for TokenClaims {
    fn from_claims(claims: &TokenClaims) -> Result<Self, ClaimsError> {
        Ok(claims.clone())
    }
}

impl<T: DeserializeOwned> FromClaims for T {
    fn from_claims(claims: &TokenClaims) -> Result<Self, ClaimsError> {
        claims.deserialize()
    }
}

/// The token's claims as your own type: `Claims(c): Claims<MyClaims>`. A token whose claims
/// do not fit `T` is answered `401 invalid_token`.
#[derive(Debug, Clone)]
pub struct Claims<T = TokenClaims>(pub T);

fn claims_as<T: FromClaims>(parts: &Parts) -> Result<Option<Claims<T>>, AuthRejection> {
    let (claims, render) = lookup::<TokenClaims>(parts, "the Claims extractor")?;
    match claims {
        None => Ok(None),
        Some(c) => T::from_claims(&c)
            .map(|t| Some(Claims(t)))
            .map_err(|_| AuthRejection {
                rejection: Rejection::new(
                    ErrorCode::InvalidToken,
                    "token claims do not have the shape this route expects",
                ),
                render: render.clone(),
            }),
    }
}

impl<S: Send + Sync, T: FromClaims + Send> FromRequestParts<S> for Claims<T> {
    type Rejection = AuthRejection;

    fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let result = claims_as::<T>(parts).and_then(|c| {
            c.ok_or_else(|| AuthRejection {
                rejection: Rejection::missing_credentials(),
                render: context(&parts.extensions).cloned().unwrap_or_default(),
            })
        });
        ready(result)
    }
}

impl<S: Send + Sync, T: FromClaims + Send> OptionalFromRequestParts<S> for Claims<T> {
    type Rejection = AuthRejection;

    fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
        ready(claims_as::<T>(parts))
    }
}

/// A type that names a scope requirement, for [`Authorized`]. Declare one with
/// [`scope_marker!`](crate::scope_marker), or let `#[require_scope]` generate it.
pub trait ScopeMarker: Send + Sync + 'static {
    /// The guard, built once.
    fn guard() -> &'static ScopeGuard;
}

/// Declare a [`ScopeMarker`] in one line.
///
/// ```
/// use tower_bearer::{scope_marker, ScopeRequirement};
///
/// scope_marker!(pub UsersRead => ScopeRequirement::all(["users:read"]));
/// scope_marker!(AccountsAny => ScopeRequirement::any(["accounts:read", "accounts:write"]));
/// // A guard that keeps the required scopes out of its answers:
/// scope_marker!(Quiet => tower_bearer::ScopeGuard::new(ScopeRequirement::all(["admin"])).hide_scopes());
/// ```
#[macro_export]
macro_rules! scope_marker {
    ($vis:vis $name:ident => $requirement:expr) => {
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::extract::ScopeMarker for $name {
            fn guard() -> &'static $crate::ScopeGuard {
                static GUARD: ::std::sync::OnceLock<$crate::ScopeGuard> =
                    ::std::sync::OnceLock::new();
                GUARD.get_or_init(|| $crate::ScopeGuard::from($requirement))
            }
        }
    };
}

/// Extracts the [`Scopes`] only if they meet `M`'s requirement; otherwise answers exactly as
/// [`RequireScopeLayer`](crate::RequireScopeLayer) would.
pub struct Authorized<M> {
    scopes: Scopes,
    marker: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for Authorized<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authorized").field(&self.scopes).finish()
    }
}

impl<M> Deref for Authorized<M> {
    type Target = Scopes;

    fn deref(&self) -> &Scopes {
        &self.scopes
    }
}

impl<M> Authorized<M> {
    /// The granted scopes.
    pub fn into_scopes(self) -> Scopes {
        self.scopes
    }
}

impl<S: Send + Sync, M: ScopeMarker> FromRequestParts<S> for Authorized<M> {
    type Rejection = AuthRejection;

    fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let result = match M::guard().check_rejection(&parts.extensions) {
            Ok(()) => match parts.extensions.get::<Scopes>() {
                Some(scopes) => Ok(Authorized {
                    scopes: scopes.clone(),
                    marker: PhantomData,
                }),
                None => Err(AuthRejection {
                    rejection: Rejection::missing_layer("Authorized"),
                    render: Arc::default(),
                }),
            },
            Err((rejection, render)) => Err(AuthRejection { rejection, render }),
        };
        ready(result)
    }
}
