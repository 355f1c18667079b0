//! JWK and JWKS documents (RFC 7517).

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::DecodingKey;

use super::algorithm::{check_alg, invalid, Algorithm, KeyKind};
use super::key::Key;
use crate::error::ConfigError;

/// The JWK members we read; everything else is ignored.
#[derive(serde::Deserialize)]
pub(crate) struct Jwk<'a> {
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
    pub(crate) fn to_key(&self, allow_oct: bool) -> Result<Option<Key>, ConfigError> {
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
                let alg = named_alg.unwrap_or(KeyKind::Rsa.default_alg());
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
                Key::new(KeyKind::Ed25519.default_alg(), DecodingKey::from_ed_der(&x))?
            }
            "oct" if allow_oct => {
                let k = b64url("HMAC", "k", self.k.as_ref())?;
                Key::hmac(k, named_alg.unwrap_or(KeyKind::Hmac.default_alg()))?
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

impl Key {
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
