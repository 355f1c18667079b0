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

pub(crate) mod context;
pub(crate) mod future;
mod service;

pub use future::ResponseFuture;
pub use service::Bearer;

use std::fmt;
use std::sync::Arc;

use crate::dpop::Dpop;
use crate::jwt::Validator;
use crate::mtls::ClientCertificates;
use crate::reject::render::Render;
use crate::reject::ErrorFormat;
use crate::source::TokenSources;

type SkipFn = Arc<dyn Fn(&http::request::Parts) -> bool + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Config {
    validator: Validator,
    render: Arc<Render>,
    optional: bool,
    sources: Arc<TokenSources>,
    /// `Vary` for unauthenticated answers of an optional layer, from `sources`.
    vary: Option<Arc<[http::HeaderName]>>,
    skip: Option<SkipFn>,
    dpop: Option<Dpop>,
    /// Where client certificates come from, for certificate-bound tokens (RFC 8705).
    certificates: Option<ClientCertificates>,
}

impl Config {
    /// The request headers besides `Authorization` that decide an answer: the token
    /// sources' cookie and named headers, and a client certificate header.
    fn varies_on(&self) -> Option<Arc<[http::HeaderName]>> {
        let mut names: Vec<http::HeaderName> = self
            .sources
            .varies_on()
            .map(|v| v.to_vec())
            .unwrap_or_default();
        if let Some(name) = self.certificates.as_ref().and_then(|c| c.header_name()) {
            names.push(name.clone());
        }
        (!names.is_empty()).then(|| names.into())
    }
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
            .field("sources", &c.sources)
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
                sources: Arc::new(TokenSources::default()),
                vary: None,
                skip: None,
                dpop: None,
                certificates: None,
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
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.render = Arc::new(Render {
            dpop: Some(dpop.challenge()),
            ..(*config.render).clone()
        });
        config.dpop = Some(dpop);
        self
    }

    /// Accept certificate-bound tokens (RFC 8705): a token with `cnf.x5t#S256` passes only
    /// with the client certificate it names, taken from where `certificates` says (the TLS
    /// connection, or a trusted proxy's `Client-Cert` header); see [`crate::mtls`]. Without
    /// this, such tokens are refused (`401 invalid_token`); unbound tokens are unaffected
    /// either way. Announce it in the metadata with
    /// [`tls_client_certificate_bound_access_tokens`](crate::metadata::ResourceMetadataBuilder::tls_client_certificate_bound_access_tokens).
    pub fn client_certificates(mut self, certificates: ClientCertificates) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.certificates = Some(certificates);
        config.vary = config.varies_on();
        self
    }

    /// Also accept `?access_token=` (RFC 6750 §2.3). Off by default: URLs end up in logs and
    /// browser history. Responses to such requests get `Cache-Control: private`. Shorthand
    /// for adding [`TokenSources::query`] to the layer's sources.
    pub fn allow_query_token(mut self) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.sources = Arc::new((*config.sources).clone().query());
        config.vary = config.varies_on();
        self
    }

    /// Where the token is looked for (default: the `Authorization` header alone); see
    /// [`TokenSources`] for cookies, other headers, the query and your own function, and for
    /// the cross-site rule that cookie-borne tokens obey.
    ///
    /// ```
    /// use tower_bearer::{BearerLayer, TokenSources};
    /// # let validator = tower_bearer::testing::TestIssuer::new().validator();
    /// let layer = BearerLayer::new(validator)
    ///     .token_sources(TokenSources::authorization_header().header("x-api-token"));
    /// # let _ = layer;
    /// ```
    pub fn token_sources(mut self, sources: TokenSources) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.sources = Arc::new(sources);
        config.vary = config.varies_on();
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
