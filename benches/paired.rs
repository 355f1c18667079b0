//! Ratios to the floor from paired, interleaved measurements.
//!
//! ```text
//! cargo bench --bench paired
//! ```
//!
//! On a shared machine the speed drifts over the seconds between two criterion benchmarks,
//! by more than the few percent a ratio near 0.97 is about. Here every stack is timed in
//! short blocks interleaved with the floor's (`jsonwebtoken::decode`, same token, same key,
//! same claims type): block after block, each block times 64 requests of each variant in
//! turn. Each block gives one ratio per variant, and the report is the median ratio over
//! all blocks with its interquartile range. Requests are built before a block is timed.

#[path = "common/blocks.rs"]
mod blocks;
mod common;
#[path = "common/floor.rs"]
mod floor;

use blocks::{block, block_service, quartiles, BLOCKS, PER_BLOCK};
use common::{block_on, FloorClaims};
use floor::floor_key;
use std::convert::Infallible;
use std::hint::black_box;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use jsonwebtoken::Validation;
use tower::{Service, ServiceBuilder};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer};

fn run(alg: Algorithm) {
    let issuer = TestIssuer::with_algorithm(alg);
    let token = issuer
        .token()
        .scopes(["users:read", "users:write", "profile"])
        .subject("alice")
        .sign();
    let validator = issuer.validator();
    let key = floor_key(alg);
    let mut validation = Validation::new(alg.as_str().parse().expect("alg"));
    validation.set_issuer(&[issuer.issuer_id()]);
    validation.set_audience(&[issuer.audience_id()]);
    validation.validate_nbf = true;
    assert!(jsonwebtoken::decode::<FloorClaims>(&token, &key, &validation).is_ok());

    let mut tower_svc = ServiceBuilder::new()
        .layer(BearerLayer::new(validator.clone()))
        .layer(RequireScopeLayer::all(["users:read"]))
        .service_fn(|_req: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        });
    let mut per_route: Router = Router::new()
        .route(
            "/users",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(validator.clone()))
        .with_state(());
    let mut outer = tower::Layer::layer(
        &BearerLayer::new(validator.clone()),
        Router::new()
            .route(
                "/users",
                get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
            )
            .with_state::<()>(()),
    );
    let header = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    let tower_request = || {
        Request::get("/users")
            .header("authorization", header.clone())
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let axum_request = || {
        Request::get("/users")
            .header("authorization", header.clone())
            .body(axum::body::Body::empty())
            .expect("request")
    };
    for status in [
        block_on(per_route.call(axum_request())).map(|r| r.status()),
        block_on(outer.call(axum_request())).map(|r| r.status()),
    ] {
        assert_eq!(
            status.expect("response"),
            200,
            "{alg}: the router must accept"
        );
    }

    let names = [
        "validate",
        "tower stack",
        "axum router",
        "layer around router",
    ];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCKS); names.len()];
    let floor = || {
        black_box(
            jsonwebtoken::decode::<FloorClaims>(black_box(&token), &key, &validation).is_ok(),
        );
    };
    for b in 0..BLOCKS + 5 {
        let f0 = block(floor);
        let times = [
            block(|| {
                black_box(validator.validate(black_box(&token)).is_ok());
            }),
            block_service(&mut tower_svc, &tower_request),
            block_service(&mut per_route, &axum_request),
            block_service(&mut outer, &axum_request),
        ];
        let f1 = block(floor);
        // The first blocks warm up.
        if b >= 5 {
            let f = (f0 + f1) / 2.0;
            for (r, t) in ratios.iter_mut().zip(times) {
                r.push(t / f);
            }
        }
    }
    for (name, r) in names.iter().zip(ratios) {
        let (q1, median, q3) = quartiles(r);
        println!(
            "{:<6} {name:<20} {median:>6.3}   (IQR {q1:.3}–{q3:.3})",
            alg.as_str()
        );
    }
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    println!("median ratio to the floor over {BLOCKS} interleaved blocks of {PER_BLOCK} requests");
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        run(alg);
    }
}
