//! Interleaved timing blocks, for the paired benches (`benches/paired.rs` and the peers'
//! `PEERS_PAIRED=1` mode): each block times `PER_BLOCK` calls, and a ratio is taken per
//! block against the floor's neighbouring blocks, so the machine's drift cancels.

use std::hint::black_box;
use std::time::Instant;

use http::Request;
use tower::{Service, ServiceExt};

use crate::common::block_on;

pub(crate) const PER_BLOCK: usize = 64;
pub(crate) const BLOCKS: usize = 150;

/// Nanoseconds per call of `f` over one block.
pub(crate) fn block<T>(mut f: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    for _ in 0..PER_BLOCK {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / PER_BLOCK as f64
}

/// Nanoseconds per request through `svc`, requests built before the clock starts and
/// responses dropped after it stops.
pub(crate) fn block_service<S, B>(svc: &mut S, request: &impl Fn() -> Request<B>) -> f64
where
    S: Service<Request<B>>,
    S::Error: std::fmt::Debug,
{
    let requests: Vec<_> = (0..PER_BLOCK).map(|_| request()).collect();
    let mut responses = Vec::with_capacity(PER_BLOCK);
    let start = Instant::now();
    for req in requests {
        responses.push(block_on(async {
            let svc = ServiceExt::<Request<B>>::ready(&mut *svc)
                .await
                .expect("ready");
            svc.call(req).await.expect("response")
        }));
    }
    let ns = start.elapsed().as_nanos() as f64 / PER_BLOCK as f64;
    drop(responses);
    ns
}

/// First quartile, median and third quartile.
pub(crate) fn quartiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}
