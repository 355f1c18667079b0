//! Every algorithm with every key source that fits it; each gap jsonwebtoken 11 leaves open,
//! as a token that must be rejected; RFC 7515 Appendix A signature vectors.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use tower_bearer::testing::{keys, TestIssuer, TEST_AUDIENCE, TEST_ISSUER};
use tower_bearer::{Algorithm, ConfigError, Key, TokenError, TypPolicy, Validator};

const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// The PKCS#1 `RSAPublicKey` inside an SPKI: the contents of its BIT STRING.
fn pkcs1_from_spki(spki: &[u8]) -> Vec<u8> {
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let (len, hdr) = if b[1] < 0x80 {
            (b[1] as usize, 2)
        } else {
            let n = (b[1] & 0x7f) as usize;
            (
                b[2..2 + n]
                    .iter()
                    .fold(0usize, |a, &x| (a << 8) | x as usize),
                2 + n,
            )
        };
        (b[0], &b[hdr..hdr + len], &b[hdr + len..])
    }
    let (_, seq, _) = tlv(spki);
    let (_, _alg, rest) = tlv(seq);
    let (tag, bits, _) = tlv(rest);
    assert_eq!(tag, 0x03);
    bits[1..].to_vec()
}

fn builder() -> tower_bearer::ValidatorBuilder {
    Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
}

/// Every key source that fits `alg`, as named validators.
fn sources(issuer: &TestIssuer) -> Vec<(&'static str, Validator)> {
    let alg = issuer.algorithm();
    let jwks = issuer.jwks();
    let doc: Value = serde_json::from_str(&jwks).unwrap();
    let mut out = Vec::new();
    let mut add = |name, b: tower_bearer::ValidatorBuilder| out.push((name, b.build().unwrap()));
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            let secret = b"tower-bearer test secret, never use in production!!!!!!!!!!!!!!!";
            add("hmac secret", builder().hmac_secret(secret, alg));
            let jwk =
                json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(secret), "alg": alg.as_str()});
            add("single JWK (oct)", builder().jwk(&jwk.to_string()));
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            let spki = pem_der(keys::RSA_PUBLIC);
            add("PEM", builder().rsa_pem(keys::RSA_PUBLIC, alg));
            add(
                "DER (SPKI)",
                builder().key(Key::rsa_der(&spki, alg).unwrap()),
            );
            add(
                "DER (PKCS#1)",
                builder().key(Key::rsa_der(pkcs1_from_spki(&spki), alg).unwrap()),
            );
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            let pem = if alg == Algorithm::ES256 {
                keys::P256_PUBLIC
            } else {
                keys::P384_PUBLIC
            };
            add("PEM", builder().ec_pem(pem));
            add("DER", builder().key(Key::ec_der(pem_der(pem)).unwrap()));
        }
        _ => {
            add("PEM", builder().ed_pem(keys::ED25519_PUBLIC));
            add(
                "DER",
                builder().key(Key::ed_der(pem_der(keys::ED25519_PUBLIC)).unwrap()),
            );
        }
    }
    if let Some(jwk) = doc["keys"].get(0) {
        add("single JWK", builder().jwk(&jwk.to_string()));
        add("JWKS document", builder().jwks_json(&jwks));
    }
    out
}

#[test]
fn every_algorithm_with_every_key_source() {
    let mut checked = 0;
    for alg in ALL {
        let issuer = TestIssuer::with_algorithm(alg);
        for (source, validator) in sources(&issuer) {
            let good = issuer.token().scopes(["a"]).sign();
            let auth = validator
                .validate(&good)
                .unwrap_or_else(|e| panic!("{alg} via {source}: {e}"));
            assert!(auth.scopes().contains("a"));
            assert_eq!(
                validator
                    .validate(&issuer.token().forged().sign())
                    .unwrap_err(),
                TokenError::InvalidSignature,
                "{alg} via {source}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} combinations");
}

fn rejected(token: &str) -> TokenError {
    TestIssuer::new().validator().validate(token).unwrap_err()
}

#[test]
fn nbf_in_the_future_is_rejected() {
    assert_eq!(
        rejected(&TestIssuer::new().token().not_before(3600).sign()),
        TokenError::NotYetValid
    );
    // Within the leeway it passes.
    let issuer = TestIssuer::new();
    assert!(issuer
        .validator()
        .validate(&issuer.token().not_before(10).sign())
        .is_ok());
}

#[test]
fn missing_or_mistyped_iss_and_aud_are_rejected() {
    let i = TestIssuer::new();
    assert_eq!(
        rejected(&i.token().without_claim("iss").sign()),
        TokenError::MissingClaim("iss")
    );
    assert_eq!(
        rejected(&i.token().without_claim("aud").sign()),
        TokenError::MissingClaim("aud")
    );
    assert_eq!(
        rejected(&i.token().without_claim("exp").sign()),
        TokenError::MissingClaim("exp")
    );
    assert_eq!(
        rejected(&i.token().claim("iss", 123).sign()),
        TokenError::InvalidClaim("iss")
    );
    assert_eq!(
        rejected(&i.token().claim("aud", 123).sign()),
        TokenError::InvalidClaim("aud")
    );
    assert_eq!(
        rejected(&i.token().claim("aud", [1, 2]).sign()),
        TokenError::InvalidClaim("aud")
    );
    assert_eq!(
        rejected(&i.token().claim("aud", json!({"aud": TEST_AUDIENCE})).sign()),
        TokenError::InvalidClaim("aud")
    );
    assert_eq!(
        rejected(&i.token().claim("aud", ["someone-else"]).sign()),
        TokenError::AudienceMismatch
    );
    // An array that contains ours is fine.
    let ok = i
        .token()
        .claim("aud", ["someone-else", TEST_AUDIENCE])
        .sign();
    assert!(i.validator().validate(&ok).is_ok());
}

#[test]
fn numeric_dates_must_be_numbers_in_range() {
    let i = TestIssuer::new();
    assert_eq!(
        rejected(&i.token().claim("exp", "9999999999").sign()),
        TokenError::InvalidClaim("exp")
    );
    assert_eq!(
        rejected(&i.token().claim("exp", true).sign()),
        TokenError::InvalidClaim("exp")
    );
    assert_eq!(
        rejected(&i.token().claim("exp", 1e300).sign()),
        TokenError::InvalidClaim("exp")
    );
    assert_eq!(
        rejected(&i.token().claim("nbf", -5).sign()),
        TokenError::InvalidClaim("nbf")
    );
    assert_eq!(
        rejected(&i.token().claim("iat", "0").sign()),
        TokenError::InvalidClaim("iat")
    );
    // Non-integer NumericDates are legal (RFC 7519 §2).
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 600.5;
    assert!(i
        .validator()
        .validate(&i.token().claim("exp", exp).sign())
        .is_ok());
}

#[test]
fn iat_in_the_future_is_rejected() {
    let i = TestIssuer::new();
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    assert_eq!(
        rejected(&i.token().claim("iat", iat).sign()),
        TokenError::IssuedInFuture
    );
}

#[test]
fn typ_policy() {
    let i = TestIssuer::new();
    let lenient = i.validator();
    for typ in [
        Some("JWT"),
        Some("at+jwt"),
        Some("at+JWT"),
        Some("application/at+jwt"),
        None,
    ] {
        let t = match typ {
            Some(t) => i.token().header("typ", t).sign(),
            None => i.token().without_header("typ").sign(),
        };
        assert!(lenient.validate(&t).is_ok(), "{typ:?}");
    }
    assert_eq!(
        lenient
            .validate(&i.token().header("typ", "id+jwt").sign())
            .unwrap_err(),
        TokenError::TypeNotAllowed
    );
    let strict = i
        .validator_builder()
        .typ(TypPolicy::Strict)
        .build()
        .unwrap();
    assert!(strict
        .validate(&i.token().header("typ", "application/AT+JWT").sign())
        .is_ok());
    for t in [
        i.token().header("typ", "JWT").sign(),
        i.token().without_header("typ").sign(),
    ] {
        assert_eq!(strict.validate(&t).unwrap_err(), TokenError::TypeNotAllowed);
    }
}

#[test]
fn rfc9068_strict_requires_its_claims() {
    let i = TestIssuer::new();
    let v = i.validator_builder().rfc9068_strict().build().unwrap();
    assert!(v.validate(&i.token().sign()).is_ok());
    assert_eq!(
        v.validate(&i.token().without_claim("jti").sign())
            .unwrap_err(),
        TokenError::MissingClaim("jti")
    );
    assert_eq!(
        v.validate(&i.token().without_claim("client_id").sign())
            .unwrap_err(),
        TokenError::MissingClaim("client_id")
    );
}

#[test]
fn unknown_crit_is_rejected() {
    let t = TestIssuer::new()
        .token()
        .header("crit", ["exp"])
        .header("exp", 1)
        .sign();
    assert_eq!(rejected(&t), TokenError::CriticalHeader);
}

#[test]
fn another_algorithm_than_the_keys_own_is_rejected() {
    // A PS256 signature from the RS256 key's private half: jsonwebtoken alone would accept it.
    let ps = TestIssuer::with_algorithm(Algorithm::PS256);
    let rs_validator = TestIssuer::with_algorithm(Algorithm::RS256)
        .validator_builder()
        .build()
        .unwrap();
    let token = ps.token().header("kid", "test-rs256").sign();
    assert_eq!(
        rs_validator.validate(&token).unwrap_err(),
        TokenError::AlgorithmMismatch
    );
    let rs384 = TestIssuer::with_algorithm(Algorithm::RS384);
    let token = rs384.token().header("kid", "test-rs256").sign();
    assert_eq!(
        rs_validator.validate(&token).unwrap_err(),
        TokenError::AlgorithmMismatch
    );
    // ES384 in the header of a token for a P-256 key.
    let es = TestIssuer::new();
    let token = es.token().header("alg", "ES384").sign();
    assert_eq!(
        es.validator().validate(&token).unwrap_err(),
        TokenError::AlgorithmMismatch
    );
}

#[test]
fn a_jwks_alg_is_honoured() {
    // The JWK says RS384; a token signed RS256 with the same key must not pass.
    let rs256 = TestIssuer::with_algorithm(Algorithm::RS256);
    let mut doc: Value = serde_json::from_str(&rs256.jwks()).unwrap();
    doc["keys"][0]["alg"] = json!("RS384");
    let v = builder().jwks_json(&doc.to_string()).build().unwrap();
    assert_eq!(
        v.validate(&rs256.token().sign()).unwrap_err(),
        TokenError::AlgorithmMismatch
    );
}

#[test]
fn enc_keys_in_a_jwks_are_not_used_for_signatures() {
    let issuer = TestIssuer::new();
    let mut doc: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    doc["keys"][0]["use"] = json!("enc");
    let err = builder().jwks_json(&doc.to_string()).build().unwrap_err();
    assert!(err.to_string().contains("no public signature key"), "{err}");
}

#[test]
fn cnf_bound_token_is_not_a_bearer_token() {
    let t = TestIssuer::new()
        .token()
        .claim("cnf", json!({"jkt": "abc"}))
        .sign();
    assert_eq!(rejected(&t), TokenError::BoundToken);
}

#[test]
fn hmac_token_against_an_asymmetric_key_is_rejected() {
    // The classic confusion: HS256 signed with the public key's bytes.
    let pem = keys::RSA_PUBLIC.as_bytes();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"test-rs256"}"#);
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"iss": TEST_ISSUER, "aud": TEST_AUDIENCE, "exp": 9_999_999_999u64}).to_string(),
    );
    let msg = format!("{header}.{claims}");
    let tag = aws_lc_hmac(pem, msg.as_bytes());
    let token = format!("{msg}.{}", URL_SAFE_NO_PAD.encode(tag));
    let v = TestIssuer::with_algorithm(Algorithm::RS256).validator();
    assert_eq!(
        v.validate(&token).unwrap_err(),
        TokenError::AlgorithmMismatch
    );
}

/// HMAC-SHA256 through jsonwebtoken's own signer (not our validator).
fn aws_lc_hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    let key = jsonwebtoken::EncodingKey::from_secret(key);
    let signer = (DEFAULT_PROVIDER.signer_factory)(&jsonwebtoken::Algorithm::HS256, &key).unwrap();
    jsonwebtoken::signature::Signer::try_sign(&*signer, msg).unwrap()
}

#[test]
fn configuration_errors() {
    assert!(matches!(
        Validator::builder()
            .audience("a")
            .hmac_secret([1u8; 32], Algorithm::HS256)
            .build(),
        Err(ConfigError::MissingIssuer)
    ));
    assert!(matches!(
        Validator::builder()
            .issuer("i")
            .hmac_secret([1u8; 32], Algorithm::HS256)
            .build(),
        Err(ConfigError::MissingAudience)
    ));
    assert!(matches!(builder().build(), Err(ConfigError::NoKeys)));
    // An empty or blank issuer or audience would match a token carrying an empty one.
    for (iss, aud) in [("", "a"), (" ", "a"), ("i", ""), ("i", "\t")] {
        let err = Validator::builder()
            .issuer(iss)
            .audience(aud)
            .hmac_secret([1u8; 32], Algorithm::HS256)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty or blank"), "{iss:?} {aud:?}: {err}");
    }
    assert!(matches!(
        builder().hmac_secret([1u8; 16], Algorithm::HS256).build(),
        Err(ConfigError::WeakHmacSecret { .. })
    ));
    assert!(matches!(
        builder()
            .rsa_pem(keys::RSA_PUBLIC, Algorithm::ES256)
            .build(),
        Err(ConfigError::AlgorithmMismatch { .. })
    ));
    // A 1024-bit RSA key (n of 128 bytes) is refused.
    let weak = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xC3u8; 128]), "e": "AQAB"});
    let err = builder().jwk(&weak.to_string()).build().unwrap_err();
    assert!(
        matches!(err, ConfigError::WeakRsaKey { bits: 1024 }),
        "{err}"
    );
    assert!(err.to_string().contains("at least 2048 bits"));
    // The explicit opt-outs work and are named as such.
    assert!(Validator::builder()
        .insecure_skip_issuer_check()
        .insecure_skip_audience_check()
        .hmac_secret([1u8; 32], Algorithm::HS256)
        .build()
        .is_ok());
}

#[test]
fn validation_never_uses_the_process_wide_backend() {
    // Under `--all-features` both jsonwebtoken backends are compiled in, and
    // `jsonwebtoken::decode` would panic at first use without `install_default`. Our
    // validator calls its backend's verifiers directly, so it works regardless.
    let issuer = TestIssuer::with_algorithm(Algorithm::RS256);
    assert!(issuer.validator().validate(&issuer.token().sign()).is_ok());
}

const RFC7515_PAYLOAD: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/// RFC 7515's examples: the signature verifies through our key loaders (and a one-bit change
/// does not); as tokens they are refused, having no `aud` and an `exp` in 2011.
fn check_rfc_vector(jwk: &str, header_b64: &str, sig_b64: &str) {
    let key = Key::jwk(jwk).unwrap();
    let input = format!("{header_b64}.{RFC7515_PAYLOAD}");
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    assert!(key.verify_signature(input.as_bytes(), &sig));
    let mut tampered = sig.clone();
    tampered[5] ^= 1;
    assert!(!key.verify_signature(input.as_bytes(), &tampered));
    let mut other_input = input.clone().into_bytes();
    other_input[3] ^= 1;
    assert!(!key.verify_signature(&other_input, &sig));

    let v = Validator::builder()
        .insecure_skip_issuer_check()
        .insecure_skip_audience_check()
        .key(key)
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&format!("{input}.{sig_b64}")).unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn rfc7515_a2_rs256_vector() {
    let jwk = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;
    let sig = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    check_rfc_vector(jwk, "eyJhbGciOiJSUzI1NiJ9", sig);
}

#[test]
fn rfc7515_a3_es256_vector() {
    let jwk = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    let sig =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    check_rfc_vector(jwk, "eyJhbGciOiJFUzI1NiJ9", sig);
}

#[test]
fn rfc7515_a1_hs256_vector() {
    let jwk = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
    check_rfc_vector(
        jwk,
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
}

#[test]
fn rfc8037_a4_ed25519_vector() {
    let key = Key::jwk(
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    )
    .unwrap();
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let sig = URL_SAFE_NO_PAD
        .decode("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
        .unwrap();
    assert!(key.verify_signature(input.as_bytes(), &sig));
    let mut bad = sig.clone();
    bad[0] ^= 0x80;
    assert!(!key.verify_signature(input.as_bytes(), &bad));
}
