//! Regression tests for security-audit findings, through the public API.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, TokenError, Validator};

#[path = "common/introspection.rs"]
mod introspection;
use introspection::introspection_endpoint;

/// A JWKS endpoint on 127.0.0.1 serving a body (or an error status) that the test changes,
/// counting requests.
#[derive(Clone)]
struct Jwks {
    body: Arc<Mutex<Result<String, u16>>>,
    hits: Arc<AtomicUsize>,
    addr: SocketAddr,
}

impl Jwks {
    async fn serve(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let e = Self {
            body: Arc::new(Mutex::new(Ok(body))),
            hits: Arc::default(),
            addr: listener.local_addr().unwrap(),
        };
        let router = Router::new()
            .route(
                "/jwks",
                get(|State(e): State<Jwks>| async move {
                    e.hits.fetch_add(1, Ordering::SeqCst);
                    let body = e.body.lock().unwrap().clone();
                    let resp: Response = match body {
                        Ok(b) => (StatusCode::OK, b).into_response(),
                        Err(s) => StatusCode::from_u16(s).unwrap().into_response(),
                    };
                    resp
                }),
            )
            .with_state(e.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        e
    }

    fn set(&self, body: Result<String, u16>) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }
}

fn jwk_of(issuer: &TestIssuer) -> Value {
    let doc: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    doc["keys"][0].clone()
}

fn jwks_doc(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// A valid P-256 public key that no test issuer signs with (the curve's generator point),
/// without a `kid`.
fn anonymous_p256() -> Value {
    json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256",
        "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
        "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    })
}

fn remote_options() -> RemoteOptions {
    RemoteOptions::new()
        .allow_http(true)
        .cooldown(Duration::from_millis(300))
        .backoff(Duration::from_millis(100), Duration::from_millis(200))
        .timeout(Duration::from_millis(500))
}

// Item 1: a key without `kid` must not block rotation.
#[tokio::test]
async fn unknown_kid_refetches_before_any_anonymous_key() {
    let a = TestIssuer::with_algorithm(Algorithm::EdDSA).kid("a");
    let c = TestIssuer::new().kid("new");
    let e = Jwks::serve(jwks_doc(&[jwk_of(&a), anonymous_p256()])).await;
    let v = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .jwks_url(e.url())
        .remote_options(remote_options())
        .build()
        .unwrap();
    v.warm_up().await.unwrap();
    assert!(v.validate_async(&a.token().sign()).await.is_ok());
    // The issuer publishes C and starts signing with it.
    e.set(Ok(jwks_doc(&[jwk_of(&a), anonymous_p256(), jwk_of(&c)])));
    tokio::time::sleep(Duration::from_millis(400)).await; // past the cooldown
    let token = c.token().sign();
    let got = v.validate_async(&token).await.map(|_| ());
    assert_eq!(got, Ok(()), "the new key was not fetched");
    assert_eq!(e.hits(), 2);
}

#[test]
fn unknown_kid_with_named_and_anonymous_keys_is_an_unknown_key() {
    let a = TestIssuer::with_algorithm(Algorithm::EdDSA).kid("a");
    let c = TestIssuer::new().kid("new");
    let v = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .jwks_json(&jwks_doc(&[jwk_of(&a), anonymous_p256()]))
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&c.token().sign()).unwrap_err(),
        TokenError::UnknownKey
    );
    // A set of anonymous keys only: the token's kid cannot be matched, so the one key that
    // fits its algorithm is tried (one signature check).
    let only_anonymous = Validator::builder()
        .issuer(c.issuer_id())
        .audience(c.audience_id())
        .ec_pem(tower_bearer::testing::keys::P256_PUBLIC)
        .build()
        .unwrap();
    assert!(only_anonymous.validate(&c.token().sign()).is_ok());
    assert_eq!(
        only_anonymous
            .validate(&c.token().forged().sign())
            .unwrap_err(),
        TokenError::InvalidSignature
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn active_answer() -> Value {
    json!({
        "active": true,
        "scope": "users:read",
        "sub": "alice",
        "iss": tower_bearer::testing::TEST_ISSUER,
        "aud": tower_bearer::testing::TEST_AUDIENCE,
        "exp": unix_now() + 600,
        "iat": unix_now(),
        "token_type": "Bearer",
    })
}

fn introspecting(url: &str) -> tower_bearer::ValidatorBuilder {
    let intro = tower_bearer::introspect::Introspection::builder("rs", "secret")
        .endpoint(url)
        .remote_options(
            RemoteOptions::new()
                .allow_http(true)
                .timeout(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    Validator::builder()
        .issuer(tower_bearer::testing::TEST_ISSUER)
        .audience(tower_bearer::testing::TEST_AUDIENCE)
        .introspection(intro)
}

/// Status and `WWW-Authenticate` of a request through a `BearerLayer`.
async fn through_layer(v: &Validator, authorization: &str) -> (StatusCode, String) {
    use tower::ServiceExt;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(tower_bearer::BearerLayer::new(v.clone()));
    let req = http::Request::get("/")
        .header("authorization", authorization)
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status(), www)
}

// Item 2 (a): refused active answers are cached like inactive ones.
#[tokio::test]
async fn refused_active_answers_cost_one_endpoint_call() {
    let mut other_aud = active_answer();
    other_aud["aud"] = json!("https://other.api");
    let mut refresh = active_answer();
    refresh["token_type"] = json!("refresh_token");
    let mut check_fails = active_answer();
    check_fails["sub"] = json!("mallory");
    let mut bound = active_answer();
    bound["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
    let (url, calls) = introspection_endpoint(vec![
        ("other-aud", other_aud),
        ("refresh", refresh),
        ("check-fails", check_fails),
        ("dpop-bound", bound),
    ])
    .await;
    let v = introspecting(&url)
        .check(|c| match c.subject() {
            Some("mallory") => Err("not this one".into()),
            _ => Ok(()),
        })
        .build()
        .unwrap();
    for token in ["other-aud", "refresh", "check-fails", "dpop-bound"] {
        let before = calls.load(Ordering::SeqCst);
        for round in 0..3 {
            let (status, www) = through_layer(&v, &format!("Bearer {token}")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token} #{round}");
            assert!(www.contains("invalid_token"), "{token} #{round}: {www}");
        }
        assert_eq!(
            calls.load(Ordering::SeqCst) - before,
            1,
            "{token}: one endpoint call for three requests"
        );
    }
}

// Item 2 (b): a header value that is no b64token never reaches the endpoint.
#[tokio::test]
async fn non_b64token_is_400_and_never_introspected() {
    let (url, calls) = introspection_endpoint(vec![]).await;
    let v = introspecting(&url).build().unwrap();
    let (status, www) = through_layer(&v, r#"Bearer not a "b64token", at all"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{www}");
    assert!(www.contains("invalid_request"), "{www}");
    assert!(v.validate_async("a b").await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "sent to the endpoint");
}

// Item 5: every duration is bounded at build time, with the limit named.
#[test]
fn over_limit_durations_are_config_errors_naming_the_option() {
    let day = Duration::from_secs(24 * 3600);
    let build = |o: RemoteOptions| {
        Validator::builder()
            .issuer("https://issuer.test")
            .audience("https://api.test")
            .jwks_url("https://issuer.test/jwks")
            .remote_options(o)
            .build()
            .map(|_| ())
    };
    let cases: Vec<(&str, RemoteOptions)> = vec![
        (
            "stale_window above 7 days",
            RemoteOptions::new().stale_window(Duration::MAX),
        ),
        (
            "stale_window above 7 days",
            RemoteOptions::new().stale_window(8 * day),
        ),
        (
            "max_ttl above 7 days",
            RemoteOptions::new().max_ttl(Duration::MAX),
        ),
        (
            "default_ttl above 7 days",
            RemoteOptions::new().default_ttl(Duration::MAX - Duration::from_secs(1)),
        ),
        (
            "min_ttl above 7 days",
            RemoteOptions::new().min_ttl(8 * day).max_ttl(8 * day),
        ),
        (
            "backoff above 1 day",
            RemoteOptions::new().backoff(Duration::from_secs(1), Duration::MAX),
        ),
        (
            "cooldown above 1 day",
            RemoteOptions::new().cooldown(Duration::MAX),
        ),
        (
            "timeout above 5 minutes",
            RemoteOptions::new().timeout(Duration::MAX),
        ),
    ];
    for (limit, options) in cases {
        match build(options) {
            Err(tower_bearer::ConfigError::Invalid(msg)) => {
                assert!(msg.contains(limit), "{limit}: {msg}")
            }
            other => panic!("{limit}: {other:?}"),
        }
    }
    // At the limits, everything builds.
    assert!(build(
        RemoteOptions::new()
            .stale_window(7 * day)
            .max_ttl(7 * day)
            .default_ttl(7 * day)
            .cooldown(day)
            .backoff(Duration::from_secs(1), day)
            .timeout(Duration::from_secs(300))
    )
    .is_ok());

    let intro = |b: tower_bearer::introspect::IntrospectionBuilder| {
        b.endpoint("https://issuer.test/introspect")
            .build()
            .map(|_| ())
    };
    let base = || tower_bearer::introspect::Introspection::builder("rs", "secret");
    for (limit, builder) in [
        (
            "max_cache_ttl above 1 day",
            base().max_cache_ttl(Duration::MAX),
        ),
        (
            "inactive_cache_ttl above 1 hour",
            base().inactive_cache_ttl(Duration::MAX),
        ),
        (
            "timeout above 5 minutes",
            base().remote_options(RemoteOptions::new().timeout(Duration::MAX)),
        ),
    ] {
        match intro(builder) {
            Err(tower_bearer::ConfigError::Invalid(msg)) => {
                assert!(msg.contains(limit), "{limit}: {msg}")
            }
            other => panic!("{limit}: {other:?}"),
        }
    }
}

// Item 6: an HMAC secret that is a public key (PEM, JWK, JWKS text) is refused.
#[test]
fn hmac_secret_refuses_public_key_text() {
    use tower_bearer::testing::keys;
    let issuer = TestIssuer::new();
    let jwk = jwk_of(&issuer).to_string();
    let jwks = issuer.jwks();
    let padded_jwk = format!("\n  {jwk}");
    for (secret, hint) in [
        (keys::RSA_PUBLIC, "rsa_pem"),
        (keys::P256_PUBLIC, "ec_pem"),
        (keys::ED25519_PUBLIC, "ed_pem"),
        (keys::RSA_PRIVATE, "rsa_pem"),
        (jwk.as_str(), "jwk"),
        (padded_jwk.as_str(), "jwk"),
        (jwks.as_str(), "jwks_json"),
    ] {
        for alg in [Algorithm::HS256, Algorithm::HS384] {
            let err = Validator::builder()
                .issuer("i")
                .audience("a")
                .hmac_secret(secret, alg)
                .build()
                .unwrap_err()
                .to_string();
            assert!(err.contains(hint), "{hint}: {err}");
            assert!(!err.contains("MII"), "the key is not echoed: {err}");
        }
    }
    // Secrets that merely start with `{` are still secrets.
    assert!(tower_bearer::Key::hmac(
        b"{not json at all, just 32+ random bytes}",
        Algorithm::HS256
    )
    .is_ok());
    assert!(tower_bearer::Key::hmac(
        br#"{"a":"just an object, not a key......"}"#,
        Algorithm::HS256
    )
    .is_ok());
}

const SECRET: &[u8] = b"an HMAC secret for the audit tests, 32+ bytes long";

/// A HS256 token over exactly these claims bytes.
fn hs256(claims: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::Mac as _;
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(message.as_bytes());
    let sig = mac.finalize().into_bytes();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn hs256_validator() -> tower_bearer::ValidatorBuilder {
    Validator::builder()
        .issuer("https://issuer.test")
        .audience("https://api.test")
        .hmac_secret(SECRET, Algorithm::HS256)
}

// Item 7: duplicated top-level claims are refused, on both parsing paths.
#[test]
fn duplicated_custom_claims_are_refused() {
    let v = hs256_validator().build().unwrap();
    let exp = unix_now() + 600;
    let head = format!(r#"{{"iss":"https://issuer.test","aud":"https://api.test","exp":{exp}"#);
    let dup = TokenError::Malformed("claims contain a duplicated member");
    for tail in [
        // The fast path's shape.
        r#","role":"user","role":"admin"}"#,
        r#","role":"user","x":[1,{"role":2}],"role":{"a":1}}"#,
        // Escapes: the serde path; the same name once unescaped.
        r#","r\u006fle":"user","role":"admin"}"#,
        r#","role":"us\u0065r","role":"admin"}"#,
    ] {
        let token = hs256(&format!("{head}{tail}"));
        assert_eq!(v.validate(&token).unwrap_err(), dup, "{tail}");
    }
    // Nested duplicates are the application's business; distinct names pass.
    let ok = hs256(&format!(
        r#"{head},"role":"user","x":{{"a":1}},"y":{{"a":2}}}}"#
    ));
    let auth = v.validate(&ok).unwrap();
    assert_eq!(
        auth.claims().get::<String>("role").unwrap().as_deref(),
        Some("user")
    );
    // Many distinct members (more than the fast path tracks) still pass.
    let many: String = (0..100).map(|i| format!(r#","c{i}":{i}"#)).collect();
    assert!(v.validate(&hs256(&format!("{head}{many}}}"))).is_ok());
    let many_dup = hs256(&format!(r#"{head}{many},"c7":0}}"#));
    assert_eq!(v.validate(&many_dup).unwrap_err(), dup);
}

#[tokio::test]
async fn duplicated_members_in_introspection_answers_are_refused() {
    let raw = format!(
        r#"{{"active":true,"iss":"https://issuer.test","aud":"https://api.test","exp":{},"role":"user","role":"admin"}}"#,
        unix_now() + 600
    );
    let (url, _) = introspection_endpoint(vec![("dup", Value::String(raw))]).await;
    let v = introspecting(&url).build().unwrap();
    assert_eq!(
        v.validate_async("dup").await.unwrap_err(),
        TokenError::Malformed("claims contain a duplicated member")
    );
}

/// Status of a request through a given layer, with the `Authorization` value raw.
async fn status_with(layer: tower_bearer::BearerLayer, authorization: &str) -> StatusCode {
    use tower::ServiceExt;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(layer);
    let req = http::Request::get("/")
        .header("authorization", authorization)
        .body(axum::body::Body::empty())
        .unwrap();
    app.oneshot(req).await.unwrap().status()
}

// Item 8: `Bearer<TAB>token` is a malformed bearer credential, not another scheme.
#[tokio::test]
async fn bearer_followed_by_a_tab_is_invalid_request() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let optional = || tower_bearer::BearerLayer::optional(issuer.validator());
    for value in [
        format!("Bearer\t{token}"),
        format!("bearer\t{token}"),
        "Bearer\t".to_owned(),
        format!("Bearer,{token}"),
    ] {
        assert_eq!(
            status_with(optional(), &value).await,
            StatusCode::BAD_REQUEST,
            "{:?}",
            &value[..value.len().min(8)]
        );
    }
    let dpop = || optional().dpop(tower_bearer::dpop::Dpop::allowed().build().unwrap());
    assert_eq!(
        status_with(dpop(), &format!("DPoP\t{token}")).await,
        StatusCode::BAD_REQUEST
    );
    // Another scheme is still no credentials: the optional layer lets it through.
    assert_eq!(status_with(optional(), "BearerX abc").await, StatusCode::OK);
    assert_eq!(status_with(dpop(), "DPoPx abc").await, StatusCode::OK);
    assert_eq!(
        status_with(optional(), "Basic dXNlcjpwYXNz").await,
        StatusCode::OK
    );
}

// The token cache answers only while the remote key set it was verified under is usable.
#[tokio::test]
async fn token_cache_does_not_outlive_the_stale_window() {
    let issuer = TestIssuer::new();
    let e = Jwks::serve(issuer.jwks()).await;
    let v = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url(e.url())
        .token_cache(16)
        .remote_options(
            remote_options()
                .min_ttl(Duration::ZERO)
                .default_ttl(Duration::from_millis(200))
                .stale_window(Duration::from_millis(600)),
        )
        .build()
        .unwrap();
    v.warm_up().await.unwrap();
    let token = issuer.token().sign();
    assert!(v.validate(&token).is_ok());
    assert!(v.validate(&token).is_ok(), "a cache hit");
    e.set(Err(500));
    // Past time to live and stale window, with the endpoint down.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!v.keys_loaded());
    assert!(
        matches!(v.validate(&token), Err(TokenError::Unavailable { .. })),
        "{:?}",
        v.validate(&token).map(|_| ())
    );
    assert!(matches!(
        v.validate_async(&token).await,
        Err(TokenError::Unavailable { .. })
    ));
}
