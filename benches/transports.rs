//! What a transport costs, as ratios within one interleaved run (see `benches/paired.rs`):
//!
//! * the cookie source against the `Authorization` header, same token, through a tower stack
//!   (the cookie among three others, as browsers send them), and a named header;
//! * a unary gRPC call (`grpc.health.v1.Health/Check`) to a real tonic server on 127.0.0.1
//!   through `GrpcLayer`, against the same server without it.
//!
//! ```text
//! cargo bench --bench transports
//! ```

#[path = "common/blocks.rs"]
mod blocks;
mod common;
#[path = "common/floor.rs"]
mod floor;

use std::convert::Infallible;
use std::time::Instant;

use blocks::{block, block_service, quartiles, BLOCKS, PER_BLOCK};
use bytes::Bytes;
use common::FloorClaims;
use floor::floor_key;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use jsonwebtoken::Validation;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::ServingStatus;
use tower::ServiceBuilder;
use tower_bearer::grpc::GrpcLayer;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{
    Algorithm, BearerLayer, RequireScopeLayer, ScopeMapLayer, ScopeRequirement, TokenSources,
};

fn report(title: &str, names: &[&str], ratios: Vec<Vec<f64>>) {
    for (name, r) in names.iter().zip(ratios) {
        let (q1, median, q3) = quartiles(r);
        println!("{title:<8} {name:<28} {median:>6.3}   (IQR {q1:.3}–{q3:.3})");
    }
}

fn sources(alg: Algorithm) {
    let issuer = TestIssuer::with_algorithm(alg);
    let token = issuer
        .token()
        .scopes(["users:read", "users:write", "profile"])
        .subject("alice")
        .sign();
    let key = floor_key(alg);
    let mut validation = Validation::new(alg.as_str().parse().expect("alg"));
    validation.set_issuer(&[issuer.issuer_id()]);
    validation.set_audience(&[issuer.audience_id()]);
    validation.validate_nbf = true;

    let stack = |sources: TokenSources| {
        ServiceBuilder::new()
            .layer(BearerLayer::new(issuer.validator()).token_sources(sources))
            .layer(RequireScopeLayer::all(["users:read"]))
            .service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            })
    };
    let mut by_header = stack(TokenSources::default());
    let mut by_cookie = stack(TokenSources::none().cookie("at"));
    let mut by_named = stack(TokenSources::none().header("x-api-token"));
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let cookie =
        HeaderValue::from_str(&format!("theme=dark; lang=en; at={token}; _ga=GA1.2.3")).unwrap();
    let raw = HeaderValue::from_str(&token).unwrap();
    let request = |name: &'static str, value: &HeaderValue| {
        let value = value.clone();
        move || {
            Request::builder()
                .uri("/users")
                .header(name, value.clone())
                .body(Full::<Bytes>::default())
                .unwrap()
        }
    };
    let (header_req, cookie_req, named_req) = (
        request("authorization", &bearer),
        request("cookie", &cookie),
        request("x-api-token", &raw),
    );
    // Every stack must accept the token, or the run would time rejections.
    for (svc, req) in [
        (
            &mut by_header,
            &header_req as &dyn Fn() -> Request<Full<Bytes>>,
        ),
        (&mut by_cookie, &cookie_req),
        (&mut by_named, &named_req),
    ] {
        let response = common::block_on(tower::ServiceExt::oneshot(svc.clone(), req())).unwrap();
        assert_eq!(response.status(), 200);
    }
    let names = ["header", "cookie", "named header", "cookie / header"];
    let mut ratios = vec![Vec::new(); names.len()];
    for b in 0..BLOCKS {
        let f0 = block(|| jsonwebtoken::decode::<FloorClaims>(&token, &key, &validation));
        let h = block_service(&mut by_header, &header_req);
        let c = block_service(&mut by_cookie, &cookie_req);
        let n = block_service(&mut by_named, &named_req);
        let f1 = block(|| jsonwebtoken::decode::<FloorClaims>(&token, &key, &validation));
        if b >= 5 {
            let f = (f0 + f1) / 2.0;
            ratios[0].push(h / f);
            ratios[1].push(c / f);
            ratios[2].push(n / f);
            ratios[3].push(c / h);
        }
    }
    report(alg.as_str(), &names, ratios);
}

fn grpc(rt: &tokio::runtime::Runtime, alg: Algorithm) {
    let issuer = TestIssuer::with_algorithm(alg);
    let token = issuer.token().scopes(["health:read"]).sign();
    let serve = |layered: bool| {
        let validator = issuer.validator();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (reporter, health) = tonic_health::server::health_reporter();
            reporter
                .set_service_status("", ServingStatus::Serving)
                .await;
            let incoming = TcpIncoming::from(listener);
            if layered {
                let scopes = ScopeMapLayer::new().path(
                    "/grpc.health.v1.Health/Check",
                    ScopeRequirement::all(["health:read"]),
                );
                let layer = GrpcLayer::new(BearerLayer::new(validator), scopes);
                tokio::spawn(
                    Server::builder()
                        .layer(layer)
                        .add_service(health)
                        .serve_with_incoming(incoming),
                );
            } else {
                tokio::spawn(
                    Server::builder()
                        .add_service(health)
                        .serve_with_incoming(incoming),
                );
            }
            let channel = Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            HealthClient::new(channel)
        })
    };
    let mut bare = serve(false);
    let mut layered = serve(true);
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let call = |client: &mut HealthClient<Channel>| {
        let start = Instant::now();
        rt.block_on(async {
            for _ in 0..PER_BLOCK {
                let mut request = tonic::Request::new(HealthCheckRequest::default());
                request
                    .metadata_mut()
                    .insert("authorization", bearer.clone());
                let answer = client.check(request).await.expect("SERVING");
                assert_eq!(answer.into_inner().status, 1);
            }
        });
        start.elapsed().as_nanos() as f64 / PER_BLOCK as f64
    };
    let names = ["unary call, layered / bare"];
    let mut ratios = vec![Vec::new()];
    let mut bare_ns = Vec::new();
    for b in 0..BLOCKS / 2 {
        let b0 = call(&mut bare);
        let l = call(&mut layered);
        let b1 = call(&mut bare);
        if b >= 3 {
            ratios[0].push(l / ((b0 + b1) / 2.0));
            bare_ns.push((b0 + b1) / 2.0);
        }
    }
    report(&format!("gRPC {}", alg.as_str()), &names, ratios);
    let (_, median, _) = quartiles(bare_ns);
    println!(
        "         (a bare unary call on loopback: {:.1} µs median)",
        median / 1000.0
    );
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    println!("median ratio over interleaved blocks of {PER_BLOCK} requests (stacks: to the floor)");
    for alg in [Algorithm::HS256, Algorithm::ES256] {
        sources(alg);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for alg in [Algorithm::HS256, Algorithm::ES256] {
        grpc(&rt, alg);
    }
}
