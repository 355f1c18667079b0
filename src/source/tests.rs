use http::header::{HeaderValue, AUTHORIZATION};

use super::grammar::is_b64token;
use super::Via as Method;
use super::*;
use crate::error::ErrorCode;

/// A token found: the token, how it came.
type Seen = (BearerToken, Via);

/// The layer's sources, as a function of what it is configured with.
fn find<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
    form: Option<&str>,
    allow_query: bool,
    max_len: usize,
    dpop: bool,
) -> Result<Option<Seen>, Rejection> {
    assert!(
        form.is_none(),
        "form tokens are tested through FormTokenLayer"
    );
    let extensions: &'static Extensions = Box::leak(Box::new(Extensions::new()));
    let view = RequestView {
        method: &http::Method::GET,
        headers,
        uri,
        extensions,
    };
    let sources = if allow_query {
        TokenSources::default().query()
    } else {
        TokenSources::default()
    };
    Ok(sources.find(view, max_len, dpop)?.map(|f| (f.token, f.via)))
}

fn header(v: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, HeaderValue::from_static(v));
    h
}

/// What the layer concludes from a header alone (a token that is no b64token is 400 once
/// validation fails, which it must for such a token).
fn find_h(h: &HeaderMap) -> Result<Option<String>, ErrorCode> {
    match find(h, &Uri::from_static("/"), None, false, 100, false) {
        Ok(Some((t, _))) if !is_b64token(t.as_bytes()) => {
            Err(rejection_for(&t, TokenError::Malformed("x")).code())
        }
        other => other
            .map(|o| o.map(|(t, _)| t.as_str().to_owned()))
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
    let (t, m) = find(&HeaderMap::new(), &uri, None, true, 100, false)
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

#[test]
fn percent_escapes_take_exactly_two_hex_digits() {
    use super::grammar::percent_decode;
    assert_eq!(percent_decode("a%2Bb%2f").as_deref(), Some("a+b/"));
    for bad in ["%+1", "%+F", "%1", "%", "%G0", "%0G", "%-1", "% 1"] {
        assert_eq!(percent_decode(bad), None, "{bad}");
    }
}
