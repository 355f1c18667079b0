use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::codec::b64_into;
use crate::keys::Algorithm;
use crate::testing::{sign_with, TestIssuer};

proptest::proptest! {
    /// The SIMD decoder agrees with the `base64` crate's strict decoder on everything,
    /// canonical or not, and never writes past the buffer.
    #[test]
    fn simd_base64_agrees_with_strict_decoding(
        s in "[A-Za-z0-9_=+/.-]{0,48}",
        cap in 0usize..40,
    ) {
        let mut buf = vec![0u8; cap];
        let ours = b64_into(s.as_bytes(), &mut buf).map(<[u8]>::to_vec);
        let mut reference = vec![0u8; 64];
        let theirs = URL_SAFE_NO_PAD
            .decode_slice(&s, &mut reference)
            .ok()
            .map(|n| reference[..n].to_vec())
            .filter(|d| d.len() <= cap);
        proptest::prop_assert_eq!(ours, theirs);
    }
}

/// Sign raw header and claims JSON with the HS256 test issuer's secret.
fn raw_token(issuer: &TestIssuer, claims: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(crate::testing::HMAC_SECRET);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"test-hs256"}"#);
    let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let sig = sign_with(&key, issuer.algorithm(), message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn escaped_claim_strings_are_decoded_before_comparison() {
    let issuer = TestIssuer::with_algorithm(Algorithm::HS256);
    let claims = r#"{"iss":"https:\/\/issuer.test","aud":["x","https:\/\/api.test"],
        "sub":"al\u0069ce","exp":99999999999,"scope":"a b"}"#;
    let auth = issuer
        .validator()
        .validate(&raw_token(&issuer, claims))
        .unwrap();
    assert_eq!(auth.claims().issuer(), "https://issuer.test");
    assert_eq!(auth.claims().subject(), Some("alice"));
    assert_eq!(
        auth.claims().audience().collect::<Vec<_>>(),
        ["x", "https://api.test"]
    );
}

#[test]
fn borrowed_claim_strings_read_back_from_the_json() {
    let issuer = TestIssuer::with_algorithm(Algorithm::HS256);
    let claims = r#"{"iss":"https://issuer.test","aud":"https://api.test","sub":"bob",
        "jti":"j-1","client_id":"cli","exp":99999999999}"#;
    let auth = issuer
        .validator()
        .validate(&raw_token(&issuer, claims))
        .unwrap();
    let c = auth.claims();
    assert_eq!(
        (c.issuer(), c.subject(), c.jwt_id(), c.client_id()),
        ("https://issuer.test", Some("bob"), Some("j-1"), Some("cli"))
    );
    assert_eq!(c.audience().collect::<Vec<_>>(), ["https://api.test"]);
}
