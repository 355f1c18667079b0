//! The floor's decoding key: the test issuer's key for each algorithm, as
//! `jsonwebtoken::decode` takes it. Shared by the benches that time or count the floor.

use jsonwebtoken::DecodingKey;
use tower_bearer::testing::keys;
use tower_bearer::Algorithm;

/// The key `jsonwebtoken::decode` verifies the test issuer's `alg` tokens with.
pub(crate) fn floor_key(alg: Algorithm) -> DecodingKey {
    let ok = |r: Result<DecodingKey, jsonwebtoken::errors::Error>| r.expect("key");
    match alg {
        Algorithm::HS256 => DecodingKey::from_secret(
            b"tower-bearer test secret, never use in production!!!!!!!!!!!!!!!",
        ),
        Algorithm::RS256 | Algorithm::PS256 => {
            ok(DecodingKey::from_rsa_pem(keys::RSA_PUBLIC.as_bytes()))
        }
        Algorithm::ES256 => ok(DecodingKey::from_ec_pem(keys::P256_PUBLIC.as_bytes())),
        Algorithm::EdDSA => ok(DecodingKey::from_ed_pem(keys::ED25519_PUBLIC.as_bytes())),
        _ => unreachable!("the benches use HS256, RS256, PS256, ES256 and EdDSA"),
    }
}
