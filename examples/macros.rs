//! `#[require_scope]` on axum handlers, and the extractor form it expands to.
//!
//! ```text
//! cargo run --example macros
//! ```
//! Calls each route with tokens of different scopes and prints the statuses, then exits.

use axum::{routing::get, Router};
use tower::ServiceExt;
use tower_bearer::extract::{Authorized, Claims};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{require_scope, scope_marker, BearerLayer, ScopeRequirement, TokenClaims};

#[require_scope("users:read")]
async fn list_users() -> &'static str {
    "alice, bob"
}

#[require_scope(any("accounts:read", "accounts:write"))]
async fn accounts(claims: TokenClaims) -> String {
    format!("accounts of {}", claims.subject().unwrap_or("?"))
}

#[require_scope(all("users:read", "users.profile:read"))]
async fn profile() -> &'static str {
    "profile"
}

// The same guard without the macro: a marker type declared in one line.
scope_marker!(UsersWrite => ScopeRequirement::all(["users:write"]));

#[derive(serde::Deserialize)]
struct MyClaims {
    sub: String,
}

async fn create_user(_: Authorized<UsersWrite>, Claims(c): Claims<MyClaims>) -> String {
    format!("created by {}", c.sub)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/accounts", get(accounts))
        .route("/users/profile", get(profile))
        .layer(BearerLayer::new(issuer.validator()));

    let cases: [(&str, &str, &[&str]); 6] = [
        ("GET", "/users", &["users:read"]),
        ("GET", "/users", &["accounts:read"]),
        ("GET", "/accounts", &["accounts:write"]),
        ("GET", "/users/profile", &["users:read"]),
        ("POST", "/users", &["users:write"]),
        ("POST", "/users", &["users:read"]),
    ];
    for (method, path, scopes) in cases {
        let token = issuer.token().scopes(scopes.iter()).sign();
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())?;
        let resp = app.clone().oneshot(req).await?;
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        println!(
            "{method:<4} {path:<15} scopes={:<30} -> {} {challenge}",
            scopes.join(" "),
            resp.status()
        );
    }
    Ok(())
}
