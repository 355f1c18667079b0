//! The replay cache: each proof's `jti` once, for as long as the proof could be accepted.

use std::collections::HashMap;
use std::sync::Mutex;

pub(crate) const SHARDS: usize = 16;

pub(crate) enum Insert {
    Fresh,
    Replayed,
    Full,
}

/// Seen proofs: hash of (thumbprint, `jti`) → when it may be forgotten.
pub(crate) struct Replay {
    shards: Vec<Mutex<ReplayShard>>,
    per_shard: usize,
}

#[derive(Default)]
pub(crate) struct ReplayShard {
    seen: HashMap<u128, u64>,
    /// When expired entries were last swept out (at most once a second, so a full shard
    /// does not cost a sweep per request).
    swept: u64,
}

impl Replay {
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(ReplayShard::default()))
                .collect(),
            per_shard: max_entries.div_ceil(SHARDS).max(1),
        }
    }

    pub(crate) fn insert(&self, key: u128, expires: u64, now: u64) -> Insert {
        let shard = &self.shards[(key as usize) % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&until) = shard.seen.get(&key) {
            if until > now {
                return Insert::Replayed;
            }
        }
        if shard.seen.len() >= self.per_shard {
            if shard.swept < now {
                shard.swept = now;
                shard.seen.retain(|_, until| *until > now);
            }
            if shard.seen.len() >= self.per_shard {
                return Insert::Full;
            }
        }
        shard.seen.insert(key, expires);
        Insert::Fresh
    }
}
