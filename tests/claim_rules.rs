//! The claim rules of the validator, each pinned by a test that a mutant of it would fail:
//! the clock on cache hits, the direction of the leeway, the time claims and required claims
//! of introspection answers, and a `null` required claim.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tower_bearer::introspect::Introspection;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::{TestIssuer, TEST_AUDIENCE, TEST_ISSUER};

#[path = "common/introspection.rs"]
mod introspection;
use introspection::introspection_endpoint;
use tower_bearer::{TokenError, Validator};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const REQUIRED: TokenError = TokenError::MissingClaim("(required by configuration)");

#[test]
fn a_cached_token_still_expires() {
    let issuer = TestIssuer::new();
    let v = issuer
        .validator_builder()
        .token_cache(16)
        .leeway(0)
        .build()
        .unwrap();
    // `exp` is whole seconds: at least one second ahead.
    let token = issuer.token().expires_in(2).sign();
    assert!(v.validate(&token).is_ok());
    assert!(v.validate(&token).is_ok(), "served from the cache");
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(v.validate(&token).unwrap_err(), TokenError::Expired);
}

#[test]
fn the_leeway_extends_exp_nbf_and_iat_and_no_further() {
    let issuer = TestIssuer::new();
    let v = issuer.validator_builder().leeway(30).build().unwrap();
    let check = |token: String| v.validate(&token).map(|_| ());
    assert_eq!(check(issuer.token().expires_in(-10).sign()), Ok(()));
    assert_eq!(
        check(issuer.token().expires_in(-40).sign()),
        Err(TokenError::Expired)
    );
    assert_eq!(check(issuer.token().not_before(10).sign()), Ok(()));
    assert_eq!(
        check(issuer.token().not_before(40).sign()),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(
        check(issuer.token().claim("iat", now() + 10).sign()),
        Ok(())
    );
    assert_eq!(
        check(issuer.token().claim("iat", now() + 40).sign()),
        Err(TokenError::IssuedInFuture)
    );
}

#[test]
fn a_null_required_claim_is_missing() {
    let issuer = TestIssuer::new();
    let v = issuer
        .validator_builder()
        .require_claims(["tenant"])
        .build()
        .unwrap();
    assert!(v
        .validate(&issuer.token().claim("tenant", "t1").sign())
        .is_ok());
    assert_eq!(
        v.validate(&issuer.token().claim("tenant", Value::Null).sign())
            .unwrap_err(),
        REQUIRED
    );
    assert_eq!(v.validate(&issuer.token().sign()).unwrap_err(), REQUIRED);
}

fn answer(changes: Value) -> Value {
    let mut a = json!({
        "active": true,
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "exp": now() + 600,
        "token_type": "Bearer",
    });
    for (k, v) in changes.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

fn introspecting(url: &str, required: &[&str]) -> Validator {
    let intro = Introspection::builder("rs", "secret")
        .endpoint(url)
        .remote_options(
            RemoteOptions::new()
                .allow_http(true)
                .timeout(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .leeway(30)
        .require_claims(required.iter().copied())
        .introspection(intro)
        .build()
        .unwrap()
}

#[tokio::test]
async fn introspection_answers_time_claims() {
    let (url, _) = introspection_endpoint(vec![
        ("nbf-soon", answer(json!({"nbf": now() + 10}))),
        ("nbf-later", answer(json!({"nbf": now() + 40}))),
        ("nbf-text", answer(json!({"nbf": "soon"}))),
        ("nbf-negative", answer(json!({"nbf": -5}))),
        ("iat-soon", answer(json!({"iat": now() + 10}))),
        ("iat-later", answer(json!({"iat": now() + 40}))),
        ("iat-text", answer(json!({"iat": "now"}))),
        ("iat-negative", answer(json!({"iat": -5}))),
        ("exp-recent", answer(json!({"exp": now() - 10}))),
        ("exp-past", answer(json!({"exp": now() - 40}))),
    ])
    .await;
    let v = introspecting(&url, &[]);
    for (token, want) in [
        ("nbf-soon", Ok(())),
        ("nbf-later", Err(TokenError::NotYetValid)),
        ("nbf-text", Err(TokenError::InvalidClaim("nbf"))),
        ("nbf-negative", Err(TokenError::InvalidClaim("nbf"))),
        ("iat-soon", Ok(())),
        ("iat-later", Err(TokenError::IssuedInFuture)),
        ("iat-text", Err(TokenError::InvalidClaim("iat"))),
        ("iat-negative", Err(TokenError::InvalidClaim("iat"))),
        ("exp-recent", Ok(())),
        ("exp-past", Err(TokenError::Expired)),
    ] {
        assert_eq!(v.validate_async(token).await.map(|_| ()), want, "{token}");
    }
}

#[tokio::test]
async fn introspection_answers_required_claims() {
    let (url, _) = introspection_endpoint(vec![
        ("with-jti", answer(json!({"jti": "j1", "tenant": "t1"}))),
        ("no-jti", answer(json!({"tenant": "t1"}))),
        ("null-tenant", answer(json!({"jti": "j1", "tenant": null}))),
        ("no-tenant", answer(json!({"jti": "j1"}))),
    ])
    .await;
    let v = introspecting(&url, &["jti", "tenant"]);
    for (token, want) in [
        ("with-jti", Ok(())),
        ("no-jti", Err(TokenError::MissingClaim("jti"))),
        ("null-tenant", Err(REQUIRED)),
        ("no-tenant", Err(REQUIRED)),
    ] {
        assert_eq!(v.validate_async(token).await.map(|_| ()), want, "{token}");
    }
}

/// RFC 7662 §2.2: `exp` and `iss` are optional in an answer (the issuer vouched for the token
/// itself); present, they are checked like a JWT's.
#[tokio::test]
async fn introspection_answers_may_omit_exp_and_iss() {
    let mut no_iss = answer(json!({}));
    no_iss.as_object_mut().unwrap().remove("iss");
    let mut no_exp = answer(json!({}));
    no_exp.as_object_mut().unwrap().remove("exp");
    let (url, _) = introspection_endpoint(vec![
        ("no-iss", no_iss),
        ("no-exp", no_exp),
        ("other-iss", answer(json!({"iss": "https://other.test"}))),
    ])
    .await;
    let v = introspecting(&url, &[]);
    for (token, want) in [
        ("no-iss", Ok(())),
        ("no-exp", Ok(())),
        ("other-iss", Err(TokenError::IssuerMismatch)),
    ] {
        assert_eq!(v.validate_async(token).await.map(|_| ()), want, "{token}");
    }
}

/// The length cap admits a token of exactly the cap, and nothing longer.
#[test]
fn the_length_cap_is_inclusive() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let at = |cap: usize| {
        issuer
            .validator_builder()
            .max_token_len(cap)
            .build()
            .unwrap()
            .validate(&token)
            .map(|_| ())
    };
    assert_eq!(at(token.len()), Ok(()));
    assert_eq!(at(token.len() - 1), Err(TokenError::TooLong));
}

/// A missing required claim is named in the error, for every registered name.
#[test]
fn a_missing_required_claim_is_named() {
    let issuer = TestIssuer::new();
    for name in ["sub", "nbf", "iat", "jti", "client_id"] {
        let token = issuer.token().without_claim(name).sign();
        let v = issuer
            .validator_builder()
            .require_claims([name])
            .build()
            .unwrap();
        assert_eq!(
            v.validate(&token).map(|_| ()),
            Err(TokenError::MissingClaim(name)),
            "{name}"
        );
    }
}
