//! A key together with the one algorithm it verifies.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::DecodingKey;

use super::algorithm::{check_alg, invalid, Algorithm, KeyKind};
use super::der;
#[cfg(feature = "aws-lc-rs")]
use super::prepared;
use crate::error::ConfigError;

/// A public key (or HMAC secret) together with the one algorithm it verifies.
///
/// `Debug` shows the algorithm and key id, never the key material.
#[derive(Clone)]
pub struct Key {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Arc<str>>,
    pub(crate) decoding: Arc<DecodingKey>,
    /// The key parsed once for its algorithm, so a verification does no key parsing.
    #[cfg(feature = "aws-lc-rs")]
    prepared: Arc<prepared::Prepared>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Key {
    pub(crate) fn new(alg: Algorithm, decoding: DecodingKey) -> Result<Self, ConfigError> {
        Ok(Self {
            alg,
            kid: None,
            #[cfg(feature = "aws-lc-rs")]
            prepared: Arc::new(prepared::Prepared::new(alg, &decoding)?),
            decoding: Arc::new(decoding),
        })
    }

    /// An HMAC secret for `HS256`, `HS384` or `HS512`.
    ///
    /// # Errors
    /// If `alg` is not an HMAC algorithm, or the secret is shorter than the algorithm's hash
    /// output (32, 48 or 64 bytes; RFC 7518 §3.2), or the secret is a public key's text (PEM,
    /// a JWK or a JWKS document).
    pub fn hmac(secret: impl AsRef<[u8]>, alg: Algorithm) -> Result<Self, ConfigError> {
        check_alg(alg, KeyKind::Hmac)?;
        let secret = secret.as_ref();
        // A public key handed over as a secret would let anyone who has it (everyone) sign
        // tokens: algorithm confusion by misconfiguration.
        if secret.windows(10).any(|w| w == b"-----BEGIN") {
            return Err(invalid(
                "HMAC",
                "the secret is PEM text: configure a public key with rsa_pem, ec_pem or ed_pem instead",
            ));
        }
        if secret.trim_ascii_start().first() == Some(&b'{') {
            if let Ok(doc) =
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(secret)
            {
                if doc.contains_key("keys") {
                    return Err(invalid(
                        "HMAC",
                        "the secret is a JWKS document: configure it with jwks_json instead",
                    ));
                }
                if doc.contains_key("kty") {
                    return Err(invalid(
                        "HMAC",
                        "the secret is a JWK: configure it with jwk instead",
                    ));
                }
            }
        }
        let min = match alg {
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 32,
        };
        if secret.len() < min {
            return Err(ConfigError::WeakHmacSecret {
                alg: alg.as_str(),
                len: secret.len(),
                min,
            });
        }
        Self::new(alg, DecodingKey::from_secret(secret))
    }

    /// An RSA public key in PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`), for one of
    /// RS256/384/512 or PS256/384/512.
    ///
    /// # Errors
    /// If the PEM holds no RSA public key, the key is under 2048 bits, or `alg` is not an RSA
    /// algorithm.
    pub fn rsa_pem(pem: impl AsRef<[u8]>, alg: Algorithm) -> Result<Self, ConfigError> {
        let der = pem_body(pem.as_ref(), &["PUBLIC KEY", "RSA PUBLIC KEY"], "RSA")?;
        Self::rsa_der(der, alg)
    }

    /// An RSA public key in DER (SubjectPublicKeyInfo or PKCS#1 `RSAPublicKey`).
    ///
    /// # Errors
    /// As [`Key::rsa_pem`].
    pub fn rsa_der(der: impl AsRef<[u8]>, alg: Algorithm) -> Result<Self, ConfigError> {
        check_alg(alg, KeyKind::Rsa)?;
        let (n, e) = der::rsa_public_key(der.as_ref()).map_err(|r| invalid("RSA", r))?;
        Self::rsa_components(n, e, alg)
    }

    pub(crate) fn rsa_components(n: &[u8], e: &[u8], alg: Algorithm) -> Result<Self, ConfigError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        // `n` has no leading zero bytes now; an empty modulus is 0 bits.
        let bits = n
            .first()
            .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize);
        if bits < 2048 {
            return Err(ConfigError::WeakRsaKey { bits });
        }
        if e.is_empty() || e.len() > 8 || e[e.len() - 1] & 1 == 0 {
            return Err(invalid(
                "RSA",
                "the public exponent must be odd and at most 64 bits",
            ));
        }
        // The rsa crate refuses, at every verification, moduli above 4096 bits and exponents
        // above 2^33-1: such a key would load and then never verify.
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            let e_value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            if bits > 4096 || e_value > (1 << 33) - 1 {
                return Err(invalid(
                    "RSA",
                    "the rust-crypto backend verifies RSA keys of at most 4096 bits with exponents of at most 2^33-1; use the aws-lc-rs feature for larger ones",
                ));
            }
        }
        Self::new(alg, DecodingKey::from_rsa_raw_components(n, e))
    }

    /// An EC public key in PEM (`BEGIN PUBLIC KEY`): P-256 verifies ES256, P-384 verifies ES384.
    ///
    /// # Errors
    /// If the PEM holds no P-256 or P-384 public key.
    pub fn ec_pem(pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let der = pem_body(pem.as_ref(), &["PUBLIC KEY"], "EC")?;
        Self::ec_der(der)
    }

    /// An EC public key in DER (SubjectPublicKeyInfo).
    ///
    /// # Errors
    /// As [`Key::ec_pem`].
    pub fn ec_der(der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let (curve, point) = der::ec_public_key(der.as_ref()).map_err(|r| invalid("EC", r))?;
        Self::ec_point(curve, point)
    }

    pub(crate) fn ec_point(kind: KeyKind, point: &[u8]) -> Result<Self, ConfigError> {
        let len = match kind {
            KeyKind::P256 => 65,
            KeyKind::P384 => 97,
            _ => return Err(invalid("EC", "only P-256 and P-384 are supported")),
        };
        if point.len() != len || point[0] != 4 {
            return Err(invalid(
                "EC",
                "the public point must be uncompressed and match its curve",
            ));
        }
        Self::new(kind.default_alg(), DecodingKey::from_ec_der(point))
    }

    /// An Ed25519 public key in PEM (`BEGIN PUBLIC KEY`), verifying EdDSA.
    ///
    /// # Errors
    /// If the PEM holds no Ed25519 public key.
    pub fn ed_pem(pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let der = pem_body(pem.as_ref(), &["PUBLIC KEY"], "Ed25519")?;
        Self::ed_der(der)
    }

    /// An Ed25519 public key in DER (SubjectPublicKeyInfo).
    ///
    /// # Errors
    /// As [`Key::ed_pem`].
    pub fn ed_der(der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let raw = der::ed25519_public_key(der.as_ref()).map_err(|r| invalid("Ed25519", r))?;
        Self::new(
            KeyKind::Ed25519.default_alg(),
            DecodingKey::from_ed_der(raw),
        )
    }

    /// Set the key id that tokens name in their `kid` header.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(Arc::from(kid.into()));
        self
    }

    /// Use another algorithm of the same key type (for example PS256 for an RSA key).
    ///
    /// # Errors
    /// If the algorithm does not fit the key.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, ConfigError> {
        check_alg(alg, self.alg.kind())?;
        #[cfg(feature = "aws-lc-rs")]
        {
            self.prepared = Arc::new(prepared::Prepared::new(alg, &self.decoding)?);
        }
        self.alg = alg;
        Ok(self)
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether `signature` is this key's signature over `signing_input` (the JWS
    /// `header.payload`), with the key's one algorithm. For conformance tests and test
    /// vectors; applications validate whole tokens with a [`Validator`](crate::Validator).
    #[doc(hidden)]
    pub fn verify_signature(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        self.verify(signing_input, signature)
    }

    /// An HMAC secret (cheap to verify with, unlike a public key).
    #[inline]
    pub(crate) fn is_hmac(&self) -> bool {
        self.alg.kind() == super::algorithm::KeyKind::Hmac
    }

    /// Verify `signature` over `message` with this key's algorithm, through the crate's
    /// crypto backend (never the process-wide default, so no feature combination panics).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        #[cfg(feature = "aws-lc-rs")]
        {
            self.prepared.verify(message, signature)
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            match (super::backend::provider().verifier_factory)(&self.alg.to_jwt(), &self.decoding)
            {
                Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
                Err(_) => false,
            }
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Extract the DER body of the first PEM block with one of the given labels.
fn pem_body(pem: &[u8], labels: &[&str], what: &'static str) -> Result<Vec<u8>, ConfigError> {
    let text = std::str::from_utf8(pem).map_err(|_| invalid(what, "PEM is not UTF-8"))?;
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else {
            return Err(invalid(
                what,
                format!("PEM block {label:?} has no END line"),
            ));
        };
        if labels.contains(&label) {
            let b64: String = body_start[..body_end]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            return STANDARD
                .decode(b64)
                .map_err(|_| invalid(what, "PEM body is not valid base64"));
        }
        if label.contains("PRIVATE KEY") {
            return Err(invalid(
                what,
                "this is a private key; configure the public key (a resource server never needs the private one)",
            ));
        }
        rest = &body_start[body_end + end_marker.len()..];
    }
    Err(invalid(
        what,
        format!(
            "no PEM block labelled {} found",
            labels
                .iter()
                .map(|l| format!("\"{l}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ))
}
