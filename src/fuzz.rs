//! Entry points for the fuzz targets in `fuzz/`: the crate's parsers of untrusted input.
//! Not part of the public API.

use http::{HeaderMap, Uri};

/// Find a bearer token in request headers and URI, as the layer does.
pub fn find_token(headers: &HeaderMap, uri: &Uri, allow_query: bool) -> Option<Vec<u8>> {
    let extensions = http::Extensions::new();
    let view = crate::source::RequestView {
        method: &http::Method::GET,
        headers,
        uri,
        extensions: &extensions,
    };
    let mut sources = crate::source::TokenSources::default();
    if allow_query {
        sources = sources.query();
    }
    match sources.find(view, 8192, false) {
        Ok(Some(crate::source::Found { token, .. })) => Some(token.as_bytes().to_vec()),
        _ => None,
    }
}

/// The claims fast path against serde_json: `Err` with both answers when the fast path
/// answered differently (it may only decline, or agree).
pub fn claims_fast_path_agrees(json: &str) -> Result<(), String> {
    let Some(fast) = crate::claims::scan::parse_fast(json) else {
        return Ok(());
    };
    let slow = serde_json::from_str::<crate::claims::registered::Registered>(json).map(|mut r| {
        r.rebase(json);
        r.snapshot(json)
    });
    if crate::claims::registered::has_duplicate_member(json) {
        return Err(format!("fast path answered for duplicated members: {json}"));
    }
    match slow {
        Ok(slow) if slow == fast.snapshot(json) => Ok(()),
        other => Err(format!("fast: {}, serde: {other:?}", fast.snapshot(json))),
    }
}

/// Whether the claims fast path answered (rather than declined).
pub fn claims_fast_path_answers(json: &str) -> bool {
    crate::claims::scan::parse_fast(json).is_some()
}

/// Decode granted scopes from a claims JSON document, with the given delimiter.
pub fn scopes_from_claims(json: &str, delimiter: char) -> Vec<String> {
    let Ok(mut registered) = serde_json::from_str::<crate::claims::registered::Registered>(json)
    else {
        return Vec::new();
    };
    if !registered.rebase(json) {
        return Vec::new();
    }
    let source = crate::scope::ScopeClaims::standard().delimiter(delimiter);
    match source.extract(&registered, json, None) {
        Some(scopes) => {
            crate::scope::Scopes::from_grant(std::sync::Arc::new(crate::claims::grant::Grant {
                registered,
                json: json.to_owned(),
                scopes,
            }))
            .iter()
            .map(str::to_owned)
            .collect()
        }
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
    crate::keys::jwk::parse_jwks(json)
        .ok()
        .map(|p| (p.keys.len(), p.skipped.len()))
}

/// Find a token as a layer with the cookie `at`, the header `x-api-token` and the
/// `Authorization` header does, cross-site rule included: `Ok(Some(token bytes))`, `Ok(None)`
/// for no credentials, or the rejection's status.
pub fn find_token_in_cookies(
    method: &http::Method,
    headers: &HeaderMap,
) -> Result<Option<Vec<u8>>, u16> {
    let extensions = http::Extensions::new();
    let uri = Uri::from_static("/");
    let view = crate::source::RequestView {
        method,
        headers,
        uri: &uri,
        extensions: &extensions,
    };
    let sources = crate::source::TokenSources::default()
        .cookie("at")
        .header("x-api-token")
        .allowed_origins(["https://app.example.com"]);
    match sources.find(view, 8192, false) {
        Ok(Some(found)) => {
            if found.via.ambient() {
                sources
                    .check_origin(method, headers)
                    .map_err(|r| r.status().as_u16())?;
            }
            Ok(Some(found.token.as_bytes().to_vec()))
        }
        Ok(None) => Ok(None),
        Err(r) => Err(r.status().as_u16()),
    }
}

/// Read an RFC 9440 `Client-Cert` header value: the certificate's DER bytes, or `None`.
pub fn client_cert_header(value: &[u8]) -> Option<Vec<u8>> {
    crate::mtls::header::parse(value)
}

/// The MCP guard's reading of a JSON-RPC body: `(method, tool)` or why it is refused.
pub fn mcp_message(body: &[u8]) -> Result<(Option<String>, Option<String>), &'static str> {
    crate::guard::mcp::message::parse(body).map(|m| (m.method, m.tool))
}
