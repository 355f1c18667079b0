//! Shared state on Redis (or Valkey), feature `redis`: the DPoP replay cache, the key behind
//! DPoP nonces and introspection answer keys, and introspection answers, shared by every
//! instance of a service.
//!
//! ```no_run
//! use tower_bearer::dpop::Dpop;
//! use tower_bearer::store::redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = RedisStore::builder("redis://:secret@10.0.0.5:6379/0")
//!     .prefix("orders-api:")
//!     .connect()
//!     .await?;
//! let dpop = Dpop::allowed()
//!     .replay_store(redis.replay_store()?)              // one proof, once, across instances
//!     .nonce_key(redis.shared_key("dpop-nonce").await?)  // the same nonces everywhere
//!     .build()?;
//! # let _ = dpop; Ok(()) }
//! ```
//!
//! **Failure policy.** Every command has a timeout (default 500 ms) and the connection is
//! re-established in the background. When Redis cannot answer, a DPoP proof is refused with
//! `503` and `Retry-After` (fail closed: a replay never passes because Redis was down), an
//! introspection answer is asked of the endpoint instead, and plain bearer JWTs never touch
//! Redis. An out-of-memory answer is a failure like any other.
//!
//! **Eviction.** A Redis that evicts keys under memory pressure would silently forget live
//! replay entries and reopen their replay window, so [`RedisStore::replay_store`] refuses a
//! server whose `maxmemory-policy` is not `noeviction`, unless
//! [`RedisStoreBuilder::allow_eviction`] says otherwise.
//!
//! **Keys.** Everything lives under the prefix: `dpop:{<owner>}` (a sorted set of one proof
//! key's live proofs, for its quota) and `dpop:{<owner>}:<proof>` (one proof), each a
//! SHA-256 of the client's thumbprint and `jti`, never the values themselves;
//! `introspect:<key>` (an answer, under the HMAC of the token the validator computes);
//! `secret:<name>` (a shared key, made once with `SET NX`). Every entry expires.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use super::{AnswerStore, Insert, Pending, ReplayStore, SeenProof, StoreError, StoredAnswer};
use crate::error::ConfigError;

const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
const DEFAULT_QUOTA: u64 = 1024;

/// Configures a [`RedisStore`].
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    allow_eviction: bool,
    quota: u64,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("allow_eviction", &self.allow_eviction)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `tower-bearer:`): give each service its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The timeout of each command (default 500 ms, at most 10 s).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use the replay store even when the server may evict keys (`maxmemory-policy` other
    /// than `noeviction`): an evicted entry reopens that proof's replay window.
    pub fn allow_eviction(mut self) -> Self {
        self.allow_eviction = true;
        self
    }

    /// How many live proofs one DPoP key may hold (default 1024), so that one client cannot
    /// fill the store.
    pub fn replay_quota(mut self, quota: u64) -> Self {
        self.quota = quota;
        self
    }

    /// Connect, and read the server's eviction policy.
    ///
    /// # Errors
    /// A malformed URL or an out-of-range setting (`ConfigError`), or a server that cannot
    /// be reached within the command timeout.
    pub async fn connect(self) -> Result<RedisStore, RedisConnectError> {
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(10) {
            return Err(RedisConnectError::Config(ConfigError::Invalid(
                "redis command_timeout must be above zero and at most 10 s".into(),
            )));
        }
        if self.quota == 0 {
            return Err(RedisConnectError::Config(ConfigError::Invalid(
                "redis replay_quota must be at least 1".into(),
            )));
        }
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            RedisConnectError::Config(ConfigError::Invalid(
                format!("redis URL refused ({:?}): use redis://[:password@]host[:port][/db] or rediss://…", e.kind()).into(),
            ))
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.timeout))
            .set_connection_timeout(Some(self.timeout));
        let conn = tokio::time::timeout(
            self.timeout.saturating_mul(4),
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| RedisConnectError::Unreachable("timed out".into()))?
        .map_err(|e| RedisConnectError::Unreachable(format!("{:?}", e.kind())))?;
        let store = RedisStore {
            conn,
            prefix: self.prefix,
            timeout: self.timeout,
            quota: self.quota,
            allow_eviction: self.allow_eviction,
            policy: String::new(),
        };
        let info: String = store
            .run(redis::cmd("INFO").arg("memory"))
            .await
            .map_err(|e| RedisConnectError::Unreachable(e.to_string()))?;
        let policy = info
            .lines()
            .find_map(|l| l.trim().strip_prefix("maxmemory_policy:"))
            .unwrap_or("unknown")
            .to_owned();
        Ok(RedisStore { policy, ..store })
    }
}

/// Why [`RedisStoreBuilder::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisConnectError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server could not be reached or did not answer.
    #[error("redis unreachable: {0}")]
    Unreachable(String),
}

/// A connection to Redis shared by the stores it hands out; cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    quota: u64,
    allow_eviction: bool,
    policy: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("maxmemory_policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Start configuring a store for `url` (`redis://[:password@]host[:port][/db]`, or
    /// `rediss://` for TLS).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "tower-bearer:".into(),
            timeout: DEFAULT_TIMEOUT,
            allow_eviction: false,
            quota: DEFAULT_QUOTA,
        }
    }

    /// The server's `maxmemory-policy`, as read at connect time.
    pub fn maxmemory_policy(&self) -> &str {
        &self.policy
    }

    /// The DPoP replay store (one atomic script per proof).
    ///
    /// # Errors
    /// If the server may evict keys and [`RedisStoreBuilder::allow_eviction`] was not called.
    pub fn replay_store(&self) -> Result<RedisReplayStore, ConfigError> {
        if self.policy != "noeviction" && !self.allow_eviction {
            return Err(ConfigError::Invalid(
                format!(
                    "redis maxmemory-policy is {:?}: evicted replay entries would let DPoP proofs be replayed; set `maxmemory-policy noeviction`, or call allow_eviction() to accept that",
                    self.policy
                )
                .into(),
            ));
        }
        Ok(RedisReplayStore {
            store: self.clone(),
            script: redis::Script::new(REPLAY_SCRIPT),
        })
    }

    /// The introspection answer store.
    pub fn answer_store(&self) -> RedisAnswerStore {
        RedisAnswerStore {
            store: self.clone(),
        }
    }

    /// A 32-byte secret every instance shares, made by the first instance to ask (`SET NX`)
    /// and never expiring: for [`DpopBuilder::nonce_key`](crate::dpop::DpopBuilder::nonce_key)
    /// and [`IntrospectionBuilder::answer_store`](crate::introspect::IntrospectionBuilder::answer_store).
    ///
    /// # Errors
    /// If Redis cannot answer, or holds something else under that name.
    pub async fn shared_key(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let key = format!("{}secret:{name}", self.prefix);
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh).map_err(|_| StoreError::new("no randomness"))?;
        let _: Option<String> = self
            .run(redis::cmd("SET").arg(&key).arg(hex(&fresh)).arg("NX"))
            .await?;
        let stored: String = self.run(redis::cmd("GET").arg(&key)).await?;
        let mut out = [0u8; 32];
        if stored.len() != 64 {
            return Err(StoreError::new("the shared secret in redis is malformed"));
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&stored[2 * i..2 * i + 2], 16)
                .map_err(|_| StoreError::new("the shared secret in redis is malformed"))?;
        }
        Ok(out)
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(store_error(&e)),
            Err(_) => Err(StoreError::new("redis command timed out")),
        }
    }
}

fn store_error(e: &redis::RedisError) -> StoreError {
    // The error's kind and code only: a message could echo a key.
    match e.code() {
        Some(code) => StoreError::new(format!("redis: {code}")),
        None => StoreError::new(format!("redis: {:?}", e.kind())),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    out
}

/// KEYS[1]: the proof; KEYS[2]: its key's live proofs. ARGV: ttl in ms, quota, now and expiry
/// in seconds. 0 fresh, 1 replayed, 2 over the key's quota.
const REPLAY_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 2 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], KEYS[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return 0
";

/// The DPoP replay cache on Redis; see the [module docs](self).
#[derive(Clone)]
pub struct RedisReplayStore {
    store: RedisStore,
    script: redis::Script,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl ReplayStore for RedisReplayStore {
    fn insert(&self, proof: SeenProof) -> Pending<Result<Insert, StoreError>> {
        let owner = hex(&Sha256::digest(proof.jkt.as_bytes()));
        let mut h = Sha256::new();
        h.update(proof.jkt.as_bytes());
        h.update([0]);
        h.update(proof.jti.as_bytes());
        let one = hex(&h.finalize());
        let prefix = &self.store.prefix;
        // The owner in braces: both keys hash to one cluster slot, as a script needs.
        let set_key = format!("{prefix}dpop:{{{owner}}}");
        let proof_key = format!("{set_key}:{one}");
        let ttl_ms = proof
            .expires
            .saturating_sub(proof.now)
            .max(1)
            .saturating_mul(1000);
        let store = self.store.clone();
        let script = self.script.clone();
        let (now, expires, quota) = (proof.now, proof.expires, store.quota);
        Pending::Later(Box::pin(async move {
            let mut invocation = script.key(&proof_key);
            invocation
                .key(&set_key)
                .arg(ttl_ms)
                .arg(quota)
                .arg(now)
                .arg(expires);
            let mut conn = store.conn.clone();
            let answer =
                tokio::time::timeout(store.timeout, invocation.invoke_async::<i64>(&mut conn))
                    .await
                    .map_err(|_| StoreError::new("redis command timed out"))?
                    .map_err(|e| store_error(&e))?;
            match answer {
                0 => Ok(Insert::Fresh),
                1 => Ok(Insert::Replayed),
                2 => Ok(Insert::TooMany),
                _ => Err(StoreError::new("redis: unexpected script answer")),
            }
        }))
    }
}

/// Introspection answers on Redis; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct RedisAnswerStore {
    store: RedisStore,
}

impl AnswerStore for RedisAnswerStore {
    fn get(&self, key: [u8; 32]) -> Pending<Result<Option<StoredAnswer>, StoreError>> {
        let store = self.store.clone();
        let key = format!("{}introspect:{}", store.prefix, hex(&key));
        Pending::Later(Box::pin(async move {
            let value: Option<String> = store.run(redis::cmd("GET").arg(&key)).await?;
            Ok(match value.as_deref() {
                None => None,
                Some("R") => Some(StoredAnswer::Refused),
                // Anything else is not ours to read: as if absent, the endpoint is asked.
                Some(v) => v
                    .strip_prefix('A')
                    .map(|json| StoredAnswer::Active(json.to_owned())),
            })
        }))
    }

    fn put(
        &self,
        key: [u8; 32],
        answer: StoredAnswer,
        ttl: Duration,
    ) -> Pending<Result<(), StoreError>> {
        let store = self.store.clone();
        let key = format!("{}introspect:{}", store.prefix, hex(&key));
        let value = match answer {
            StoredAnswer::Active(json) => format!("A{json}"),
            StoredAnswer::Refused => "R".to_owned(),
        };
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        Pending::Later(Box::pin(async move {
            let _: () = store
                .run(redis::cmd("SET").arg(&key).arg(value).arg("PX").arg(ms))
                .await?;
            Ok(())
        }))
    }
}
