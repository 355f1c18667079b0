//! Where a token is found (RFC 6750 §2): the ordered list [`TokenSources`] on the layer.
//!
//! * `Authorization: Bearer <b64token>`: by default. The scheme is case-insensitive
//!   (RFC 9110 §11.1), one or more spaces may follow it, and the token must match
//!   `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
//! * `?access_token=`, a cookie, a header of the user's choosing, the user's own function:
//!   when configured.
//! * The form body: only behind [`FormTokenLayer`](crate::form::FormTokenLayer).
//!
//! A request that uses two methods, or sends two `Authorization` headers, is
//! `400 invalid_request`. The length cap is applied by each source before anything else.
//! Cookie-borne tokens are subject to the cross-site rule of `origin.rs`.

mod authorization;
mod cookie;
mod custom_header;
pub mod form;
pub(crate) mod grammar;
pub(crate) mod origin;
mod query;
mod token;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{HeaderName, COOKIE};
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri};

use crate::error::{ConfigError, TokenError};
use crate::reject::{Reason, Rejection};
use crate::rules::length;
use origin::AllowedOrigins;
pub use token::BearerToken;

/// How the token reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Header,
    /// `Authorization: DPoP …` (only when the layer accepts DPoP).
    Dpop,
    Query,
    Form,
    Cookie,
    /// A header the user named, holding the raw token.
    NamedHeader,
    /// The user's own function.
    Custom,
    /// The user's own function, reading something the browser attaches by itself.
    CustomAmbient,
}

impl Via {
    /// Responses to requests authenticated this way must not be cached by shared caches:
    /// RFC 6750 §2.3 for the query; a cookie or a header of the user's choosing is not
    /// `Authorization`, which shared caches already treat as private (RFC 9111 §3.5).
    #[inline]
    pub(crate) fn private(self) -> bool {
        matches!(
            self,
            Via::Query | Via::Cookie | Via::NamedHeader | Via::Custom | Via::CustomAmbient
        )
    }

    /// A credential the browser attaches on its own, to requests other sites start: the
    /// cross-site rule applies.
    #[inline]
    pub(crate) fn ambient(self) -> bool {
        matches!(self, Via::Cookie | Via::CustomAmbient)
    }
}

/// A token found, and how it was presented.
pub(crate) struct Found {
    pub(crate) token: BearerToken,
    pub(crate) via: Via,
    /// The request header the answer depends on, for `Vary`.
    pub(crate) vary: Option<HeaderName>,
}

impl Found {
    fn new(token: BearerToken, via: Via) -> Self {
        Self {
            token,
            via,
            vary: None,
        }
    }
}

/// What a source may read of a request.
#[derive(Clone, Copy)]
pub(crate) struct RequestView<'a> {
    pub(crate) method: &'a Method,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) uri: &'a Uri,
    pub(crate) extensions: &'a Extensions,
}

type CustomFn = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// One place a token may come from.
#[derive(Clone)]
enum Source {
    /// `Authorization: Bearer` (and `DPoP` where the layer accepts it).
    Authorization,
    /// `?access_token=`; `upgrades_only`: on WebSocket upgrade requests only.
    Query { upgrades_only: bool },
    /// A cookie by name.
    Cookie(Arc<str>),
    /// A header by name, holding the raw token.
    Header(HeaderName),
    /// The user's function of the request's parts; `ambient`: it reads something the
    /// browser attaches by itself (a cookie), so the cross-site rule applies.
    Custom(CustomFn, bool),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Authorization => f.write_str("Authorization"),
            Source::Query {
                upgrades_only: false,
            } => f.write_str("Query"),
            Source::Query {
                upgrades_only: true,
            } => f.write_str("QueryOnWebSocketUpgrades"),
            Source::Cookie(name) => f.debug_tuple("Cookie").field(name).finish(),
            Source::Header(name) => f.debug_tuple("Header").field(name).finish(),
            Source::Custom(_, false) => f.write_str("Custom"),
            Source::Custom(_, true) => f.write_str("CustomAmbient"),
        }
    }
}

/// Where [`BearerLayer`](crate::BearerLayer) looks for the token: an ordered list of sources.
///
/// The default is the `Authorization` header alone (`Bearer`, and `DPoP` where the layer
/// accepts DPoP). A form body's `access_token` is always looked at, but only
/// [`FormTokenLayer`](crate::FormTokenLayer) puts one there.
///
/// | source | method | responses |
/// |---|---|---|
/// | `Authorization: Bearer <token>` | [`authorization_header`](Self::authorization_header) (default) | as the handler wrote them |
/// | `?access_token=` (RFC 6750 §2.3) | [`query`](Self::query), [`query_on_websocket_upgrades`](Self::query_on_websocket_upgrades) | `Cache-Control: private` |
/// | a cookie by name | [`cookie`](Self::cookie) | `Cache-Control: private`, `Vary: Cookie` |
/// | a header by name, raw token | [`header`](Self::header) | `Cache-Control: private`, `Vary: <name>` |
/// | your function of the request | [`custom`](Self::custom), [`custom_ambient`](Self::custom_ambient) (reads a cookie) | `Cache-Control: private` |
///
/// A request that carries a token in two enabled places (a header and a cookie, say) is
/// `400 invalid_request` (RFC 6750 §2: one method per request). A token found by a source is
/// capped in length before anything else and must be an RFC 6750 `b64token` (`400`
/// otherwise).
///
/// **Cookies and cross-site requests.** Browsers attach cookies to requests that other sites
/// start, so a cookie-borne token is accepted on an unsafe method (anything but `GET`,
/// `HEAD`, `OPTIONS`, `TRACE`) only when the request's `Origin` (without one, the origin of
/// its `Referer`) is one of [`allowed_origins`](Self::allowed_origins); with neither it is
/// refused. A WebSocket upgrade (a `GET` with `Upgrade: websocket`, or an HTTP/2 extended
/// `CONNECT`) is a request any page can start with the user's cookies: one
/// with an `Origin` outside the list is refused too; one without `Origin` (not a browser)
/// passes. The refusal is `403` with `error` `access_denied` and no `WWW-Authenticate`,
/// decided before the token is validated. The same holds for a
/// [`custom_ambient`](Self::custom_ambient) source; tokens from the other sources are
/// unaffected.
///
/// ```
/// use tower_bearer::{BearerLayer, TokenSources};
/// # let validator = tower_bearer::testing::TestIssuer::new().validator();
/// let layer = BearerLayer::new(validator).token_sources(
///     TokenSources::authorization_header()
///         .cookie("__Host-access_token")
///         .allowed_origins(["https://app.example.com"]),
/// );
/// # let _ = layer;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TokenSources {
    list: Vec<Source>,
    origins: AllowedOrigins,
    /// Some source needs the whole request parts (a custom source).
    needs_parts: bool,
    /// The list is the `Authorization` header alone (the default): a direct call.
    header_only: bool,
}

impl Default for TokenSources {
    fn default() -> Self {
        Self::authorization_header()
    }
}

impl TokenSources {
    /// The `Authorization` header alone: the default.
    pub fn authorization_header() -> Self {
        Self::none().and(Source::Authorization)
    }

    /// No source: add the ones you want. Without the `Authorization` header, `Bearer` and
    /// `DPoP` credentials are not looked at (a request with only those is unauthenticated).
    pub fn none() -> Self {
        Self {
            list: Vec::new(),
            origins: AllowedOrigins::default(),
            needs_parts: false,
            header_only: false,
        }
    }

    fn and(mut self, source: Source) -> Self {
        self.needs_parts |= matches!(source, Source::Custom(..));
        self.list.push(source);
        self.header_only = matches!(self.list.as_slice(), [Source::Authorization]);
        self
    }

    fn has(&self, wanted: impl Fn(&Source) -> bool) -> bool {
        self.list.iter().any(wanted)
    }

    /// Also the `Authorization` header (when built from [`none`](Self::none)).
    pub fn and_authorization_header(self) -> Self {
        if self.has(|s| matches!(s, Source::Authorization)) {
            return self;
        }
        self.and(Source::Authorization)
    }

    /// Also `?access_token=` (RFC 6750 §2.3, which says SHOULD NOT: URLs end up in logs,
    /// `Referer` headers and browser history; the MCP authorization spec forbids it).
    pub fn query(mut self) -> Self {
        self.list.retain(|s| !matches!(s, Source::Query { .. }));
        self.header_only = false;
        self.and(Source::Query {
            upgrades_only: false,
        })
    }

    /// Also `?access_token=`, on WebSocket upgrade requests only: a browser's
    /// `new WebSocket(url)` cannot set headers. On any other request the parameter is
    /// ignored, as when the query is not a source.
    pub fn query_on_websocket_upgrades(self) -> Self {
        if self.has(|s| matches!(s, Source::Query { .. })) {
            // The query on every request already covers upgrades.
            return self;
        }
        self.and(Source::Query {
            upgrades_only: true,
        })
    }

    /// Also the cookie `name` (its value is the raw token; double quotes are removed). See
    /// the cross-site rule above, and [`allowed_origins`](Self::allowed_origins).
    ///
    /// # Panics
    /// If `name` is not an RFC 6265 cookie name; see [`try_cookie`](Self::try_cookie).
    #[track_caller]
    pub fn cookie(self, name: impl AsRef<str>) -> Self {
        self.try_cookie(name).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Also the cookie `name`.
    ///
    /// # Errors
    /// If `name` is not an RFC 6265 cookie name, or a cookie source is already configured.
    pub fn try_cookie(self, name: impl AsRef<str>) -> Result<Self, ConfigError> {
        let name = name.as_ref();
        if !cookie::valid_name(name) {
            return Err(invalid(format!(
                "token cookie name {name:?} is not a cookie name (RFC 6265: letters, digits and !#$%&'*+-.^_`|~)"
            )));
        }
        if self.has(|s| matches!(s, Source::Cookie(_))) {
            return Err(invalid(format!(
                "token cookie {name:?}: a token cookie is already configured; a request has one token"
            )));
        }
        Ok(self.and(Source::Cookie(Arc::from(name))))
    }

    /// Also the header `name`, whose whole value is the raw token (`X-Api-Token: eyJ…`, no
    /// scheme).
    ///
    /// # Panics
    /// If `name` is not a header name, or one with a meaning of its own; see
    /// [`try_header`](Self::try_header).
    #[track_caller]
    pub fn header(self, name: impl AsRef<str>) -> Self {
        self.try_header(name).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Also the header `name`.
    ///
    /// # Errors
    /// If `name` is not a header name; is `Authorization`, `Cookie`, `DPoP` or
    /// `Proxy-Authorization`; or is configured twice.
    pub fn try_header(self, name: impl AsRef<str>) -> Result<Self, ConfigError> {
        let text = name.as_ref();
        let name = HeaderName::from_bytes(text.as_bytes())
            .map_err(|_| invalid(format!("token header {text:?} is not a header name")))?;
        if let Some(why) = custom_header::refuse_name(&name) {
            return Err(invalid(format!("token header {text:?} {why}")));
        }
        if self.has(|s| matches!(s, Source::Header(n) if *n == name)) {
            return Err(invalid(format!(
                "token header {text:?} is configured twice"
            )));
        }
        Ok(self.and(Source::Header(name)))
    }

    /// Also your own function of the request's parts, returning the raw token if the
    /// request carries one there. What it returns is capped in length and must be an RFC 6750
    /// `b64token` (`400` otherwise); responses get `Cache-Control: private`.
    ///
    /// ```
    /// use tower_bearer::TokenSources;
    /// // A gateway that forwards the token as `X-Forwarded-Access-Token: Bearer <token>`.
    /// let sources = TokenSources::none().custom(|parts| {
    ///     let value = parts.headers.get("x-forwarded-access-token")?.to_str().ok()?;
    ///     value.strip_prefix("Bearer ").map(str::to_owned)
    /// });
    /// # let _ = sources;
    /// ```
    ///
    /// A function that reads a cookie (or anything else a browser sends by itself) must be
    /// added with [`custom_ambient`](Self::custom_ambient) instead, or cross-site requests
    /// would be authenticated.
    pub fn custom<F>(self, find: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.and(Source::Custom(Arc::new(find), false))
    }

    /// Your own function that reads a credential the browser attaches by itself (a cookie
    /// of your own format, say): its tokens obey the cross-site rule, as cookie-borne tokens
    /// do.
    ///
    /// ```
    /// use tower_bearer::TokenSources;
    /// // The token inside a session cookie holding `v1.<token>`.
    /// let sources = TokenSources::none()
    ///     .custom_ambient(|parts| {
    ///         let cookie = parts.headers.get("cookie")?.to_str().ok()?;
    ///         let value = cookie.split("; ").find_map(|c| c.strip_prefix("session=v1."))?;
    ///         Some(value.to_owned())
    ///     })
    ///     .allowed_origins(["https://app.example.com"]);
    /// # let _ = sources;
    /// ```
    pub fn custom_ambient<F>(self, find: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.and(Source::Custom(Arc::new(find), true))
    }

    /// The origins allowed to send a cookie-borne token on an unsafe method or a WebSocket
    /// upgrade, each a scheme, host and optional port (`https://app.example.com`,
    /// `http://localhost:8080`). Add your own site's origin if it calls the API from the
    /// same origin: browsers send `Origin` on same-origin `POST`s too.
    ///
    /// # Panics
    /// If an origin is malformed; see [`try_allowed_origins`](Self::try_allowed_origins).
    #[track_caller]
    pub fn allowed_origins<I>(self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.try_allowed_origins(origins)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The origins allowed to send a cookie-borne token on an unsafe method.
    ///
    /// # Errors
    /// If an origin has a path, user info or a wildcard, or a scheme other than http(s).
    pub fn try_allowed_origins<I>(mut self, origins: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for origin in origins {
            self.origins.push(origin.as_ref())?;
        }
        Ok(self)
    }

    /// The cross-site rule, for a token that came in a cookie.
    pub(crate) fn check_origin(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<(), Rejection> {
        self.origins.check(method, headers)
    }

    /// The request headers besides `Authorization` that sources read (cookies, named
    /// headers), for `Vary` on an answer that found no token in them.
    pub(crate) fn varies_on(&self) -> Option<Arc<[HeaderName]>> {
        let names: Vec<HeaderName> = self
            .list
            .iter()
            .filter_map(|s| match s {
                Source::Cookie(_) => Some(COOKIE),
                Source::Header(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        (!names.is_empty()).then(|| Arc::from(names))
    }

    /// Whether some source needs the request's [`Parts`] (see [`find_in_parts`](Self::find_in_parts)).
    #[inline]
    pub(crate) fn needs_parts(&self) -> bool {
        self.needs_parts
    }

    /// Find the token. `Ok(None)`: no credentials this layer looks at.
    ///
    /// A header or cookie token is only checked for length and text here: on the success path
    /// its three base64url segments prove the `b64token` grammar, so the grammar is checked
    /// only when validation fails (see [`rejection_for`]), to tell `400` from `401`.
    #[inline]
    pub(crate) fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found>, Rejection> {
        if self.header_only && request.extensions.get::<form::FormToken>().is_none() {
            // The default: nothing to merge, so no accumulator to carry the answer through.
            return authorization::find(request.headers, max_len, dpop);
        }
        self.find_with(request, None, max_len, dpop)
    }

    /// [`find`](Self::find) for a list with a custom source, which reads `parts`.
    pub(crate) fn find_in_parts(
        &self,
        parts: &Parts,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found>, Rejection> {
        let view = RequestView {
            method: &parts.method,
            headers: &parts.headers,
            uri: &parts.uri,
            extensions: &parts.extensions,
        };
        self.find_with(view, Some(parts), max_len, dpop)
    }

    fn find_with<'a>(
        &self,
        request: RequestView<'a>,
        parts: Option<&Parts>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found>, Rejection> {
        let mut found = None;
        for source in &self.list {
            if let Some(f) = source.find(request, parts, max_len, dpop)? {
                if found.is_some() {
                    return Err(two_ways());
                }
                found = Some(f);
            }
        }
        if let Some(form::FormToken(t)) = request.extensions.get::<form::FormToken>() {
            if found.is_some() {
                return Err(two_ways());
            }
            found = Some(Found::new(checked(t, max_len)?, Via::Form));
        }
        Ok(found)
    }
}

fn two_ways() -> Rejection {
    Rejection::fixed(Reason::TwoWays)
}

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid(Cow::Owned(message))
}

impl Source {
    #[inline]
    fn find<'a>(
        &self,
        request: RequestView<'a>,
        parts: Option<&Parts>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found>, Rejection> {
        match self {
            Source::Authorization => authorization::find(request.headers, max_len, dpop),
            Source::Query { upgrades_only } => {
                if *upgrades_only && !origin::is_websocket_upgrade(request.method, request.headers)
                {
                    return Ok(None);
                }
                Ok(query::find(request.uri, max_len)?.map(|t| Found::new(t, Via::Query)))
            }
            Source::Cookie(name) => {
                let Some((field, start, end)) = cookie::find(request.headers, name)? else {
                    return Ok(None);
                };
                length::check(end - start, max_len)?;
                Ok(Some(Found {
                    token: BearerToken::within(field.clone(), start, end),
                    via: Via::Cookie,
                    vary: Some(COOKIE),
                }))
            }
            Source::Header(name) => {
                let Some((value, text)) = custom_header::find(request.headers, name)? else {
                    return Ok(None);
                };
                length::check(text.len(), max_len)?;
                Ok(Some(Found {
                    token: BearerToken::from_header(value.clone(), 0),
                    via: Via::NamedHeader,
                    vary: Some(name.clone()),
                }))
            }
            Source::Custom(find, ambient) => match parts.and_then(|p| find(p)) {
                Some(t) if t.is_empty() => Err(Reason::EmptyToken.into()),
                Some(t) => {
                    let via = if *ambient {
                        Via::CustomAmbient
                    } else {
                        Via::Custom
                    };
                    Ok(Some(Found::new(checked(&t, max_len)?, via)))
                }
                None => Ok(None),
            },
        }
    }
}

/// A token from somewhere other than the header: the length cap, then the grammar.
fn checked(token: &str, max_len: usize) -> Result<BearerToken, Rejection> {
    length::check(token.len(), max_len)?;
    if !grammar::is_b64token(token.as_bytes()) {
        return Err(Reason::MalformedBearerToken.into());
    }
    BearerToken::owned(token).ok_or_else(|| Reason::MalformedBearerToken.into())
}

/// The answer for a token that failed validation: `400 invalid_request` when it is not even
/// an RFC 6750 `b64token`, otherwise what the validator said.
pub(crate) fn rejection_for(token: &BearerToken, err: TokenError) -> Rejection {
    if grammar::is_b64token(token.as_bytes()) {
        err.into()
    } else {
        Rejection::fixed(Reason::MalformedBearerToken)
    }
}

#[cfg(test)]
mod tests;
