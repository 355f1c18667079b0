//! Known attacks on JWT bearer authentication, each a named test. Every token is answered
//! 401 `invalid_token` (400 where RFC 6750 says so), the protected handler is never called,
//! and nothing panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::testing::{keys, TestIssuer, TEST_AUDIENCE, TEST_ISSUER};
use tower_bearer::{Algorithm, BearerLayer, ConfigError, Key, TypPolicy, Validator};

/// A protected route whose handler counts the requests that reach it.
struct Target {
    app: Router,
    reached: Arc<AtomicUsize>,
}

/// Every `tracing` event of this test binary, to prove no token ever reaches the logs.
fn logs() -> &'static Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: Arc<std::sync::Mutex<Vec<u8>>> = Arc::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Target {
    fn new(validator: Validator) -> Self {
        logs();
        let reached = Arc::new(AtomicUsize::new(0));
        let r = reached.clone();
        let app = Router::new()
            .route(
                "/",
                get(move || {
                    r.fetch_add(1, Ordering::SeqCst);
                    async { "secret data" }
                }),
            )
            .layer(BearerLayer::new(validator));
        Self { app, reached }
    }

    /// Send `token`; assert it is refused with `status` and `error`, and never reached.
    async fn refuses(&self, token: &str, status: StatusCode, error: &str) {
        let req = Request::get("/")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let got = resp.status();
        let challenge = resp.headers().get("www-authenticate").cloned();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let shown: String = token.chars().take(60).collect();
        assert_eq!(got, status, "{shown}…: {v}");
        assert_eq!(v["error"], error, "{shown}…");
        assert!(challenge.unwrap().to_str().unwrap().contains(error));
        assert_eq!(
            self.reached.load(Ordering::SeqCst),
            0,
            "the handler was reached"
        );
        let logs = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
        assert!(
            logs.contains("bearer request rejected"),
            "the rejection was logged"
        );
        for segment in token.split(['.', ' ']).filter(|s| s.len() >= 16) {
            assert!(!logs.contains(segment), "a token segment reached the logs");
        }
    }

    async fn invalid(&self, token: &str) {
        self.refuses(token, StatusCode::UNAUTHORIZED, "invalid_token")
            .await;
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn good_claims() -> Value {
    json!({"iss": TEST_ISSUER, "aud": TEST_AUDIENCE, "sub": "attacker", "exp": 9_999_999_999u64, "scope": "admin"})
}

/// Sign raw header and claims JSON text with the test issuer's P-256 key (ES256), through
/// jsonwebtoken's own signer.
fn es256_raw(header: &str, claims: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_pem(keys::P256_PRIVATE.as_bytes()).unwrap();
    sign_raw(&key, jsonwebtoken::Algorithm::ES256, header, claims)
}

fn sign_raw(
    key: &jsonwebtoken::EncodingKey,
    alg: jsonwebtoken::Algorithm,
    header: &str,
    claims: &str,
) -> String {
    use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    let msg = format!("{}.{}", b64(header), b64(claims));
    let signer = (DEFAULT_PROVIDER.signer_factory)(&alg, key).unwrap();
    let sig = jsonwebtoken::signature::Signer::try_sign(&*signer, msg.as_bytes()).unwrap();
    format!("{msg}.{}", b64(sig))
}

fn hs256_with_secret(secret: &[u8], header: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    sign_raw(
        &key,
        jsonwebtoken::Algorithm::HS256,
        &header.to_string(),
        &good_claims().to_string(),
    )
}

#[tokio::test]
async fn alg_none_in_every_spelling() {
    let t = Target::new(TestIssuer::new().validator());
    let claims = b64(good_claims().to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string());
        t.invalid(&format!("{header}.{claims}.")).await;
        t.invalid(&format!("{header}.{claims}")).await;
        t.invalid(&format!("{header}.{claims}.{}", b64("sig")))
            .await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_against_every_loader() {
    let rsa_pem = keys::RSA_PUBLIC;
    let rsa_der = STANDARD
        .decode(
            rsa_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let rs = TestIssuer::with_algorithm(Algorithm::RS256);
    let jwks = rs.jwks();
    let jwk: Value = serde_json::from_str::<Value>(&jwks).unwrap()["keys"][0].clone();
    let n = jwk["n"].as_str().unwrap().to_owned();
    let pkcs1_pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        STANDARD.encode(&rsa_der[24..])
    );
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", rsa_pem.as_bytes().to_vec()),
        (
            "SPKI PEM without trailing newline",
            rsa_pem.trim_end().as_bytes().to_vec(),
        ),
        ("PKCS#1 PEM", pkcs1_pem.as_bytes().to_vec()),
        ("DER", rsa_der.clone()),
        ("JWK n (text)", n.as_bytes().to_vec()),
        ("JWK n (bytes)", URL_SAFE_NO_PAD.decode(&n).unwrap()),
        ("EC PEM", keys::P256_PUBLIC.as_bytes().to_vec()),
    ];
    let base = || {
        Validator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
    };
    let loaders = [
        (
            "rsa_pem",
            base().rsa_pem(rsa_pem, Algorithm::RS256).build().unwrap(),
        ),
        (
            "rsa_der",
            base()
                .key(Key::rsa_der(&rsa_der, Algorithm::RS256).unwrap())
                .build()
                .unwrap(),
        ),
        ("jwk", base().jwk(&jwk.to_string()).build().unwrap()),
        ("jwks", base().jwks_json(&jwks).build().unwrap()),
        ("ec_pem", base().ec_pem(keys::P256_PUBLIC).build().unwrap()),
    ];
    for (loader, validator) in loaders {
        let t = Target::new(validator);
        for (what, secret) in &secrets {
            for header in [
                json!({"alg": "HS256"}),
                json!({"alg": "HS256", "kid": "test-rs256"}),
            ] {
                let token = hs256_with_secret(secret, header);
                t.invalid(&token).await;
                let _ = (loader, what);
            }
        }
    }
}

#[tokio::test]
async fn an_algorithm_other_than_the_keys_own() {
    let t = Target::new(TestIssuer::with_algorithm(Algorithm::RS256).validator());
    for alg in [
        Algorithm::PS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS512,
    ] {
        let other = TestIssuer::with_algorithm(alg);
        t.invalid(&other.token().header("kid", "test-rs256").sign())
            .await;
    }
    let p256 = Target::new(TestIssuer::new().validator());
    p256.invalid(&TestIssuer::new().token().header("alg", "ES384").sign())
        .await;
}

#[tokio::test]
async fn hostile_kid_values() {
    let issuer = TestIssuer::new();
    let t = Target::new(issuer.validator_builder().build().unwrap());
    for kid in [
        "../../../../etc/passwd".to_owned(),
        "' OR '1'='1' --".to_owned(),
        "test-es256\u{0}".to_owned(),
        "k".repeat(4000),
        "\u{202e}test-es256".to_owned(),
    ] {
        t.invalid(&issuer.token().forged().header("kid", kid).sign())
            .await;
    }
    // Bytes that are not UTF-8 in the header JSON.
    let mut header = br#"{"alg":"ES256","kid":"x"#.to_vec();
    header.extend_from_slice(&[0xff, 0xfe]);
    header.extend_from_slice(br#""}"#);
    let token = format!(
        "{}.{}.{}",
        b64(&header),
        b64(good_claims().to_string()),
        b64([0u8; 64])
    );
    t.invalid(&token).await;
}

#[tokio::test]
async fn jku_x5u_x5c_and_embedded_jwk_are_never_followed_or_trusted() {
    // A listener the headers point at: it must never see a connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let c = connections.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    let issuer = TestIssuer::new();
    let forger = TestIssuer::with_algorithm(Algorithm::ES256); // same kid, other key via forged()
    let attacker_jwks: Value = serde_json::from_str(&forger.jwks()).unwrap();
    let t = Target::new(issuer.validator());
    let url = format!("http://{addr}/jwks.json");
    for (name, value) in [
        ("jku", json!(url)),
        ("x5u", json!(url)),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
        ("jwk", attacker_jwks["keys"][0].clone()),
    ] {
        t.invalid(&issuer.token().forged().header(name, value.clone()).sign())
            .await;
        t.invalid(
            &issuer
                .token()
                .forged()
                .without_header("kid")
                .header(name, value)
                .sign(),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a header URL was fetched"
    );
}

#[tokio::test]
async fn time_claims_of_every_wrong_kind() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    t.invalid(&i.token().expired().sign()).await;
    t.invalid(&i.token().not_before(3600).sign()).await;
    t.invalid(&i.token().claim("iat", 9_999_999_999u64).sign())
        .await;
    for (name, value) in [
        ("exp", json!("9999999999")),
        ("exp", json!(true)),
        ("exp", json!(-1)),
        ("exp", json!(1e20)),
        ("exp", json!(null)),
        ("nbf", json!("0")),
        ("nbf", json!(false)),
        ("nbf", json!(-100)),
        ("iat", json!("0")),
        ("iat", json!([1])),
        ("iat", json!(1e300)),
    ] {
        t.invalid(&i.token().claim(name, value).sign()).await;
    }
}

#[tokio::test]
async fn missing_and_mistyped_issuer_and_audience() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    for name in ["iss", "aud", "exp"] {
        t.invalid(&i.token().without_claim(name).sign()).await;
    }
    for (name, value) in [
        ("iss", json!(123)),
        ("iss", json!([TEST_ISSUER])),
        ("iss", json!({"iss": TEST_ISSUER})),
        ("aud", json!(123)),
        ("aud", json!([1, 2])),
        ("aud", json!({"aud": TEST_AUDIENCE})),
        ("aud", json!(["someone-else", "another"])),
        ("aud", json!([])),
    ] {
        t.invalid(&i.token().claim(name, value).sign()).await;
    }
}

#[tokio::test]
async fn an_id_token_presented_as_an_access_token() {
    let i = TestIssuer::new();
    // An ID token's audience is the client, not this API.
    let id_token = i
        .token()
        .claim("aud", "my-spa-client")
        .header("typ", "JWT")
        .claim("nonce", "n")
        .sign();
    Target::new(i.validator()).invalid(&id_token).await;
    // Strict RFC 9068 mode also refuses it by its type, even for our audience.
    let strict = i
        .validator_builder()
        .typ(TypPolicy::Strict)
        .build()
        .unwrap();
    let same_aud = i.token().header("typ", "JWT").sign();
    Target::new(strict).invalid(&same_aud).await;
}

#[tokio::test]
async fn disallowed_typ_unknown_crit_and_bound_tokens() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    for typ in [
        json!("id+jwt"),
        json!("dpop+jwt"),
        json!("logout+jwt"),
        json!(1),
    ] {
        t.invalid(&i.token().header("typ", typ).sign()).await;
    }
    t.invalid(
        &i.token()
            .header("crit", ["b64"])
            .header("b64", false)
            .sign(),
    )
    .await;
    t.invalid(&i.token().header("crit", json!([])).sign()).await;
    // `null` is not "absent": RFC 7515 §4.1.11 makes `crit` an array when present.
    t.invalid(&i.token().header("crit", json!(null)).sign())
        .await;
    t.invalid(
        &i.token()
            .claim(
                "cnf",
                json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
            )
            .sign(),
    )
    .await;
    t.invalid(&i.token().claim("cnf", json!({"x5t#S256": "abc"})).sign())
        .await;
}

#[tokio::test]
async fn duplicate_json_members() {
    let t = Target::new(TestIssuer::new().validator());
    let claims = good_claims().to_string();
    // Header: a second alg, and a second kid.
    t.invalid(&es256_raw(
        r#"{"alg":"ES256","kid":"test-es256","alg":"none"}"#,
        &claims,
    ))
    .await;
    t.invalid(&es256_raw(
        r#"{"alg":"ES256","kid":"nope","kid":"test-es256"}"#,
        &claims,
    ))
    .await;
    // Claims: a second exp (the first expired), a second aud.
    let dup_exp =
        format!(r#"{{"iss":"{TEST_ISSUER}","aud":"{TEST_AUDIENCE}","exp":1,"exp":9999999999}}"#);
    t.invalid(&es256_raw(
        r#"{"alg":"ES256","kid":"test-es256"}"#,
        &dup_exp,
    ))
    .await;
    let dup_aud = format!(
        r#"{{"iss":"{TEST_ISSUER}","aud":"other","aud":"{TEST_AUDIENCE}","exp":9999999999}}"#
    );
    t.invalid(&es256_raw(
        r#"{"alg":"ES256","kid":"test-es256"}"#,
        &dup_aud,
    ))
    .await;
    // Sanity: the same signer with no duplicates is accepted.
    let ok = es256_raw(r#"{"alg":"ES256","kid":"test-es256"}"#, &claims);
    assert!(TestIssuer::new().validator().validate(&ok).is_ok());
}

#[tokio::test]
async fn non_canonical_base64url() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    let token = i.token().sign();
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    // Padding: at the end it is still a b64token (401); inside it is not even that (400).
    t.invalid(&format!("{h}.{p}.{s}==")).await;
    t.refuses(
        &format!("{h}==.{p}.{s}"),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    // The standard alphabet instead of the URL-safe one.
    let std_sig = STANDARD.encode(URL_SAFE_NO_PAD.decode(s).unwrap());
    if std_sig.contains(['+', '/']) {
        t.invalid(&format!("{h}.{p}.{}", std_sig.trim_end_matches('=')))
            .await;
    }
    t.invalid(&format!("{h}.{p}.{}+", &s[..s.len() - 1])).await;
    // Trailing bits: a 64-byte signature is 86 characters with 4 unused bits in the last one.
    let last = s.as_bytes()[s.len() - 1];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.iter().position(|&c| c == last).unwrap();
    let tweaked = alphabet[(idx & !0b1111) | ((idx + 1) & 0b1111)] as char;
    t.invalid(&format!("{h}.{p}.{}{tweaked}", &s[..s.len() - 1]))
        .await;
    // Whitespace inside a segment is not even a b64token: 400.
    t.refuses(
        &format!("{h}.{p} .{s}"),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn psychic_ecdsa_signature() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    let token = i.token().sign();
    let (msg, _) = token.rsplit_once('.').unwrap();
    t.invalid(&format!("{msg}.{}", b64([0u8; 64]))).await;
    let p384 = TestIssuer::with_algorithm(Algorithm::ES384);
    let token = p384.token().sign();
    let (msg, _) = token.rsplit_once('.').unwrap();
    Target::new(p384.validator())
        .invalid(&format!("{msg}.{}", b64([0u8; 96])))
        .await;
}

#[tokio::test]
async fn truncated_and_extended_signatures() {
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let i = TestIssuer::with_algorithm(alg);
        let t = Target::new(i.validator());
        let token = i.token().sign();
        let (msg, sig) = token.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        t.invalid(&format!("{msg}.{}", b64(&bytes[..bytes.len() - 1])))
            .await;
        t.invalid(&format!("{msg}.{}", b64(&bytes[..bytes.len() / 2])))
            .await;
        let mut longer = bytes.clone();
        longer.push(0);
        t.invalid(&format!("{msg}.{}", b64(&longer))).await;
        t.invalid(&format!("{msg}.")).await;
    }
}

#[tokio::test]
async fn wrong_number_of_segments() {
    let i = TestIssuer::new();
    let t = Target::new(i.validator());
    let token = i.token().sign();
    let parts: Vec<&str> = token.split('.').collect();
    t.invalid(&format!("{}.{}", parts[0], parts[1])).await;
    t.invalid(&format!("{token}.{}", parts[2])).await;
    t.invalid(&format!("{token}.{}.{}.{}", parts[0], parts[1], parts[2]))
        .await;
    t.invalid(parts[0]).await;
}

#[tokio::test]
async fn a_megabyte_token_is_refused_before_parsing() {
    let i = TestIssuer::new();
    let token = format!("{}.{}", "a".repeat(1 << 20), i.token().sign());
    assert_eq!(
        i.validator().validate(&token).unwrap_err(),
        tower_bearer::TokenError::TooLong
    );
    // Through the layer the cap also comes before the b64token grammar check.
    let junk = "\"".repeat(1 << 20);
    let req = Request::get("/")
        .header("authorization", format!("Bearer {junk}"))
        .body(Body::empty())
        .unwrap();
    let t = Target::new(i.validator());
    let resp = t.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.reached.load(Ordering::SeqCst), 0);
}

#[test]
fn rsa_keys_under_2048_bits_are_refused_at_configuration() {
    for bits in [512usize, 1024, 2040] {
        let mut n = vec![0xFFu8; bits / 8];
        n[0] = 0xC0;
        let jwk = json!({"kty": "RSA", "n": b64(&n), "e": "AQAB"});
        assert!(
            matches!(Key::jwk(&jwk.to_string()), Err(ConfigError::WeakRsaKey { bits: b }) if b == bits),
            "{bits}"
        );
    }
}

/// RFC 9110 auth-param parsing of a `Bearer` challenge: name=token or name="quoted-string".
fn parse_challenge(value: &str) -> Vec<(String, String)> {
    let rest = value.strip_prefix("Bearer").expect("Bearer scheme");
    let mut out = Vec::new();
    let mut chars = rest.trim_start().chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{name:?}"
        );
        assert_eq!(chars.next(), Some('"'), "quoted value expected");
        let mut v = String::new();
        loop {
            match chars.next().expect("unterminated quoted-string") {
                '"' => break,
                '\\' => v.push(chars.next().expect("dangling escape")),
                c => {
                    assert!(
                        c == ' ' || c == '\t' || c.is_ascii_graphic(),
                        "bad char {c:?}"
                    );
                    v.push(c)
                }
            }
        }
        out.push((name.trim().to_owned(), v));
        match chars.next() {
            None => break,
            Some(',') => {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            Some(c) => panic!("unexpected {c:?} after a parameter"),
        }
    }
    out
}

#[tokio::test]
async fn header_injection_through_claims_and_configuration() {
    let i = TestIssuer::new();
    let evil = "x\"\\\r\nSet-Cookie: session=stolen; é \u{7f}";
    let validator = i
        .validator_builder()
        .check(move |c| match c.get::<String>("tenant") {
            Ok(Some(t)) => Err(format!("tenant {t} not allowed").into()),
            _ => Ok(()),
        })
        .build()
        .unwrap();
    let app: Router = Router::new()
        .route("/", get(|| async { "x" }))
        .layer(BearerLayer::new(validator).realm(evil));
    let token = i.token().claim("tenant", evil).sign();
    let req = Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("set-cookie").is_none());
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!challenge.contains('\r') && !challenge.contains('\n'));
    let params = parse_challenge(&challenge);
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["realm", "error", "error_description"]);
    assert!(
        !params[2].1.contains('"') && !params[2].1.contains('\\'),
        "RFC 6750 forbids them here"
    );
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&body).expect("the body stays valid JSON");
    assert_eq!(v["error"], "invalid_token");
    assert_eq!(v["error_description"], format!("tenant {evil} not allowed"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_as_a_token_never_panic_and_never_authenticate(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let validator = TestIssuer::new().validator();
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(validator.validate(&text).is_err());
    }

    #[test]
    fn any_token_shaped_input_never_authenticates(
        h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,200}", s in "[A-Za-z0-9_-]{0,120}"
    ) {
        let validator = TestIssuer::new().validator();
        let token = format!("{}.{}.{}", h, p, s);
        prop_assert!(validator.validate(&token).is_err());
    }

    #[test]
    fn any_header_value_gets_a_well_formed_answer(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let Ok(value) = http::HeaderValue::from_bytes(&bytes) else { return Ok(()); };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let t = Target::new(TestIssuer::new().validator());
        let req = Request::get("/").header("authorization", value).body(Body::empty()).unwrap();
        let resp = rt.block_on(t.app.clone().oneshot(req)).unwrap();
        prop_assert!(matches!(resp.status().as_u16(), 400 | 401));
        prop_assert_eq!(t.reached.load(Ordering::SeqCst), 0);
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
        parse_challenge(&challenge);
    }

    #[test]
    fn rendered_challenges_parse_back(realm in any::<String>(), description in any::<String>()) {
        let r = tower_bearer::Rejection::new(tower_bearer::ErrorCode::InvalidToken, description);
        let v = r.www_authenticate(Some(&realm)).expect("a challenge");
        let params = parse_challenge(v.to_str().unwrap());
        prop_assert_eq!(params.len(), 3);
    }
}

#[test]
fn no_secret_in_debug_or_display() {
    let secret = b"an HMAC secret that must never be printed!!";
    let validator = Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .hmac_secret(secret, Algorithm::HS256)
        .rsa_pem(keys::RSA_PUBLIC, Algorithm::RS256)
        .build()
        .unwrap();
    let pem_body: String = keys::RSA_PUBLIC
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let printed = [
        format!("{validator:?}"),
        format!("{:?}", Key::hmac(secret, Algorithm::HS256).unwrap()),
        format!(
            "{:?}",
            Key::rsa_pem(keys::RSA_PUBLIC, Algorithm::RS256).unwrap()
        ),
        format!("{:?}", BearerLayer::new(validator.clone())),
    ];
    let secret_text = String::from_utf8_lossy(secret).into_owned();
    for p in &printed {
        assert!(
            !p.contains(&secret_text) && !p.contains(&pem_body[..40]),
            "{p}"
        );
        assert!(
            !p.contains(&b64(secret)) && !p.contains(&STANDARD.encode(secret)),
            "{p}"
        );
    }
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let auth = issuer.validator().validate(&token).unwrap();
    let sig = token.rsplit('.').next().unwrap();
    for p in [format!("{:?}", auth), format!("{:?}", auth.claims())] {
        assert!(!p.contains(sig) && !p.contains(&token), "{p}");
    }
    let err = issuer
        .validator()
        .validate(&issuer.token().forged().sign())
        .unwrap_err();
    let rejection = tower_bearer::Rejection::from(err.clone());
    for p in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{rejection:?}"),
    ] {
        assert!(!p.contains(sig), "{p}");
    }
    let config = Key::rsa_pem(
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        Algorithm::RS256,
    )
    .unwrap_err();
    assert!(!format!("{config} {config:?}").contains("c2VjcmV0"));
}
