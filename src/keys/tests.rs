use super::jwk::parse_jwks;
use super::*;
use crate::error::ConfigError;

#[test]
fn hmac_secret_length_is_enforced() {
    assert!(matches!(
        Key::hmac(b"short", Algorithm::HS256),
        Err(ConfigError::WeakHmacSecret { min: 32, .. })
    ));
    assert!(Key::hmac([7u8; 32], Algorithm::HS256).is_ok());
    assert!(matches!(
        Key::hmac([7u8; 32], Algorithm::HS512),
        Err(ConfigError::WeakHmacSecret { min: 64, .. })
    ));
    assert!(matches!(
        Key::hmac([7u8; 64], Algorithm::RS256),
        Err(ConfigError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn private_key_pem_is_refused_with_a_hint() {
    let pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let err = Key::rsa_pem(pem, Algorithm::RS256).unwrap_err().to_string();
    assert!(err.contains("private key"), "{err}");
}

#[test]
fn jwk_with_private_member_is_refused() {
    let err = Key::jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("private"), "{err}");
}

#[test]
fn empty_or_zero_rsa_modulus_is_a_weak_key_not_a_panic() {
    for n in ["", "AA", "AAAA"] {
        let jwk = format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB"}}"#);
        assert!(
            matches!(Key::jwk(&jwk), Err(ConfigError::WeakRsaKey { bits: 0 })),
            "{n:?}"
        );
    }
}

#[test]
fn jwk_without_alg_gets_type_default() {
    let key = Key::jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}"#).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    assert_eq!(key.kid(), Some("ed"));
    assert!(!format!("{key:?}").contains("11qY"));
}

#[test]
fn jwks_skips_enc_oct_and_unknown_keys_one_by_one() {
    let doc = r#"{"keys":[
        {"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI","kid":"h"},
        {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"enc","use":"enc"},
        {"kty":"XYZ","kid":"weird"},
        {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ok"}
    ]}"#;
    let parsed = parse_jwks(doc).unwrap();
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].kid(), Some("ok"));
    assert_eq!(parsed.skipped.len(), 3);
}

/// The rsa crate verifies moduli of at most 4096 bits and exponents of at most 2^33-1:
/// under rust-crypto a larger key would load and then never verify.
#[cfg(not(feature = "aws-lc-rs"))]
#[test]
fn rsa_keys_the_rust_crypto_backend_cannot_verify_are_refused_at_load() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let jwk = |n: &[u8], e: &[u8]| {
        format!(
            r#"{{"kty":"RSA","kid":"big","n":"{}","e":"{}"}}"#,
            b64(n),
            b64(e)
        )
    };
    let mut n4097 = vec![0xFFu8; 513];
    n4097[0] = 0x01;
    for (n, e) in [
        (n4097.as_slice(), &[1u8, 0, 1][..]),
        (&[0xFFu8; 1024][..], &[1, 0, 1][..]),
        (&[0xFFu8; 256][..], &[0x02, 0, 0, 0, 1][..]),
    ] {
        let err = Key::jwk(&jwk(n, e)).unwrap_err().to_string();
        assert!(err.contains("rust-crypto"), "{err}");
        let parsed = parse_jwks(&format!(r#"{{"keys":[{}]}}"#, jwk(n, e))).unwrap();
        assert!(parsed.keys.is_empty());
        assert!(
            parsed.skipped[0].contains("rust-crypto"),
            "{:?}",
            parsed.skipped
        );
    }
    assert!(Key::jwk(&jwk(&[0xFFu8; 512], &[1, 0, 1])).is_ok());
    assert!(Key::jwk(&jwk(&[0xFFu8; 256], &[0x01, 0xFF, 0xFF, 0xFF, 0xFF])).is_ok());
}
