//! Keys parsed once, verified with aws-lc-rs's own types and the same algorithm parameters
//! jsonwebtoken's aws-lc provider uses (RSA 2048–8192 bits, fixed-size ECDSA signatures,
//! constant-time HMAC comparison).

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use super::algorithm::{invalid, Algorithm};
use crate::error::ConfigError;

// Lives behind an Arc, one per key: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Prepared {
    Hmac(hmac::Key),
    Public(ParsedPublicKey),
    Raw(&'static dyn sig::VerificationAlgorithm, Box<[u8]>),
}

impl Prepared {
    pub(crate) fn new(alg: Algorithm, key: &DecodingKey) -> Result<Self, ConfigError> {
        let public = |params: &'static dyn sig::VerificationAlgorithm, bytes: &[u8]| {
            ParsedPublicKey::new(params, bytes)
                .map(Prepared::Public)
                .map_err(|e| invalid("public", format!("rejected by the crypto backend: {e}")))
        };
        let hmac_key =
            |a: hmac::Algorithm, bytes: &[u8]| Ok(Prepared::Hmac(hmac::Key::new(a, bytes)));
        match (alg, key.kind()) {
            (Algorithm::HS256, DecodingKeyKind::SecretOrDer(b)) => hmac_key(hmac::HMAC_SHA256, b),
            (Algorithm::HS384, DecodingKeyKind::SecretOrDer(b)) => hmac_key(hmac::HMAC_SHA384, b),
            (Algorithm::HS512, DecodingKeyKind::SecretOrDer(b)) => hmac_key(hmac::HMAC_SHA512, b),
            (Algorithm::ES256, DecodingKeyKind::SecretOrDer(b)) => {
                public(&sig::ECDSA_P256_SHA256_FIXED, b)
            }
            (Algorithm::ES384, DecodingKeyKind::SecretOrDer(b)) => {
                public(&sig::ECDSA_P384_SHA384_FIXED, b)
            }
            // Measured: aws-lc verifies Ed25519 faster from the raw key than from a
            // parsed EVP_PKEY; parsing once still validates the key at load time.
            (Algorithm::EdDSA, DecodingKeyKind::SecretOrDer(b)) => {
                public(&sig::ED25519, b)?;
                Ok(Prepared::Raw(&sig::ED25519, b.clone().into_boxed_slice()))
            }
            (rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                let params: &'static dyn sig::VerificationAlgorithm = match rsa {
                    Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
                    _ => return Err(invalid("RSA", "not an RSA algorithm")),
                };
                public(params, &pkcs1_der(n, e))
            }
            _ => Err(invalid("public", "key does not fit its algorithm")),
        }
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Prepared::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            Prepared::Public(key) => key.verify_sig(message, signature).is_ok(),
            Prepared::Raw(alg, key) => sig::UnparsedPublicKey::new(*alg, key)
                .verify(message, signature)
                .is_ok(),
        }
    }
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn pkcs1_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, n: usize) {
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes = n.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    fn integer(out: &mut Vec<u8>, v: &[u8]) {
        out.push(0x02);
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 8);
    out.push(0x30);
    len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}
