//! The cross-site rule for cookie-borne tokens.
//!
//! Browsers attach cookies to requests that other sites start (a form posted from
//! `evil.example`, a `new WebSocket(..)` opened by any page). A token in a cookie therefore
//! proves the browser's user, not the page's intent. So a cookie-borne token is accepted:
//!
//! * on a safe method (`GET`, `HEAD`, `OPTIONS`, `TRACE`) that is not a WebSocket upgrade:
//!   always (such requests must not change state);
//! * on any other method: only when `Origin` (or, without it, the origin of `Referer`) is
//!   one of the allowed origins; with neither header the request is refused;
//! * on a WebSocket upgrade: when `Origin` is absent (not a browser) or allowed.
//!
//! A refusal is `403 access_denied`, decided before the token is validated.

use http::header::{HeaderMap, ORIGIN, REFERER, SEC_WEBSOCKET_VERSION, UPGRADE};
use http::Method;
use std::borrow::Cow;

use crate::error::ConfigError;
use crate::reject::{Reason, Rejection};

/// The origins allowed to send cookie-borne tokens on unsafe methods and WebSocket upgrades,
/// in their serialized form (`https://app.example.com`, `http://localhost:8080`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllowedOrigins(Vec<Box<str>>);

impl AllowedOrigins {
    pub(crate) fn push(&mut self, origin: &str) -> Result<(), ConfigError> {
        let normal = normalize(origin).ok_or_else(|| {
            ConfigError::Invalid(Cow::Owned(format!(
                "allowed origin {origin:?} must be a scheme, host and optional port, like \"https://app.example.com\" (no path, no wildcard)"
            )))
        })?;
        if !self.0.contains(&normal) {
            self.0.push(normal);
        }
        Ok(())
    }

    fn allows(&self, origin: &str) -> bool {
        normalize(origin).is_some_and(|o| self.0.contains(&o))
    }

    /// Whether a request that brought its token in a cookie may use it.
    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Rejection> {
        let safe = matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        let origin = single(headers, &ORIGIN);
        let allowed = if is_websocket_upgrade(method, headers) {
            // Browsers always send `Origin` when they open a WebSocket; a client that sends
            // none is not a browser, and no other page can have started it.
            match origin {
                Single::Absent => true,
                Single::One(o) => self.allows(o),
                Single::Many => false,
            }
        } else if safe {
            true
        } else {
            match origin {
                Single::One(o) => self.allows(o),
                Single::Many => false,
                Single::Absent => match single(headers, &REFERER) {
                    Single::One(referer) => referer_origin(referer).is_some_and(|o| self.allows(o)),
                    _ => false,
                },
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(Reason::CrossSite.into())
        }
    }
}

/// Whether the request opens a WebSocket: an HTTP/1.1 `GET` with `Upgrade: websocket`
/// (RFC 6455 §4.1; case-insensitive, possibly among other protocols), or an HTTP/2 extended
/// `CONNECT` (RFC 8441 §4, which carries `Sec-WebSocket-Version`; its `:protocol` pseudo-header
/// is not visible to a tower layer).
pub(crate) fn is_websocket_upgrade(method: &Method, headers: &HeaderMap) -> bool {
    match *method {
        Method::GET => headers.get_all(UPGRADE).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
            })
        }),
        Method::CONNECT => headers.contains_key(SEC_WEBSOCKET_VERSION),
        _ => false,
    }
}

enum Single<'a> {
    Absent,
    One(&'a str),
    Many,
}

fn single<'a>(headers: &'a HeaderMap, name: &http::HeaderName) -> Single<'a> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Single::Absent,
        (Some(v), None) => v.to_str().map_or(Single::Many, Single::One),
        (Some(_), Some(_)) => Single::Many,
    }
}

/// `scheme://authority` of a `Referer` URL, if it has that shape.
fn referer_origin(referer: &str) -> Option<&str> {
    let scheme_end = referer.find("://")?;
    let rest = &referer[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&referer[..scheme_end + 3 + end])
}

/// The RFC 6454 serialization of an origin: lower-case scheme and host, the port only when
/// it is not the scheme's default. `None` for anything else (a path, user info, `null`, a
/// wildcard, a scheme other than http and https).
fn normalize(origin: &str) -> Option<Box<str>> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    // A configured origin may end in one `/`; an `Origin` header never does.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal's colons sit inside brackets.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (rest, None),
    };
    // A name (letters, digits, `-`, `.`), or an IPv6 literal in brackets (hex digits, `:`,
    // `.`): nothing else may hide a second port or a user.
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'))
        }
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
        }
    };
    if !host_ok {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = p.parse().ok()?;
            if n > 65_535 {
                return None;
            }
            (p != default_port).then_some(p)
        }
        Some(_) => return None,
    };
    let mut out = String::with_capacity(origin.len());
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host.to_ascii_lowercase());
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    Some(out.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn allowed() -> AllowedOrigins {
        let mut a = AllowedOrigins::default();
        a.push("https://App.Example.com/").unwrap();
        a.push("http://localhost:8080").unwrap();
        a
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    fn ok(method: Method, pairs: &[(&'static str, &'static str)]) -> bool {
        allowed().check(&method, &headers(pairs)).is_ok()
    }

    #[test]
    fn origins_are_compared_in_serialized_form() {
        assert!(ok(Method::POST, &[("origin", "https://app.example.com")]));
        assert!(ok(
            Method::POST,
            &[("origin", "https://app.example.com:443")]
        ));
        assert!(ok(Method::POST, &[("origin", "HTTP://LOCALHOST:8080")]));
        assert!(!ok(Method::POST, &[("origin", "http://localhost")]));
        assert!(!ok(Method::POST, &[("origin", "http://app.example.com")]));
        assert!(!ok(
            Method::POST,
            &[("origin", "https://app.example.com.evil.test")]
        ));
        assert!(!ok(Method::POST, &[("origin", "https://evil.test")]));
        assert!(!ok(Method::POST, &[("origin", "null")]));
        assert!(!ok(
            Method::POST,
            &[
                ("origin", "https://app.example.com"),
                ("origin", "https://app.example.com")
            ]
        ));
    }

    #[test]
    fn unsafe_methods_need_an_allowed_origin_or_referer() {
        for m in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::CONNECT,
        ] {
            assert!(!ok(m.clone(), &[]), "{m} without Origin or Referer");
            assert!(ok(
                m.clone(),
                &[("referer", "https://app.example.com/page?q=1")]
            ));
            assert!(!ok(
                m.clone(),
                &[("referer", "https://evil.test/https://app.example.com")]
            ));
            assert!(!ok(m.clone(), &[("referer", "not a url")]));
            // Origin wins over Referer.
            assert!(!ok(
                m,
                &[
                    ("origin", "https://evil.test"),
                    ("referer", "https://app.example.com/")
                ]
            ));
        }
    }

    #[test]
    fn safe_methods_pass_unless_they_upgrade_to_a_websocket() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(ok(m.clone(), &[("origin", "https://evil.test")]));
            assert!(ok(m, &[]));
        }
        let ws = ("upgrade", "WebSocket");
        assert!(!ok(Method::GET, &[ws, ("origin", "https://evil.test")]));
        assert!(ok(
            Method::GET,
            &[ws, ("origin", "https://app.example.com")]
        ));
        assert!(ok(Method::GET, &[ws]), "no Origin: not a browser");
        assert!(
            !ok(Method::POST, &[ws]),
            "an upgrade is a GET: POST's own rule applies"
        );
        // HTTP/2 WebSockets: an extended CONNECT.
        let h2 = ("sec-websocket-version", "13");
        assert!(!ok(Method::CONNECT, &[h2, ("origin", "https://evil.test")]));
        assert!(ok(
            Method::CONNECT,
            &[h2, ("origin", "https://app.example.com")]
        ));
        assert!(ok(Method::CONNECT, &[h2]), "no Origin: not a browser");
        assert!(
            !ok(Method::CONNECT, &[]),
            "a plain CONNECT is an unsafe method"
        );
        assert!(!ok(
            Method::GET,
            &[("upgrade", "h2c, websocket"), ("origin", "null")]
        ));
    }

    #[test]
    fn malformed_configured_origins_are_config_errors() {
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "https://*.example.com",
            "https://user@app.example.com",
            "ftp://app.example.com",
            "https://app.example.com:99999",
            "https://app.example.com:",
            "https://evil:80:443",
            "https://[::1",
            "https://a]b",
            "null",
        ] {
            let err = AllowedOrigins::default().push(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        let mut a = AllowedOrigins::default();
        a.push("https://[::1]:8443").unwrap();
        assert!(a.allows("https://[::1]:8443"));
    }
}
