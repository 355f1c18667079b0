//! The layer in a plain hyper 1.x server, no axum: tower's `ServiceBuilder` wraps a
//! `service_fn`, and hyper-util adapts it.
//!
//! ```text
//! cargo run --example hyper_server
//! ```
//! It prints a token and a curl line, then serves on 127.0.0.1 until stopped.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer, TokenClaims};

async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Without axum, read what the layer found from the request's extensions.
    let sub = req
        .extensions()
        .get::<TokenClaims>()
        .and_then(|c| c.subject())
        .unwrap_or("nobody");
    Ok(Response::new(Full::new(Bytes::from(format!(
        "hello {sub}\n"
    )))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TestIssuer::new();
    let service = ServiceBuilder::new()
        .layer(BearerLayer::new(issuer.validator()))
        .layer(RequireScopeLayer::all(["users:read"]))
        .service_fn(handler);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let token = issuer
        .token()
        .scopes(["users:read"])
        .subject("alice")
        .sign();
    println!("listening on http://{addr}");
    println!("curl -i -H 'Authorization: Bearer {token}' http://{addr}/");

    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
