//! The replay cache: each proof's `jti` once, for as long as the proof could be accepted.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(crate) use crate::store::Insert;
use crate::store::{Pending, ReplayStore, SeenProof, StoreError};

pub(crate) const SHARDS: usize = 16;

/// Seen proofs: keyed hash of (thumbprint, `jti`) → when it may be forgotten.
pub(crate) struct Replay {
    shards: Vec<Mutex<ReplayShard>>,
    per_shard: usize,
    /// HMAC-SHA256 under a secret made at start-up: clients cannot predict the shard or the
    /// stored key of a proof, so they cannot aim `jti`s at one shard.
    mac: Hmac<Sha256>,
    /// Expiry times of the live entries of each proof key (keyed hash of `jkt`), sharded by
    /// that hash; a key holds at most `quota` entries.
    owners: Vec<Mutex<OwnerShard>>,
    pub(crate) quota: usize,
}

#[derive(Default)]
struct OwnerShard {
    live: HashMap<u64, Vec<u64>>,
    /// When keys without live entries were last swept out (at most once a second).
    swept: u64,
}

#[derive(Default)]
struct ReplayShard {
    seen: HashMap<u128, u64>,
    /// When expired entries were last swept out (at most once a second, so a full shard
    /// does not cost a sweep per request).
    swept: u64,
}

impl Replay {
    pub(crate) fn new(max_entries: usize, secret: &[u8; 32]) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(ReplayShard::default()))
                .collect(),
            per_shard: max_entries.div_ceil(SHARDS).max(1),
            mac: <Hmac<Sha256> as Mac>::new_from_slice(secret)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
            owners: (0..SHARDS)
                .map(|_| Mutex::new(OwnerShard::default()))
                .collect(),
            quota: (max_entries / 64).max(8),
        }
    }

    /// The keyed hashes of a proof's key (`jkt`) and of its (`jkt`, `jti`).
    pub(crate) fn keys(&self, jkt: &str, jti: &str) -> (u64, u128) {
        // A thumbprint is base64url: the zero byte cannot occur in it.
        let mut mac = self.mac.clone();
        mac.update(b"owner\0");
        mac.update(jkt.as_bytes());
        let owner = mac.finalize().into_bytes();
        let mut mac = self.mac.clone();
        mac.update(b"proof\0");
        mac.update(jkt.as_bytes());
        mac.update(&[0]);
        mac.update(jti.as_bytes());
        let key = mac.finalize().into_bytes();
        let mut first8 = [0u8; 8];
        first8.copy_from_slice(&owner[..8]);
        let mut first16 = [0u8; 16];
        first16.copy_from_slice(&key[..16]);
        (u64::from_le_bytes(first8), u128::from_le_bytes(first16))
    }

    pub(crate) fn insert_keys(&self, owner: u64, key: u128, expires: u64, now: u64) -> Insert {
        // Always the owner's lock first, then the shard's.
        let owners = &self.owners[(owner as usize) % SHARDS];
        let mut owners = owners.lock().unwrap_or_else(|e| e.into_inner());
        if owners.live.len() >= self.per_shard && owners.swept < now {
            owners.swept = now;
            owners.live.retain(|_, live| {
                live.retain(|until| *until > now);
                !live.is_empty()
            });
        }
        let shard = &self.shards[(key as usize) % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&until) = shard.seen.get(&key) {
            if until > now {
                return Insert::Replayed;
            }
        }
        if let Some(live) = owners.live.get_mut(&owner) {
            if live.len() >= self.quota {
                live.retain(|until| *until > now);
                if live.len() >= self.quota {
                    return Insert::TooMany;
                }
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
        owners.live.entry(owner).or_default().push(expires);
        Insert::Fresh
    }
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("per_shard", &self.per_shard)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

/// The in-memory store: answers at once.
impl ReplayStore for Replay {
    fn insert(&self, proof: SeenProof) -> Pending<Result<Insert, StoreError>> {
        let (owner, key) = self.keys(&proof.jkt, &proof.jti);
        Pending::Ready(Ok(self.insert_keys(owner, key, proof.expires, proof.now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proof keys whose entries have all expired are swept out once their shard of keys is
    /// full: a stream of one-off keys (one fresh key per request) cannot grow the cache
    /// without bound.
    #[test]
    fn keys_without_live_entries_do_not_accumulate() {
        // One entry per shard.
        let r = Replay::new(SHARDS, &[1; 32]);
        for i in 0..100u64 {
            let now = 1000 + i * 20;
            // Every key and every proof in shard 0; each proof dead before the next.
            let (owner, key) = (i * SHARDS as u64, u128::from(i) * SHARDS as u128);
            assert!(matches!(
                r.insert_keys(owner, key, now + 10, now),
                Insert::Fresh
            ));
        }
        let keys = r.owners[0].lock().unwrap().live.len();
        assert_eq!(keys, 1, "only the last key is remembered");
    }
}
