//! Multi-core scaling: validations per second with 1 and 2 threads sharing one validator.
//!
//! ```text
//! cargo bench --bench scaling
//! ```
//! Each thread validates in a loop for a fixed time. Cached rows use the verified-token
//! cache: `1 tok` has every thread hit the same entry (the worst case for its shard lock),
//! `256` cycles through 256 clients' tokens (spread over the shards).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, Validator};

fn rate(validator: &Validator, tokens: &[String], threads: usize, time: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, done) = (stop.clone(), done.clone());
            s.spawn(move || {
                let mut n = 0u64;
                let mut i = t * 7;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        i = (i + 1) % tokens.len();
                        assert!(validator.validate(&tokens[i]).is_ok());
                    }
                    n += 64;
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
        std::thread::sleep(time);
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let time = Duration::from_secs(2);
    println!(
        "{:<22} {:>14} {:>14} {:>8}",
        "case", "1 thread/s", "2 threads/s", "scaling"
    );
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256] {
        let issuer = TestIssuer::with_algorithm(alg);
        let one_token = vec![issuer.token().scopes(["users:read"]).sign()];
        let many_tokens: Vec<String> = (0..256)
            .map(|i| issuer.token().subject(&format!("user-{i}")).sign())
            .collect();
        let plain = issuer.validator();
        let cached = issuer
            .validator_builder()
            .token_cache(10_000)
            .build()
            .expect("validator");
        for (name, v, tokens) in [
            ("", &plain, &one_token),
            (" cached, 1 tok", &cached, &one_token),
            (" cached, 256", &cached, &many_tokens),
        ] {
            let one = rate(v, tokens, 1, time);
            let two = rate(v, tokens, 2, time);
            println!(
                "{:<22} {:>14.0} {:>14.0} {:>7.2}x",
                format!("{}{name}", alg.as_str()),
                one,
                two,
                two / one
            );
        }
    }
}
