//! Rejections spoken in gRPC: a trailers-only response (HTTP 200, `content-type:
//! application/grpc`, `grpc-status` and `grpc-message` in the headers, no body), with the
//! RFC 6750 challenge as `www-authenticate` metadata so a client still learns which scope it
//! lacks.
//!
//! | HTTP answer | gRPC status |
//! |---|---|
//! | 401 (no, bad or unproven credentials; step-up needed) | `UNAUTHENTICATED` (16) |
//! | 400 (malformed credentials) | `UNAUTHENTICATED` (16) |
//! | 403 (insufficient scope, cross-site refusal) | `PERMISSION_DENIED` (7) |
//! | 503 (keys, a store or a check unavailable) | `UNAVAILABLE` (14), with `retry-after` and `grpc-retry-pushback-ms` |
//! | 500 (misconfiguration) | `INTERNAL` (13) |
//!
//! Only a `POST` (every gRPC call is one) with a gRPC content type is answered this way, and
//! like every rejection the answer carries `Cache-Control: no-store`.
//!
//! A malformed credential is `UNAUTHENTICATED` rather than `INVALID_ARGUMENT`: in gRPC the
//! latter says the call's *message* is wrong, which retrying with a new token would not fix;
//! what is wrong is the credential, and the challenge's `error="invalid_request"` says how.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};

use super::challenge::DpopChallenge;
use super::code::ErrorCode;
use super::rejection::Rejection;

impl ErrorCode {
    /// The gRPC status code this code is answered with on a gRPC call.
    pub const fn grpc_code(self) -> u8 {
        match self {
            Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidRequest
            | Self::InvalidDpopProof
            | Self::UseDpopNonce
            | Self::InsufficientUserAuthentication => 16,
            Self::InsufficientScope | Self::AccessDenied => 7,
            Self::TemporarilyUnavailable => 14,
            Self::ServerError => 13,
        }
    }
}

/// Whether the request is a gRPC call: `content-type` `application/grpc`, alone or with a
/// `+format` suffix or parameters (gRPC over HTTP/2, "Requests").
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        let prefix = b"application/grpc";
        v.len() >= prefix.len()
            && v[..prefix.len()].eq_ignore_ascii_case(prefix)
            && matches!(v.get(prefix.len()), None | Some(b'+' | b';'))
    })
}

impl Rejection {
    /// The gRPC answer to a gRPC call: trailers-only, `grpc-status` and `grpc-message`, the
    /// challenges as `www-authenticate` metadata.
    pub fn to_grpc_response(&self, realm: Option<&str>) -> Response<Bytes> {
        self.render_grpc(realm, None, None)
    }

    pub(crate) fn render_grpc(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
    ) -> Response<Bytes> {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(
            HeaderName::from_static("grpc-status"),
            HeaderValue::from(u16::from(self.code.grpc_code())),
        );
        if let Ok(message) = HeaderValue::from_str(&percent_encode(self.description())) {
            headers.insert(HeaderName::from_static("grpc-message"), message);
        }
        self.headers(realm, resource_metadata, dpop, headers);
        // A 200 like any gRPC answer, so say what every rejection says: store it nowhere.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            headers.insert(
                HeaderName::from_static("grpc-retry-pushback-ms"),
                HeaderValue::from(secs.saturating_mul(1000)),
            );
        }
        response
    }
}

/// `grpc-message` is percent-encoded: bytes outside `%x20-7E`, and `%` itself.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for &b in message.as_bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_calls_are_recognised_by_content_type() {
        let with = |ct: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            is_grpc(&h)
        };
        assert!(with("application/grpc"));
        assert!(with("application/grpc+proto"));
        assert!(with("Application/GRPC; charset=utf-8"));
        assert!(!with("application/grpc-web"));
        assert!(!with("application/grpcx"));
        assert!(!with("application/json"));
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn grpc_message_is_percent_encoded() {
        assert_eq!(percent_encode("token expired"), "token expired");
        assert_eq!(percent_encode("100% é\n"), "100%25 %C3%A9%0A");
    }

    #[test]
    fn every_code_has_its_grpc_status() {
        use ErrorCode::*;
        for (code, grpc) in [
            (Unauthorized, 16),
            (InvalidToken, 16),
            (InvalidRequest, 16),
            (InvalidDpopProof, 16),
            (UseDpopNonce, 16),
            (InsufficientUserAuthentication, 16),
            (InsufficientScope, 7),
            (AccessDenied, 7),
            (TemporarilyUnavailable, 14),
            (ServerError, 13),
        ] {
            assert_eq!(code.grpc_code(), grpc, "{code}");
        }
    }
}
