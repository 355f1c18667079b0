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
//! * `axum`: extractors ([`extract`]), on `axum-core` only.
//! * `macros`: `#[require_scope(...)]` for axum handlers.
//! * `remote`: keys from a JWKS URL or issuer discovery, cached ([`remote`]), and opaque
//!   tokens through RFC 7662 introspection ([`introspect`]); needs tokio.
//! * `testing`: [`testing::TestIssuer`] mints tokens for your tests.
//! * `tracing`: one `debug` event per rejection (`warn` for server-side problems).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!("tower-bearer needs a crypto backend: enable the `aws-lc-rs` (default) or `rust-crypto` feature");

pub mod bearer;
pub mod cache;
pub mod claims;
pub mod dpop;
pub mod error;
#[cfg(feature = "axum")]
pub mod extract;
pub mod form;
mod header;
#[cfg(feature = "remote")]
pub mod introspect;
pub mod keys;
pub mod metadata;
#[cfg(feature = "remote")]
pub mod remote;
pub mod require_scope;
pub mod scope;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod token;
pub mod validator;

pub use bearer::{Bearer, BearerLayer};
pub use claims::{ClaimsError, TokenClaims};
pub use error::{ConfigError, ErrorCode, ErrorFormat, Rejection, TokenError};
pub use form::FormTokenLayer;
pub use keys::{Algorithm, Key};
pub use require_scope::{RequireScope, RequireScopeLayer, ScopeGuard};
pub use scope::{Scope, ScopeClaims, ScopeHierarchy, ScopeRequirement, Scopes};
pub use token::BearerToken;
pub use validator::{Authenticated, TypPolicy, Validator, ValidatorBuilder};

#[cfg(feature = "macros")]
pub use tower_bearer_macros::require_scope;

mod backend {
    use jsonwebtoken::crypto::CryptoProvider;

    /// The backend this crate verifies with, independent of jsonwebtoken's process default.
    #[cfg_attr(all(feature = "aws-lc-rs", not(feature = "testing")), allow(dead_code))]
    pub(crate) fn provider() -> &'static CryptoProvider {
        #[cfg(feature = "aws-lc-rs")]
        {
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
        }
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
        {
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
        }
    }
}

#[cfg(feature = "tracing")]
fn trace_rejection(rejection: &Rejection, method: &http::Method, uri: &http::Uri) {
    // The path only: a query string may carry the token.
    let path = uri.path();
    match rejection.code() {
        ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable => tracing::warn!(
            error = rejection.code().as_str(),
            reason = rejection.description(),
            %method,
            path,
            "bearer request rejected"
        ),
        _ => tracing::debug!(
            error = rejection.code().as_str(),
            reason = rejection.description(),
            %method,
            path,
            "bearer request rejected"
        ),
    }
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Entry points for the fuzz targets in `fuzz/`: the crate's parsers of untrusted input.
/// Not part of the public API.
#[doc(hidden)]
pub mod __fuzz {
    use http::{HeaderMap, Uri};

    /// Find a bearer token in request headers and URI, as the layer does.
    pub fn find_token(headers: &HeaderMap, uri: &Uri, allow_query: bool) -> Option<String> {
        match crate::token::find(headers, uri, None, allow_query, 8192, false) {
            Ok(Some((token, _, text))) => {
                let text = text.map(str::to_owned);
                let owned = token.as_str().to_owned();
                // The borrowed text and the token's own must agree.
                assert!(text.is_none_or(|t| t == owned));
                Some(owned)
            }
            _ => None,
        }
    }

    /// The claims fast path against serde_json: `Err` with both answers when the fast path
    /// answered differently (it may only decline, or agree).
    pub fn claims_fast_path_agrees(json: &str) -> Result<(), String> {
        let Some(fast) = crate::claims::parse_fast(json) else {
            return Ok(());
        };
        let slow = serde_json::from_str::<crate::claims::Registered>(json).map(|mut r| {
            r.rebase(json);
            r.snapshot(json)
        });
        match slow {
            Ok(slow) if slow == fast.snapshot(json) => Ok(()),
            other => Err(format!("fast: {}, serde: {other:?}", fast.snapshot(json))),
        }
    }

    /// Whether the claims fast path answered (rather than declined).
    pub fn claims_fast_path_answers(json: &str) -> bool {
        crate::claims::parse_fast(json).is_some()
    }

    /// Decode granted scopes from a claims JSON document, with the given delimiter.
    pub fn scopes_from_claims(json: &str, delimiter: char) -> Vec<String> {
        let Ok(mut registered) = serde_json::from_str::<crate::claims::Registered>(json) else {
            return Vec::new();
        };
        if !registered.rebase(json) {
            return Vec::new();
        }
        let source = crate::ScopeClaims::standard().delimiter(delimiter);
        match source.extract(&registered, json, None) {
            Some(scopes) => crate::Scopes::from_grant(std::sync::Arc::new(crate::claims::Grant {
                registered,
                json: json.to_owned(),
                scopes,
            }))
            .iter()
            .map(str::to_owned)
            .collect(),
            None => Vec::new(),
        }
    }

    /// Check a DPoP proof header value for a `GET https://api.test{path}` request presenting
    /// `token`, as the layer does (everything but replay); the proof key's thumbprint.
    pub fn dpop_proof(proof: &[u8], path: &str, token: &str) -> Option<String> {
        use std::sync::OnceLock;
        static DPOP: OnceLock<Option<crate::dpop::Dpop>> = OnceLock::new();
        let dpop = DPOP
            .get_or_init(|| crate::dpop::Dpop::allowed().build().ok())
            .as_ref()?;
        let mut headers = HeaderMap::new();
        headers.insert("dpop", http::HeaderValue::from_bytes(proof).ok()?);
        headers.insert(
            http::header::HOST,
            http::HeaderValue::from_static("api.test"),
        );
        let uri: Uri = path.parse().ok()?;
        dpop.verify(&headers, &http::Method::GET, &uri, token)
            .ok()
            .map(|p| p.jkt)
    }

    /// Parse a JWKS document; the number of usable keys and of skipped ones.
    pub fn parse_jwks(json: &str) -> Option<(usize, usize)> {
        crate::keys::parse_jwks(json)
            .ok()
            .map(|p| (p.keys.len(), p.skipped.len()))
    }
}
