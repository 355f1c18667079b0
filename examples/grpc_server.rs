//! The standard gRPC health service (`grpc.health.v1.Health`) on tonic, behind the bearer
//! layer: `Check` and `Watch` need scope `health:read`; rejections are gRPC statuses
//! (`UNAUTHENTICATED`, `PERMISSION_DENIED`, `UNAVAILABLE`) with the RFC 6750 challenge in the
//! `www-authenticate` metadata.
//!
//! ```text
//! RS_ISSUER=https://auth.example.com RS_AUDIENCE=https://api.example.com \
//! RS_JWKS_FILE=jwks.json cargo run --example grpc_server
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `RS_BIND` | listen address (default `127.0.0.1:50051`; `127.0.0.1:0` picks a port) |
//! | `RS_ISSUER` | expected `iss` (required) |
//! | `RS_AUDIENCE` | expected `aud` (required) |
//! | `RS_JWKS_FILE` | path to a JWKS JSON document (static keys) |
//! | `RS_JWKS_URL` | a JWKS endpoint, fetched and cached |
//! | `RS_ALLOW_HTTP` | `1` permits plain-http key sources (loopback tests); otherwise https only |
//!
//! With neither `RS_JWKS_FILE` nor `RS_JWKS_URL`, keys are discovered from `RS_ISSUER`. Once
//! it accepts connections it prints `listening on http://ADDR` on stdout. A bad configuration
//! exits with status 2 and one line on stderr.

use std::io::Write;
use std::net::SocketAddr;

use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tower_bearer::grpc::GrpcLayer;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::{BearerLayer, ScopeMapLayer, ScopeRequirement, Validator};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn config() -> Result<(SocketAddr, Validator), String> {
    let bind = var("RS_BIND").unwrap_or_else(|| "127.0.0.1:50051".into());
    let bind: SocketAddr = bind
        .parse()
        .map_err(|_| format!("RS_BIND={bind:?} is not an address like 127.0.0.1:50051"))?;
    let issuer = var("RS_ISSUER").ok_or("RS_ISSUER is required (the expected `iss`)")?;
    let audience = var("RS_AUDIENCE").ok_or("RS_AUDIENCE is required (the expected `aud`)")?;
    let allow_http = match var("RS_ALLOW_HTTP").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => return Err(format!("RS_ALLOW_HTTP={other:?} must be 0 or 1")),
    };
    let mut builder = Validator::builder()
        .issuer(issuer)
        .audience(audience)
        .remote_options(RemoteOptions::new().allow_http(allow_http));
    match (var("RS_JWKS_FILE"), var("RS_JWKS_URL")) {
        (Some(_), Some(_)) => return Err("set RS_JWKS_FILE or RS_JWKS_URL, not both".into()),
        (Some(path), None) => {
            let json = std::fs::read_to_string(&path)
                .map_err(|e| format!("RS_JWKS_FILE={path:?} cannot be read: {e}"))?;
            builder = builder.jwks_json(&json);
        }
        (None, Some(url)) => builder = builder.jwks_url(url),
        (None, None) => builder = builder.discover(),
    }
    Ok((bind, builder.build().map_err(|e| e.to_string())?))
}

#[tokio::main]
async fn main() {
    let (bind, validator) = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("grpc_server: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("grpc_server: cannot bind {bind}: {e}");
            std::process::exit(2);
        }
    };
    let addr = listener.local_addr().map_or(bind, |a| a);
    let warm = validator.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_up().await {
            eprintln!(
                "grpc_server: keys not loaded yet ({e}); answering UNAVAILABLE until they are"
            );
        }
    });

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    let health_read = ScopeRequirement::all(["health:read"]);
    let scopes = ScopeMapLayer::new()
        .path("/grpc.health.v1.Health/Check", health_read.clone())
        .path("/grpc.health.v1.Health/Watch", health_read);

    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let served = Server::builder()
        .layer(GrpcLayer::new(BearerLayer::new(validator), scopes))
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await;
    if let Err(e) = served {
        eprintln!("grpc_server: server error: {e}");
        std::process::exit(1);
    }
}
