//! Cost of one request, against the floor: a bare `jsonwebtoken::decode` of the same token
//! with the same key into the same claims type.
//!
//! ```text
//! cargo bench --bench validate
//! ```
//!
//! For each algorithm: `floor` (jsonwebtoken::decode), `signature` (the signature check
//! alone, with the verifier the validator uses), `validate` (our validator alone),
//! `tower` (BearerLayer + RequireScopeLayer over a trivial service), `axum` (the same in an
//! axum Router), `cache_hit` (validator with the verified-token cache, after the first call),
//! `axum_no_auth` (the same axum route with no authentication at all: the router's own cost).
//!
//! Every router is finished with `with_state(())`, as `axum::serve` does: otherwise axum
//! turns each handler into a route again on every request, which no server pays.

mod common;
#[path = "common/floor.rs"]
mod floor;

use common::{block_on, FloorClaims};
use floor::floor_key;
use std::convert::Infallible;
use std::hint::black_box;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use jsonwebtoken::Validation;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer, Validator};

/// Time one request through `svc`; building the request is not timed.
fn bench_service<S, B>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    svc: &mut S,
    request: impl Fn() -> Request<B>,
) where
    S: Service<Request<B>>,
    S::Error: std::fmt::Debug,
{
    g.bench_function(name, |b| {
        b.iter_batched(
            &request,
            |req| {
                block_on(async {
                    let svc = ServiceExt::<Request<B>>::ready(&mut *svc)
                        .await
                        .expect("ready");
                    svc.call(req).await.expect("response")
                })
            },
            BatchSize::SmallInput,
        )
    });
}

fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.as_str().parse().expect("alg")
}

fn bench_alg(c: &mut Criterion, alg: Algorithm) {
    let issuer = TestIssuer::with_algorithm(alg);
    let token = issuer
        .token()
        .scopes(["users:read", "users:write", "profile"])
        .subject("alice")
        .sign();
    let validator = issuer.validator();
    let cached: Validator = issuer
        .validator_builder()
        .token_cache(10_000)
        .build()
        .expect("validator");

    let key = floor_key(alg);
    let mut validation = Validation::new(jwt_alg(alg));
    validation.set_issuer(&[issuer.issuer_id()]);
    validation.set_audience(&[issuer.audience_id()]);
    validation.validate_nbf = true;
    assert!(jsonwebtoken::decode::<FloorClaims>(&token, &key, &validation).is_ok());

    let handler = |_req: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    };
    let mut tower_svc = ServiceBuilder::new()
        .layer(BearerLayer::new(validator.clone()))
        .layer(RequireScopeLayer::all(["users:read"]))
        .service_fn(handler);
    let mut router: Router = Router::new()
        .route(
            "/users",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(validator.clone()))
        .with_state(());
    let header = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");

    let probe = |status: http::StatusCode| assert_eq!(status, 200, "{alg}: stack must accept");
    probe(block_on(async {
        let req = Request::get("/users")
            .header("authorization", header.clone())
            .body(Full::new(Bytes::new()))
            .expect("request");
        tower_svc
            .ready()
            .await
            .expect("ready")
            .call(req)
            .await
            .expect("response")
            .status()
    }));

    let mut g = c.benchmark_group(alg.as_str());
    g.bench_function("floor", |b| {
        b.iter(|| jsonwebtoken::decode::<FloorClaims>(black_box(&token), &key, &validation).is_ok())
    });
    // The signature check alone (the same verifier the validator uses): the true floor.
    let public = issuer.public_key();
    let (signing_input, signature) = {
        use base64::Engine as _;
        let (input, sig) = token.rsplit_once('.').expect("three segments");
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .expect("signature");
        (input.as_bytes().to_vec(), sig)
    };
    assert!(public.verify_signature(&signing_input, &signature));
    g.bench_function("signature", |b| {
        b.iter(|| public.verify_signature(black_box(&signing_input), black_box(&signature)))
    });
    g.bench_function("validate", |b| {
        b.iter(|| validator.validate(black_box(&token)).is_ok())
    });
    assert!(cached.validate(&token).is_ok());
    g.bench_function("cache_hit", |b| {
        b.iter(|| cached.validate(black_box(&token)).is_ok())
    });
    // Building the request is not timed: a server gets it from hyper, and the floor builds none.
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
    bench_service(&mut g, "tower", &mut tower_svc, tower_request);
    bench_service(&mut g, "axum", &mut router, axum_request);
    // The layer around the whole router rather than through `Router::layer`, which clones
    // and boxes each wrapped route per request.
    let mut outer = tower::Layer::layer(
        &BearerLayer::new(validator.clone()),
        Router::new()
            .route(
                "/users",
                get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
            )
            .with_state::<()>(()),
    );
    bench_service(&mut g, "axum_outer_layer", &mut outer, axum_request);
    let mut bare: Router = Router::new()
        .route("/users", get(|| async { "ok" }))
        .with_state(());
    bench_service(&mut g, "axum_no_auth", &mut bare, axum_request);
    // What a client reusing its token costs through the router: the cache hit plus the layers.
    let mut router_cached: Router = Router::new()
        .route(
            "/users",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(cached.clone()))
        .with_state(());
    bench_service(&mut g, "axum_cache_hit", &mut router_cached, axum_request);
    g.finish();
}

/// Serves a JWKS from memory: the remote cache without a network.
struct InMemory(String);

impl tower_bearer::remote::Fetch for InMemory {
    fn get<'a>(&'a self, _url: &'a str) -> tower_bearer::remote::FetchFuture<'a> {
        let body = self.0.clone();
        Box::pin(async move { Ok(tower_bearer::remote::Fetched::new(body)) })
    }
}

/// Rejections against a valid RS256 verification, and remote-backed keys against static ones.
fn rejections_and_remote(c: &mut Criterion) {
    let issuer = TestIssuer::with_algorithm(Algorithm::RS256);
    let validator = issuer.validator();
    let valid = issuer.token().scopes(["users:read"]).sign();
    let expired = issuer.token().expired().sign();
    let garbage = "not-a-jwt.at-all.really";
    let huge = "a".repeat(1024 * 1024);
    let forged = issuer.token().forged().sign();

    let mut g = c.benchmark_group("reject");
    g.bench_function("valid_rs256", |b| {
        b.iter(|| validator.validate(black_box(&valid)).is_ok())
    });
    g.bench_function("garbage", |b| {
        b.iter(|| validator.validate(black_box(garbage)).is_err())
    });
    g.bench_function("expired_rs256", |b| {
        b.iter(|| validator.validate(black_box(&expired)).is_err())
    });
    g.bench_function("forged_rs256", |b| {
        b.iter(|| validator.validate(black_box(&forged)).is_err())
    });
    g.bench_function("one_megabyte", |b| {
        b.iter(|| validator.validate(black_box(&huge)).is_err())
    });
    g.finish();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let remote = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url("https://issuer.test/jwks")
        .fetcher(InMemory(issuer.jwks()))
        .build()
        .expect("validator");
    runtime.block_on(remote.warm_up()).expect("warm");
    let mut g = c.benchmark_group("keys");
    g.bench_function("static_rs256", |b| {
        b.iter(|| validator.validate(black_box(&valid)).is_ok())
    });
    g.bench_function("remote_rs256", |b| {
        b.iter(|| remote.validate(black_box(&valid)).is_ok())
    });
    g.finish();
}

/// DPoP (RFC 9449) through the tower stack: a bound ES256 token with a fresh EdDSA proof per
/// request (minted outside the timing; each proof is accepted once), against the same stack
/// with a plain bearer token, and the floor for the access token alone.
fn dpop(c: &mut Criterion) {
    use tower_bearer::dpop::Dpop;
    use tower_bearer::testing::DpopClient;
    let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
    let client = DpopClient::new(Algorithm::EdDSA);
    let bound = issuer
        .token()
        .scopes(["users:read"])
        .dpop_bound(&client)
        .sign();
    let plain = issuer.token().scopes(["users:read"]).sign();
    let handler = |_req: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    };
    let dpop = Dpop::allowed().build().expect("dpop");
    let mut svc = ServiceBuilder::new()
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop))
        .layer(RequireScopeLayer::all(["users:read"]))
        .service_fn(handler);
    let bearer_header = HeaderValue::from_str(&format!("Bearer {plain}")).expect("header");
    let dpop_header = HeaderValue::from_str(&format!("DPoP {bound}")).expect("header");
    let dpop_request = || {
        let proof = client.proof("GET", "https://api.test/users", &bound);
        Request::get("/users")
            .header("host", "api.test")
            .header("authorization", dpop_header.clone())
            .header("dpop", proof)
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let status = block_on(async {
        svc.ready()
            .await
            .expect("ready")
            .call(dpop_request())
            .await
            .expect("response")
            .status()
    });
    assert_eq!(status, 200, "DPoP request must be accepted");

    let key = floor_key(Algorithm::ES256);
    let mut validation = Validation::new(jwt_alg(Algorithm::ES256));
    validation.set_issuer(&[issuer.issuer_id()]);
    validation.set_audience(&[issuer.audience_id()]);
    validation.validate_nbf = true;
    let mut g = c.benchmark_group("dpop");
    g.bench_function("floor_es256", |b| {
        b.iter(|| jsonwebtoken::decode::<FloorClaims>(black_box(&plain), &key, &validation).is_ok())
    });
    bench_service(&mut g, "tower_bearer_es256", &mut svc, || {
        Request::get("/users")
            .header("authorization", bearer_header.clone())
            .body(Full::new(Bytes::new()))
            .expect("request")
    });
    bench_service(
        &mut g,
        "tower_dpop_es256_eddsa_proof",
        &mut svc,
        dpop_request,
    );
    g.finish();
}

fn benches(c: &mut Criterion) {
    // Peers and our dev-dependencies may enable both jsonwebtoken backends; the floor's
    // `decode` needs the process-wide provider settled.
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        bench_alg(c, alg);
    }
    rejections_and_remote(c);
    dpop(c);
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
