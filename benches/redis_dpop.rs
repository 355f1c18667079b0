//! What the shared replay store costs on the DPoP path: the same DPoP requests through the
//! same tower stack (ES256 access token, verified-token cache on, ES256 proofs, each proof
//! new), with the in-memory replay cache and with `RedisStore` on a `redis-server` this bench
//! starts on 127.0.0.1.
//!
//! * **latency**: one request at a time, interleaved blocks (memory, Redis, memory, …); the
//!   median per-request time of each;
//! * **CPU per request** with 64 requests in flight on one thread (a current-thread runtime:
//!   one core), from the thread's own CPU time (`/proc/thread-self/schedstat`), and the
//!   Redis server's CPU time per request (`/proc/<pid>/schedstat`);
//! * **Redis memory per live proof** (`INFO memory`, `used_memory` before and after).
//!
//! ```text
//! cargo bench --bench redis_dpop            # needs redis-server on the PATH
//! ```
//! Proofs are signed before the clock starts; what is timed is the layer's work (parsing and
//! verifying the proof, the token, the replay store) and the round trip to Redis.

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, StreamExt};
use http::{Request, StatusCode};
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;
use tower_bearer::store::redis::RedisStore;
use tower_bearer::testing::{DpopClient, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer};

const URL: &str = "https://api.test/users";
/// Requests per block of the latency run, and blocks per store.
const PER_BLOCK: usize = 200;
const BLOCKS: usize = 10;
/// Requests of the CPU run, per store, and how many are in flight.
const CPU_RUN: usize = 6000;
const IN_FLIGHT: usize = 64;

/// Nanoseconds this thread (or process `pid`'s main thread) has run on a CPU.
fn cpu_ns(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Setup {
    token: String,
    client: DpopClient,
}

impl Setup {
    fn proofs(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| self.client.proof("GET", URL, &self.token))
            .collect()
    }
}

fn app(issuer: &TestIssuer, dpop: Dpop) -> Router {
    let validator = issuer
        .validator_builder()
        .token_cache(1024)
        .build()
        .unwrap();
    Router::new()
        .route("/users", get(|| async { "users" }))
        .layer(BearerLayer::new(validator).dpop(dpop))
}

async fn call(app: &Router, token: &str, proof: &str) {
    let req = Request::get("/users")
        .header("host", "api.test")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .body(Body::empty())
        .unwrap();
    let status = app.clone().oneshot(req).await.unwrap().status();
    assert_eq!(status, StatusCode::OK, "every proof is new and valid");
}

/// Median seconds per request over `blocks` of sequential requests.
async fn block(app: &Router, setup: &Setup, proofs: &[String]) -> f64 {
    let start = Instant::now();
    for proof in proofs {
        call(app, &setup.token, proof).await;
    }
    start.elapsed().as_secs_f64() / proofs.len() as f64
}

/// This thread's CPU, and the Redis server's, per request with `IN_FLIGHT` requests in flight.
async fn cpu_run(
    app: &Router,
    setup: &Setup,
    proofs: &[String],
    redis: Option<&str>,
) -> (f64, f64, f64) {
    let redis_before = redis.map_or(0, cpu_ns);
    let before = cpu_ns("/proc/thread-self/schedstat");
    let start = Instant::now();
    stream::iter(proofs)
        .for_each_concurrent(IN_FLIGHT, |proof| call(app, &setup.token, proof))
        .await;
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_ns("/proc/thread-self/schedstat") - before) as f64 / 1e9;
    let redis_cpu = redis.map_or(0, cpu_ns).saturating_sub(redis_before) as f64 / 1e9;
    let n = proofs.len() as f64;
    (cpu / n, redis_cpu / n, n / wall)
}

async fn used_memory(url: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

fn main() {
    let port = redis_server::free_port();
    let Some(server) = redis_server::redis_server(port, "noeviction") else {
        eprintln!("redis-server is not installed: nothing to measure");
        return;
    };
    let pid = Some(server.pid());
    let schedstat = pid.map(|p| format!("/proc/{p}/schedstat"));
    let url = format!("redis://127.0.0.1:{port}/0");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let issuer = TestIssuer::with_algorithm(Algorithm::ES256);
        let client = DpopClient::new(Algorithm::ES256);
        let token = issuer.token().dpop_bound(&client).expires_in(3600).sign();
        let setup = Setup { token, client };
        let store = RedisStore::builder(url.clone())
            .replay_quota(1 << 20)
            .command_timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap();
        let dpop = |redis: bool| {
            let builder = Dpop::required().public_base_url("https://api.test");
            let builder = if redis {
                builder.replay_store(store.replay_store().unwrap())
            } else {
                builder.replay_cache(1 << 22)
            };
            builder.build().unwrap()
        };
        let memory_app = app(&issuer, dpop(false));
        let redis_app = app(&issuer, dpop(true));

        // Warm both (connections, caches).
        for app in [&memory_app, &redis_app] {
            for proof in setup.proofs(50) {
                call(app, &setup.token, &proof).await;
            }
        }

        let mut memory = Vec::new();
        let mut shared = Vec::new();
        for _ in 0..BLOCKS {
            let proofs = setup.proofs(PER_BLOCK);
            memory.push(block(&memory_app, &setup, &proofs).await);
            let proofs = setup.proofs(PER_BLOCK);
            shared.push(block(&redis_app, &setup, &proofs).await);
        }
        let (m, r) = (median(memory), median(shared));
        println!("latency, one request at a time ({BLOCKS} blocks of {PER_BLOCK}, median per request):");
        println!("  in-memory replay cache  {:>8.1} µs", m * 1e6);
        println!("  Redis replay store      {:>8.1} µs   (+{:.1} µs, {:.2}x)", r * 1e6, (r - m) * 1e6, r / m);

        let before = used_memory(&url).await;
        let proofs = setup.proofs(CPU_RUN);
        let (mem_cpu, _, mem_rps) = cpu_run(&memory_app, &setup, &proofs, None).await;
        let proofs = setup.proofs(CPU_RUN);
        let (redis_cpu, server_cpu, redis_rps) =
            cpu_run(&redis_app, &setup, &proofs, schedstat.as_deref()).await;
        let after = used_memory(&url).await;
        println!("CPU per request, {CPU_RUN} requests, {IN_FLIGHT} in flight, one thread:");
        println!(
            "  in-memory replay cache  {:>8.1} µs  -> {:>7.0} requests/s per core (wall: {:.0}/s)",
            mem_cpu * 1e6,
            1.0 / mem_cpu,
            mem_rps
        );
        println!(
            "  Redis replay store      {:>8.1} µs  -> {:>7.0} requests/s per core (wall: {:.0}/s), +{:.1} µs",
            redis_cpu * 1e6,
            1.0 / redis_cpu,
            redis_rps,
            (redis_cpu - mem_cpu) * 1e6
        );
        if pid.is_some() {
            println!(
                "  redis-server CPU        {:>8.1} µs per request -> {:.0} DPoP requests/s saturate one Redis core",
                server_cpu * 1e6,
                1.0 / server_cpu
            );
        }
        // The CPU run's Redis requests each left one live proof (the memory run none).
        println!(
            "Redis memory: {:.0} bytes per live proof ({} proofs of the CPU run)",
            (after - before) as f64 / CPU_RUN as f64,
            CPU_RUN
        );
    });
    drop(server);
}
