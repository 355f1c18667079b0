//! The verified-token cache (opt-in with [`ValidatorBuilder::token_cache`]).
//!
//! Clients reuse one token for its whole lifetime, so a resource server sees the same bytes
//! again and again. An entry is keyed by a seeded 128-bit hash of the *complete* token and
//! confirmed by comparing every byte, so only the exact token that was verified can hit.
//! On a hit `exp` and `nbf` are checked again, and your own claim checks run again; an entry
//! verified by an earlier version of a remote key set is ignored (so a key that left the set
//! no longer vouches for anything), and so is every entry while a remote key set is past its
//! stale window (the request gets the `503` it would get without the cache). Entries are bounded in number, evicted oldest first.
//!
//! A token one thread hits again and again (a busy client reusing its token) is also kept in
//! a small per-thread front: up to four entries, each a private copy, so that threads serving
//! the same token share no lock and no reference count. A token enters a thread's front on
//! its second hit among that thread's last few hits, so many clients taking turns never
//! churn it. Front entries are checked exactly like shared ones: same cache, every byte of
//! the token, and the key set version.
//!
//! The trade-off: a cached token is accepted until it expires, without a new signature
//! check. That is no different from verifying it again (a JWT cannot be revoked by its
//! signature), but it does mean the cache holds up to `max_entries` tokens in memory.
//!
//! [`ValidatorBuilder::token_cache`]: crate::ValidatorBuilder::token_cache

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::claims::Authenticated;

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
    token: Box<[u8]>,
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
    /// Tells this cache's entries in the per-thread fronts from other caches' (other
    /// validators may have accepted the same token under other rules).
    id: u64,
}

/// Entries per thread's front.
const FRONT_SLOTS: usize = 4;
/// Recent shared hits per thread a token must reappear among to enter the front.
const RECENT_HITS: usize = 8;

static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

struct FrontEntry {
    cache: u64,
    keys_version: u64,
    token: Box<[u8]>,
    /// A private copy: cloning it touches no reference count another thread uses.
    auth: Authenticated,
}

#[derive(Default)]
struct Front {
    entries: Vec<FrontEntry>,
    next: usize,
    /// `(cache, hash)` of this thread's last shared hits.
    recent: [(u64, u128); RECENT_HITS],
    recent_next: usize,
}

thread_local! {
    static FRONT: RefCell<Front> = RefCell::new(Front::default());
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
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn locate(&self, token: &[u8]) -> (u128, &Mutex<Shard>) {
        let hash = xxhash_rust::xxh3::xxh3_128_with_seed(token, self.seed);
        let shard = &self.shards[(hash >> 120) as usize % SHARDS].0;
        (hash, shard)
    }

    /// The cached result for exactly this token, verified under `keys_version`.
    #[inline]
    pub(crate) fn get(&self, token: &[u8], keys_version: u64) -> Option<Authenticated> {
        if let Some(hit) = self.front_get(token, keys_version) {
            return Some(hit);
        }
        let (hash, shard) = self.locate(token);
        let auth = {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let entry = shard.map.get(&hash)?;
            if entry.keys_version != keys_version || *entry.token != *token {
                return None;
            }
            entry.auth.clone()?
        };
        Some(self.promote(hash, token, keys_version, auth))
    }

    #[inline]
    fn front_get(&self, token: &[u8], keys_version: u64) -> Option<Authenticated> {
        FRONT
            .try_with(|front| {
                let front = front.borrow();
                front
                    .entries
                    .iter()
                    .find(|e| {
                        e.cache == self.id
                            && e.keys_version == keys_version
                            && e.token.len() == token.len()
                            // The signature's tail tells most tokens apart at once: 16
                            // bytes compared inline, not through a call to `memcmp`
                            // (`None` for both when shorter, as the lengths are equal).
                            && e.token.last_chunk::<16>() == token.last_chunk::<16>()
                            && *e.token == *token
                    })
                    .map(|e| e.auth.clone())
            })
            .ok()
            .flatten()
    }

    /// After a shared hit: put a private copy in this thread's front if the token was hit
    /// recently on this thread, and return what to answer with.
    fn promote(
        &self,
        hash: u128,
        token: &[u8],
        keys_version: u64,
        auth: Authenticated,
    ) -> Authenticated {
        FRONT
            .try_with(|front| {
                let mut front = front.borrow_mut();
                let key = (self.id, hash);
                if !front.recent.contains(&key) {
                    let at = front.recent_next % RECENT_HITS;
                    front.recent[at] = key;
                    front.recent_next = at + 1;
                    return None;
                }
                let private = auth.detached();
                let entry = FrontEntry {
                    cache: self.id,
                    keys_version,
                    token: token.into(),
                    auth: private.clone(),
                };
                if front.entries.len() < FRONT_SLOTS {
                    front.entries.push(entry);
                } else {
                    let at = front.next % FRONT_SLOTS;
                    front.entries[at] = entry;
                    front.next = at + 1;
                }
                Some(private)
            })
            .ok()
            .flatten()
            .unwrap_or(auth)
    }

    pub(crate) fn insert(&self, token: &[u8], auth: &Authenticated, keys_version: u64) {
        self.put(token, Some(auth.clone()), keys_version, u64::MAX);
    }

    /// An introspection result for exactly this token that is still fresh at `now`:
    /// `Some(None)` for a cached "inactive".
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn get_until(&self, token: &[u8], now: u64) -> Option<Option<Authenticated>> {
        let (hash, shard) = self.locate(token);
        let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shard.map.get(&hash)?;
        (*entry.token == *token && entry.until > now).then(|| entry.auth.clone())
    }

    /// Remember an introspection result until `until` (unix seconds).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn insert_until(&self, token: &[u8], auth: Option<Authenticated>, until: u64) {
        self.put(token, auth, u64::MAX, until);
    }

    fn put(&self, token: &[u8], auth: Option<Authenticated>, keys_version: u64, until: u64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestIssuer;
    use std::sync::Arc;

    fn auth_for(sub: &str) -> (Vec<u8>, Authenticated) {
        let issuer = TestIssuer::new();
        let token = issuer.token().subject(sub).sign();
        let auth = issuer.validator().validate(&token).unwrap();
        (token.into_bytes(), auth)
    }

    #[test]
    fn the_front_answers_only_for_its_own_cache_token_and_key_set() {
        let (token, auth) = auth_for("alice");
        let (other_token, _) = auth_for("bob");
        let cache = TokenCache::new(100);
        let elsewhere = TokenCache::new(100);
        cache.insert(&token, &auth, 7);
        for _ in 0..5 {
            let hit = cache.get(&token, 7).expect("hit");
            assert_eq!(hit.claims().subject(), Some("alice"));
        }
        // Promoted by now: the hit is a private copy, not the shared entry.
        let hit = cache.get(&token, 7).unwrap();
        assert!(!Arc::ptr_eq(hit.claims().grant(), auth.claims().grant()));
        assert!(Arc::ptr_eq(hit.claims().grant(), hit.scopes().grant()));
        // Another key set version, another cache, another token: no answer from the front.
        assert!(cache.get(&token, 8).is_none());
        assert!(elsewhere.get(&token, 7).is_none());
        assert!(cache.get(&other_token, 7).is_none());
        // A token one byte shorter or one byte different.
        assert!(cache.get(&token[..token.len() - 1], 7).is_none());
        let mut flipped = token.clone();
        flipped[10] ^= 1;
        assert!(cache.get(&flipped, 7).is_none());
    }

    #[test]
    fn clients_taking_turns_stay_out_of_the_front() {
        let cache = TokenCache::new(1000);
        let tokens: Vec<_> = (0..(RECENT_HITS + 2))
            .map(|i| auth_for(&format!("client-{i}")))
            .collect();
        for (token, auth) in &tokens {
            cache.insert(token, auth, 0);
        }
        for _ in 0..3 {
            for (token, auth) in &tokens {
                let hit = cache.get(token, 0).unwrap();
                // Shared answers: the very entry that was inserted.
                assert!(Arc::ptr_eq(hit.claims().grant(), auth.claims().grant()));
            }
        }
        FRONT.with(|f| assert!(f.borrow().entries.iter().all(|e| e.cache != cache.id)));
    }

    #[test]
    fn fronts_are_per_thread() {
        let (token, auth) = auth_for("carol");
        let cache = Arc::new(TokenCache::new(10));
        cache.insert(&token, &auth, 0);
        for _ in 0..3 {
            cache.get(&token, 0).unwrap();
        }
        // A new thread's first hit comes from the shared entry, not this thread's front.
        let (shared, front_filled) = {
            let (cache, token) = (cache.clone(), token.clone());
            std::thread::spawn(move || {
                let hit = cache.get(&token, 0).unwrap();
                let filled = FRONT.with(|f| f.borrow().entries.iter().any(|e| e.cache == cache.id));
                (hit, filled)
            })
            .join()
            .unwrap()
        };
        assert!(!front_filled);
        let first = shared;
        assert!(Arc::ptr_eq(first.claims().grant(), auth.claims().grant()));
    }
}
