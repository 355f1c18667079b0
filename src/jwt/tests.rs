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

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Any bytes, text or not, three segments or not, with a valid token's pieces or not:
    /// the validator answers without panicking, and accepts nothing that is not ASCII.
    #[test]
    fn arbitrary_bytes_never_panic_and_never_pass(
        prefix in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        cut in 0usize..400,
        splice in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
    ) {
        use super::validator::Step;
        use crate::rules::binding::Presented;
        for alg in [Algorithm::HS256, Algorithm::ES256] {
            let issuer = TestIssuer::with_algorithm(alg);
            let validator = issuer.validator();
            let token = issuer.token().sign().into_bytes();
            // The valid token with bytes spliced in at `cut`, and arbitrary bytes alone.
            let at = cut.min(token.len());
            let mut spliced = token[..at].to_vec();
            spliced.extend_from_slice(&splice);
            spliced.extend_from_slice(&token[at..]);
            let accepts = |bytes: &[u8]| {
                matches!(
                    validator.step(bytes, false, Presented::NOTHING),
                    Step::Done(Ok(_))
                )
            };
            // Arbitrary bytes: never a panic, and never accepted unless ASCII.
            proptest::prop_assert!(!accepts(&prefix) || prefix.is_ascii());
            // A valid token with bytes spliced in changes its signing input or its
            // signature: refused.
            proptest::prop_assert_eq!(accepts(&spliced), splice.is_empty());
        }
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
