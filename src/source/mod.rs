//! Where a token is found (RFC 6750 §2): an ordered list of sources behind one seam.
//!
//! * `Authorization: Bearer <b64token>`: always. The scheme is case-insensitive
//!   (RFC 9110 §11.1), one or more spaces may follow it, and the token must match
//!   `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
//! * `?access_token=`: only when enabled on the layer (RFC 6750 §2.3 says SHOULD NOT).
//! * The form body: only behind [`FormTokenLayer`](crate::form::FormTokenLayer).
//!
//! A request that uses two methods, or sends two `Authorization` headers, is
//! `400 invalid_request`. The length cap is applied by each source before anything else.

mod authorization;
pub mod form;
pub(crate) mod grammar;
mod query;
mod token;

use std::fmt;

use http::{Extensions, HeaderMap, Uri};

use crate::error::TokenError;
use crate::reject::Rejection;
use crate::rules::length;
pub use token::BearerToken;

/// How the token reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Header,
    /// `Authorization: DPoP …` (only when the layer accepts DPoP).
    Dpop,
    Query,
    Form,
}

impl Via {
    /// Responses to requests authenticated this way must not be cached publicly (RFC 6750
    /// §2.3 for the query).
    #[inline]
    pub(crate) fn private(self) -> bool {
        self == Via::Query
    }
}

/// A token found, how it was presented, and, for a header token, its text borrowed from the
/// header (already checked as UTF-8).
pub(crate) struct Found<'a> {
    pub(crate) token: BearerToken,
    pub(crate) via: Via,
    pub(crate) text: Option<&'a str>,
}

/// What a source may read of a request.
#[derive(Clone, Copy)]
pub(crate) struct RequestView<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) uri: &'a Uri,
    pub(crate) extensions: &'a Extensions,
}

/// One place a token may come from. A new place (a cookie, a custom header) is one more
/// implementation and one more entry in the layer's [`Sources`].
pub(crate) trait TokenSource: Send + Sync + fmt::Debug {
    /// The token this source sees, `Ok(None)` when it sees none, or why the request is
    /// malformed. `max_len`: the validator's length cap, checked before anything else.
    fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found<'a>>, Rejection>;
}

/// `Authorization: Bearer` (and `DPoP` where the layer accepts it).
#[derive(Debug)]
pub(crate) struct AuthorizationHeader;

impl TokenSource for AuthorizationHeader {
    fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found<'a>>, Rejection> {
        authorization::find(request.headers, max_len, dpop)
    }
}

/// `?access_token=`.
#[derive(Debug)]
pub(crate) struct QueryParameter;

impl TokenSource for QueryParameter {
    fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        _dpop: bool,
    ) -> Result<Option<Found<'a>>, Rejection> {
        Ok(query::find(request.uri, max_len)?.map(|token| Found {
            token,
            via: Via::Query,
            text: None,
        }))
    }
}

/// The `access_token` field that [`FormTokenLayer`](form::FormTokenLayer) found in the body.
#[derive(Debug)]
pub(crate) struct FormBody;

impl TokenSource for FormBody {
    fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        _dpop: bool,
    ) -> Result<Option<Found<'a>>, Rejection> {
        match request.extensions.get::<form::FormToken>() {
            Some(form::FormToken(t)) => Ok(Some(Found {
                token: checked(t, max_len)?,
                via: Via::Form,
                text: None,
            })),
            None => Ok(None),
        }
    }
}

/// The layer's sources, in order: the `Authorization` header, then the query when enabled,
/// then the form body (present only behind `FormTokenLayer`).
#[derive(Debug)]
pub(crate) struct Sources {
    list: Vec<Box<dyn TokenSource>>,
}

impl Sources {
    /// The `Authorization` header, the query when `allow_query`, the form body.
    pub(crate) fn new(allow_query: bool) -> Self {
        let mut list: Vec<Box<dyn TokenSource>> = vec![Box::new(AuthorizationHeader)];
        if allow_query {
            list.push(Box::new(QueryParameter));
        }
        list.push(Box::new(FormBody));
        Self { list }
    }

    /// Find the token. `Ok(None)`: no credentials this layer looks at.
    ///
    /// A header token is only checked for length and UTF-8 here: on the success path its
    /// three base64url segments prove the `b64token` grammar, so the grammar is checked only
    /// when validation fails (see [`rejection_for`]), to tell `400` from `401`.
    #[inline]
    pub(crate) fn find<'a>(
        &self,
        request: RequestView<'a>,
        max_len: usize,
        dpop: bool,
    ) -> Result<Option<Found<'a>>, Rejection> {
        let mut found = None;
        for source in &self.list {
            if let Some(f) = source.find(request, max_len, dpop)? {
                if found.is_some() {
                    return Err(Rejection::invalid_request(
                        "token presented in more than one way",
                    ));
                }
                found = Some(f);
            }
        }
        Ok(found)
    }
}

/// A token from somewhere other than the header: the length cap, then the grammar.
fn checked(token: &str, max_len: usize) -> Result<BearerToken, Rejection> {
    length::check(token.len(), max_len)?;
    if !grammar::is_b64token(token) {
        return Err(Rejection::invalid_request("malformed bearer token"));
    }
    BearerToken::owned(token).ok_or_else(|| Rejection::invalid_request("malformed bearer token"))
}

/// The answer for a token that failed validation: `400 invalid_request` when it is not even
/// an RFC 6750 `b64token`, otherwise what the validator said.
pub(crate) fn rejection_for(token: &BearerToken, err: TokenError) -> Rejection {
    if grammar::is_b64token(token.as_str()) {
        err.into()
    } else {
        Rejection::invalid_request("malformed bearer token")
    }
}

#[cfg(test)]
mod tests;
