//! A self-contained tour: serves an API on loopback, calls it with a good token, an expired
//! one, a forged one, one that lacks a scope, and none, and prints what came back.
//!
//! ```text
//! cargo run --example quickstart            # run the tour and exit
//! cargo run --example quickstart -- --serve # keep serving; prints a token and a curl line
//! ```

use std::future::IntoFuture;

use axum::{routing::get, Json, Router};
use serde_json::json;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer, Scopes, TokenClaims};

async fn me(claims: TokenClaims, scopes: Scopes) -> Json<serde_json::Value> {
    Json(json!({ "sub": claims.subject(), "scopes": scopes.iter().collect::<Vec<_>>() }))
}

async fn users() -> Json<serde_json::Value> {
    Json(json!(["alice", "bob"]))
}

fn app(issuer: &TestIssuer) -> Router {
    Router::new()
        .route(
            "/users",
            get(users).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .route("/me", get(me))
        .layer(BearerLayer::new(issuer.validator()).realm("quickstart"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A development issuer with an embedded key: stands in for your authorization server.
    let issuer = TestIssuer::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(axum::serve(listener, app(&issuer)).into_future());

    if std::env::args().any(|a| a == "--serve") {
        let token = issuer.token().scopes(["users:read"]).sign();
        println!("listening on http://{addr}");
        println!("token (valid for one hour, scope users:read):\n{token}\n");
        println!("curl -i -H 'Authorization: Bearer {token}' http://{addr}/users");
        server.await??;
        return Ok(());
    }

    let good = issuer
        .token()
        .scopes(["users:read"])
        .subject("alice")
        .sign();
    let cases = [
        ("good token, GET /users", "/users", Some(good.clone())),
        ("good token, GET /me", "/me", Some(good)),
        (
            "expired token",
            "/users",
            Some(issuer.token().scopes(["users:read"]).expired().sign()),
        ),
        (
            "forged signature",
            "/users",
            Some(issuer.token().scopes(["users:read"]).forged().sign()),
        ),
        (
            "scope missing",
            "/users",
            Some(issuer.token().scopes(["profile"]).sign()),
        ),
        ("no token", "/users", None),
    ];
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    for (label, path, token) in cases {
        let mut req = http::Request::get(format!("http://{addr}{path}"));
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let resp = client
            .request(req.body(http_body_util::Empty::new())?)
            .await?;
        let status = resp.status();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap_or("?").to_owned());
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await?
            .to_bytes();
        println!("{label:<24} -> {status}");
        if let Some(c) = challenge {
            println!("{:<24}    WWW-Authenticate: {c}", "");
        }
        println!("{:<24}    {}", "", String::from_utf8_lossy(&body));
    }
    server.abort();
    Ok(())
}
