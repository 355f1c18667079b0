//! The application's asynchronous claim checks through the layer: a refusal is 401, a
//! failure or a missed deadline is 503 with Retry-After, and a cache hit runs them again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, CheckError, TokenError, ValidatorBuilder};

async fn get_users(app: &Router, token: &str) -> (StatusCode, Option<String>, Value) {
    let req = Request::builder()
        .uri("/users")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        retry,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn app(builder: ValidatorBuilder) -> Router {
    Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(BearerLayer::new(builder.build().unwrap()))
}

/// A check that refuses `jti` "revoked", fails for "db-down", sleeps for "slow", and
/// counts its calls.
fn revocation(issuer: &TestIssuer, calls: &Arc<AtomicUsize>) -> ValidatorBuilder {
    let calls = calls.clone();
    issuer
        .validator_builder()
        .check_deadline(Duration::from_millis(200))
        .check_async(move |claims| {
            calls.fetch_add(1, Ordering::SeqCst);
            let jti = claims.jwt_id().map(str::to_owned);
            async move {
                match jti.as_deref() {
                    Some("revoked") => Err(CheckError::Refused("token revoked".into())),
                    Some("db-down") => Err(CheckError::Unavailable("connection refused".into())),
                    Some("slow") => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
        })
}

#[tokio::test]
async fn refusals_are_401_and_failures_503() {
    let issuer = TestIssuer::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(revocation(&issuer, &calls));
    let token = |jti: &str| issuer.token().claim("jti", jti).sign();

    let (status, _, _) = get_users(&app, &token("fine")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, retry, body) = get_users(&app, &token("revoked")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(retry, None);
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(body["error_description"], "token revoked");

    for jti in ["db-down", "slow"] {
        let (status, retry, body) = get_users(&app, &token(jti)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{jti}");
        assert_eq!(retry.as_deref(), Some("1"), "{jti}");
        assert_eq!(body["error"], "temporarily_unavailable", "{jti}");
        // The server's reason stays in its logs.
        assert!(!body.to_string().contains("connection refused"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_cache_hit_runs_the_checks_again() {
    let issuer = TestIssuer::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(revocation(&issuer, &calls).token_cache(16));
    let token = issuer.token().claim("jti", "revoked").sign();
    for _ in 0..3 {
        assert_eq!(get_users(&app, &token).await.0, StatusCode::UNAUTHORIZED);
    }
    let fine = issuer.token().claim("jti", "fine").sign();
    for _ in 0..3 {
        assert_eq!(get_users(&app, &fine).await.0, StatusCode::OK);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn validate_cannot_wait_and_validate_async_does() {
    let issuer = TestIssuer::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let validator = revocation(&issuer, &calls).build().unwrap();
    let token = issuer.token().claim("jti", "fine").sign();
    assert_eq!(
        validator.validate(&token).unwrap_err(),
        TokenError::CheckUnavailable { retry_after: 1 }
    );
    assert!(validator.validate_async(&token).await.is_ok());
    let revoked = issuer.token().claim("jti", "revoked").sign();
    assert_eq!(
        validator.validate_async(&revoked).await.unwrap_err(),
        TokenError::Rejected("token revoked".into())
    );
    // A token refused by the standard checks never reaches them.
    let expired = issuer.token().claim("jti", "fine").expired().sign();
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(
        validator.validate_async(&expired).await.unwrap_err(),
        TokenError::Expired
    );
    assert_eq!(calls.load(Ordering::SeqCst), before);
}

#[test]
fn the_deadline_is_bounded() {
    let issuer = TestIssuer::new();
    for deadline in [Duration::ZERO, Duration::from_secs(61)] {
        let err = issuer
            .validator_builder()
            .check_deadline(deadline)
            .check_async(|_| async { Ok(()) })
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 60 seconds"), "{err}");
    }
}

/// A check declared cacheable runs once per token within its time-to-live, cache hits
/// included; refusals are not remembered; an ordinary check beside it runs every time.
#[tokio::test]
async fn a_cacheable_check_is_remembered_for_its_ttl_only() {
    let issuer = TestIssuer::new();
    let cached_calls = Arc::new(AtomicUsize::new(0));
    let plain_calls = Arc::new(AtomicUsize::new(0));
    let (c, p) = (cached_calls.clone(), plain_calls.clone());
    let builder = issuer
        .validator_builder()
        .token_cache(100)
        .check_async_cached(Duration::from_millis(1500), move |claims| {
            c.fetch_add(1, Ordering::SeqCst);
            let refused = claims.jwt_id() == Some("revoked");
            async move {
                if refused {
                    Err(CheckError::Refused("token revoked".into()))
                } else {
                    Ok(())
                }
            }
        })
        .check_async(move |_| {
            p.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
    let app = app(builder);
    let a = issuer.token().claim("jti", "a").sign();
    let b = issuer.token().claim("jti", "b").sign();
    for _ in 0..3 {
        assert_eq!(get_users(&app, &a).await.0, StatusCode::OK);
    }
    assert_eq!(
        cached_calls.load(Ordering::SeqCst),
        1,
        "one call for three requests"
    );
    assert_eq!(
        plain_calls.load(Ordering::SeqCst),
        3,
        "the other check runs every time"
    );
    assert_eq!(get_users(&app, &b).await.0, StatusCode::OK);
    assert_eq!(
        cached_calls.load(Ordering::SeqCst),
        2,
        "another token is checked"
    );
    let revoked = issuer.token().claim("jti", "revoked").sign();
    for _ in 0..2 {
        assert_eq!(get_users(&app, &revoked).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        cached_calls.load(Ordering::SeqCst),
        4,
        "refusals are not remembered"
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(get_users(&app, &a).await.0, StatusCode::OK);
    assert_eq!(
        cached_calls.load(Ordering::SeqCst),
        5,
        "checked again after the ttl"
    );
}

#[test]
fn a_cacheable_check_needs_a_sane_ttl() {
    let issuer = TestIssuer::new();
    for ttl in [Duration::ZERO, Duration::from_secs(24 * 3600 + 1)] {
        let e = issuer
            .validator_builder()
            .check_async_cached(ttl, |_| async { Ok(()) })
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("check_async_cached"), "{e}");
    }
}
