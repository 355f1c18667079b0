//! The application's asynchronous claim checks (a revocation lookup, a tenant's status): run
//! after the signature and every standard check passed, on every request (a verified-token
//! cache hit included), within one deadline. A check the user declares cacheable
//! ([`check_async_cached`](crate::ValidatorBuilder::check_async_cached)) is skipped for a
//! token it passed less than its time-to-live ago; refusals and failures are never
//! remembered.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::claims::{Authenticated, TokenClaims};
use crate::error::{CheckError, TokenError};

/// The future an asynchronous check returns.
pub(crate) type CheckFuture = Pin<Box<dyn Future<Output = Result<(), CheckError>> + Send>>;

/// One asynchronous check function.
pub(crate) type CheckFn = Arc<dyn Fn(TokenClaims) -> CheckFuture + Send + Sync>;

/// One asynchronous check, and where the user allowed it, the tokens it passed recently.
#[derive(Clone)]
pub(crate) struct AsyncCheck {
    pub(crate) check: CheckFn,
    pub(crate) passed: Option<Arc<Passed>>,
}

/// The tokens a cacheable check passed, each until `ttl` after it did: keyed by a seeded
/// 128-bit hash of the token's claims (the same claims, signed by the same issuer, are the
/// same token to the check), bounded in entries.
pub(crate) struct Passed {
    ttl: Duration,
    seed: u64,
    entries: std::sync::Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    map: std::collections::HashMap<u128, std::time::Instant>,
    /// When expired entries were last swept: at most once a second, so a full map costs
    /// each pass a lookup, not a scan.
    swept: Option<std::time::Instant>,
}

/// At most this many remembered passes per check; past it, nothing new is remembered until
/// entries expire (the check then simply runs).
const MAX_PASSED: usize = 65_536;

impl Passed {
    pub(crate) fn new(ttl: Duration) -> Self {
        let mut seed = [0u8; 8];
        // A fixed seed would only make the keys predictable, not wrong.
        let _ = getrandom::getrandom(&mut seed);
        Self {
            ttl,
            seed: u64::from_le_bytes(seed),
            entries: std::sync::Mutex::new(Remembered::default()),
        }
    }

    fn key(&self, claims: &TokenClaims) -> u128 {
        xxhash_rust::xxh3::xxh3_128_with_seed(claims.json().as_bytes(), self.seed)
    }

    fn hit(&self, key: u128) -> bool {
        let now = std::time::Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.get(&key).is_some_and(|until| *until > now)
    }

    fn remember(&self, key: u128) {
        let now = std::time::Instant::now();
        let Some(until) = now.checked_add(self.ttl) else {
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let due = entries
            .swept
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if entries.map.len() >= MAX_PASSED && due {
            entries.swept = Some(now);
            entries.map.retain(|_, until| *until > now);
        }
        if entries.map.len() < MAX_PASSED {
            entries.map.insert(key, until);
        }
    }
}

/// The default deadline for all of a token's asynchronous checks together.
pub(crate) const DEFAULT_CHECK_DEADLINE: Duration = Duration::from_secs(2);
/// The longest deadline accepted.
pub(crate) const MAX_CHECK_DEADLINE: Duration = Duration::from_secs(60);

/// A validator's asynchronous checks and their deadline.
pub(crate) struct AsyncChecks {
    pub(crate) list: Vec<AsyncCheck>,
    pub(crate) deadline: Duration,
}

impl fmt::Debug for AsyncChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncChecks")
            .field("checks", &self.list.len())
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl AsyncChecks {
    /// Run every check in order: a refusal is `401 invalid_token`; a check that fails or
    /// does not finish within the deadline is `503` (never a silent pass).
    pub(crate) async fn run(&self, auth: Authenticated) -> Result<Authenticated, TokenError> {
        let claims = auth.claims().clone();
        let all = async {
            for check in &self.list {
                let key = check.passed.as_ref().map(|p| (p, p.key(&claims)));
                if key.is_some_and(|(p, k)| p.hit(k)) {
                    continue;
                }
                (check.check)(claims.clone()).await?;
                if let Some((p, k)) = key {
                    p.remember(k);
                }
            }
            Ok::<(), CheckError>(())
        };
        let unavailable = TokenError::CheckUnavailable { retry_after: 1 };
        match tokio::time::timeout(self.deadline, all).await {
            Ok(Ok(())) => Ok(auth),
            Ok(Err(CheckError::Refused(why))) => Err(TokenError::Rejected(why)),
            Ok(Err(CheckError::Unavailable(why))) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(reason = %why, "asynchronous token check failed");
                let _ = why;
                Err(unavailable)
            }
            Err(_) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    deadline_ms = self.deadline.as_millis() as u64,
                    "asynchronous token check timed out"
                );
                Err(unavailable)
            }
        }
    }
}
