//! OpenAPI security from the guards that enforce it (feature `utoipa`, utoipa 6).
//!
//! Declare each route's access once, use the same value for the guard and for the document:
//! [`SecuritySchemes`] says how clients get tokens (an `oauth2` scheme with the client
//! credentials and/or authorization code flows, and/or an `http` bearer scheme with
//! `bearerFormat: JWT`); [`OpenApiSecurity`] lists every operation with the
//! [`RequireScopeLayer`](crate::RequireScopeLayer), [`ScopeGuard`](crate::ScopeGuard) or
//! [`ScopeRequirement`](crate::ScopeRequirement) that guards it, and writes
//! `components.securitySchemes` and each operation's `security` into a utoipa
//! [`OpenApi`](utoipa::openapi::OpenApi) document.
//!
//! | declared | `security` of the operation |
//! |---|---|
//! | [`public`](OpenApiSecurity::public) | `[]` |
//! | [`authenticated`](OpenApiSecurity::authenticated) | `[{"oauth2": []}, {"bearer": []}]` |
//! | `all(a, b)` | `[{"oauth2": ["a", "b"]}, {"bearer": ["a", "b"]}]` |
//! | `any(a, b)` | `[{"oauth2": ["a"]}, {"oauth2": ["b"]}, {"bearer": ["a"]}, {"bearer": ["b"]}]` |
//! | `all(a, any(b, c))` | `[{"oauth2": ["a", "b"]}, {"oauth2": ["a", "c"]}, …]` |
//!
//! The objects of a `security` list are alternatives, the scopes within one object are all
//! required (OpenAPI 3.1). A nested requirement is expanded into that shape by
//! [`ScopeRequirement::alternatives`](crate::ScopeRequirement::alternatives), and refused
//! past [`MAX_ALTERNATIVES`](crate::scope::MAX_ALTERNATIVES). The `http` bearer scheme carries
//! the same scopes as role names, which OpenAPI 3.1 allows for non-OAuth schemes.
//!
//! ```
//! use axum::{routing::get, Router};
//! use http::Method;
//! use tower_bearer::openapi::{OpenApiSecurity, SecuritySchemes};
//! use tower_bearer::{BearerLayer, RequireScopeLayer};
//! use utoipa::openapi::path::{HttpMethod, OperationBuilder};
//! use utoipa::openapi::{Info, OpenApi, Paths, ResponseBuilder};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! // One declaration per route: the guard enforces it, the document describes it.
//! let users_read = RequireScopeLayer::all(["users:read"]);
//! let accounts = RequireScopeLayer::any(["accounts:read", "accounts:write"]);
//! let security = OpenApiSecurity::new(
//!     SecuritySchemes::new()
//!         .client_credentials("https://auth.example.com/token")
//!         .bearer_jwt(),
//! )
//! .public(Method::GET, "/health")
//! .route(Method::GET, "/users", &users_read)
//! .route(Method::GET, "/accounts", &accounts);
//!
//! let app: Router = Router::new()
//!     .route("/users", get(|| async { "users" }).route_layer(users_read))
//!     .route("/accounts", get(|| async { "accounts" }).route_layer(accounts))
//!     .layer(BearerLayer::new(validator))
//!     .route("/health", get(|| async { "ok" }));
//!
//! // Usually from `#[derive(utoipa::OpenApi)]`; built by hand here.
//! let op = || OperationBuilder::new().response("200", ResponseBuilder::new().description("OK"));
//! let mut paths = Paths::new();
//! for path in ["/health", "/users", "/accounts"] {
//!     paths.add_path_operation(path, vec![HttpMethod::Get], op());
//! }
//! let mut doc = OpenApi::new(Info::new("api", "1.0"), paths);
//! security.apply(&mut doc)?;
//!
//! let json = serde_json::to_value(&doc)?;
//! assert_eq!(json["paths"]["/health"]["get"]["security"], serde_json::json!([]));
//! assert_eq!(
//!     json["paths"]["/accounts"]["get"]["security"],
//!     serde_json::json!([
//!         {"oauth2": ["accounts:read"]}, {"oauth2": ["accounts:write"]},
//!         {"bearer": ["accounts:read"]}, {"bearer": ["accounts:write"]},
//!     ])
//! );
//! assert_eq!(
//!     json["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
//!     "https://auth.example.com/token"
//! );
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With `#[require_scope(...)]` handlers, [`guard_of!`](crate::guard_of) names the guard the
//! attribute generated: `.route(Method::GET, "/users", guard_of!(list_users))`.
//!
//! # What OpenAPI cannot say
//!
//! * Step-up authentication (RFC 9470: [`acr_values`](crate::ScopeGuard::acr_values),
//!   [`max_age`](crate::ScopeGuard::max_age)) has no place in a security requirement; only
//!   the scopes of such a guard are documented. Say it in the operation's description.
//! * A [`ScopeHierarchy`](crate::ScopeHierarchy) lets more tokens through than the documented
//!   scopes name (never fewer): the document lists what the guard names.
//! * A guard built with [`hide_scopes`](crate::ScopeGuard::hide_scopes) keeps its scopes out
//!   of its answers, not out of the document.
//! * OpenAPI has no scheme for DPoP (RFC 9449): with [`Dpop::required`](crate::dpop::Dpop::required),
//!   the `http` bearer scheme does not describe how tokens must be presented.

mod error;
mod routes;
mod schemes;

pub use error::OpenApiError;
pub use routes::{AsRequirement, OpenApiSecurity};
pub use schemes::SecuritySchemes;
