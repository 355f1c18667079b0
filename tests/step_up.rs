//! Step-up authentication (RFC 9470): a route that needs a strong or recent authentication
//! event answers `401 insufficient_user_authentication` with `acr_values` and/or `max_age`,
//! through the layer, the extractor and the macro alike; the scope check comes first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::extract::Authorized;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{
    require_scope, scope_marker, BearerLayer, RequireScopeLayer, ScopeGuard, ScopeRequirement,
};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn guard() -> ScopeGuard {
    ScopeGuard::new(ScopeRequirement::all(["accounts:write"]))
        .acr_values(["urn:example:mfa", "urn:example:hwk"])
        .max_age(Duration::from_secs(300))
}

scope_marker!(Transfer => guard());

async fn by_extractor(_: Authorized<Transfer>) -> &'static str {
    "moved"
}

#[require_scope(
    "accounts:write",
    acr_values("urn:example:mfa", "urn:example:hwk"),
    max_age = 300
)]
async fn by_macro() -> &'static str {
    "moved"
}

fn app(issuer: &TestIssuer) -> Router {
    Router::new()
        .route(
            "/layer",
            get(|| async { "moved" }).route_layer(RequireScopeLayer::from_guard(guard())),
        )
        .route("/extractor", get(by_extractor))
        .route("/macro", get(by_macro))
        .layer(BearerLayer::new(issuer.validator()))
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

async fn call(app: &Router, path: &str, token: &str) -> Answer {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

const STEP_UP: &str = r#"Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="urn:example:mfa urn:example:hwk", max_age="300""#;

#[tokio::test]
async fn every_answer_through_the_layer_the_extractor_and_the_macro() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    let fresh = now() - 10;
    let strong = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:hwk")
        .claim("auth_time", fresh)
        .sign();
    let weak_acr = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:pwd")
        .claim("auth_time", fresh)
        .sign();
    let no_acr = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("auth_time", fresh)
        .sign();
    let old = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:mfa")
        .claim("auth_time", now() - 301)
        .sign();
    let no_auth_time = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:mfa")
        .sign();
    let bad_types = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", ["urn:example:mfa"])
        .claim("auth_time", "now")
        .sign();
    let no_scope = issuer
        .token()
        .scopes(["accounts:read"])
        .claim("acr", "urn:example:pwd")
        .sign();
    for path in ["/layer", "/extractor", "/macro"] {
        let ok = call(&app, path, &strong).await;
        assert_eq!(ok.status, StatusCode::OK, "{path}");
        for (token, why) in [
            (&weak_acr, "acr not allowed"),
            (&no_acr, "no acr"),
            (&old, "auth_time too old"),
            (&no_auth_time, "no auth_time"),
            (&bad_types, "acr and auth_time of the wrong type"),
        ] {
            let a = call(&app, path, token).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}: {why}");
            assert_eq!(a.challenge.as_deref(), Some(STEP_UP), "{path}: {why}");
            assert_eq!(
                a.body,
                json!({
                    "error": "insufficient_user_authentication",
                    "error_description": "a stronger or more recent authentication is required",
                    "acr_values": "urn:example:mfa urn:example:hwk",
                    "max_age": 300,
                }),
                "{path}: {why}"
            );
        }
        // The scope check comes first: re-authenticating would not add a scope.
        let a = call(&app, path, &no_scope).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(a.body["error"], "insufficient_scope");
    }
}

#[tokio::test]
async fn acr_alone_or_max_age_alone() {
    let issuer = TestIssuer::new();
    let acr_only = ScopeGuard::new(ScopeRequirement::all(["a"])).acr_values(["urn:x"]);
    let age_only = ScopeGuard::new(ScopeRequirement::all(["a"])).max_age(Duration::from_secs(60));
    let app = Router::new()
        .route(
            "/acr",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::from_guard(acr_only)),
        )
        .route(
            "/age",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::from_guard(age_only)),
        )
        .layer(BearerLayer::new(issuer.validator()));
    let old_x = issuer
        .token()
        .scopes(["a"])
        .claim("acr", "urn:x")
        .claim("auth_time", now() - 3600)
        .sign();
    assert_eq!(call(&app, "/acr", &old_x).await.status, StatusCode::OK);
    let a = call(&app, "/age", &old_x).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            r#"Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", max_age="60""#
        )
    );
    let recent_y = issuer
        .token()
        .scopes(["a"])
        .claim("acr", "urn:y")
        .claim("auth_time", now())
        .sign();
    assert_eq!(call(&app, "/age", &recent_y).await.status, StatusCode::OK);
    let a = call(&app, "/acr", &recent_y).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.body["acr_values"], "urn:x");
    assert!(a.body.get("max_age").is_none());
}

#[test]
fn bad_step_up_configuration_panics_with_a_message() {
    let err = std::panic::catch_unwind(|| {
        ScopeGuard::new(ScopeRequirement::all(["a"])).acr_values(["has space"])
    })
    .unwrap_err();
    let text = err.downcast_ref::<String>().unwrap();
    assert!(text.contains("has space"), "{text}");
    let e = ScopeGuard::new(ScopeRequirement::all(["a"]))
        .try_acr_values(Vec::<String>::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one"), "{e}");
}

#[tokio::test]
async fn an_authentication_in_the_future_is_not_recent() {
    let issuer = TestIssuer::new();
    let app = app(&issuer);
    for auth_time in [now() + 3600, 9_999_999_999] {
        let token = issuer
            .token()
            .scopes(["accounts:write"])
            .claim("acr", "urn:example:mfa")
            .claim("auth_time", auth_time)
            .sign();
        let a = call(&app, "/layer", &token).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth_time}");
    }
    // Within clock skew is fine.
    let token = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:mfa")
        .claim("auth_time", now() + 5)
        .sign();
    assert_eq!(call(&app, "/layer", &token).await.status, StatusCode::OK);
}
