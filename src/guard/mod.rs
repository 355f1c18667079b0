//! Guards: what a route needs of an authenticated request. [`RequireScope`](require_scope)
//! as a layer and, with feature `axum`, as extractors.

#[cfg(feature = "axum")]
pub mod extract;
pub mod require_scope;
