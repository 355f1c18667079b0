//! OAuth 2.0 resource server middleware for [tower](https://docs.rs/tower): validate bearer JWT access tokens,
//! decode granted scopes, and guard routes with RFC 6750 `insufficient_scope` answers.
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_bearer::{BearerLayer, RequireScopeLayer, Scopes, Validator, Algorithm};
//!
//! # fn main() -> Result<(), tower_bearer::ConfigError> {
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .ec_pem(tower_bearer::testing::keys::P256_PUBLIC)
//!     .build()?;
//!
//! let app: Router = Router::new()
//!     .route("/users", get(|| async { "alice, bob" })
//!         .route_layer(RequireScopeLayer::all(["users:read"])))
//!     .route("/me", get(|scopes: Scopes| async move { format!("{scopes:?}") }))
//!     .layer(BearerLayer::new(validator));
//! # let _ = app; Ok(()) }
//! ```
//!
//! # What a client sees
//!
//! | situation | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no token, or another scheme | 401 | `Bearer` (+ `realm`) |
//! | malformed request (`Bearer` alone, bad characters, two headers, two methods) | 400 | `error="invalid_request"` |
//! | bad signature, expired, wrong `iss`/`aud`/`typ`, unknown key, too long | 401 | `error="invalid_token"` |
//! | scope missing | 403 | `error="insufficient_scope", scope="…"` |
//! | DPoP proof missing, invalid or replayed ([`dpop`]) | 401 | `DPoP error="invalid_dpop_proof", algs="…"` |
//! | keys not loaded yet, introspection endpoint down | 503 + `Retry-After` | none |
//! | guard without the layer | 500 | none |
//!
//! Bodies are JSON (`{"error": …, "error_description": …}`) unless another
//! [`ErrorFormat`] is chosen. Descriptions never contain the token or key material.
//!
//! # Crypto backend
//!
//! Signatures are verified with aws-lc-rs (feature `aws-lc-rs`, the default) or the pure-Rust
//! RustCrypto crates (feature `rust-crypto`; RSA and ECDSA are 7-11x slower). When both are
//! enabled, aws-lc-rs is used. This crate calls the chosen backend's verifier directly and
//! never relies on jsonwebtoken's process-wide default, so no combination of features in your
//! application makes it panic. Enabling a backend here enables the matching jsonwebtoken
//! feature; if your own code also calls `jsonwebtoken::decode` and your build ends up with
//! both jsonwebtoken backends, call
//! `jsonwebtoken::crypto::CryptoProvider::install_default` once at start-up.
//!
//! # Features
//!
//! * `aws-lc-rs` (default), `rust-crypto`: the crypto backend.
//! * `axum`: extractors ([`extract`]) on `axum-core`; the `axum` crate itself (default
//!   features off) only for `OriginalUri`, the path a client addressed under `Router::nest`.
//! * `macros`: `#[require_scope(...)]` for axum handlers; `guard_of!(handler)` names the
//!   guard it generated (to document the route, feature `utoipa`).
//! * `remote`: keys from a JWKS URL or issuer discovery, cached ([`remote`]), and opaque
//!   tokens through RFC 7662 introspection ([`introspect`]); needs tokio.
//! * `tokio`: asynchronous claim checks with a deadline
//!   ([`ValidatorBuilder::check_async`]); `remote` turns it on.
//! * `testing`: [`testing::TestIssuer`] mints tokens for your tests.
//! * `metrics`: counters and histograms through the `metrics` facade ([`metrics`]).
//! * `tonic`: [`grpc::GrpcLayer`] for tonic servers.
//! * `redis`: shared state on Redis or Valkey ([`store::redis`]).
//! * `utoipa`: OpenAPI security schemes and each operation's `security`, from the same guards
//!   that enforce them ([`openapi`]; utoipa 6).
//! * `tracing`: one `debug` event per rejection (`warn` for server-side problems).
//!
//! # Layout
//!
//! One module per capability: [`jwt`] (the [`Validator`]), [`keys`] (with [`keys::remote`]),
//! [`claims`], [`scope`], [`reject`] (rejections and their rendering), [`bearer`] (the
//! layer), [`dpop`], [`mtls`], [`introspect`], [`metadata`], [`cache`], and [`store`], the seams for
//! state that instances share. Where a token is found, the claim rules and the guards are
//! internal modules whose public items are re-exported here; [`mcp`] holds the guard that
//! gives each tool of an MCP server its own scopes.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("tower-bearer needs a crypto backend: enable the `aws-lc-rs` (default) or `rust-crypto` feature");

pub mod bearer;
pub mod cache;
pub mod claims;
pub mod dpop;
pub mod error;
#[cfg(feature = "tonic")]
pub mod grpc;
mod guard;
#[cfg(feature = "remote")]
pub mod introspect;
pub mod jwt;
pub mod keys;
pub mod metadata;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(not(feature = "metrics"))]
#[allow(dead_code, unreachable_pub)]
mod metrics;
pub mod mtls;
#[cfg(feature = "utoipa")]
pub mod openapi;
pub mod reject;
mod rules;
pub mod scope;
mod source;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use bearer::{Bearer, BearerLayer};
pub use claims::{Authenticated, ClaimsError, TokenClaims};
pub use error::{CheckError, ConfigError, TokenError};
#[cfg(feature = "axum")]
pub use guard::extract;
pub use guard::mcp;
pub use guard::mcp::{McpScopes, McpScopesLayer};
pub use guard::require_scope;
pub use guard::require_scope::{RequireScope, RequireScopeLayer, ScopeGuard};
pub use guard::scope_map;
pub use guard::scope_map::{ScopeMap, ScopeMapLayer};
/// The validation policy under its old path; see [`jwt`].
#[doc(hidden)]
pub use jwt as validator;
pub use jwt::{TypPolicy, Validator, ValidatorBuilder};
#[cfg(feature = "remote")]
pub use keys::remote;
pub use keys::{Algorithm, Key};
pub use reject::{ErrorCode, ErrorFormat, Rejection};
pub use scope::{Scope, ScopeClaims, ScopeHierarchy, ScopeRequirement, Scopes};
pub use source::form;
pub use source::form::FormTokenLayer;
pub use source::{BearerToken, TokenSources};

#[cfg(feature = "macros")]
pub use tower_bearer_macros::{guard_of, require_scope};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Entry points for the fuzz targets in `fuzz/`: the crate's parsers of untrusted input.
/// Not part of the public API.
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
