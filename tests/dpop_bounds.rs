//! The bounds of a DPoP proof (RFC 9449 §4.3), each at its edge: the proof's size, the
//! length of its `jti`, and the window its `iat` must fall in. A proof one step inside a
//! bound is accepted, one step outside is refused, and a refusal names its reason.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;
use tower_bearer::testing::{DpopClient, ProofBuilder, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer};

const URL: &str = "https://api.test/users";
/// The largest `DPoP` header accepted.
const MAX_PROOF_LEN: usize = 8 * 1024;
const LIFETIME: u64 = 60;
const LEEWAY: u64 = 5;

fn app(issuer: &TestIssuer) -> Router {
    let dpop = Dpop::allowed()
        .proof_lifetime(Duration::from_secs(LIFETIME))
        .leeway(Duration::from_secs(LEEWAY))
        .build()
        .unwrap();
    Router::new()
        .route("/users", get(|| async { "ok" }))
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop))
}

/// The status and `error_description` (empty when accepted) of `GET /users` with `proof`.
async fn call(app: &Router, token: &str, proof: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .uri("/users")
        .header("host", "api.test")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let description = body["error_description"].as_str().unwrap_or("").to_owned();
    (status, description)
}

fn setup() -> (TestIssuer, DpopClient, String, Router) {
    let issuer = TestIssuer::new();
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let app = app(&issuer);
    (issuer, client, token, app)
}

/// A signed proof of exactly `len` bytes, padded with a claim and a header member.
fn proof_of_len(client: &DpopClient, token: &str, len: usize) -> String {
    let make = |header_pad: usize, claim_pad: usize| {
        let mut b: ProofBuilder<'_> = client.proof_builder("GET", URL).access_token(token);
        if header_pad > 0 {
            b = b.header("pad", "h".repeat(header_pad));
        }
        b.claim("pad", "c".repeat(claim_pad)).sign()
    };
    for header_pad in 0..4 {
        let base = make(header_pad, 0).len();
        assert!(base < len, "an unpadded proof is {base} bytes");
        // Each byte of claims adds 4/3 characters of base64url; look around that estimate.
        let estimate = (len - base) * 3 / 4;
        for claim_pad in estimate.saturating_sub(8)..estimate + 8 {
            let proof = make(header_pad, claim_pad);
            if proof.len() == len {
                return proof;
            }
        }
    }
    panic!("no proof of {len} bytes");
}

#[tokio::test]
async fn a_proof_of_exactly_8_kib_is_accepted_and_one_byte_more_is_refused() {
    let (_issuer, client, token, app) = setup();
    let at_cap = proof_of_len(&client, &token, MAX_PROOF_LEN);
    assert_eq!(
        call(&app, &token, &at_cap).await,
        (StatusCode::OK, String::new())
    );
    for len in [MAX_PROOF_LEN + 1, MAX_PROOF_LEN + 100] {
        let over = proof_of_len(&client, &token, len);
        assert_eq!(
            call(&app, &token, &over).await,
            (StatusCode::UNAUTHORIZED, "DPoP proof too long".to_owned()),
            "{len} bytes"
        );
    }
}

#[tokio::test]
async fn jti_is_one_to_256_bytes() {
    let (_issuer, client, token, app) = setup();
    let with_jti = |jti: String| {
        client
            .proof_builder("GET", URL)
            .access_token(&token)
            .claim("jti", jti)
            .sign()
    };
    for ok in ["j".to_owned(), "j".repeat(256)] {
        let proof = with_jti(ok.clone());
        assert_eq!(
            call(&app, &token, &proof).await,
            (StatusCode::OK, String::new()),
            "jti of {} bytes",
            ok.len()
        );
    }
    for bad in [String::new(), "j".repeat(257)] {
        let proof = with_jti(bad.clone());
        assert_eq!(
            call(&app, &token, &proof).await,
            (
                StatusCode::UNAUTHORIZED,
                "DPoP proof jti must be 1 to 256 bytes".to_owned()
            ),
            "jti of {} bytes",
            bad.len()
        );
    }
}

/// Wait, if need be, until a new second has just begun, so that the few requests that follow
/// see the same whole second as the proofs minted for them.
fn at_the_start_of_a_second() {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_millis();
    if ms > 500 {
        std::thread::sleep(Duration::from_millis(u64::from(1000 - ms) + 20));
    }
}

#[tokio::test]
async fn iat_may_be_leeway_ahead_and_lifetime_behind_and_no_further() {
    let (_issuer, client, token, app) = setup();
    let issued = |seconds: i64| {
        client
            .proof_builder("GET", URL)
            .access_token(&token)
            .issued_in(seconds)
            .sign()
    };
    let (leeway, lifetime) = (LEEWAY as i64, LIFETIME as i64);
    at_the_start_of_a_second();
    for ok in [leeway, -lifetime] {
        assert_eq!(
            call(&app, &token, &issued(ok)).await,
            (StatusCode::OK, String::new()),
            "iat {ok} s from now"
        );
    }
    at_the_start_of_a_second();
    assert_eq!(
        call(&app, &token, &issued(leeway + 1)).await,
        (
            StatusCode::UNAUTHORIZED,
            "DPoP proof iat is in the future".to_owned()
        )
    );
    assert_eq!(
        call(&app, &token, &issued(-lifetime - 1)).await,
        (
            StatusCode::UNAUTHORIZED,
            "DPoP proof is too old (iat)".to_owned()
        )
    );
}

/// A negative `iat` is not a NumericDate; zero is one, from long ago.
#[tokio::test]
async fn a_negative_iat_is_not_a_numeric_date_and_zero_is_too_old() {
    let (_issuer, client, token, app) = setup();
    let with_iat = |iat: f64| {
        client
            .proof_builder("GET", URL)
            .access_token(&token)
            .claim("iat", iat)
            .sign()
    };
    for (iat, why) in [
        (-5.0, "DPoP proof iat is not a NumericDate"),
        (-0.5, "DPoP proof iat is not a NumericDate"),
        (0.0, "DPoP proof is too old (iat)"),
    ] {
        assert_eq!(
            call(&app, &token, &with_iat(iat)).await,
            (StatusCode::UNAUTHORIZED, why.to_owned()),
            "iat {iat}"
        );
    }
}
