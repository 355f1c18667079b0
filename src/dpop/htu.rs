//! `htu`: the URL the client addressed, normalised (RFC 9449 §4.3, RFC 3986 §6.2).

use http::{HeaderMap, Uri};

use super::policy::Policy;

impl Policy {
    /// The normalised URL of this request as the client addressed it.
    pub(crate) fn request_url(&self, headers: &HeaderMap, uri: &Uri) -> Option<String> {
        let path = uri.path();
        if !path.starts_with('/') {
            return None;
        }
        if let Some(base) = &self.base_url {
            let url = normalize(&format!("{base}{path}"))?;
            // Dot segments must not climb out of the base's path.
            let inside = url.len() > base.len()
                && url.starts_with(base.as_str())
                && url.as_bytes()[base.len()] == b'/';
            return inside.then_some(url);
        }
        let (scheme, authority) = match (uri.scheme_str(), uri.authority()) {
            (Some(s), Some(a)) => (s, a.as_str()),
            _ => (
                self.default_scheme,
                headers.get(http::header::HOST)?.to_str().ok()?,
            ),
        };
        // The Host header is the client's: it must be a bare host[:port], or it could move
        // part of the path into the authority (`Host: api.test/admin`).
        if !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        {
            return None;
        }
        normalize(&format!("{scheme}://{authority}{path}"))
    }
}

pub(crate) fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// RFC 3986 §6.2.2–6.2.3 normalisation of an absolute `http(s)` URL without query or
/// fragment: lowercase scheme and host, default port removed, empty path as `/`,
/// percent-encodings uppercased and unreserved ones decoded, dot segments removed. `None`
/// for anything else (another scheme, userinfo, a malformed authority or escape).
pub(crate) fn normalize(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port: u16 = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let path_at = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(path_at);
    if authority.is_empty() || authority.contains('@') || rest.contains(['?', '#']) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority.as_str(), None),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
    {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(host);
    match port {
        Some("") | None => {}
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u16 = p.parse().ok().filter(|&n| n != 0)?;
            if n != default_port {
                out.push(':');
                out.push_str(&n.to_string());
            }
        }
    }
    let path = normalize_escapes(if path.is_empty() { "/" } else { path })?;
    out.push_str(&remove_dot_segments(&path));
    Some(out)
}

fn normalize_escapes(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            let v = u8::from_str_radix(hex, 16).ok()?;
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                out.push(v as char);
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else if c.is_ascii_graphic() {
            out.push(c as char);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// RFC 3986 §5.2.4, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let trailing = path.ends_with("/.") || path.ends_with("/..") || path.ends_with('/');
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing && !out.ends_with('/') || out.is_empty() {
        out.push('/');
    }
    out
}
