//! Rejections and the cache hit through a router, as ratios within one run.
//!
//! ```text
//! cargo bench --bench rejections
//! ALGS="HS256 RS256" cargo bench --bench rejections
//! ```
//!
//! Interleaved blocks as in `paired`: each block times 64 requests of every variant in
//! turn. A rejection (a forged signature, an expired token, a wrong audience, 64 KiB of
//! garbage) is timed through the axum router with the layer and a scope guard, and set
//! against the floor's own rejection of the same token (`jsonwebtoken::decode`, same key, same
//! claims type, same checks), in the same block. A request without a token has no floor
//! rejection; it is set against the floor's valid token, as are the bare router (the route
//! without the layer) and a verified-token cache hit through the router, guarded either by
//! `RequireScopeLayer` in axum's `route_layer` or by `#[require_scope]` on the handler.
//!
//! Every answer is asserted before timing: 401 for each rejection, 200 for the others.

#[path = "common/blocks.rs"]
mod blocks;
mod common;
#[path = "common/floor.rs"]
mod floor;
#[path = "common/rejected.rs"]
mod rejected;

use blocks::{block, block_service, quartiles, BLOCKS, PER_BLOCK};
use common::{block_on, FloorClaims};
use floor::floor_key;
use rejected::{rejected_token, REJECTIONS};
use std::hint::black_box;

use axum::routing::get;
use axum::Router;
use http::{HeaderValue, Request};
use jsonwebtoken::Validation;
use tower::Service;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{require_scope, Algorithm, BearerLayer, RequireScopeLayer, Validator};

/// The same route guarded by the macro: an extractor in the handler, no `route_layer`.
#[require_scope("users:read")]
async fn users() -> &'static str {
    "ok"
}

fn router(validator: Option<Validator>) -> Router {
    let route = Router::new().route(
        "/users",
        get(|| async { "ok" }).route_layer(RequireScopeLayer::all(["users:read"])),
    );
    match validator {
        Some(v) => route.layer(BearerLayer::new(v)).with_state(()),
        None => Router::new()
            .route("/users", get(|| async { "ok" }))
            .with_state(()),
    }
}

/// The `Authorization` value for `token`, built once: each request gets a clone, which
/// shares its bytes (as a server's parsed headers share the read buffer), so a request's
/// drop does not free a copy of a 64 KiB header inside the timed call.
fn authorization(token: Option<&str>) -> Option<HeaderValue> {
    token.map(|t| HeaderValue::from_str(&format!("Bearer {t}")).expect("header"))
}

fn request(header: Option<&HeaderValue>) -> Request<axum::body::Body> {
    let mut r = Request::get("/users");
    if let Some(h) = header {
        r = r.header("authorization", h.clone());
    }
    r.body(axum::body::Body::empty()).expect("request")
}

type Timed<'a> = Box<dyn FnMut() -> f64 + 'a>;

fn run(alg: Algorithm) {
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
    let decode = |t: &str| jsonwebtoken::decode::<FloorClaims>(black_box(t), &key, &validation);
    assert!(decode(&token).is_ok());

    // (name, the variant, its floor: `None` is the floor's valid token)
    let mut variants: Vec<(String, Timed<'_>, Option<Timed<'_>>)> = Vec::new();
    let check = |svc: &mut Router, req: Request<axum::body::Body>, status: u16, what: &str| {
        let answer = block_on(svc.call(req)).expect("response").status();
        assert_eq!(answer, status, "{alg} {what}");
    };
    for kind in REJECTIONS {
        let bad = rejected_token(&issuer, &token, kind);
        let header = authorization(bad.as_deref());
        let mut svc = router(Some(issuer.validator()));
        check(&mut svc, request(header.as_ref()), 401, kind);
        let floor: Option<Timed<'_>> = bad.clone().map(|bad| {
            assert!(decode(&bad).is_err(), "{alg} {kind}: the floor refuses it");
            let decode = &decode;
            Box::new(move || block(|| decode(&bad).is_err())) as Timed<'_>
        });
        let ours: Timed<'_> =
            Box::new(move || block_service(&mut svc, &|| request(header.as_ref())));
        variants.push((format!("rejected: {kind}"), ours, floor));
    }
    let cached = issuer
        .validator_builder()
        .token_cache(10_000)
        .build()
        .expect("validator");
    let valid = authorization(Some(&token));
    let mut hit = router(Some(cached));
    check(&mut hit, request(valid.as_ref()), 200, "cache hit");
    let h = valid.clone();
    variants.push((
        "router, cache hit".into(),
        Box::new(move || block_service(&mut hit, &|| request(h.as_ref()))),
        None,
    ));
    let cached = issuer
        .validator_builder()
        .token_cache(10_000)
        .build()
        .expect("validator");
    let mut macro_hit = Router::new()
        .route("/users", get(users))
        .layer(BearerLayer::new(cached))
        .with_state(());
    check(
        &mut macro_hit,
        request(valid.as_ref()),
        200,
        "macro cache hit",
    );
    let h = valid.clone();
    variants.push((
        "router, hit, #[require_scope]".into(),
        Box::new(move || block_service(&mut macro_hit, &|| request(h.as_ref()))),
        None,
    ));
    let mut full = router(Some(issuer.validator()));
    check(&mut full, request(valid.as_ref()), 200, "router");
    let h = valid.clone();
    variants.push((
        "router, valid token".into(),
        Box::new(move || block_service(&mut full, &|| request(h.as_ref()))),
        None,
    ));
    let mut bare = router(None);
    check(&mut bare, request(valid.as_ref()), 200, "bare router");
    let h = valid.clone();
    variants.push((
        "bare router (no layer)".into(),
        Box::new(move || block_service(&mut bare, &|| request(h.as_ref()))),
        None,
    ));

    let mut ratios: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCKS); variants.len()];
    let mut nanos: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCKS); variants.len()];
    let mut floor_nanos: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCKS); variants.len()];
    let valid_floor = || {
        black_box(decode(&token).is_ok());
    };
    for b in 0..BLOCKS + 5 {
        let f0 = block(valid_floor);
        let mut row = Vec::with_capacity(variants.len());
        for (_, ours, floor) in variants.iter_mut() {
            let f = floor.as_mut().map(|f| f());
            row.push((ours(), f));
        }
        let f1 = block(valid_floor);
        if b >= 5 {
            let valid = (f0 + f1) / 2.0;
            for (i, (t, f)) in row.into_iter().enumerate() {
                let f = f.unwrap_or(valid);
                ratios[i].push(t / f);
                nanos[i].push(t);
                floor_nanos[i].push(f);
            }
        }
    }
    for (i, (name, _, floor)) in variants.iter().enumerate() {
        let (q1, median, q3) = quartiles(ratios[i].clone());
        let (_, ns, _) = quartiles(nanos[i].clone());
        let (_, fns, _) = quartiles(floor_nanos[i].clone());
        let against = if floor.is_some() {
            "its own rejection"
        } else {
            "valid token"
        };
        println!(
            "{:<6} {name:<24} {median:>6.3}   (IQR {q1:.3}–{q3:.3})   {ns:>9.0} ns, floor ({against}) {fns:>9.0} ns",
            alg.as_str()
        );
    }
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    let algs = std::env::var("ALGS").unwrap_or_else(|_| "HS256 RS256 ES256 EdDSA".into());
    println!("median ratio to the floor over {BLOCKS} interleaved blocks of {PER_BLOCK} requests");
    for alg in algs.split_whitespace() {
        let alg = match alg {
            "HS256" => Algorithm::HS256,
            "RS256" => Algorithm::RS256,
            "PS256" => Algorithm::PS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            other => panic!("unknown algorithm {other:?}"),
        };
        run(alg);
    }
}
