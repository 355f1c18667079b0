//! Finding the bearer token in a request (RFC 6750 §2).
//!
//! * `Authorization: Bearer <b64token>`: always. The scheme is case-insensitive
//!   (RFC 9110 §11.1), one or more spaces may follow it, and the token must match
//!   `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
//! * `?access_token=`: only when enabled on the layer (RFC 6750 §2.3 says SHOULD NOT).
//! * The form body: only behind [`FormTokenLayer`](crate::form::FormTokenLayer).
//!
//! A request that uses two methods, or sends two `Authorization` headers, is
//! `400 invalid_request`.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderValue, AUTHORIZATION};
use http::{HeaderMap, Uri};

use crate::bearer::Render;
use crate::error::{Rejection, TokenError};

/// The raw access token of an authenticated request.
///
/// `Debug` and `Display` print `[redacted]`; read it with [`BearerToken::as_str`] when you
/// must forward it (for example to call another API on the user's behalf).
#[derive(Clone)]
pub struct BearerToken {
    value: HeaderValue,
    start: usize,
    /// The layer's rendering settings, for guards and extractors further in.
    render: Option<Arc<Render>>,
    /// Presented with the `DPoP` scheme.
    dpop: bool,
}

impl BearerToken {
    pub(crate) fn from_header(value: HeaderValue, start: usize) -> Self {
        Self {
            value,
            start,
            render: None,
            dpop: false,
        }
    }

    fn owned(token: &str) -> Option<Self> {
        HeaderValue::from_str(token).ok().map(|value| Self {
            value,
            start: 0,
            render: None,
            dpop: false,
        })
    }

    pub(crate) fn with_render(mut self, render: Arc<Render>) -> Self {
        self.render = Some(render);
        self
    }

    pub(crate) fn render(&self) -> Option<&Arc<Render>> {
        self.render.as_ref()
    }

    /// Whether the token came with the `DPoP` scheme and a verified proof (RFC 9449), rather
    /// than as a plain bearer token.
    pub fn is_dpop(&self) -> bool {
        self.dpop
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        // Constructed only from UTF-8 text, so this never falls back.
        self.value
            .as_bytes()
            .get(self.start..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

impl fmt::Display for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the token reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Header,
    /// `Authorization: DPoP …` (only when the layer accepts DPoP).
    Dpop,
    Query,
    Form,
}

/// Whether `s` matches RFC 6750's `b64token`.
pub(crate) fn is_b64token(s: &str) -> bool {
    let b = s.as_bytes();
    let body_end = b
        .iter()
        .position(|&c| {
            !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
        })
        .unwrap_or(b.len());
    body_end > 0 && b[body_end..].iter().all(|&c| c == b'=')
}

/// The token of a form body, put into the extensions by `FormTokenLayer`.
#[derive(Clone)]
pub(crate) struct FormToken(pub(crate) String);

/// A token found, how it was presented, and, for a header token, its text borrowed from the
/// header.
pub(crate) type Found<'a> = (BearerToken, Method, Option<&'a str>);

/// Find the token. `Ok(None)`: no credentials this layer looks at. A token from the
/// `Authorization` header comes with its text borrowed from there, already checked as UTF-8.
///
/// A header token is only checked for length and UTF-8 here: on the success path its three
/// base64url segments prove the `b64token` grammar, so the grammar is checked only when
/// validation fails (see [`rejection_for`]), to tell `400` from `401`.
pub(crate) fn find<'a>(
    headers: &'a HeaderMap,
    uri: &Uri,
    form: Option<&FormToken>,
    allow_query: bool,
    max_len: usize,
    dpop: bool,
) -> Result<Option<Found<'a>>, Rejection> {
    let mut found = from_header(headers, max_len, dpop)?;
    let mut add = |t: BearerToken, m: Method| {
        if found.is_some() {
            return Err(Rejection::invalid_request(
                "token presented in more than one way",
            ));
        }
        found = Some((t, m, None));
        Ok(())
    };
    if allow_query {
        if let Some(t) = from_query(uri, max_len)? {
            add(t, Method::Query)?;
        }
    }
    if let Some(FormToken(t)) = form {
        let t = checked(t, max_len)?;
        add(t, Method::Form)?;
    }
    Ok(found)
}

fn checked(token: &str, max_len: usize) -> Result<BearerToken, Rejection> {
    if token.len() > max_len {
        return Err(TokenError::TooLong.into());
    }
    if !is_b64token(token) {
        return Err(Rejection::invalid_request("malformed bearer token"));
    }
    BearerToken::owned(token).ok_or_else(|| Rejection::invalid_request("malformed bearer token"))
}

fn from_header(
    headers: &HeaderMap,
    max_len: usize,
    dpop: bool,
) -> Result<Option<Found<'_>>, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::invalid_request(
            "more than one Authorization header",
        ));
    }
    let bytes = value.as_bytes();
    // The scheme, case-insensitively; another scheme is not ours to judge.
    let scheme_is =
        |name: &[u8]| bytes.len() >= name.len() && bytes[..name.len()].eq_ignore_ascii_case(name);
    let (scheme, method): (&[u8], _) = if scheme_is(b"bearer") {
        (b"bearer", Method::Header)
    } else if dpop && scheme_is(b"dpop") {
        (b"dpop", Method::Dpop)
    } else {
        return Ok(None);
    };
    let empty = || {
        Rejection::invalid_request(if method == Method::Dpop {
            "DPoP scheme without a token"
        } else {
            "Bearer scheme without a token"
        })
    };
    let rest = &bytes[scheme.len()..];
    if rest.is_empty() {
        return Err(empty());
    }
    if rest[0] != b' ' {
        // `BearerX …` is another scheme.
        return Ok(None);
    }
    let start = scheme.len() + rest.iter().take_while(|&&b| b == b' ').count();
    let token = &bytes[start..];
    if token.is_empty() {
        return Err(empty());
    }
    if token.len() > max_len {
        return Err(TokenError::TooLong.into());
    }
    match std::str::from_utf8(token) {
        Ok(text) => {
            let mut t = BearerToken::from_header(value.clone(), start);
            t.dpop = method == Method::Dpop;
            Ok(Some((t, method, Some(text))))
        }
        Err(_) => Err(Rejection::invalid_request("malformed bearer token")),
    }
}

/// The answer for a token that failed validation: `400 invalid_request` when it is not even
/// an RFC 6750 `b64token`, otherwise what the validator said.
pub(crate) fn rejection_for(token: &BearerToken, err: TokenError) -> Rejection {
    if is_b64token(token.as_str()) {
        err.into()
    } else {
        Rejection::invalid_request("malformed bearer token")
    }
}

fn from_query(uri: &Uri, max_len: usize) -> Result<Option<BearerToken>, Rejection> {
    let Some(query) = uri.query() else {
        return Ok(None);
    };
    let mut found: Option<String> = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "access_token" {
            continue;
        }
        if found.is_some() {
            return Err(Rejection::invalid_request(
                "more than one access_token parameter",
            ));
        }
        if value.len() > max_len.saturating_mul(3) {
            return Err(TokenError::TooLong.into());
        }
        let decoded = percent_decode(value)
            .ok_or_else(|| Rejection::invalid_request("malformed access_token parameter"))?;
        found = Some(decoded);
    }
    match found {
        None => Ok(None),
        Some(t) if t.is_empty() => Err(Rejection::invalid_request("empty access_token parameter")),
        Some(t) => checked(&t, max_len).map(Some),
    }
}

/// Decode `application/x-www-form-urlencoded` escapes (`+` is a space, `%XX` a byte).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn header(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static(v));
        h
    }

    /// What the layer concludes from a header alone (a token that is no b64token is 400 once
    /// validation fails, which it must for such a token).
    fn find_h(h: &HeaderMap) -> Result<Option<String>, ErrorCode> {
        match find(h, &Uri::from_static("/"), None, false, 100, false) {
            Ok(Some((t, _, _))) if !is_b64token(t.as_str()) => {
                Err(rejection_for(&t, TokenError::Malformed("x")).code())
            }
            other => other
                .map(|o| o.map(|(t, _, _)| t.as_str().to_owned()))
                .map_err(|r| r.code()),
        }
    }

    #[test]
    fn scheme_is_case_insensitive_and_spaces_allowed() {
        assert_eq!(
            find_h(&header("bEaReR abc.def")).unwrap().unwrap(),
            "abc.def"
        );
        assert_eq!(find_h(&header("Bearer   abc==")).unwrap().unwrap(), "abc==");
    }

    #[test]
    fn other_schemes_are_no_credentials() {
        assert_eq!(find_h(&header("Basic dXNlcjpwYXNz")), Ok(None));
        assert_eq!(find_h(&header("BearerX abc")), Ok(None));
        assert_eq!(find_h(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn malformed_bearer_is_invalid_request() {
        for v in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a=b",
            "Bearer =",
            "Bearer a\"b",
        ] {
            assert_eq!(find_h(&header(v)), Err(ErrorCode::InvalidRequest), "{v}");
        }
    }

    #[test]
    fn two_headers_is_invalid_request() {
        let mut h = header("Bearer a");
        h.append(AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(find_h(&h), Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn too_long_is_invalid_token_before_grammar() {
        let long = format!("Bearer {}", "a\"".repeat(200));
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(&long).unwrap());
        assert_eq!(find_h(&h), Err(ErrorCode::InvalidToken));
    }

    #[test]
    fn query_only_when_enabled_and_never_twice() {
        let uri = Uri::from_static("/x?a=1&access_token=abc%2Bd");
        assert!(find(&HeaderMap::new(), &uri, None, false, 100, false)
            .unwrap()
            .is_none());
        let (t, m, _) = find(&HeaderMap::new(), &uri, None, true, 100, false)
            .unwrap()
            .unwrap();
        assert_eq!((t.as_str(), m), ("abc+d", Method::Query));
        let err = find(&header("Bearer x"), &uri, None, true, 100, false).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidRequest);
        let twice = Uri::from_static("/x?access_token=a&access_token=b");
        let err = find(&HeaderMap::new(), &twice, None, true, 100, false).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidRequest);
    }

    #[test]
    fn redacted() {
        let t = BearerToken::owned("secret").unwrap();
        assert_eq!(format!("{t:?} {t}"), "BearerToken([redacted]) [redacted]");
    }
}
