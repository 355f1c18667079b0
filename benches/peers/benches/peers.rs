//! One request through each Rust peer, against the floor and tower-bearer, in one run.
//!
//! ```text
//! cd benches/peers && cargo bench -- --noplot        # criterion, one stack after another
//! cd benches/peers && PEERS_PAIRED=1 cargo bench     # ratios to the floor, interleaved
//! cd benches/peers && PEERS_PAIRED=1 PEERS_REJECT=forged cargo bench   # a refused token
//! ```
//! With `PEERS_REJECT=<kind>` (`forged`, `expired`, `wrong_aud`, `garbage`, `missing`, as in
//! `../../common/rejected.rs`) every stack gets that token instead and must refuse it (any
//! answer but a 2xx; one that is not a 4xx is noted on stderr); the floor is `jsonwebtoken::decode` refusing the same token (for `missing`, the
//! floor's valid token).
//!
//! With `PEERS_PAIRED=1` every stack is timed in blocks of 64 requests interleaved with the
//! floor's, 150 blocks, as the main crate's `paired` bench does: the machine's drift between
//! two criterion benchmarks is larger than the gaps between some of the peers.
//! Every stack validates the same token with the same key; issuer, audience and the
//! `users:read` scope are checked wherever the peer can check them (see the README for what
//! each one cannot). Requests are built outside the timing; each stack's answer is asserted
//! to be 200 before timing, so a misconfigured peer cannot look fast by refusing. Every
//! router is finished with `with_state(..)`, as `axum::serve` does, so none of them turns its
//! handlers into routes again per request.

#[path = "../../common/blocks.rs"]
mod blocks;
#[path = "../../common/mod.rs"]
mod common;
#[path = "../../common/rejected.rs"]
mod rejected;

use blocks::{block, block_service, quartiles, BLOCKS};
use common::{block_on, FloorClaims};
use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{HeaderValue, Request};
use tower::{Service, ServiceExt};
use tower_bearer::testing::{keys, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer};

const SECRET: &str = "tower-bearer test secret, never use in production!!!!!!!!!!!!!!!";

fn has_scope(c: &FloorClaims) -> bool {
    c.scope
        .as_deref()
        .is_some_and(|s| s.split(' ').any(|x| x == "users:read"))
}

type Block<'a> = Box<dyn FnMut() -> f64 + 'a>;

/// Where the stacks go: to criterion, or into interleaved blocks (`PEERS_PAIRED=1`).
enum Runner<'a> {
    Criterion(criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>),
    Paired {
        floor: Option<Block<'a>>,
        stacks: Vec<(String, Block<'a>)>,
    },
}

impl<'a> Runner<'a> {
    fn floor(&mut self, mut f: impl FnMut() -> bool + 'a) {
        match self {
            Runner::Criterion(g) => {
                g.bench_function("floor", |b| b.iter(&mut f));
            }
            Runner::Paired { floor, .. } => {
                *floor = Some(Box::new(move || block(&mut f)));
            }
        }
    }

    /// Print the median ratio to the floor over the blocks, with the interquartile range.
    fn finish(self, alg: Algorithm) {
        let Runner::Paired { floor, mut stacks } = self else {
            return;
        };
        let mut floor = floor.expect("the floor comes first");
        let mut ratios = vec![Vec::with_capacity(BLOCKS); stacks.len()];
        for b in 0..BLOCKS + 5 {
            let f0 = floor();
            let times: Vec<f64> = stacks.iter_mut().map(|(_, block)| block()).collect();
            let f = (f0 + floor()) / 2.0;
            if b >= 5 {
                for (r, t) in ratios.iter_mut().zip(times) {
                    r.push(t / f);
                }
            }
        }
        for ((name, _), r) in stacks.iter().zip(ratios) {
            let (q1, median, q3) = quartiles(r);
            println!(
                "{:<6} {name:<30} {median:>6.3}   (IQR {q1:.3}–{q3:.3})",
                alg.as_str()
            );
        }
    }
}

/// Time one request through `svc` (axum 0.7 or 0.8: any response body), after checking that
/// it is accepted (or, with `PEERS_REJECT`, refused).
fn bench_router<'a, S, B, RB>(
    runner: &mut Runner<'a>,
    name: &str,
    mut svc: S,
    request: impl Fn() -> Request<B> + 'a,
) where
    S: Service<Request<B>, Response = http::Response<RB>> + Clone + 'a,
    S::Error: std::fmt::Debug,
    B: 'a,
    RB: 'a,
{
    let status = block_on(async {
        svc.clone()
            .oneshot(request())
            .await
            .expect("response")
            .status()
    });
    if std::env::var_os("PEERS_REJECT").is_some() {
        assert!(
            !status.is_success(),
            "{name} must refuse the token before it is timed (answered {status})"
        );
        if !status.is_client_error() {
            eprintln!("note: {name} refuses this token with {status}");
        }
    } else {
        assert_eq!(
            status, 200,
            "{name} must accept the token before it is timed"
        );
    }
    match runner {
        Runner::Criterion(g) => {
            g.bench_function(name, |b| {
                b.iter_batched(
                    &request,
                    |req| {
                        block_on(async {
                            svc.ready()
                                .await
                                .expect("ready")
                                .call(req)
                                .await
                                .expect("response")
                        })
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        Runner::Paired { stacks, .. } => {
            stacks.push((
                name.to_owned(),
                Box::new(move || block_service(&mut svc, &request)),
            ));
        }
    }
}

fn bench_alg(c: &mut Criterion, alg: Algorithm, runtime: &tokio::runtime::Runtime) {
    // A trailing slash: axum-jose takes the issuer as a `Url`, which always has a path.
    let issuer = TestIssuer::with_algorithm(alg).issuer("https://issuer.test/");
    let token = issuer
        .token()
        .scopes(["users:read", "users:write", "profile"])
        .subject("alice")
        .not_before(-10) // tower-oauth2-resource-server requires `nbf` once it checks it
        .sign();
    // With `PEERS_REJECT`, every stack and the floor get the refused token instead.
    let reject = std::env::var("PEERS_REJECT").ok();
    let refused = reject
        .as_deref()
        .map(|kind| rejected::rejected_token(&issuer, &token, kind));
    let valid_token = token.clone();
    let token = match &refused {
        Some(Some(bad)) => bad.clone(),
        _ => token,
    };
    let header = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    let missing = matches!(refused, Some(None));
    let (iss, aud) = (
        issuer.issuer_id().to_owned(),
        issuer.audience_id().to_owned(),
    );
    let mut g = if std::env::var_os("PEERS_PAIRED").is_some() {
        Runner::Paired {
            floor: None,
            stacks: Vec::new(),
        }
    } else {
        Runner::Criterion(c.benchmark_group(alg.as_str()))
    };

    // The floor: jsonwebtoken 11 (aws-lc-rs), same claims type.
    let floor_key = match alg {
        Algorithm::HS256 => jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::RS256 => {
            jsonwebtoken::DecodingKey::from_rsa_pem(keys::RSA_PUBLIC.as_bytes()).unwrap()
        }
        Algorithm::ES256 => {
            jsonwebtoken::DecodingKey::from_ec_pem(keys::P256_PUBLIC.as_bytes()).unwrap()
        }
        _ => jsonwebtoken::DecodingKey::from_ed_pem(keys::ED25519_PUBLIC.as_bytes()).unwrap(),
    };
    let mut v11 = jsonwebtoken::Validation::new(alg.as_str().parse().unwrap());
    v11.set_issuer(&[&iss]);
    v11.set_audience(&[&aud]);
    v11.validate_nbf = true;
    // The floor's own rejection of a refused token; without a token, its valid one.
    let floor_token = if reject.is_some() && !missing {
        token.clone()
    } else {
        valid_token
    };
    let floor_ok = jsonwebtoken::decode::<FloorClaims>(&floor_token, &floor_key, &v11).is_ok();
    assert_eq!(floor_ok, reject.is_none() || missing, "the floor's answer");
    g.floor(move || {
        jsonwebtoken::decode::<FloorClaims>(black_box(&floor_token), &floor_key, &v11).is_ok()
    });

    // tower-bearer: the layer and the scope guard in an axum 0.8 router.
    let ours: axum::Router = axum::Router::new()
        .route(
            "/users",
            axum::routing::get(|| async { "ok" })
                .route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(issuer.validator()))
        .with_state(());
    let request08 = || {
        let r = Request::get("/users");
        let r = if missing {
            r
        } else {
            r.header("authorization", header.clone())
        };
        r.body(axum::body::Body::empty()).unwrap()
    };
    bench_router(&mut g, "tower-bearer", ours, request08);

    // jwt-authorizer 0.15 (axum 0.7, jsonwebtoken 9): a layer; the scope through `check`.
    let builder = match alg {
        Algorithm::HS256 => jwt_authorizer::JwtAuthorizer::<FloorClaims>::from_secret(SECRET),
        Algorithm::RS256 => jwt_authorizer::JwtAuthorizer::from_rsa_pem_text(keys::RSA_PUBLIC),
        Algorithm::ES256 => jwt_authorizer::JwtAuthorizer::from_ec_pem_text(keys::P256_PUBLIC),
        _ => jwt_authorizer::JwtAuthorizer::from_ed_pem_text(keys::ED25519_PUBLIC),
    };
    let authorizer = runtime
        .block_on(
            builder
                .validation(
                    jwt_authorizer::Validation::new()
                        .iss(&[&iss])
                        .aud(&[&aud])
                        .nbf(true),
                )
                .check(has_scope)
                .build(),
        )
        .expect("jwt-authorizer");
    use jwt_authorizer::IntoLayer;
    let ja: axum07::Router = axum07::Router::new()
        .route("/users", axum07::routing::get(|| async { "ok" }))
        .layer(vec![authorizer].into_layer())
        .with_state(());
    let request07 = || {
        let r = Request::get("/users");
        let r = if missing {
            r
        } else {
            r.header("authorization", header.clone())
        };
        r.body(axum07::body::Body::empty()).unwrap()
    };
    bench_router(&mut g, "jwt-authorizer", ja, request07);

    // axum-jwt-auth 0.7 (axum 0.8, jsonwebtoken 10 with RustCrypto): an extractor; the scope
    // checked in the handler.
    let key10 = match alg {
        Algorithm::HS256 => jsonwebtoken10::DecodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::RS256 => {
            jsonwebtoken10::DecodingKey::from_rsa_pem(keys::RSA_PUBLIC.as_bytes()).unwrap()
        }
        Algorithm::ES256 => {
            jsonwebtoken10::DecodingKey::from_ec_pem(keys::P256_PUBLIC.as_bytes()).unwrap()
        }
        _ => jsonwebtoken10::DecodingKey::from_ed_pem(keys::ED25519_PUBLIC.as_bytes()).unwrap(),
    };
    let mut v10 = jsonwebtoken10::Validation::new(alg.as_str().parse().unwrap());
    v10.set_issuer(&[&iss]);
    v10.set_audience(&[&aud]);
    v10.validate_nbf = true;
    let decoder = axum_jwt_auth::LocalDecoder::builder()
        .keys(vec![key10])
        .validation(v10)
        .build()
        .expect("axum-jwt-auth");
    let decoder: axum_jwt_auth::Decoder<FloorClaims> = Arc::new(decoder);
    let ajwt: axum::Router = axum::Router::new()
        .route(
            "/users",
            axum::routing::get(|c: axum_jwt_auth::Claims<FloorClaims>| async move {
                if has_scope(&c.claims) {
                    http::StatusCode::OK
                } else {
                    http::StatusCode::FORBIDDEN
                }
            }),
        )
        .with_state(decoder);
    bench_router(&mut g, "axum-jwt-auth", ajwt, request08);

    // The JWKS-only peers get the key as a JWK Set; an HMAC secret as an `oct` key.
    let jwks = if alg == Algorithm::HS256 {
        use base64::Engine as _;
        serde_json::json!({"keys": [{
            "kty": "oct", "alg": "HS256", "kid": "test-hs256", "use": "sig",
            "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET),
        }]})
        .to_string()
    } else {
        issuer.jwks()
    };

    // tower-oauth2-resource-server 0.12 (jsonwebtoken 11): a layer with a static JWKS
    // tenant; claims in the extensions, the scope checked in the handler.
    let tenant =
        tower_oauth2_resource_server::tenant::TenantConfiguration::static_builder(jwks.clone())
            .identifier(&iss)
            .audiences(&[&aud])
            .allowed_algorithms(&[alg.as_str().parse().unwrap()])
            .claims_validation(
                tower_oauth2_resource_server::validation::ClaimsValidationSpec::recommended(
                    &iss,
                    &vec![aud.clone()],
                ),
            )
            .build()
            .expect("tower-oauth2-resource-server tenant");
    let server = runtime
        .block_on(
            tower_oauth2_resource_server::server::OAuth2ResourceServer::<FloorClaims>::builder()
                .add_tenant(tenant)
                .build(),
        )
        .expect("tower-oauth2-resource-server");
    let tors: axum::Router = axum::Router::new()
        .route(
            "/users",
            axum::routing::get(
                |axum::Extension(c): axum::Extension<FloorClaims>| async move {
                    if has_scope(&c) {
                        http::StatusCode::OK
                    } else {
                        http::StatusCode::FORBIDDEN
                    }
                },
            ),
        )
        .layer(server.into_layer())
        .with_state(());
    bench_router(&mut g, "tower-oauth2-resource-server", tors, request08);

    // aliri_tower 0.6 (aliri's own JOSE on ring/openssl; no EdDSA): a JWT layer and a scope
    // layer, the same shape as ours.
    if alg != Algorithm::EdDSA {
        let aliri_jwks: aliri::Jwks = serde_json::from_str(&jwks).expect("aliri JWKS");
        let aliri_alg = match alg {
            Algorithm::HS256 => aliri::jwa::Algorithm::HS256,
            Algorithm::RS256 => aliri::jwa::Algorithm::RS256,
            _ => aliri::jwa::Algorithm::ES256,
        };
        let validator = aliri::jwt::CoreValidator::default()
            .add_approved_algorithm(aliri_alg)
            .add_allowed_audience(aliri::jwt::Audience::new(aud.clone()))
            .require_issuer(aliri::jwt::Issuer::new(iss.clone()))
            .check_not_before();
        let authority = aliri_oauth2::Authority::new(aliri_jwks, validator);
        let authorizer = aliri_tower::Oauth2Authorizer::new()
            .with_claims::<aliri_oauth2::scope::BasicClaimsWithScope>()
            .with_terse_error_handler::<axum::body::Body>();
        let policy = aliri_oauth2::ScopePolicy::allow_one(aliri_oauth2::scope::Scope::single(
            aliri_oauth2::scope::ScopeToken::from_static("users:read"),
        ));
        let al: axum::Router = axum::Router::new()
            .route(
                "/users",
                axum::routing::get(|| async { "ok" }).route_layer(authorizer.scope_layer(policy)),
            )
            .layer(authorizer.jwt_layer(authority))
            .with_state(());
        bench_router(&mut g, "aliri_tower", al, request08);
    }

    // axum-jose 0.2 (jsonwebtoken 10): a layer with a local JWK set; the scope checked in
    // the handler from the JSON claims.
    let jose_set: jsonwebtoken10::jwk::JwkSet =
        serde_json::from_str(&jwks).expect("axum-jose JWKS");
    let jose = axum_jose::AuthorizationLayer::with_local_jwk_set(
        jose_set,
        url::Url::parse(&iss).expect("issuer URL"),
        aud.clone(),
    );
    let aj: axum::Router = axum::Router::new()
        .route(
            "/users",
            axum::routing::get(
                |axum::Extension(axum_jose::authorization::Claims(c)): axum::Extension<
                    axum_jose::authorization::Claims,
                >| async move {
                    let ok = c["scope"]
                        .as_str()
                        .is_some_and(|s| s.split(' ').any(|x| x == "users:read"));
                    if ok {
                        http::StatusCode::OK
                    } else {
                        http::StatusCode::FORBIDDEN
                    }
                },
            ),
        )
        .layer(jose)
        .with_state(());
    bench_router(&mut g, "axum-jose", aj, request08);
    match g {
        Runner::Criterion(g) => g.finish(),
        paired => paired.finish(alg),
    }
}

fn benches(c: &mut Criterion) {
    // Each jsonwebtoken major version has its own process-wide provider; both get aws-lc-rs,
    // the backend tower-bearer and the floor use.
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    let _ = jsonwebtoken10::crypto::CryptoProvider::install_default(
        &jsonwebtoken10::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        bench_alg(c, alg, &runtime);
    }
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(group);
