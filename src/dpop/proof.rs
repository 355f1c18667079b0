//! The stateless checks of a DPoP proof (RFC 9449 §4.3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{HeaderMap, Method, Uri};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::htu::{normalize, strip_query};
use super::policy::Policy;
use super::thumbprint::thumbprint;
use crate::keys::{Algorithm, Key};

/// Largest `DPoP` header accepted (an RSA-4096 `jwk` fits with room to spare).
const MAX_PROOF_LEN: usize = 8 * 1024;
const MAX_JTI_LEN: usize = 256;

/// A proof that passed every stateless check.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    /// RFC 7638 thumbprint of the proof key, base64url.
    pub(crate) jkt: String,
    /// The proof's `jti`, at most 256 bytes.
    pub(crate) jti: String,
    pub(crate) expires: u64,
}

pub(crate) enum ProofError {
    Invalid(&'static str),
    Nonce(&'static str),
}

impl From<&'static str> for ProofError {
    fn from(why: &'static str) -> Self {
        Self::Invalid(why)
    }
}

#[derive(Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: String,
    jwk: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "crate::jwt::codec::present")]
    crit: bool,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// JWK members that carry private or symmetric key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl Policy {
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Uri,
        token: &str,
        now: u64,
    ) -> Result<Proof, ProofError> {
        let mut values = headers.get_all("dpop").iter();
        let value = values.next().ok_or("DPoP proof header missing")?;
        if values.next().is_some() {
            return Err("more than one DPoP proof header".into());
        }
        if value.len() > MAX_PROOF_LEN {
            return Err("DPoP proof too long".into());
        }
        let proof = value.to_str().map_err(|_| "DPoP proof is not ASCII")?;
        let mut parts = proof.split('.');
        let (Some(h64), Some(p64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("DPoP proof is not a compact JWS".into());
        };
        let header_bytes = URL_SAFE_NO_PAD
            .decode(h64)
            .map_err(|_| "DPoP proof header is not base64url")?;
        let header: ProofHeader =
            object(&header_bytes).ok_or("DPoP proof header is not a valid JSON object")?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
        {
            return Err("DPoP proof typ must be dpop+jwt".into());
        }
        if header.crit {
            return Err("DPoP proof has unsupported critical headers".into());
        }
        let alg = Algorithm::from_name(&header.alg)
            .filter(|a| self.algs.contains(a))
            .ok_or("DPoP proof algorithm not allowed")?;
        let jwk = header.jwk.ok_or("DPoP proof header has no jwk")?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err("DPoP proof jwk contains private key material".into());
        }
        let jkt = thumbprint(&jwk).ok_or("DPoP proof jwk is not a supported public key")?;
        let jwk_text = serde_json::to_string(&jwk).map_err(|_| "DPoP proof jwk unreadable")?;
        let key = Key::jwk(&jwk_text)
            .and_then(|k| k.with_algorithm(alg))
            .map_err(|_| "DPoP proof jwk does not fit its algorithm")?;
        let mut sig = [0u8; 1024];
        let n = URL_SAFE_NO_PAD
            .decode_slice(s64, &mut sig)
            .map_err(|_| "DPoP proof signature is not base64url")?;
        let signed = &proof.as_bytes()[..h64.len() + 1 + p64.len()];
        if !key.verify(signed, &sig[..n]) {
            return Err("DPoP proof signature invalid".into());
        }

        let claims_bytes = URL_SAFE_NO_PAD
            .decode(p64)
            .map_err(|_| "DPoP proof claims are not base64url")?;
        let claims: ProofClaims =
            object(&claims_bytes).ok_or("DPoP proof claims are not a valid JSON object")?;
        let jti = claims.jti.ok_or("DPoP proof has no jti")?;
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err("DPoP proof jti must be 1 to 256 bytes".into());
        }
        if claims.htm.as_deref() != Some(method.as_str()) {
            return Err("DPoP proof htm does not match the request method".into());
        }
        let htu = claims.htu.ok_or("DPoP proof has no htu")?;
        let signed_url = normalize(strip_query(&htu)).ok_or("DPoP proof htu is not a URL")?;
        let request_url = self
            .request_url(headers, uri)
            .ok_or("request URL unknown")?;
        if signed_url != request_url {
            return Err("DPoP proof htu does not match the request URL".into());
        }
        let iat = claims.iat.ok_or("DPoP proof has no iat")?;
        if !iat.is_finite() || iat < 0.0 {
            return Err("DPoP proof iat is not a NumericDate".into());
        }
        let now_f = now as f64;
        if iat > now_f + self.leeway as f64 {
            return Err("DPoP proof iat is in the future".into());
        }
        if iat < now_f - self.lifetime as f64 {
            return Err("DPoP proof is too old (iat)".into());
        }
        let ath = claims.ath.ok_or("DPoP proof has no ath")?;
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if ath != expected {
            return Err("DPoP proof ath does not match the access token".into());
        }
        if let Some(nonces) = &self.nonce {
            match claims.nonce.as_deref() {
                None => return Err(ProofError::Nonce("DPoP proof needs a server nonce")),
                Some(n) if !nonces.check(n, now) => {
                    return Err(ProofError::Nonce("DPoP proof nonce is stale or unknown"))
                }
                Some(_) => {}
            }
        }
        Ok(Proof {
            jkt,
            jti,
            // Accepted until `iat + lifetime`; remember it a little longer.
            expires: (iat as u64)
                .saturating_add(self.lifetime)
                .saturating_add(self.leeway)
                .saturating_add(1),
        })
    }
}

/// Parse a JSON object (not an array); duplicate members are refused by the derive.
fn object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}
