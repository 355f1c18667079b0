//! Shared by the benches (and by `benches/peers`): the floor's claims type and a tiny executor.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde::Deserialize;

/// The claims our validator reads, for the floor (`jsonwebtoken::decode`) and the peers.
#[allow(dead_code)]
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FloorClaims {
    pub(crate) iss: String,
    pub(crate) sub: Option<String>,
    pub(crate) aud: String,
    pub(crate) exp: f64,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
    pub(crate) jti: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scope: Option<String>,
}

/// Poll a future that never waits on I/O to completion, without a runtime's overhead.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
