//! Instructions per request, counted by callgrind: figures that do not drift with the
//! machine's speed, for the same stacks as the paired bench and the same floor.
//!
//! ```text
//! benches/instructions.sh            # needs valgrind; prints instructions and ratios
//! ```
//!
//! The script runs this binary under `valgrind --tool=callgrind`, collecting only inside
//! [`measured`], once with `n` and once with `2n` requests of one case; the difference over
//! `n` is the cost of one request, without setup, warm-up or first-use costs. Requests are
//! built outside [`measured`], as in the paired bench. `instructions <alg> token` prints a
//! token, which the script hands to every case of that algorithm in `BENCH_TOKEN`.
//!
//! Instructions are not time: a cache miss or a slow instruction counts as one, and the
//! crypto libraries run at a higher rate per cycle than parsing code does. They answer
//! "how much work", reproducibly; the paired bench answers "how long".
//!
//! Without arguments (as `cargo bench` runs it) every case runs a few times, as a check
//! that each stack accepts the token.

mod common;
#[path = "common/floor.rs"]
mod floor;
#[path = "common/rejected.rs"]
mod rejected;

use common::{block_on, FloorClaims};
use floor::floor_key;
use rejected::{rejected_token, REJECTIONS};
use std::convert::Infallible;
use std::hint::black_box;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use jsonwebtoken::Validation;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{require_scope, Algorithm, BearerLayer, RequireScopeLayer};

/// The route guarded by the macro: an extractor in the handler, no `route_layer`.
#[require_scope("users:read")]
async fn users() -> &'static str {
    "ok"
}

const CASES: [&str; 10] = [
    "floor",
    "signature",
    "validate",
    "cache_hit",
    "tower",
    "router",
    "outer",
    "bare_router",
    "router_cache_hit",
    "macro_cache_hit",
];

// Rejected tokens (`common/rejected.rs`): `floor_<kind>` is `jsonwebtoken::decode` refusing
// it, `reject_<kind>` the axum router with the layer (as in `router`) answering it. `missing`
// has no floor.

/// The only code callgrind counts: `n` calls of `one`, each given its prepared input.
#[inline(never)]
fn measured<I, F: FnMut(I) -> bool>(inputs: Vec<I>, mut one: F) -> usize {
    inputs.into_iter().map(|i| usize::from(one(i))).sum()
}

/// One request through `svc`: whether it was answered 200.
fn accepted<S, B, RB>(svc: &mut S, req: Request<B>) -> bool
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    answered(svc, req, 200)
}

/// One request through `svc`: whether it was answered with `status`.
fn answered<S, B, RB>(svc: &mut S, req: Request<B>, status: u16) -> bool
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    block_on(async {
        match svc.ready().await {
            Ok(svc) => svc.call(req).await.is_ok_and(|r| r.status() == status),
            Err(_) => false,
        }
    })
}

/// The benches' token, or the one in `BENCH_TOKEN`: ECDSA signatures are randomised, and
/// verifying a different signature takes a slightly different number of instructions, so
/// the script signs once and has every case verify the same token.
fn token(issuer: &TestIssuer) -> String {
    std::env::var("BENCH_TOKEN").unwrap_or_else(|_| {
        issuer
            .token()
            .scopes(["users:read", "users:write", "profile"])
            .subject("alice")
            .sign()
    })
}
/// Run `case` for `alg` `n` times inside [`measured`]; returns how many were accepted.
fn run(alg: Algorithm, case: &str, n: usize) -> usize {
    let issuer = TestIssuer::with_algorithm(alg);
    let token = token(&issuer);
    let header = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    let axum_request = || {
        Request::get("/users")
            .header("authorization", header.clone())
            .body(axum::body::Body::empty())
            .expect("request")
    };
    let route = || {
        Router::new().route(
            "/users",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
    };
    match case {
        "floor" => {
            let key = floor_key(alg);
            let mut validation = Validation::new(alg.as_str().parse().expect("alg"));
            validation.set_issuer(&[issuer.issuer_id()]);
            validation.set_audience(&[issuer.audience_id()]);
            validation.validate_nbf = true;
            measured(vec![(); n], |()| {
                jsonwebtoken::decode::<FloorClaims>(black_box(&token), &key, &validation).is_ok()
            })
        }
        "signature" => {
            use base64::Engine as _;
            let public = issuer.public_key();
            let (input, sig) = token.rsplit_once('.').expect("three segments");
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .expect("signature");
            measured(vec![(); n], |()| {
                public.verify_signature(black_box(input.as_bytes()), black_box(&sig))
            })
        }
        "validate" => {
            let validator = issuer.validator();
            measured(vec![(); n], |()| {
                validator.validate(black_box(&token)).is_ok()
            })
        }
        "cache_hit" => {
            let validator = issuer
                .validator_builder()
                .token_cache(10_000)
                .build()
                .expect("validator");
            measured(vec![(); n], |()| {
                validator.validate(black_box(&token)).is_ok()
            })
        }
        "tower" => {
            let mut svc = ServiceBuilder::new()
                .layer(BearerLayer::new(issuer.validator()))
                .layer(RequireScopeLayer::all(["users:read"]))
                .service_fn(|_req: Request<Full<Bytes>>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
            let requests = (0..n)
                .map(|_| {
                    Request::get("/users")
                        .header("authorization", header.clone())
                        .body(Full::new(Bytes::new()))
                        .expect("request")
                })
                .collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        "router" => {
            let mut svc: Router = route()
                .layer(BearerLayer::new(issuer.validator()))
                .with_state(());
            let requests = (0..n).map(|_| axum_request()).collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        "outer" => {
            let mut svc = tower::Layer::layer(
                &BearerLayer::new(issuer.validator()),
                route().with_state::<()>(()),
            );
            let requests = (0..n).map(|_| axum_request()).collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        "bare_router" => {
            let mut svc: Router = Router::new()
                .route("/users", get(|| async { "ok" }))
                .with_state(());
            let requests = (0..n).map(|_| axum_request()).collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        "router_cache_hit" => {
            let validator = issuer
                .validator_builder()
                .token_cache(10_000)
                .build()
                .expect("validator");
            let mut svc: Router = route().layer(BearerLayer::new(validator)).with_state(());
            let requests = (0..n).map(|_| axum_request()).collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        "macro_cache_hit" => {
            let validator = issuer
                .validator_builder()
                .token_cache(10_000)
                .build()
                .expect("validator");
            let mut svc: Router = Router::new()
                .route("/users", get(users))
                .layer(BearerLayer::new(validator))
                .with_state(());
            let requests = (0..n).map(|_| axum_request()).collect();
            measured(requests, |req| accepted(&mut svc, req))
        }
        other => {
            if let Some(kind) = other.strip_prefix("floor_") {
                let bad = rejected_token(&issuer, &token, kind).expect("a token");
                let key = floor_key(alg);
                let mut validation = Validation::new(alg.as_str().parse().expect("alg"));
                validation.set_issuer(&[issuer.issuer_id()]);
                validation.set_audience(&[issuer.audience_id()]);
                validation.validate_nbf = true;
                return measured(vec![(); n], |()| {
                    jsonwebtoken::decode::<FloorClaims>(black_box(&bad), &key, &validation).is_err()
                });
            }
            if let Some(kind) = other.strip_prefix("reject_") {
                let bad = rejected_token(&issuer, &token, kind);
                let mut svc: Router = route()
                    .layer(BearerLayer::new(issuer.validator()))
                    .with_state(());
                let request = || {
                    let mut r = Request::get("/users");
                    if let Some(t) = &bad {
                        r = r.header(
                            "authorization",
                            HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
                        );
                    }
                    r.body(axum::body::Body::empty()).expect("request")
                };
                let requests = (0..n).map(|_| request()).collect();
                // Every one of these is `401` (the garbage token: over the length cap).
                return measured(requests, |req| answered(&mut svc, req, 401));
            }
            panic!("unknown case {other:?}; cases: {CASES:?}, floor_<r> and reject_<r> for {REJECTIONS:?}")
        }
    }
}

fn parse_alg(s: &str) -> Algorithm {
    match s {
        "HS256" => Algorithm::HS256,
        "RS256" => Algorithm::RS256,
        "PS256" => Algorithm::PS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => panic!("unknown algorithm {other:?}"),
    }
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    // `instructions <alg> <case> <n>`, or, as `cargo bench` runs it (`--bench`), a check.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [alg, token] = args.as_slice() {
        if token == "token" {
            println!(
                "{}",
                self::token(&TestIssuer::with_algorithm(parse_alg(alg)))
            );
            return;
        }
    }
    if let [alg, case, n] = args.as_slice() {
        let n = n.parse().expect("a number of requests");
        let accepted = run(parse_alg(alg), case, n);
        assert_eq!(
            accepted, n,
            "{alg} {case}: every request must be answered as expected"
        );
        return;
    }
    for alg in ["HS256", "RS256", "PS256", "ES256", "EdDSA"] {
        for case in CASES {
            assert_eq!(run(parse_alg(alg), case, 3), 3, "{alg} {case}");
        }
        for kind in REJECTIONS {
            let reject = format!("reject_{kind}");
            assert_eq!(run(parse_alg(alg), &reject, 3), 3, "{alg} {reject}");
            if kind != "missing" {
                let floor = format!("floor_{kind}");
                assert_eq!(run(parse_alg(alg), &floor, 3), 3, "{alg} {floor}");
            }
        }
    }
    println!("every case answers as expected; count instructions with benches/instructions.sh");
}
