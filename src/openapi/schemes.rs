//! [`SecuritySchemes`]: how clients obtain the tokens the guards check.

use std::collections::BTreeMap;

use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};

use super::error::OpenApiError;

/// The document's `components.securitySchemes`: an `oauth2` scheme with the flows clients
/// use, and/or an `http` bearer scheme for JWTs. Its scopes are those of the declared
/// routes, with the descriptions given here.
///
/// ```
/// use tower_bearer::openapi::SecuritySchemes;
///
/// let schemes = SecuritySchemes::new()
///     .client_credentials("https://auth.example.com/oauth/token")
///     .authorization_code(
///         "https://auth.example.com/authorize",
///         "https://auth.example.com/oauth/token",
///     )
///     .bearer_jwt()
///     .scope_description("users:read", "Read user accounts");
/// # let _ = schemes;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SecuritySchemes {
    oauth2_name: String,
    bearer_name: String,
    client_credentials: Option<String>,
    authorization_code: Option<(String, String)>,
    bearer: bool,
    descriptions: BTreeMap<String, String>,
}

impl Default for SecuritySchemes {
    fn default() -> Self {
        Self::new()
    }
}

impl SecuritySchemes {
    /// No scheme yet; add at least one flow or [`bearer_jwt`](Self::bearer_jwt).
    pub fn new() -> Self {
        Self {
            oauth2_name: "oauth2".into(),
            bearer_name: "bearer".into(),
            client_credentials: None,
            authorization_code: None,
            bearer: false,
            descriptions: BTreeMap::new(),
        }
    }

    /// The `oauth2` scheme offers the client credentials flow (machine to machine) with this
    /// token endpoint.
    pub fn client_credentials(mut self, token_url: impl Into<String>) -> Self {
        self.client_credentials = Some(token_url.into());
        self
    }

    /// The `oauth2` scheme offers the authorization code flow (a user signs in) with these
    /// endpoints.
    pub fn authorization_code(
        mut self,
        authorization_url: impl Into<String>,
        token_url: impl Into<String>,
    ) -> Self {
        self.authorization_code = Some((authorization_url.into(), token_url.into()));
        self
    }

    /// The flows the discovered metadata allows: client credentials when it names a token
    /// endpoint, authorization code when it names an authorization endpoint too. See
    /// [`Validator::discovered_endpoints`](crate::Validator::discovered_endpoints).
    #[cfg(feature = "remote")]
    pub fn discovered(mut self, endpoints: &crate::remote::DiscoveredEndpoints) -> Self {
        if let Some(token) = endpoints.token_endpoint() {
            self = self.client_credentials(token);
            if let Some(authorize) = endpoints.authorization_endpoint() {
                self = self.authorization_code(authorize, token);
            }
        }
        self
    }

    /// Also an `http` scheme, `scheme: bearer`, `bearerFormat: JWT`: for clients that already
    /// hold a token (Swagger UI's "Authorize" takes it as is).
    pub fn bearer_jwt(mut self) -> Self {
        self.bearer = true;
        self
    }

    /// The name of the OAuth 2.0 scheme (default `oauth2`).
    pub fn oauth2_name(mut self, name: impl Into<String>) -> Self {
        self.oauth2_name = name.into();
        self
    }

    /// The name of the bearer scheme (default `bearer`).
    pub fn bearer_name(mut self, name: impl Into<String>) -> Self {
        self.bearer_name = name.into();
        self
    }

    /// A description of one scope in the `oauth2` scheme (default: the scope itself). A
    /// described scope is listed even if no route needs it.
    pub fn scope_description(
        mut self,
        scope: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.descriptions.insert(scope.into(), description.into());
        self
    }

    /// Whether an `oauth2` scheme is written (a flow was given).
    fn has_oauth2(&self) -> bool {
        self.client_credentials.is_some() || self.authorization_code.is_some()
    }

    /// The names of the schemes every guarded operation refers to, OAuth 2.0 first.
    pub(super) fn names(&self) -> Result<Vec<&str>, OpenApiError> {
        let mut names = Vec::new();
        if self.has_oauth2() {
            names.push(self.oauth2_name.as_str());
        }
        if self.bearer {
            if names.contains(&self.bearer_name.as_str()) {
                return Err(OpenApiError::SameName(self.bearer_name.clone()));
            }
            names.push(self.bearer_name.as_str());
        }
        if names.is_empty() {
            return Err(OpenApiError::NoScheme);
        }
        Ok(names)
    }

    /// The schemes, with `scopes` (the routes') in the OAuth 2.0 flows.
    pub(super) fn build<'a>(
        &self,
        scopes: impl IntoIterator<Item = &'a str>,
    ) -> Vec<(String, SecurityScheme)> {
        let mut out = Vec::new();
        if self.has_oauth2() {
            let mut described = self.descriptions.clone();
            for s in scopes {
                described
                    .entry(s.to_owned())
                    .or_insert_with(|| s.to_owned());
            }
            let scopes = || Scopes::from_iter(described.clone());
            let mut flows = Vec::new();
            if let Some(token) = &self.client_credentials {
                flows.push(Flow::ClientCredentials(ClientCredentials::new(
                    token.clone(),
                    scopes(),
                )));
            }
            if let Some((authorize, token)) = &self.authorization_code {
                flows.push(Flow::AuthorizationCode(AuthorizationCode::new(
                    authorize.clone(),
                    token.clone(),
                    scopes(),
                )));
            }
            out.push((
                self.oauth2_name.clone(),
                SecurityScheme::OAuth2(OAuth2::new(flows)),
            ));
        }
        if self.bearer {
            let http = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build();
            out.push((self.bearer_name.clone(), SecurityScheme::Http(http)));
        }
        out
    }
}
