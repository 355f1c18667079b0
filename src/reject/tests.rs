use http::header::{CONTENT_TYPE, RETRY_AFTER};

use super::*;
use crate::error::TokenError;

#[test]
fn challenge_without_error_for_missing_credentials() {
    let r = Rejection::missing_credentials();
    assert_eq!(r.www_authenticate(None).unwrap(), "Bearer");
    assert_eq!(
        r.www_authenticate(Some("api")).unwrap(),
        "Bearer realm=\"api\""
    );
}

#[test]
fn challenge_escapes_realm_and_restricts_description() {
    let r = Rejection::new(ErrorCode::InvalidToken, "bad \"x\"\\\r\nSet-Cookie: a=b é");
    let v = r.www_authenticate(Some("a\"b\\c\r\n")).unwrap();
    assert_eq!(
        v,
        "Bearer realm=\"a\\\"b\\\\c??\", error=\"invalid_token\", error_description=\"bad 'x'/??Set-Cookie: a=b ?\""
    );
}

#[test]
fn no_challenge_for_server_errors() {
    assert!(Rejection::missing_layer("RequireScope")
        .www_authenticate(None)
        .is_none());
    let r: Rejection = TokenError::Unavailable { retry_after: 5 }.into();
    assert!(r.www_authenticate(None).is_none());
    let resp = r.to_response(None, &ErrorFormat::json());
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()[RETRY_AFTER], "5");
}

#[test]
fn problem_json_body() {
    let r = Rejection::new(ErrorCode::InsufficientScope, "insufficient scope")
        .with_scope(Some("a b".into()));
    let resp = r.to_response(None, &ErrorFormat::problem_json());
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/problem+json");
    let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"type":"about:blank","title":"Forbidden","status":403,
            "detail":"insufficient scope","error":"insufficient_scope","scope":"a b"})
    );
}

/// Every fixed rejection's reused answer equals the general renderer's, byte for byte, for
/// every body format, realm, `resource_metadata` and DPoP configuration, in both schemes:
/// the first answer (rendered and kept) and a later one (cloned) alike.
#[test]
fn reused_answers_equal_the_general_renderer() {
    use std::sync::Arc;

    use super::challenge::DpopChallenge;
    use super::render::Render;
    use bytes::Bytes;
    use http::Response;

    fn same(a: &Response<Bytes>, b: &Response<Bytes>, what: &str) {
        assert_eq!(a.status(), b.status(), "{what}");
        let headers = |r: &Response<Bytes>| {
            r.headers()
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(headers(a), headers(b), "{what}");
        assert_eq!(a.body(), b.body(), "{what}");
        assert_eq!(a.version(), b.version(), "{what}");
    }

    let formats = [
        ErrorFormat::json(),
        ErrorFormat::problem_json(),
        ErrorFormat::empty(),
    ];
    let realms = [None, Some("api"), Some("a \"quoted\" realm\\")];
    let metadata = [
        None,
        Some("https://api.example.com/.well-known/oauth-protected-resource"),
    ];
    let dpops = [
        None,
        Some(DpopChallenge {
            algs: Arc::from("ES256 EdDSA"),
            required: false,
        }),
        Some(DpopChallenge {
            algs: Arc::from("ES256"),
            required: true,
        }),
    ];
    let mut compared = 0;
    for format in &formats {
        for realm in realms {
            for md in metadata {
                for dpop in &dpops {
                    let render = Render {
                        realm: realm.map(Arc::from),
                        format: format.clone(),
                        resource_metadata: md.map(Arc::from),
                        dpop: dpop.clone(),
                        ..Render::default()
                    };
                    for &reason in Reason::ALL {
                        for in_dpop in [false, true] {
                            let mut r = Rejection::fixed(reason);
                            if in_dpop {
                                r = r.in_dpop_scheme();
                            }
                            let what = format!(
                                "{reason:?} dpop={in_dpop} {format:?} realm={realm:?} metadata={md:?} {dpop:?}"
                            );
                            let general = r.render(realm, md, dpop.as_ref(), format);
                            same(&render.respond(&r), &general, &what);
                            same(&render.respond(&r), &general, &what);
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(compared, 3 * 3 * 2 * 3 * Reason::COUNT * 2);
}

/// A reason's code and description are those of the rejection it stands for: the token
/// error's `Display`, or the text the sources answered with before reasons existed.
#[test]
fn reasons_match_the_errors_they_stand_for() {
    use std::borrow::Cow;

    for (i, &reason) in Reason::ALL.iter().enumerate() {
        assert_eq!(reason.index(), i);
    }
    let errors = [
        TokenError::TooLong,
        TokenError::UnsupportedAlgorithm,
        TokenError::AlgorithmMismatch,
        TokenError::UnknownKey,
        TokenError::InvalidSignature,
        TokenError::Expired,
        TokenError::NotYetValid,
        TokenError::IssuedInFuture,
        TokenError::IssuerMismatch,
        TokenError::TenantNotAllowed,
        TokenError::AudienceMismatch,
        TokenError::TypeNotAllowed,
        TokenError::CriticalHeader,
        TokenError::BoundToken,
        TokenError::Inactive,
        TokenError::NotDpopBound,
        TokenError::DpopKeyMismatch,
        TokenError::CertificateRequired,
        TokenError::CertificateMismatch,
        TokenError::Malformed("expected three dot-separated segments"),
        TokenError::Malformed("header is not base64url"),
        TokenError::Malformed("header is not a valid JSON object"),
        TokenError::Malformed("claims are not base64url"),
        TokenError::Malformed("claims are not UTF-8"),
        TokenError::Malformed("claims could not be indexed"),
        TokenError::Malformed("claims are not a JSON object"),
        TokenError::Malformed("claims are not a valid JSON object"),
        TokenError::Malformed("claims contain a duplicated member"),
        TokenError::Malformed("signature is not base64url"),
        TokenError::Malformed("not an RFC 6750 b64token"),
    ];
    let claims = [
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "sub",
        "jti",
        "client_id",
        "azp",
        "scope",
        "scp",
        "tid",
    ];
    let claim_errors = claims
        .iter()
        .flat_map(|&c| [TokenError::MissingClaim(c), TokenError::InvalidClaim(c)]);
    let mut covered = std::collections::HashSet::new();
    for err in errors.into_iter().chain(claim_errors) {
        let code = if err == TokenError::DpopKeyMismatch {
            ErrorCode::InvalidDpopProof
        } else {
            ErrorCode::InvalidToken
        };
        let Some(reason) = super::reason::Reason::of(&err) else {
            // Only the claims no rule of the crate reports missing.
            assert!(
                matches!(
                    err,
                    TokenError::MissingClaim("nbf" | "iat" | "jti" | "azp" | "scope" | "scp")
                ),
                "{err:?} has no reason"
            );
            continue;
        };
        assert_eq!(reason.code(), code, "{err:?}");
        assert_eq!(reason.description(), err.to_string(), "{err:?}");
        let r = Rejection::from(err.clone());
        assert_eq!((r.code(), r.description()), (code, &*err.to_string()));
        covered.insert(reason);
    }
    // Errors without a fixed description keep theirs, and no reason.
    for err in [
        TokenError::Malformed("something new"),
        TokenError::MissingClaim("(required by configuration)"),
        TokenError::Rejected(Cow::Borrowed("tenant suspended")),
    ] {
        let r = Rejection::from(err.clone());
        assert_eq!(r.reason(), None);
        assert_eq!(r.description(), err.to_string());
    }
    // The reasons no token error stands for: the sources' and the layer's own.
    let own = [
        (
            Reason::MissingCredentials,
            ErrorCode::Unauthorized,
            "bearer token required",
        ),
        (
            Reason::TwoAuthorizationHeaders,
            ErrorCode::InvalidRequest,
            "more than one Authorization header",
        ),
        (
            Reason::BearerWithoutToken,
            ErrorCode::InvalidRequest,
            "Bearer scheme without a token",
        ),
        (
            Reason::DpopWithoutToken,
            ErrorCode::InvalidRequest,
            "DPoP scheme without a token",
        ),
        (
            Reason::MalformedAuthorization,
            ErrorCode::InvalidRequest,
            "malformed authorization header",
        ),
        (
            Reason::MalformedBearerToken,
            ErrorCode::InvalidRequest,
            "malformed bearer token",
        ),
        (
            Reason::MalformedDpopToken,
            ErrorCode::InvalidRequest,
            "malformed DPoP token",
        ),
        (
            Reason::TwoWays,
            ErrorCode::InvalidRequest,
            "token presented in more than one way",
        ),
        (
            Reason::TwoTokenHeaders,
            ErrorCode::InvalidRequest,
            "more than one token header",
        ),
        (
            Reason::MalformedTokenHeader,
            ErrorCode::InvalidRequest,
            "malformed token header",
        ),
        (
            Reason::TwoTokenCookies,
            ErrorCode::InvalidRequest,
            "more than one token cookie",
        ),
        (Reason::EmptyToken, ErrorCode::InvalidRequest, "empty token"),
        (
            Reason::TwoQueryTokens,
            ErrorCode::InvalidRequest,
            "more than one access_token parameter",
        ),
        (
            Reason::MalformedQueryToken,
            ErrorCode::InvalidRequest,
            "malformed access_token parameter",
        ),
        (
            Reason::EmptyQueryToken,
            ErrorCode::InvalidRequest,
            "empty access_token parameter",
        ),
        (
            Reason::CrossSite,
            ErrorCode::AccessDenied,
            "cross-site request refused",
        ),
        (
            Reason::DpopRequired,
            ErrorCode::InvalidToken,
            "this resource requires DPoP-bound tokens (Authorization: DPoP)",
        ),
        (
            Reason::CertificateHeaderUntrusted,
            ErrorCode::InvalidRequest,
            "client certificate header from an untrusted peer",
        ),
        (
            Reason::TwoCertificateHeaders,
            ErrorCode::InvalidRequest,
            "more than one client certificate header",
        ),
        (
            Reason::MalformedCertificateHeader,
            ErrorCode::InvalidRequest,
            "malformed client certificate header",
        ),
    ];
    for (reason, code, description) in own {
        assert_eq!((reason.code(), reason.description()), (code, description));
        covered.insert(reason);
    }
    assert_eq!(covered.len(), Reason::COUNT, "every reason is checked");
}

/// A rejection with per-request parts (a scope, a nonce, a retry hint) or a custom format is
/// rendered every time, never taken from the answers of an earlier one.
#[test]
fn per_request_parts_are_not_reused() {
    use super::render::Render;
    use bytes::Bytes;

    let render = Render::default();
    let plain = Rejection::missing_credentials();
    let _: http::Response<Bytes> = render.respond(&plain);
    let scoped = Rejection::missing_credentials().with_scope(Some("users:read".into()));
    let r: http::Response<Bytes> = render.respond(&scoped);
    assert_eq!(
        r.headers()[http::header::WWW_AUTHENTICATE],
        "Bearer scope=\"users:read\""
    );
    let nonce = Rejection::fixed(Reason::InvalidSignature).with_nonce("n-1".into());
    let r: http::Response<Bytes> = render.respond(&nonce);
    assert_eq!(r.headers()["dpop-nonce"], "n-1");

    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let custom = Render {
        format: ErrorFormat::custom(move |r: &Rejection| {
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            http::Response::new(Bytes::from(format!("{} #{n}", r.description())))
        }),
        ..Render::default()
    };
    for n in 0..2 {
        let r: http::Response<Bytes> = custom.respond(&plain);
        assert_eq!(r.body(), &format!("bearer token required #{n}"));
    }
}
