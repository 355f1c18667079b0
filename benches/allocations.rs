//! Heap allocations per successful request, counted with a counting global allocator.
//!
//! ```text
//! cargo bench --bench allocations
//! ```
//! Prints, for HS256 and RS256: allocations (and bytes) for `jsonwebtoken::decode` (the
//! floor), our validator alone, the tower stack (BearerLayer + RequireScopeLayer over a
//! trivial service, request construction excluded), and a cache hit.

// A global allocator is unsafe to implement; this bench needs one to count allocations.
#![allow(unsafe_code)]

mod common;

use common::{block_on, FloorClaims};
use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use jsonwebtoken::{DecodingKey, Validation};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_bearer::testing::{keys, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes of `f`, averaged over 1000 runs after a warm-up.
fn count<T>(mut f: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..10 {
        drop(f());
    }
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    for _ in 0..1000 {
        drop(f());
    }
    let (a1, b1) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    ((a1 - a0) as f64 / 1000.0, (b1 - b0) as f64 / 1000.0)
}

fn main() {
    let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
    );
    println!("{:<8} {:<22} {:>8} {:>8}", "alg", "path", "allocs", "bytes");
    for alg in [Algorithm::HS256, Algorithm::RS256] {
        let issuer = TestIssuer::with_algorithm(alg);
        let token = issuer
            .token()
            .scopes(["users:read", "users:write", "profile"])
            .subject("alice")
            .sign();
        let validator = issuer.validator();
        let cached = issuer
            .validator_builder()
            .token_cache(1000)
            .build()
            .expect("validator");
        let key = match alg {
            Algorithm::HS256 => DecodingKey::from_secret(
                b"tower-bearer test secret, never use in production!!!!!!!!!!!!!!!",
            ),
            _ => DecodingKey::from_rsa_pem(keys::RSA_PUBLIC.as_bytes()).expect("key"),
        };
        let mut validation = Validation::new(alg.as_str().parse().expect("alg"));
        validation.set_issuer(&[issuer.issuer_id()]);
        validation.set_audience(&[issuer.audience_id()]);
        validation.validate_nbf = true;

        let mut svc = ServiceBuilder::new()
            .layer(BearerLayer::new(validator.clone()))
            .layer(RequireScopeLayer::all(["users:read"]))
            .service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            });
        let header = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
        let (req_allocs, _) = count(|| {
            Request::get("/users")
                .header("authorization", header.clone())
                .body(Full::new(Bytes::new()))
                .expect("request")
        });

        let rows = [
            (
                "floor (decode)",
                count(|| jsonwebtoken::decode::<FloorClaims>(&token, &key, &validation).is_ok()),
            ),
            ("validate", count(|| validator.validate(&token).is_ok())),
            (
                "validate, cache hit",
                count(|| cached.validate(&token).is_ok()),
            ),
            ("tower stack", {
                let (a, b) = count(|| {
                    let req = Request::get("/users")
                        .header("authorization", header.clone())
                        .body(Full::new(Bytes::new()))
                        .expect("request");
                    block_on(async {
                        let s = svc.ready().await.expect("ready");
                        s.call(req).await.expect("response").status()
                    })
                });
                (a - req_allocs, b)
            }),
        ];
        for (name, (allocs, bytes)) in rows {
            println!(
                "{:<8} {:<22} {:>8.1} {:>8.0}",
                alg.as_str(),
                name,
                allocs,
                bytes
            );
        }
    }
    println!("(tower stack: net of the allocations of building the request itself)");
}
