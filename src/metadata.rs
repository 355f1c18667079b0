//! OAuth 2.0 Protected Resource Metadata (RFC 9728).
//!
//! Build the document once, serve it with [`ResourceMetadataLayer`] at its well-known path,
//! and point every challenge at it with [`BearerLayer::resource_metadata`]:
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_bearer::metadata::ResourceMetadata;
//! use tower_bearer::{BearerLayer, RequireScopeLayer};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! let users = RequireScopeLayer::all(["users:read"]);
//! let metadata = ResourceMetadata::builder("https://api.example.com/mcp")
//!     .authorization_server("https://auth.example.com")
//!     .scopes_from_guards([users.guard()])
//!     .resource_name("Example API")
//!     .build()?;
//! assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
//!
//! let app: Router = Router::new()
//!     .route("/mcp/users", get(|| async { "…" }).route_layer(users))
//!     .layer(BearerLayer::new(validator).resource_metadata(&metadata))
//!     .layer(metadata.layer()); // outside: the document needs no token
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```
//!
//! [`BearerLayer::resource_metadata`]: crate::BearerLayer::resource_metadata

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::ResponseFuture;
use crate::error::ConfigError;
use crate::guard::require_scope::ScopeGuard;
use crate::scope::is_valid_scope;

/// The well-known suffix RFC 9728 §3 registers.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

#[derive(serde::Serialize, Default, Clone)]
struct Document {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bearer_methods_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resource_signing_alg_values_supported: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_tos_uri: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tls_client_certificate_bound_access_tokens: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_details_types_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dpop_signing_alg_values_supported: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens_required: bool,
}

/// A protected resource's metadata document, ready to serve.
#[derive(Clone)]
pub struct ResourceMetadata {
    inner: Arc<Inner>,
}

struct Inner {
    json: Bytes,
    path: String,
    url: String,
    resource: String,
}

impl fmt::Debug for ResourceMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceMetadata")
            .field("resource", &self.inner.resource)
            .field("url", &self.inner.url)
            .finish()
    }
}

impl ResourceMetadata {
    /// Start a document for the resource identifier `resource` (an `https` URL without a
    /// fragment; `http` is accepted only for `localhost` and `127.0.0.1`, for tests).
    pub fn builder(resource: impl Into<String>) -> ResourceMetadataBuilder {
        ResourceMetadataBuilder {
            doc: Document {
                resource: resource.into(),
                bearer_methods_supported: vec!["header".into()],
                ..Document::default()
            },
            error: None,
        }
    }

    /// The resource identifier, exactly as configured.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// The path the document is served at (§3.1: the well-known suffix, then the resource's
    /// path, if any).
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The document's full URL, as named in `resource_metadata="…"` challenges.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The document as JSON.
    pub fn json(&self) -> &[u8] {
        &self.inner.json
    }

    /// A layer that answers `GET`/`HEAD` at [`ResourceMetadata::path`] and passes every
    /// other request on. Put it outside `BearerLayer`: the document is public.
    pub fn layer(&self) -> ResourceMetadataLayer {
        ResourceMetadataLayer {
            metadata: self.clone(),
        }
    }

    fn respond<B: From<Bytes>>(&self, method: &Method) -> Response<B> {
        let mut response = if method == Method::GET || method == Method::HEAD {
            let body = if method == Method::GET {
                self.inner.json.clone()
            } else {
                Bytes::new()
            };
            let mut r = Response::new(B::from(body));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r.headers_mut().insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        } else {
            let mut r = Response::new(B::from(Bytes::new()));
            *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        };
        response.headers_mut().insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// Builds a [`ResourceMetadata`]. Members left empty are omitted from the document.
#[must_use]
pub struct ResourceMetadataBuilder {
    doc: Document,
    error: Option<ConfigError>,
}

impl fmt::Debug for ResourceMetadataBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceMetadataBuilder")
            .field("resource", &self.doc.resource)
            .finish_non_exhaustive()
    }
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

impl ResourceMetadataBuilder {
    /// An authorization server (its issuer identifier) that issues tokens for this resource.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.doc.authorization_servers.push(issuer.into());
        self
    }

    /// `jwks_uri`: this resource's own signing keys (for signed responses), not the issuer's.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.doc.jwks_uri = Some(uri.into());
        self
    }

    /// `scopes_supported`, listed explicitly.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for s in strings(scopes) {
            if !is_valid_scope(&s) && self.error.is_none() {
                self.error = Some(ConfigError::InvalidScope(s.clone()));
            }
            if !self.doc.scopes_supported.contains(&s) {
                self.doc.scopes_supported.push(s);
            }
        }
        self
    }

    /// `scopes_supported`, from the scopes the routes' guards declare (layers via
    /// [`RequireScopeLayer::guard`](crate::RequireScopeLayer::guard), extractor and macro
    /// markers via `M::guard()`).
    pub fn scopes_from_guards<'a>(self, guards: impl IntoIterator<Item = &'a ScopeGuard>) -> Self {
        let scopes: Vec<String> = guards
            .into_iter()
            .flat_map(|g| g.requirement().scopes())
            .map(str::to_owned)
            .collect();
        self.scopes_supported(scopes)
    }

    /// `bearer_methods_supported` (default `["header"]`; an empty list omits it).
    pub fn bearer_methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.doc.bearer_methods_supported = strings(methods);
        self
    }

    /// `resource_signing_alg_values_supported`.
    pub fn resource_signing_algs<I, S>(mut self, algs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.doc.resource_signing_alg_values_supported = strings(algs);
        self
    }

    /// `resource_name`, for people.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.doc.resource_name = Some(name.into());
        self
    }

    /// `resource_documentation`: a URL.
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.doc.resource_documentation = Some(url.into());
        self
    }

    /// `resource_policy_uri`.
    pub fn resource_policy_uri(mut self, url: impl Into<String>) -> Self {
        self.doc.resource_policy_uri = Some(url.into());
        self
    }

    /// `resource_tos_uri`.
    pub fn resource_tos_uri(mut self, url: impl Into<String>) -> Self {
        self.doc.resource_tos_uri = Some(url.into());
        self
    }

    /// `tls_client_certificate_bound_access_tokens` (omitted when false).
    pub fn tls_client_certificate_bound_access_tokens(mut self, bound: bool) -> Self {
        self.doc.tls_client_certificate_bound_access_tokens = bound;
        self
    }

    /// `authorization_details_types_supported`.
    pub fn authorization_details_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.doc.authorization_details_types_supported = strings(types);
        self
    }

    /// `dpop_signing_alg_values_supported`.
    pub fn dpop_signing_algs<I, S>(mut self, algs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.doc.dpop_signing_alg_values_supported = strings(algs);
        self
    }

    /// `dpop_bound_access_tokens_required` (omitted when false).
    pub fn dpop_bound_access_tokens_required(mut self, required: bool) -> Self {
        self.doc.dpop_bound_access_tokens_required = required;
        self
    }

    /// `dpop_signing_alg_values_supported` and `dpop_bound_access_tokens_required` from the
    /// layer's DPoP policy, so the document says what the layer does.
    pub fn dpop(self, dpop: &crate::dpop::Dpop) -> Self {
        let required = dpop.mode() == crate::dpop::DpopMode::Required;
        self.dpop_signing_algs(dpop.algorithms().iter().map(|a| a.as_str()))
            .dpop_bound_access_tokens_required(required)
    }

    /// Finish the document.
    ///
    /// # Errors
    /// If the resource identifier is not an `https` URL (or loopback `http`) without a
    /// fragment, or a scope is invalid.
    pub fn build(self) -> Result<ResourceMetadata, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let (path, url) = well_known(&self.doc.resource)?;
        let json = serde_json::to_vec(&self.doc)
            .map_err(|e| ConfigError::Invalid(format!("metadata: {e}").into()))?;
        Ok(ResourceMetadata {
            inner: Arc::new(Inner {
                json: Bytes::from(json),
                path,
                url,
                resource: self.doc.resource,
            }),
        })
    }
}

/// RFC 9728 §3.1: the well-known suffix goes between the host and the resource's path (a
/// trailing slash of the path is dropped first). Returns (path, full URL).
fn well_known(resource: &str) -> Result<(String, String), ConfigError> {
    let bad =
        |why: &str| ConfigError::Invalid(format!("resource identifier {resource:?}: {why}").into());
    if resource.contains('#') {
        return Err(bad("must not contain a fragment"));
    }
    let (scheme, rest) = resource
        .split_once("://")
        .ok_or_else(|| bad("must be an absolute https URL"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("must name a host (and no user information)"));
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match scheme {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("must use https (http only for localhost)")),
    }
    let (path_part, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let path_part = path_part.trim_end_matches('/');
    let mut path = format!("{WELL_KNOWN}{path_part}");
    if let Some(q) = query {
        path.push('?');
        path.push_str(q);
    }
    let url = format!("{scheme}://{authority}{path}");
    if HeaderValue::from_str(&url).is_err() {
        return Err(bad("must be visible ASCII"));
    }
    Ok((path, url))
}

/// Serves a [`ResourceMetadata`] document; see [`ResourceMetadata::layer`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ResourceMetadataLayer {
    metadata: ResourceMetadata,
}

impl<S> Layer<S> for ResourceMetadataLayer {
    type Service = ResourceMetadataService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResourceMetadataService {
            inner,
            metadata: self.metadata.clone(),
        }
    }
}

/// The service produced by [`ResourceMetadataLayer`].
#[derive(Clone, Debug)]
pub struct ResourceMetadataService<S> {
    inner: S,
    metadata: ResourceMetadata,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ResourceMetadataService<S>
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
        let target = req
            .uri()
            .path_and_query()
            .map_or(req.uri().path(), |pq| pq.as_str());
        if target == self.metadata.path() || req.uri().path() == self.metadata.path() {
            ResponseFuture::rejected_response(self.metadata.respond(req.method()))
        } else {
            ResponseFuture::inner_future(self.inner.call(req))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_is_inserted_between_host_and_path() {
        let m = well_known;
        assert_eq!(
            m("https://api.example.com").unwrap(),
            (
                WELL_KNOWN.to_owned(),
                format!("https://api.example.com{WELL_KNOWN}")
            )
        );
        assert_eq!(
            m("https://api.example.com/r1/").unwrap().1,
            "https://api.example.com/.well-known/oauth-protected-resource/r1"
        );
        assert_eq!(
            m("http://127.0.0.1:8080/mcp").unwrap().0,
            "/.well-known/oauth-protected-resource/mcp"
        );
        assert!(m("http://api.example.com/").is_err());
        assert!(m("https://api.example.com/#frag").is_err());
        assert!(m("api.example.com").is_err());
    }

    #[test]
    fn empty_members_are_omitted_and_resource_is_exact() {
        let md = ResourceMetadata::builder("https://api.example.com/x")
            .authorization_server("https://as.example.com")
            .build()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(md.json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "resource": "https://api.example.com/x",
                "authorization_servers": ["https://as.example.com"],
                "bearer_methods_supported": ["header"]
            })
        );
    }

    #[test]
    fn invalid_scopes_are_a_configuration_error() {
        let err = ResourceMetadata::builder("https://api.example.com")
            .scopes_supported(["ok", "not ok"])
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidScope(s) if s == "not ok"));
    }
}
