//! RFC 9449 DPoP through an axum `Router`: the happy path for every proof algorithm, the
//! policies (allowed, required, off), challenges, server nonces, and the attacks a DPoP
//! resource server must refuse.

use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::dpop::{Dpop, DpopBuilder};
use tower_bearer::testing::{DpopClient, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer, BearerToken, RequireScopeLayer};

const URL: &str = "https://api.test/users";

struct Answer {
    status: StatusCode,
    challenges: Vec<String>,
    nonce: Option<String>,
    body: Value,
}

fn app(issuer: &TestIssuer, dpop: Option<DpopBuilder>, cache: bool) -> Router {
    let mut builder = issuer.validator_builder();
    if cache {
        builder = builder.token_cache(100);
    }
    let mut layer = BearerLayer::new(builder.build().unwrap());
    if let Some(d) = dpop {
        layer = layer.dpop(d.build().unwrap());
    }
    Router::new()
        .route(
            "/users",
            get(|t: axum::Extension<BearerToken>| async move {
                if t.is_dpop() {
                    "dpop"
                } else {
                    "bearer"
                }
            })
            .route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopeLayer::all(["admin"])),
        )
        .layer(layer)
}

async fn call(app: &Router, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "api.test");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let challenges = resp
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let nonce = resp
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        challenges,
        nonce,
        body,
    }
}

fn bound_token(issuer: &TestIssuer, client: &DpopClient) -> String {
    issuer
        .token()
        .scopes(["users:read"])
        .dpop_bound(client)
        .sign()
}

async fn dpop_call(app: &Router, token: &str, proof: &str) -> Answer {
    let auth = format!("DPoP {token}");
    call(
        app,
        "GET",
        "/users",
        &[("authorization", &auth), ("dpop", proof)],
    )
    .await
}

fn assert_proof_refused(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(a.challenges.len(), 1, "{what}");
    assert!(
        a.challenges[0].starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{what}: {}",
        a.challenges[0]
    );
    assert!(a.challenges[0].contains("algs=\""), "{what}");
    assert_eq!(a.body["error"], "invalid_dpop_proof", "{what}");
}

#[tokio::test]
async fn every_proof_algorithm_is_accepted() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::PS256,
        Algorithm::RS256,
    ] {
        let client = DpopClient::new(alg);
        let token = bound_token(&issuer, &client);
        let a = dpop_call(&app, &token, &client.proof("GET", URL, &token)).await;
        assert_eq!(a.status, StatusCode::OK, "{alg}: {:?}", a.body);
        assert_eq!(a.body, "dpop");
    }
}

#[tokio::test]
async fn replayed_proof_is_refused() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let proof = client.proof("GET", URL, &token);
    assert_eq!(dpop_call(&app, &token, &proof).await.status, StatusCode::OK);
    let again = dpop_call(&app, &token, &proof).await;
    assert_proof_refused(&again, "replay");
    assert!(again.body["error_description"]
        .as_str()
        .unwrap()
        .contains("replayed"));
    // A fresh proof for the same token still works.
    let fresh = client.proof("GET", URL, &token);
    assert_eq!(dpop_call(&app, &token, &fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn replay_is_refused_with_the_token_cache_on_too() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), true);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let proof = client.proof("GET", URL, &token);
    assert_eq!(dpop_call(&app, &token, &proof).await.status, StatusCode::OK);
    assert_proof_refused(&dpop_call(&app, &token, &proof).await, "cached replay");
    // The cached token is still bound: as a bearer token it is refused.
    let bearer = format!("Bearer {token}");
    let a = call(&app, "GET", "/users", &[("authorization", &bearer)]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["error"], "invalid_token");
    // And a proof by another key does not ride on the cache entry.
    let other = DpopClient::new(Algorithm::ES384);
    let a = dpop_call(&app, &token, &other.proof("GET", URL, &token)).await;
    assert_proof_refused(&a, "cached token, other key");
}

#[tokio::test]
async fn proof_must_fit_the_request() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let cases = [
        ("wrong htm", client.proof("POST", URL, &token)),
        ("lowercase htm", client.proof("get", URL, &token)),
        (
            "other path",
            client.proof("GET", "https://api.test/admin", &token),
        ),
        (
            "other host",
            client.proof("GET", "https://evil.test/users", &token),
        ),
        (
            "other scheme",
            client.proof("GET", "http://api.test/users", &token),
        ),
        (
            "other port",
            client.proof("GET", "https://api.test:8443/users", &token),
        ),
        ("proof for another token", {
            let other = issuer
                .token()
                .scopes(["users:read"])
                .subject("someone-else")
                .dpop_bound(&client)
                .sign();
            assert_ne!(other, token);
            client.proof("GET", URL, &other)
        }),
        (
            "stale iat",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .issued_in(-120)
                .sign(),
        ),
        (
            "iat in the future",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .issued_in(60)
                .sign(),
        ),
        ("no ath", client.proof_builder("GET", URL).sign()),
        (
            "no jti",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .without_claim("jti")
                .sign(),
        ),
        (
            "iat as a string",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .claim("iat", "now")
                .sign(),
        ),
    ];
    for (what, proof) in cases {
        assert_proof_refused(&dpop_call(&app, &token, &proof).await, what);
    }
}

#[tokio::test]
async fn htu_is_compared_after_normalisation_without_query() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    for htu in [
        "HTTPS://API.test:443/users",
        "https://api.test/users?page=2",
        "https://api.test/users#frag",
        "https://api.test/./users",
        "https://api.test/%75sers",
    ] {
        let a = dpop_call(&app, &token, &client.proof("GET", htu, &token)).await;
        assert_eq!(a.status, StatusCode::OK, "{htu}: {:?}", a.body);
    }
}

#[tokio::test]
async fn malformed_or_dangerous_proofs_are_refused() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let mut with_private = client.jwk().clone();
    with_private.insert("d".into(), Value::String("AAAA".into()));
    let rsa_client = DpopClient::new(Algorithm::RS256);
    let cases = [
        (
            "private key in jwk",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("jwk", &with_private)
                .sign(),
        ),
        (
            "HMAC proof",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .sign_hmac(b"0123456789abcdef0123456789abcdef"),
        ),
        ("alg none", {
            let p = client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("alg", "none")
                .sign();
            let mut parts: Vec<&str> = p.split('.').collect();
            parts[2] = "";
            parts.join(".")
        }),
        (
            "typ JWT",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("typ", "JWT")
                .sign(),
        ),
        ("no jwk", {
            let b = client.proof_builder("GET", URL).access_token(&token);
            b.header("jwk", Value::Null).sign()
        }),
        (
            "jwk of another key than the signer",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("jwk", rsa_client.jwk())
                .sign(),
        ),
        (
            "alg that does not fit the jwk",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("alg", "ES384")
                .sign(),
        ),
        (
            "crit header",
            client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header("crit", ["exp"])
                .sign(),
        ),
        (
            "RSA jwk with an empty modulus",
            rsa_client
                .proof_builder("GET", URL)
                .access_token(&token)
                .header(
                    "jwk",
                    serde_json::json!({"kty": "RSA", "n": "", "e": "AQAB"}),
                )
                .sign(),
        ),
        ("not a JWS", "not-a-proof".to_owned()),
        ("tampered claims", {
            let p = client.proof("GET", URL, &token);
            let other = client.proof("POST", URL, &token);
            let mut parts: Vec<&str> = p.split('.').collect();
            let other_parts: Vec<&str> = other.split('.').collect();
            parts[1] = other_parts[1];
            parts.join(".")
        }),
    ];
    for (what, proof) in cases {
        assert_proof_refused(&dpop_call(&app, &token, &proof).await, what);
    }

    // Two DPoP headers, or none.
    let auth = format!("DPoP {token}");
    let p1 = client.proof("GET", URL, &token);
    let p2 = client.proof("GET", URL, &token);
    let two = call(
        &app,
        "GET",
        "/users",
        &[("authorization", &auth), ("dpop", &p1), ("dpop", &p2)],
    )
    .await;
    assert_proof_refused(&two, "two proofs");
    let none = call(&app, "GET", "/users", &[("authorization", &auth)]).await;
    assert_proof_refused(&none, "no proof");
}

#[tokio::test]
async fn token_and_proof_key_must_match() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let thief = DpopClient::new(Algorithm::EdDSA);
    let token = bound_token(&issuer, &client);
    // A stolen token, presented with the thief's own valid proof.
    let a = dpop_call(&app, &token, &thief.proof("GET", URL, &token)).await;
    assert_proof_refused(&a, "proof by another key");
    assert!(a.body["error_description"]
        .as_str()
        .unwrap()
        .contains("cnf.jkt"));

    // An unbound token cannot be upgraded to DPoP.
    let unbound = issuer.token().scopes(["users:read"]).sign();
    let a = dpop_call(&app, &unbound, &client.proof("GET", URL, &unbound)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["error"], "invalid_token");
    assert!(a.challenges[0].starts_with("DPoP error=\"invalid_token\""));

    // A bound token presented as Bearer (RFC 9449 §7.2).
    let bearer = format!("Bearer {token}");
    let a = call(&app, "GET", "/users", &[("authorization", &bearer)]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["error"], "invalid_token");
    assert!(a.challenges[0].starts_with("Bearer error=\"invalid_token\""));

    // A token bound another way (mTLS) is never accepted, with or without a proof.
    let mtls = issuer
        .token()
        .scopes(["users:read"])
        .claim(
            "cnf",
            serde_json::json!({"jkt": client.jkt(), "x5t#S256": "abc"}),
        )
        .sign();
    let a = dpop_call(&app, &mtls, &client.proof("GET", URL, &mtls)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["error"], "invalid_token");
}

#[tokio::test]
async fn challenges_follow_the_policy() {
    let issuer = TestIssuer::new();
    let client = DpopClient::new(Algorithm::ES256);
    let unbound = issuer.token().scopes(["users:read"]).sign();
    let bearer = format!("Bearer {unbound}");

    // Allowed: bearer tokens work; no credentials gets both challenges.
    let allowed = app(
        &issuer,
        Some(Dpop::allowed().algorithms([Algorithm::ES256, Algorithm::EdDSA])),
        false,
    );
    let a = call(&allowed, "GET", "/users", &[("authorization", &bearer)]).await;
    assert_eq!(
        (a.status, a.body.clone()),
        (StatusCode::OK, Value::from("bearer"))
    );
    let a = call(&allowed, "GET", "/users", &[]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenges, ["Bearer", "DPoP algs=\"ES256 EdDSA\""]);

    // Required: bearer tokens are refused with a DPoP challenge.
    let required = app(
        &issuer,
        Some(Dpop::required().algorithms([Algorithm::ES256])),
        false,
    );
    let a = call(&required, "GET", "/users", &[("authorization", &bearer)]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenges.len(), 1);
    assert!(
        a.challenges[0].starts_with("DPoP error=\"invalid_token\""),
        "{}",
        a.challenges[0]
    );
    assert!(a.challenges[0].ends_with("algs=\"ES256\""));
    let a = call(&required, "GET", "/users", &[]).await;
    assert_eq!(a.challenges, ["DPoP algs=\"ES256\""]);
    let token = bound_token(&issuer, &client);
    let a = dpop_call(&required, &token, &client.proof("GET", URL, &token)).await;
    assert_eq!(a.status, StatusCode::OK);

    // A DPoP request short of scope gets a DPoP insufficient_scope challenge.
    let a = call(
        &required,
        "GET",
        "/admin",
        &[
            ("authorization", &format!("DPoP {token}")),
            (
                "dpop",
                &client.proof("GET", "https://api.test/admin", &token),
            ),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.challenges[0].starts_with("DPoP error=\"insufficient_scope\""),
        "{}",
        a.challenges[0]
    );
    assert!(a.challenges[0].contains("scope=\"admin\""));

    // Off: the DPoP scheme is not understood, and bound tokens are refused as bearer tokens.
    let off = app(&issuer, None, false);
    let a = dpop_call(&off, &token, &client.proof("GET", URL, &token)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenges, ["Bearer"]);
    let a = call(
        &off,
        "GET",
        "/users",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(a.body["error"], "invalid_token");
}

#[tokio::test]
async fn server_nonces() {
    let issuer = TestIssuer::new();
    let app = app(
        &issuer,
        Some(Dpop::required().require_nonce(Duration::from_secs(300))),
        false,
    );
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let first = dpop_call(&app, &token, &client.proof("GET", URL, &token)).await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    assert!(first.challenges[0].starts_with("DPoP error=\"use_dpop_nonce\""));
    assert_eq!(first.body["error"], "use_dpop_nonce");
    let nonce = first.nonce.expect("DPoP-Nonce header");
    let proof = client
        .proof_builder("GET", URL)
        .access_token(&token)
        .claim("nonce", &nonce)
        .sign();
    assert_eq!(dpop_call(&app, &token, &proof).await.status, StatusCode::OK);
    let forged = client
        .proof_builder("GET", URL)
        .access_token(&token)
        .claim("nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .sign();
    let a = dpop_call(&app, &token, &forged).await;
    assert_eq!(a.body["error"], "use_dpop_nonce");
    assert!(a.nonce.is_some());
}

#[tokio::test]
async fn public_base_url_behind_a_proxy() {
    let issuer = TestIssuer::new();
    let app = app(
        &issuer,
        Some(Dpop::required().public_base_url("https://public.example/api/")),
        false,
    );
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    // The proxy strips `/api` and forwards to an internal host.
    let ok = dpop_call(
        &app,
        &token,
        &client.proof("GET", "https://public.example/api/users", &token),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    let internal = dpop_call(&app, &token, &client.proof("GET", URL, &token)).await;
    assert_proof_refused(&internal, "the internal URL is not what clients sign");
}

#[test]
fn bad_configuration_is_refused_at_build_time() {
    for (builder, needle) in [
        (Dpop::allowed().algorithms([]), "at least one"),
        (Dpop::allowed().algorithms([Algorithm::HS256]), "HMAC"),
        (
            Dpop::allowed().public_base_url("api.example.com"),
            "absolute",
        ),
        (
            Dpop::allowed().public_base_url("https://a.test/?x=1"),
            "query",
        ),
        (Dpop::allowed().replay_cache(0), "replay"),
        (Dpop::allowed().proof_lifetime(Duration::ZERO), "lifetime"),
    ] {
        let err = builder.build().unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// Keys that take a while to arrive: the request waits for the fetch.
struct SlowKeys(String, Duration);

impl tower_bearer::remote::Fetch for SlowKeys {
    fn get<'a>(&'a self, _url: &'a str) -> tower_bearer::remote::FetchFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.1).await;
            Ok(tower_bearer::remote::Fetched::new(self.0.clone()))
        })
    }
}

#[tokio::test]
async fn a_proof_that_expires_while_keys_are_fetched_is_refused_not_replayable() {
    let issuer = TestIssuer::new();
    let validator = tower_bearer::Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url("https://issuer.test/jwks")
        .fetcher(SlowKeys(issuer.jwks(), Duration::from_millis(2500)))
        .build()
        .unwrap();
    let dpop = Dpop::allowed()
        .proof_lifetime(Duration::from_secs(1))
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/users", get(|| async { "ok" }))
        .layer(BearerLayer::new(validator).dpop(dpop));
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let proof = client.proof("GET", URL, &token);
    // Two copies of one proof, both waiting for the same (slow) first key fetch.
    let (a, b) = tokio::join!(
        dpop_call(&app, &token, &proof),
        dpop_call(&app, &token, &proof)
    );
    for answer in [&a, &b] {
        assert_proof_refused(answer, "expired while waiting");
    }
    // Keys are loaded now: a fresh proof goes through, and only once.
    let fresh = client.proof("GET", URL, &token);
    assert_eq!(dpop_call(&app, &token, &fresh).await.status, StatusCode::OK);
    assert_proof_refused(&dpop_call(&app, &token, &fresh).await, "replay");
}

#[tokio::test]
async fn htu_under_a_nested_router_is_the_path_the_client_addressed() {
    let issuer = TestIssuer::new();
    let layer = BearerLayer::new(issuer.validator()).dpop(Dpop::required().build().unwrap());
    let inner = Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(layer);
    let app = Router::new().nest("/api", inner);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let auth = format!("DPoP {token}");
    let at_api_users = |proof: String| {
        let app = app.clone();
        let auth = auth.clone();
        async move {
            call(
                &app,
                "GET",
                "/api/users",
                &[("authorization", &auth), ("dpop", &proof)],
            )
            .await
        }
    };
    let ok = at_api_users(client.proof("GET", "https://api.test/api/users", &token)).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    let stripped = at_api_users(client.proof("GET", "https://api.test/users", &token)).await;
    assert_proof_refused(&stripped, "htu of the path inside the nested router");
}

/// The same ES256 JWS with its signature's `s` replaced by `n − s` (P-256 group order): a
/// second valid signature of the same message, which aws-lc accepts.
fn malleate_es256(jws: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    const N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63,
        0x25, 0x51,
    ];
    let (message, sig64) = jws.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig64).unwrap();
    assert_eq!(sig.len(), 64, "ES256 signatures are r || s, 32 bytes each");
    let s = &mut sig[32..];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        s[i] = d.rem_euclid(256) as u8;
    }
    assert_eq!(borrow, 0, "s < n");
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(&sig))
}

#[tokio::test]
async fn an_es256_proof_with_s_negated_is_still_a_replay() {
    let issuer = TestIssuer::new();
    let app = app(&issuer, Some(Dpop::allowed()), false);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    // The other spelling is a valid proof in its own right (high-S is not refused)...
    let proof = client.proof("GET", URL, &token);
    let other = malleate_es256(&proof);
    assert_ne!(other, proof);
    let a = dpop_call(&app, &token, &other).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    // ...but it is the same proof: the replay cache keys on (jkt, jti), not on its bytes.
    let a = dpop_call(&app, &token, &proof).await;
    assert_proof_refused(&a, "original after the malleated spelling");
    assert!(a.body["error_description"]
        .as_str()
        .unwrap()
        .contains("replayed"));
    let proof = client.proof("GET", URL, &token);
    assert_eq!(dpop_call(&app, &token, &proof).await.status, StatusCode::OK);
    let a = dpop_call(&app, &token, &malleate_es256(&proof)).await;
    assert_proof_refused(&a, "malleated replay");
    assert!(a.body["error_description"]
        .as_str()
        .unwrap()
        .contains("replayed"));
}

#[tokio::test]
async fn a_malleated_es256_access_token_is_the_same_token() {
    let issuer = TestIssuer::new();
    let validator = issuer.validator_builder().token_cache(100).build().unwrap();
    let token = issuer.token().scopes(["users:read"]).sign();
    let other = malleate_es256(&token);
    assert_ne!(other, token);
    // Both spellings are valid tokens from the issuer (two cache entries), with the same claims.
    let a = validator.validate(&token).unwrap();
    let b = validator.validate(&other).unwrap();
    assert_eq!(a.claims().json(), b.claims().json());
    assert_eq!(a.scopes(), b.scopes());
    // From the cache too.
    let b = validator.validate(&other).unwrap();
    assert_eq!(a.claims().json(), b.claims().json());
    // A DPoP proof names one spelling (ath): it cannot present the other.
    let app = app(&issuer, Some(Dpop::allowed()), true);
    let client = DpopClient::new(Algorithm::ES256);
    let token = bound_token(&issuer, &client);
    let other = malleate_es256(&token);
    let a = dpop_call(&app, &other, &client.proof("GET", URL, &token)).await;
    assert_proof_refused(&a, "proof for the other spelling");
    let a = dpop_call(&app, &other, &client.proof("GET", URL, &other)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}
