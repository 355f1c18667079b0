//! Which configured key verifies a token (`kid` and `alg`), pinned case by case: a token
//! costs at most one signature check, and a `kid` the set lacks is an unknown key whenever
//! the set names its keys.

use tower_bearer::testing::{keys, TestIssuer};
use tower_bearer::{Algorithm, Key, TokenError, Validator};

fn es256_anonymous() -> Key {
    Key::ec_pem(keys::P256_PUBLIC).unwrap()
}

fn validator(issuer: &TestIssuer, keys: Vec<Key>) -> Validator {
    Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .keys(keys)
        .build()
        .unwrap()
}

fn check(v: &Validator, token: &str) -> Result<(), TokenError> {
    v.validate(token).map(|_| ())
}

/// Keys without an id cannot be told apart by a token's `kid`: the one key for `alg` is used,
/// whatever `kid` the token names.
#[test]
fn a_set_of_anonymous_keys_ignores_the_tokens_kid() {
    let issuer = TestIssuer::new();
    let v = validator(&issuer, vec![es256_anonymous()]);
    assert_eq!(check(&v, &issuer.token().sign()), Ok(()), "kid test-es256");
    let other_kid = issuer.token().header("kid", "rotated-away").sign();
    assert_eq!(check(&v, &other_kid), Ok(()), "another kid");
}

/// A set that names its keys refuses a `kid` it lacks as an unknown key, even when an
/// anonymous key of the same algorithm would verify the token.
#[test]
fn an_unknown_kid_never_falls_back_to_an_anonymous_key() {
    let issuer = TestIssuer::new();
    let es384 = TestIssuer::with_algorithm(Algorithm::ES384);
    let v = validator(&issuer, vec![es384.public_key(), es256_anonymous()]);
    let token = issuer.token().header("kid", "unknown").sign();
    assert_eq!(check(&v, &token), Err(TokenError::UnknownKey));
}

/// One key with an id, and a token without one: that key, if the algorithm fits.
#[test]
fn a_single_named_key_verifies_a_token_without_kid() {
    let issuer = TestIssuer::new();
    let v = validator(&issuer, vec![issuer.public_key()]);
    let token = issuer.token().without_header("kid").sign();
    assert_eq!(check(&v, &token), Ok(()));
    let es384 = TestIssuer::with_algorithm(Algorithm::ES384);
    let other_alg = es384.token().without_header("kid").sign();
    assert_eq!(check(&v, &other_alg), Err(TokenError::AlgorithmMismatch));
}

/// Several keys with ids, and a token without one: ambiguous, so an unknown key, never a
/// guess at the first of them.
#[test]
fn several_named_keys_and_a_token_without_kid_is_an_unknown_key() {
    let es256 = TestIssuer::new();
    // "a-…" sorts first: a mutant that took the first key would find the right one.
    let v = validator(
        &es256,
        vec![
            es256_anonymous().with_kid("a-es256"),
            TestIssuer::with_algorithm(Algorithm::ES384)
                .public_key()
                .with_kid("b-es384"),
        ],
    );
    let token = es256.token().without_header("kid").sign();
    assert_eq!(check(&v, &token), Err(TokenError::UnknownKey));
    // With the id, the same token verifies.
    let named = es256.token().header("kid", "a-es256").sign();
    assert_eq!(check(&v, &named), Ok(()));
}

/// One named key beside anonymous keys of another algorithm, and a token without `kid` for
/// the named key's algorithm: the anonymous keys say which algorithms are trusted without an
/// id, so this is an algorithm mismatch, not the named key.
#[test]
fn a_named_key_is_not_used_without_kid_when_anonymous_keys_exist() {
    let issuer = TestIssuer::new();
    let es384 = TestIssuer::with_algorithm(Algorithm::ES384);
    let anonymous_es384 = Key::ec_pem(keys::P384_PUBLIC).unwrap();
    let v = validator(&issuer, vec![issuer.public_key(), anonymous_es384]);
    let token = issuer.token().without_header("kid").sign();
    assert_eq!(check(&v, &token), Err(TokenError::AlgorithmMismatch));
    // The anonymous key still serves its own algorithm, with or without a kid.
    let es384_token = es384.token().without_header("kid").sign();
    assert_eq!(check(&v, &es384_token), Ok(()));
}

/// A `kid` the set lacks, when the set has only anonymous keys none of which fits `alg`: an
/// unknown key (a remote set would be refetched), not an algorithm mismatch.
#[test]
fn a_kid_with_no_fitting_anonymous_key_is_an_unknown_key() {
    let issuer = TestIssuer::new();
    let anonymous_es384 = Key::ec_pem(keys::P384_PUBLIC).unwrap();
    let v = validator(&issuer, vec![anonymous_es384]);
    assert_eq!(
        check(&v, &issuer.token().sign()),
        Err(TokenError::UnknownKey),
        "with a kid"
    );
    assert_eq!(
        check(&v, &issuer.token().without_header("kid").sign()),
        Err(TokenError::AlgorithmMismatch),
        "without a kid"
    );
}

/// Which check refuses a token with several faults: a key that does not verify the
/// header's `alg` first (before the claims are read), then, for an HMAC key, the signature
/// (an HMAC costs about what the claims do, and a forged token then costs no claims work),
/// and for a public key the claims (so that an expired token costs no signature check).
#[test]
fn the_order_of_the_checks_depends_on_what_they_cost() {
    let hs = TestIssuer::with_algorithm(Algorithm::HS256);
    let v = hs.validator();
    let forged_expired = hs.token().forged().expired().sign();
    assert_eq!(
        check(&v, &forged_expired),
        Err(TokenError::InvalidSignature)
    );
    let forged_elsewhere = hs
        .token()
        .forged()
        .claim("aud", "https://elsewhere.test")
        .sign();
    assert_eq!(
        check(&v, &forged_elsewhere),
        Err(TokenError::InvalidSignature)
    );
    assert_eq!(
        check(&v, &hs.token().expired().sign()),
        Err(TokenError::Expired)
    );

    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let issuer = TestIssuer::with_algorithm(alg);
        let v = issuer.validator();
        let forged_expired = issuer.token().forged().expired().sign();
        assert_eq!(
            check(&v, &forged_expired),
            Err(TokenError::Expired),
            "{alg}"
        );
        let forged = issuer.token().forged().sign();
        assert_eq!(
            check(&v, &forged),
            Err(TokenError::InvalidSignature),
            "{alg}"
        );
    }

    // An HS256 token naming the ES256 key: refused for its algorithm, expired or not.
    let es = TestIssuer::new();
    let v = es.validator();
    let kid = es.public_key().kid().expect("a kid").to_owned();
    for token in [
        hs.token().header("kid", &kid).expired().sign(),
        hs.token().header("kid", &kid).forged().sign(),
        hs.token().header("kid", &kid).sign(),
    ] {
        assert_eq!(check(&v, &token), Err(TokenError::AlgorithmMismatch));
    }
    // A `kid` a static set lacks: refused before the claims (no refetch to spare), so a
    // forged HMAC token learns nothing from them either. (A remote set decides it after the
    // claims: tests/remote_http.rs.)
    for token in [
        es.token().header("kid", "rotated-away").expired().sign(),
        es.token().header("kid", "rotated-away").sign(),
        hs.token()
            .header("kid", "rotated-away")
            .claim("aud", "https://elsewhere.test")
            .sign(),
    ] {
        assert_eq!(check(&v, &token), Err(TokenError::UnknownKey));
    }
    let hs_v = hs.validator();
    let elsewhere = hs
        .token()
        .header("kid", "rotated-away")
        .claim("aud", "https://elsewhere.test")
        .sign();
    assert_eq!(check(&hs_v, &elsewhere), Err(TokenError::UnknownKey));
}

/// Four segments are reported as such, whichever check would refuse the token first: the
/// HMAC (a bad signature), or the key (another algorithm's).
#[test]
fn four_segments_are_reported_before_the_key_and_the_signature() {
    let hs = TestIssuer::with_algorithm(Algorithm::HS256);
    let es = TestIssuer::new();
    let kid = es.public_key().kid().expect("a kid").to_owned();
    let four = |token: String| {
        let (head, sig) = token.rsplit_once('.').unwrap();
        let (header, payload) = head.split_once('.').unwrap();
        format!("{header}.{payload}.{payload}.{sig}")
    };
    let segments = Err(TokenError::Malformed(
        "expected three dot-separated segments",
    ));
    assert_eq!(check(&hs.validator(), &four(hs.token().sign())), segments);
    let confused = four(hs.token().header("kid", &kid).sign());
    assert_eq!(check(&es.validator(), &confused), segments);
}
