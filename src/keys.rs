//! Verification keys: where they come from and which algorithm each one verifies.
//!
//! Every [`Key`] verifies with exactly one [`Algorithm`] (RFC 8725 §3.1): the JWK's `alg`, the
//! one you name for a PEM or DER key, or the default of the key's type for a JWK without
//! `alg` (RSA: RS256, P-256: ES256, P-384: ES384, Ed25519: EdDSA). A token whose header names
//! any other algorithm is rejected before its signature is looked at.
//!
//! ```
//! use tower_bearer::{Algorithm, Key};
//!
//! let key = Key::hmac(b"0123456789abcdef0123456789abcdef", Algorithm::HS256)?
//!     .with_kid("k1");
//! assert_eq!(key.algorithm(), Algorithm::HS256);
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::DecodingKey;

use crate::error::ConfigError;

/// A JWS signature algorithm this crate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// The name used in JOSE headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parse a JOSE `alg` value, exactly (names are case-sensitive; `none` is never accepted).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }

    fn kind(self) -> KeyKind {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => KeyKind::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                KeyKind::Rsa
            }
            Self::ES256 => KeyKind::P256,
            Self::ES384 => KeyKind::P384,
            Self::EdDSA => KeyKind::Ed25519,
        }
    }

    #[cfg_attr(all(feature = "aws-lc-rs", not(feature = "testing")), allow(dead_code))]
    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::EdDSA => J::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ConfigError::UnsupportedAlgorithm(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Hmac,
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    const fn name(self) -> &'static str {
        match self {
            Self::Hmac => "an HMAC",
            Self::Rsa => "an RSA",
            Self::P256 => "a P-256",
            Self::P384 => "a P-384",
            Self::Ed25519 => "an Ed25519",
        }
    }

    const fn default_alg(self) -> Algorithm {
        match self {
            Self::Hmac => Algorithm::HS256,
            Self::Rsa => Algorithm::RS256,
            Self::P256 => Algorithm::ES256,
            Self::P384 => Algorithm::ES384,
            Self::Ed25519 => Algorithm::EdDSA,
        }
    }

    const fn hint(self) -> &'static str {
        match self {
            Self::Hmac => ": HMAC secrets verify HS256, HS384 or HS512",
            Self::Rsa => ": RSA keys verify RS256/384/512 or PS256/384/512",
            Self::P256 => ": P-256 keys verify ES256 only",
            Self::P384 => ": P-384 keys verify ES384 only",
            Self::Ed25519 => ": Ed25519 keys verify EdDSA only",
        }
    }
}

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

fn check_alg(alg: Algorithm, kind: KeyKind) -> Result<(), ConfigError> {
    if alg.kind() == kind {
        Ok(())
    } else {
        Err(ConfigError::AlgorithmMismatch {
            alg: alg.as_str(),
            key: kind.name(),
            hint: kind.hint(),
        })
    }
}

fn invalid(what: &'static str, reason: impl Into<Cow<'static, str>>) -> ConfigError {
    ConfigError::InvalidKey {
        what,
        reason: reason.into(),
    }
}

impl Key {
    fn new(alg: Algorithm, decoding: DecodingKey) -> Result<Self, ConfigError> {
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
    /// output (32, 48 or 64 bytes; RFC 7518 §3.2).
    pub fn hmac(secret: impl AsRef<[u8]>, alg: Algorithm) -> Result<Self, ConfigError> {
        check_alg(alg, KeyKind::Hmac)?;
        let secret = secret.as_ref();
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

    fn rsa_components(n: &[u8], e: &[u8], alg: Algorithm) -> Result<Self, ConfigError> {
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

    fn ec_point(kind: KeyKind, point: &[u8]) -> Result<Self, ConfigError> {
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
        Self::new(Algorithm::EdDSA, DecodingKey::from_ed_der(raw))
    }

    /// A single JWK (RFC 7517), as JSON text. Its `kid` becomes the key id; its `alg`, or the
    /// default of its type, the algorithm.
    ///
    /// # Errors
    /// If the JSON is not a usable public signature key.
    pub fn jwk(json: &str) -> Result<Self, ConfigError> {
        let jwk: Jwk<'_> = serde_json::from_str(json)
            .map_err(|e| invalid("JWK", format!("not a JWK object: {e}")))?;
        match jwk.to_key(true)? {
            Some(key) => Ok(key),
            None => Err(invalid("JWK", "the key is not for signatures (use: enc)")),
        }
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

    /// Verify `signature` over `message` with this key's algorithm, through the crate's
    /// crypto backend (never the process-wide default, so no feature combination panics).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        #[cfg(feature = "aws-lc-rs")]
        {
            self.prepared.verify(message, signature)
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            match (crate::backend::provider().verifier_factory)(&self.alg.to_jwt(), &self.decoding)
            {
                Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
                Err(_) => false,
            }
        }
    }
}

/// Keys parsed once, verified with aws-lc-rs's own types and the same algorithm parameters
/// jsonwebtoken's aws-lc provider uses (RSA 2048–8192 bits, fixed-size ECDSA signatures,
/// constant-time HMAC comparison).
#[cfg(feature = "aws-lc-rs")]
mod prepared {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey};
    use jsonwebtoken::{DecodingKey, DecodingKeyKind};

    use super::{invalid, Algorithm};
    use crate::error::ConfigError;

    // Lives behind an Arc, one per key: the size difference costs nothing.
    #[allow(clippy::large_enum_variant)]
    pub(super) enum Prepared {
        Hmac(hmac::Key),
        Public(ParsedPublicKey),
        Raw(&'static dyn sig::VerificationAlgorithm, Box<[u8]>),
    }

    impl Prepared {
        pub(super) fn new(alg: Algorithm, key: &DecodingKey) -> Result<Self, ConfigError> {
            let public = |params: &'static dyn sig::VerificationAlgorithm, bytes: &[u8]| {
                ParsedPublicKey::new(params, bytes)
                    .map(Prepared::Public)
                    .map_err(|e| invalid("public", format!("rejected by the crypto backend: {e}")))
            };
            let hmac_key =
                |a: hmac::Algorithm, bytes: &[u8]| Ok(Prepared::Hmac(hmac::Key::new(a, bytes)));
            match (alg, key.kind()) {
                (Algorithm::HS256, DecodingKeyKind::SecretOrDer(b)) => {
                    hmac_key(hmac::HMAC_SHA256, b)
                }
                (Algorithm::HS384, DecodingKeyKind::SecretOrDer(b)) => {
                    hmac_key(hmac::HMAC_SHA384, b)
                }
                (Algorithm::HS512, DecodingKeyKind::SecretOrDer(b)) => {
                    hmac_key(hmac::HMAC_SHA512, b)
                }
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

        pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
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

/// A minimal DER reader for the three public-key structures we accept.
mod der {
    use super::KeyKind;

    const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

    /// Read one TLV; return (tag, contents, rest).
    fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), &'static str> {
        let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
        let (&first, rest) = rest.split_first().ok_or("truncated DER")?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return Err("bad DER length");
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | b as usize);
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err("truncated DER");
        }
        Ok((tag, &rest[..len], &rest[len..]))
    }

    fn expect(input: &[u8], want: u8) -> Result<(&[u8], &[u8]), &'static str> {
        let (tag, body, rest) = tlv(input)?;
        if tag != want {
            return Err("unexpected DER structure");
        }
        Ok((body, rest))
    }

    /// A SubjectPublicKeyInfo: algorithm OID, curve OID if any, key bits.
    type Spki<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

    fn spki(der: &[u8]) -> Result<Spki<'_>, &'static str> {
        let (seq, trailing) = expect(der, 0x30)?;
        if !trailing.is_empty() {
            return Err("trailing data after the key");
        }
        let (alg_id, rest) = expect(seq, 0x30)?;
        let (oid, params) = expect(alg_id, 0x06)?;
        let params = if params.is_empty() {
            None
        } else {
            let (tag, body, _) = tlv(params)?;
            (tag == 0x06).then_some(body)
        };
        let (bits, _) = expect(rest, 0x03)?;
        let (&unused, key) = bits.split_first().ok_or("empty key bits")?;
        if unused != 0 {
            return Err("key bit string has unused bits");
        }
        Ok((oid, params, key))
    }

    pub(super) fn rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
        let pkcs1 = match spki(der) {
            Ok((oid, _, key)) if oid == OID_RSA => key,
            Ok(_) => return Err("not an RSA key"),
            Err(_) => der,
        };
        let (seq, _) = expect(pkcs1, 0x30).map_err(|_| "not an RSA public key")?;
        let (n, rest) = expect(seq, 0x02)?;
        let (e, _) = expect(rest, 0x02)?;
        Ok((n, e))
    }

    pub(super) fn ec_public_key(der: &[u8]) -> Result<(KeyKind, &[u8]), &'static str> {
        let (oid, params, key) = spki(der)?;
        if oid != OID_EC {
            return Err("not an EC key");
        }
        match params {
            Some(p) if p == OID_P256 => Ok((KeyKind::P256, key)),
            Some(p) if p == OID_P384 => Ok((KeyKind::P384, key)),
            _ => Err("unsupported curve: only P-256 and P-384 are supported"),
        }
    }

    pub(super) fn ed25519_public_key(der: &[u8]) -> Result<&[u8], &'static str> {
        let (oid, _, key) = spki(der)?;
        if oid != OID_ED25519 {
            return Err("not an Ed25519 key");
        }
        if key.len() != 32 {
            return Err("an Ed25519 public key is 32 bytes");
        }
        Ok(key)
    }
}

/// The JWK members we read; everything else is ignored.
#[derive(serde::Deserialize)]
struct Jwk<'a> {
    #[serde(borrow)]
    kty: Cow<'a, str>,
    #[serde(default, borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "use")]
    use_: Option<Cow<'a, str>>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default, borrow)]
    crv: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    n: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    e: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    x: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    y: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    k: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    d: Option<Cow<'a, str>>,
}

fn b64url(
    what: &'static str,
    member: &str,
    value: Option<&Cow<'_, str>>,
) -> Result<Vec<u8>, ConfigError> {
    let value = value.ok_or_else(|| invalid(what, format!("JWK member {member:?} missing")))?;
    URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|_| invalid(what, format!("JWK member {member:?} is not base64url")))
}

impl Jwk<'_> {
    /// `Ok(None)`: a key that is not for verifying signatures, skipped without error.
    /// `allow_oct`: symmetric keys are only accepted when the user hands one over directly.
    fn to_key(&self, allow_oct: bool) -> Result<Option<Key>, ConfigError> {
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Ok(None);
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|op| op == "verify") {
                return Ok(None);
            }
        }
        if self.d.is_some() {
            return Err(invalid(
                "JWK",
                "it contains private key material (d); publish and configure the public key only",
            ));
        }
        let named_alg = match self.alg.as_deref() {
            Some(name) => Some(
                Algorithm::from_name(name)
                    .ok_or_else(|| ConfigError::UnsupportedAlgorithm(name.to_owned()))?,
            ),
            None => None,
        };
        let key = match self.kty.as_ref() {
            "RSA" => {
                let n = b64url("RSA", "n", self.n.as_ref())?;
                let e = b64url("RSA", "e", self.e.as_ref())?;
                let alg = named_alg.unwrap_or(Algorithm::RS256);
                check_alg(alg, KeyKind::Rsa)?;
                Key::rsa_components(&n, &e, alg)?
            }
            "EC" => {
                let kind = match self.crv.as_deref() {
                    Some("P-256") => KeyKind::P256,
                    Some("P-384") => KeyKind::P384,
                    other => {
                        return Err(invalid(
                            "EC",
                            format!("unsupported curve {other:?}: only P-256 and P-384"),
                        ))
                    }
                };
                let x = b64url("EC", "x", self.x.as_ref())?;
                let y = b64url("EC", "y", self.y.as_ref())?;
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                if let Some(alg) = named_alg {
                    check_alg(alg, kind)?;
                }
                Key::ec_point(kind, &point)?
            }
            "OKP" => {
                if self.crv.as_deref() != Some("Ed25519") {
                    return Err(invalid("OKP", "only the Ed25519 curve is supported"));
                }
                let x = b64url("Ed25519", "x", self.x.as_ref())?;
                if x.len() != 32 {
                    return Err(invalid("Ed25519", "x must be 32 bytes"));
                }
                if let Some(alg) = named_alg {
                    check_alg(alg, KeyKind::Ed25519)?;
                }
                Key::new(Algorithm::EdDSA, DecodingKey::from_ed_der(&x))?
            }
            "oct" if allow_oct => {
                let k = b64url("HMAC", "k", self.k.as_ref())?;
                Key::hmac(k, named_alg.unwrap_or(Algorithm::HS256))?
            }
            "oct" => return Ok(None),
            other => return Err(invalid("JWK", format!("unsupported key type {other:?}"))),
        };
        Ok(Some(match &self.kid {
            Some(kid) => key.with_kid(kid.as_ref()),
            None => key,
        }))
    }
}

/// What a JWKS document yielded: the keys, and why the others were left out.
#[derive(Debug, Default)]
pub(crate) struct ParsedJwks {
    pub(crate) keys: Vec<Key>,
    pub(crate) skipped: Vec<String>,
}

/// Parse a JWKS document. Keys that are not for signatures, symmetric (`oct`), of an
/// unsupported type, or invalid are skipped one by one, each with a reason.
pub(crate) fn parse_jwks(json: &str) -> Result<ParsedJwks, ConfigError> {
    #[derive(serde::Deserialize)]
    struct Doc<'a> {
        #[serde(borrow)]
        keys: Vec<&'a serde_json::value::RawValue>,
    }
    let doc: Doc<'_> = serde_json::from_str(json).map_err(|e| {
        ConfigError::InvalidJwks(format!("expected {{\"keys\": [...]}}: {e}").into())
    })?;
    let mut out = ParsedJwks::default();
    for (i, raw) in doc.keys.iter().enumerate() {
        let parsed = serde_json::from_str::<Jwk<'_>>(raw.get())
            .map_err(|e| invalid("JWK", e.to_string()))
            .and_then(|jwk| jwk.to_key(false));
        match parsed {
            Ok(Some(key)) => out.keys.push(key),
            Ok(None) => out
                .skipped
                .push(format!("key #{i}: not a public signature key")),
            Err(e) => out.skipped.push(format!("key #{i}: {e}")),
        }
    }
    Ok(out)
}

/// Keys indexed for lookup by `kid`.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeySet {
    /// Keys with an id, sorted by it: key sets are small, and a binary search over a few
    /// ids is cheaper than hashing the token's `kid`.
    by_kid: Vec<(Arc<str>, Key)>,
    /// Keys configured without a key id.
    anonymous: Vec<Key>,
}

impl KeySet {
    pub(crate) fn new(keys: Vec<Key>) -> Result<Self, ConfigError> {
        let mut set = Self::default();
        for key in keys {
            match &key.kid {
                Some(kid) => set.by_kid.push((kid.clone(), key)),
                None => set.anonymous.push(key),
            }
        }
        set.by_kid.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = set.by_kid.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ConfigError::DuplicateKeyId(pair[0].0.to_string()));
        }
        Ok(set)
    }

    fn by_kid(&self, kid: &str) -> Option<&Key> {
        self.by_kid
            .binary_search_by(|(k, _)| k.as_bytes().cmp(kid.as_bytes()))
            .ok()
            .map(|i| &self.by_kid[i].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_kid.is_empty() && self.anonymous.is_empty()
    }

    /// The key for a token: by `kid` when it names one we have; otherwise the one key
    /// without an id that verifies `alg`. Never more than one candidate, so a token costs at
    /// most one signature check.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&Key, crate::TokenError> {
        use crate::TokenError;
        if let Some(kid) = kid {
            if let Some(key) = self.by_kid(kid) {
                return if key.alg == alg {
                    Ok(key)
                } else {
                    Err(TokenError::AlgorithmMismatch)
                };
            }
        }
        let mut fitting = self.anonymous.iter().filter(|k| k.alg == alg);
        match (fitting.next(), fitting.next()) {
            (Some(key), None) => Ok(key),
            (Some(_), Some(_)) => Err(TokenError::UnknownKey),
            (None, _) => {
                if kid.is_none() && self.by_kid.len() == 1 && self.anonymous.is_empty() {
                    // A single key with an id, and a token without one: unambiguous.
                    let key = self
                        .by_kid
                        .first()
                        .map(|(_, k)| k)
                        .ok_or(TokenError::UnknownKey)?;
                    return if key.alg == alg {
                        Ok(key)
                    } else {
                        Err(TokenError::AlgorithmMismatch)
                    };
                }
                if self.anonymous.is_empty() || kid.is_some() {
                    Err(TokenError::UnknownKey)
                } else {
                    Err(TokenError::AlgorithmMismatch)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
