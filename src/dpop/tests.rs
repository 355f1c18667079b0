use super::replay::SHARDS;
use super::*;

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

#[test]
fn replay_cache_refuses_repeats_and_never_evicts_live_entries() {
    let r = Replay::new(SHARDS);
    assert!(matches!(r.insert(1, 100, 10), Insert::Fresh));
    assert!(matches!(r.insert(1, 100, 11), Insert::Replayed));
    // Same shard (keys congruent mod SHARDS), one entry per shard: full while live.
    let same_shard = 1 + SHARDS as u128;
    assert!(matches!(r.insert(same_shard, 100, 12), Insert::Full));
    // Once the first has expired it is purged to make room.
    assert!(matches!(r.insert(same_shard, 300, 101), Insert::Fresh));
}
