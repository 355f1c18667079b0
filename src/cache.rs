//! The verified-token cache (opt-in with [`ValidatorBuilder::token_cache`]).
//!
//! Clients reuse one token for its whole lifetime, so a resource server sees the same bytes
//! again and again. An entry is keyed by a seeded 128-bit hash of the *complete* token and
//! confirmed by comparing every byte, so only the exact token that was verified can hit.
//! On a hit `exp` and `nbf` are checked again, and your own claim checks run again; an entry
//! verified by an earlier version of a remote key set is ignored (so a key that left the set
//! no longer vouches for anything). Entries are bounded in number, evicted oldest first.
//!
//! The trade-off: a cached token is accepted until it expires, without a new signature
//! check. That is no different from verifying it again (a JWT cannot be revoked by its
//! signature), but it does mean the cache holds up to `max_entries` tokens in memory.
//!
//! [`ValidatorBuilder::token_cache`]: crate::ValidatorBuilder::token_cache

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Mutex;

use crate::validator::Authenticated;

const SHARDS: usize = 16;

/// The map key is already a hash: pass it through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

struct Entry {
    token: Box<str>,
    /// `None`: a negative entry (an introspection endpoint said the token is inactive).
    auth: Option<Authenticated>,
    keys_version: u64,
    /// Unix seconds after which the entry is ignored (`u64::MAX`: only `exp` bounds it).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    until: u64,
}

#[derive(Default)]
struct Shard {
    map: HashMap<u128, Entry, BuildHasherDefault<PassThrough>>,
    order: VecDeque<u128>,
}

/// One shard per cache line pair, so threads working on different shards do not contend
/// through false sharing.
#[repr(align(128))]
#[derive(Default)]
struct Padded(Mutex<Shard>);

pub(crate) struct TokenCache {
    shards: Box<[Padded]>,
    per_shard: usize,
    seed: u64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish()
    }
}

impl TokenCache {
    pub(crate) fn new(max_entries: usize) -> Self {
        let per_shard = max_entries.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS).map(|_| Padded::default()).collect(),
            per_shard,
            // A per-process seed: nobody can aim tokens at one shard or slot.
            seed: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }
    }

    fn locate(&self, token: &str) -> (u128, &Mutex<Shard>) {
        let hash = xxhash_rust::xxh3::xxh3_128_with_seed(token.as_bytes(), self.seed);
        let shard = &self.shards[(hash >> 120) as usize % SHARDS].0;
        (hash, shard)
    }

    /// The cached result for exactly this token, verified under `keys_version`.
    pub(crate) fn get(&self, token: &str, keys_version: u64) -> Option<Authenticated> {
        let (hash, shard) = self.locate(token);
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shard.map.get(&hash)?;
        if entry.keys_version == keys_version && *entry.token == *token {
            entry.auth.clone()
        } else {
            None
        }
    }

    pub(crate) fn insert(&self, token: &str, auth: &Authenticated, keys_version: u64) {
        self.put(token, Some(auth.clone()), keys_version, u64::MAX);
    }

    /// An introspection result for exactly this token that is still fresh at `now`:
    /// `Some(None)` for a cached "inactive".
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn get_until(&self, token: &str, now: u64) -> Option<Option<Authenticated>> {
        let (hash, shard) = self.locate(token);
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shard.map.get(&hash)?;
        (*entry.token == *token && entry.until > now).then(|| entry.auth.clone())
    }

    /// Remember an introspection result until `until` (unix seconds).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn insert_until(&self, token: &str, auth: Option<Authenticated>, until: u64) {
        self.put(token, auth, u64::MAX, until);
    }

    fn put(&self, token: &str, auth: Option<Authenticated>, keys_version: u64, until: u64) {
        let (hash, shard) = self.locate(token);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let entry = Entry {
            token: token.into(),
            auth,
            keys_version,
            until,
        };
        if shard.map.insert(hash, entry).is_none() {
            shard.order.push_back(hash);
            while shard.map.len() > self.per_shard {
                match shard.order.pop_front() {
                    Some(old) => {
                        shard.map.remove(&old);
                    }
                    None => break,
                }
            }
        }
    }
}
