use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::replay::SHARDS;
use super::*;
use crate::store::Pending;

#[test]
fn rfc7638_example_thumbprint() {
    // RFC 7638 §3.1.
    let jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }"#).unwrap();
    assert_eq!(
        thumbprint(&jwk).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn url_normalisation() {
    let n = |u| normalize(u);
    assert_eq!(
        n("HTTPS://Api.Example.COM:443").unwrap(),
        "https://api.example.com/"
    );
    assert_eq!(n("http://a.test:80/x").unwrap(), "http://a.test/x");
    assert_eq!(n("http://a.test:8080/x").unwrap(), "http://a.test:8080/x");
    assert_eq!(
        n("https://a.test/%7euser/%2f/./b/../c").unwrap(),
        "https://a.test/~user/%2F/c"
    );
    assert_eq!(n("https://a.test/a%2fb").unwrap(), "https://a.test/a%2Fb");
    assert_eq!(n("https://a.test:0443/x").unwrap(), "https://a.test/x");
    for bad in [
        "https://a.test:0/x",
        "https://a.test:65536/x",
        "https://a.test/%+1",
        "ftp://a.test/",
        "https://user@a.test/",
        "https:///x",
        "https://a.test/%zz",
        "https://a.test:port/",
        "https://a.test/x?q",
        "a.test/x",
    ] {
        assert!(n(bad).is_none(), "{bad}");
    }
}

#[test]
fn request_url_refuses_host_injection_and_climbing_out_of_the_base() {
    let dpop = |b: DpopBuilder| b.build().unwrap();
    let from_host = dpop(Dpop::allowed());
    let uri = Uri::from_static("/foo");
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, "api.test".parse().unwrap());
    assert_eq!(
        from_host.inner.request_url(&headers, &uri).as_deref(),
        Some("https://api.test/foo")
    );
    for host in [
        "api.test/admin",
        "user@api.test",
        "api.test?x",
        "api.test\\x",
    ] {
        headers.insert(http::header::HOST, host.parse().unwrap());
        assert_eq!(from_host.inner.request_url(&headers, &uri), None, "{host}");
    }
    let based = dpop(Dpop::allowed().public_base_url("https://h.test/api"));
    let ok = Uri::from_static("/users");
    assert_eq!(
        based.inner.request_url(&HeaderMap::new(), &ok).as_deref(),
        Some("https://h.test/api/users")
    );
    let climb = Uri::from_static("/../admin");
    assert_eq!(based.inner.request_url(&HeaderMap::new(), &climb), None);
}

#[test]
fn nonces_are_accepted_for_two_windows_only() {
    let n = Nonces {
        key: [7; 32],
        window: 60,
    };
    let t = 6_000_000;
    let nonce = n.fresh(t);
    assert!(n.valid(&nonce, t));
    assert!(n.valid(&nonce, t + 60));
    assert!(!n.valid(&nonce, t + 120));
    assert!(!n.valid(&nonce, t - 60));
    let other = Nonces {
        key: [8; 32],
        window: 60,
    };
    assert!(!other.valid(&nonce, t), "another server key");
    assert!(!n.valid("AAAA", t));
}

/// A verified proof by `client` for `GET https://api.test/users` with a fresh `jti`.
#[cfg(feature = "testing")]
fn verified(dpop: &Dpop, client: &crate::testing::DpopClient) -> Proof {
    let proof = client.proof("GET", "https://api.test/users", "tok");
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, "api.test".parse().unwrap());
    headers.insert("dpop", proof.parse().unwrap());
    let uri = Uri::from_static("/users");
    match dpop.verify(&headers, &Method::GET, &uri, "tok") {
        Ok(p) => p,
        Err(e) => panic!("{}", e.description()),
    }
}

#[test]
#[cfg(feature = "testing")]
fn one_client_hammering_fresh_jtis_cannot_crowd_out_another() {
    use crate::testing::DpopClient;
    let dpop = Dpop::allowed().replay_cache(256).build().unwrap();
    let hammer = DpopClient::new(Algorithm::ES256);
    let victim = DpopClient::new(Algorithm::EdDSA);
    // 600 fresh proofs by one key: far more than the whole cache (16 per shard).
    let mut refused = 0;
    for _ in 0..600 {
        if let Err(e) = record_now(&dpop, &verified(&dpop, &hammer)) {
            assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
            assert!(e.description().contains("too many proofs for this key"));
            refused += 1;
        }
    }
    assert_eq!(refused, 600 - 8, "the hammering key keeps its quota of 8");
    for i in 0..4 {
        let proof = verified(&dpop, &victim);
        if let Err(e) = record_now(&dpop, &proof) {
            panic!("victim's fresh proof {i} refused: {}", e.description());
        }
    }
}

#[test]
#[cfg(feature = "testing")]
fn replay_keys_and_shards_depend_on_a_secret() {
    use crate::testing::DpopClient;
    let a = Dpop::allowed().build().unwrap();
    let b = Dpop::allowed().build().unwrap();
    // Two in-memory stores, each with its own secret, as two `build()`s make them.
    let secret = || {
        let mut s = [0u8; 32];
        getrandom::getrandom(&mut s).unwrap();
        s
    };
    let (replay_a, replay_b) = (
        Replay::new(100_000, &secret()),
        Replay::new(100_000, &secret()),
    );
    let client = DpopClient::new(Algorithm::ES256);
    let mut shards_differ = false;
    for _ in 0..32 {
        let proof = client.proof("GET", "https://api.test/users", "tok");
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "api.test".parse().unwrap());
        headers.insert("dpop", proof.parse().unwrap());
        let uri = Uri::from_static("/users");
        let pa = a.verify(&headers, &Method::GET, &uri, "tok").unwrap();
        let pb = b.verify(&headers, &Method::GET, &uri, "tok").unwrap();
        let (ka, kb) = (
            replay_a.keys(&pa.jkt, &pa.jti).1,
            replay_b.keys(&pb.jkt, &pb.jti).1,
        );
        assert_ne!(ka, kb, "same key in two instances");
        shards_differ |= ka % SHARDS as u128 != kb % SHARDS as u128;
    }
    assert!(shards_differ, "the shard is predictable from the proof");
}

#[test]
fn replay_cache_refuses_repeats_and_never_evicts_live_entries() {
    let r = Replay::new(SHARDS, &[1; 32]);
    assert!(matches!(r.insert_keys(7, 1, 100, 10), Insert::Fresh));
    assert!(matches!(r.insert_keys(7, 1, 100, 11), Insert::Replayed));
    // Same shard (keys congruent mod SHARDS), one entry per shard: full while live.
    let same_shard = 1 + SHARDS as u128;
    assert!(matches!(
        r.insert_keys(8, same_shard, 100, 12),
        Insert::Full
    ));
    // Once the first has expired it is purged to make room.
    assert!(matches!(
        r.insert_keys(8, same_shard, 300, 101),
        Insert::Fresh
    ));
}

#[test]
fn per_key_quota_refuses_only_that_key_until_its_entries_expire() {
    let r = Replay::new(100_000, &[1; 32]);
    assert_eq!(r.quota, 1562);
    let small = Replay::new(64, &[1; 32]);
    assert_eq!(small.quota, 8);
    for k in 0..r.quota as u128 {
        assert!(matches!(r.insert_keys(1, k, 100, 10), Insert::Fresh));
    }
    // A replay is still reported as one; a fresh jti is over the quota.
    assert!(matches!(r.insert_keys(1, 0, 100, 11), Insert::Replayed));
    assert!(matches!(
        r.insert_keys(1, 1 << 64, 100, 11),
        Insert::TooMany
    ));
    // Another key is not affected.
    assert!(matches!(r.insert_keys(2, 1 << 65, 100, 11), Insert::Fresh));
    // Nor is anything evicted: every live entry of key 1 is still a replay.
    for k in 0..r.quota as u128 {
        assert!(matches!(r.insert_keys(1, k, 100, 12), Insert::Replayed));
    }
    // Once they expire, key 1 may send again.
    assert!(matches!(r.insert_keys(1, 1 << 64, 200, 100), Insert::Fresh));
}

#[test]
fn replay_keys_are_keyed() {
    let a = Replay::new(16, &[1; 32]);
    let b = Replay::new(16, &[2; 32]);
    let jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let mut public = Sha256::new();
    public.update(jkt.as_bytes());
    public.update([0]);
    public.update(b"jti-0");
    let mut first = [0u8; 16];
    first.copy_from_slice(&public.finalize()[..16]);
    assert_ne!(a.keys(jkt, "jti-0").1, u128::from_le_bytes(first));
    assert_eq!(a.keys(jkt, "jti-0"), a.keys(jkt, "jti-0"));
    assert_ne!(a.keys(jkt, "jti-0").0, b.keys(jkt, "jti-0").0);
    let shard = |r: &Replay, i: usize| r.keys(jkt, &format!("jti-{i}")).1 % SHARDS as u128;
    assert!((0..64).any(|i| shard(&a, i) != shard(&b, i)));
    // One key's owner tag does not depend on the jti.
    assert_eq!(a.keys(jkt, "x").0, a.keys(jkt, "y").0);
}

/// Record a proof in a policy whose store answers at once (the in-memory one).
fn record_now(dpop: &Dpop, proof: &Proof) -> Result<(), Rejection> {
    match dpop.record(proof) {
        Pending::Ready(answer) => answer,
        Pending::Later(_) => panic!("the in-memory replay store answers at once"),
    }
}

/// An entry is forgotten at the second it expires (when a proof that late would be refused as
/// expired anyway), and not before: a sweep of a full shard drops expired entries only.
#[test]
fn replay_entries_live_until_their_expiry_exactly() {
    let r = Replay::new(SHARDS, &[1; 32]);
    assert!(matches!(r.insert_keys(7, 1, 100, 10), Insert::Fresh));
    assert!(matches!(r.insert_keys(7, 1, 200, 99), Insert::Replayed));
    // At 100 the entry is dead: the same jti is fresh again (a proof with a later `iat`).
    assert!(matches!(r.insert_keys(7, 1, 200, 100), Insert::Fresh));
    // One entry per shard: a full shard is swept at the second its only entry expires.
    let same_shard = 1 + SHARDS as u128;
    assert!(matches!(
        r.insert_keys(8, same_shard, 300, 199),
        Insert::Full
    ));
    assert!(matches!(
        r.insert_keys(8, same_shard, 300, 200),
        Insert::Fresh
    ));
}

/// When a shard of proof keys fills up, the keys without live entries are swept out, but a
/// key's live entries survive the sweep: its quota still holds afterwards.
#[test]
fn sweeping_proof_keys_keeps_every_live_entry() {
    // 16 entries per shard, quota 8 per key.
    let r = Replay::new(16 * SHARDS, &[1; 32]);
    assert_eq!(r.quota, 8);
    // Proof keys all in proof-key shard 0.
    let owner_shard = |i: u64| i * SHARDS as u64;
    // Key 0 fills its quota with entries live until 1000, in distinct replay shards.
    for k in 0..8u128 {
        assert!(matches!(r.insert_keys(0, k, 1000, 10), Insert::Fresh));
    }
    // Fifteen other keys of the same shard, each with one entry live until 50: the shard of
    // proof keys is now full (16 keys).
    for i in 1..16u64 {
        let key = u128::from(i) * SHARDS as u128 * 4 + 8;
        assert!(
            matches!(r.insert_keys(owner_shard(i), key, 50, 10), Insert::Fresh),
            "key {i}"
        );
    }
    // At 60 the next proof of key 0 triggers a sweep: the fifteen dead keys go, key 0's
    // live entries stay, and its quota is still used up.
    assert!(matches!(
        r.insert_keys(0, 1 << 70, 1000, 60),
        Insert::TooMany
    ));
    // Its entries are still replays.
    for k in 0..8u128 {
        assert!(matches!(r.insert_keys(0, k, 1000, 61), Insert::Replayed));
    }
}

#[test]
fn replay_debug_shows_the_bounds_and_not_the_secret() {
    let r = Replay::new(100_000, &[0x5a; 32]);
    let shown = format!("{r:?}");
    assert_eq!(shown, "Replay { per_shard: 6250, quota: 1562, .. }");
}
