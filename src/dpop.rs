//! RFC 9449 DPoP: sender-constrained access tokens.
//!
//! A DPoP client holds a key pair, the authorization server binds the access token to the
//! public key (`cnf.jkt`, its RFC 7638 thumbprint), and every request carries a fresh proof
//! JWT signed with the private key:
//!
//! ```text
//! Authorization: DPoP eyJhbGciOiJFUzI1NiIs…
//! DPoP: eyJ0eXAiOiJkcG9wK2p3dCIs…
//! ```
//!
//! A stolen token is useless without the key. Turn DPoP on per layer with
//! [`BearerLayer::dpop`](crate::BearerLayer::dpop):
//!
//! ```
//! use tower_bearer::{dpop::Dpop, BearerLayer};
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! let dpop = Dpop::required()
//!     // The URL clients see; behind a proxy it differs from what the server sees.
//!     .public_base_url("https://api.example.com")
//!     .build()?;
//! let layer = BearerLayer::new(validator).dpop(dpop);
//! # let _ = layer;
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```
//!
//! # Policy
//!
//! * No `dpop(..)` on the layer: the `DPoP` scheme is not understood (like any other scheme),
//!   and DPoP-bound tokens presented as `Bearer` are rejected, as are all `cnf`-bound tokens.
//! * [`Dpop::allowed`]: `Bearer` for unbound tokens, `DPoP` for bound ones. A bound token
//!   presented as `Bearer` is rejected (§7.2); an unbound token presented as `DPoP` is too.
//! * [`Dpop::required`]: only `DPoP`; every challenge is a `DPoP` challenge.
//!
//! # What is checked (RFC 9449 §4.3 and §7.1)
//!
//! Exactly one `DPoP` header holding a compact JWS (at most 8 KiB); header `typ` `dpop+jwt`,
//! `alg` one of the allowed asymmetric algorithms, `jwk` a public key of that type without
//! any private member; the signature by that `jwk`; claims `jti` (1–256 bytes), `htm` equal to
//! the request method, `htu` equal to the request URL after RFC 3986 normalisation and without
//! query and fragment, `iat` within the proof lifetime (default 60 s, plus a small leeway for
//! clocks ahead), `ath` the base64url SHA-256 of the access token, and `nonce` when server
//! nonces are on; then the access token is validated as usual and its `cnf.jkt` must equal
//! the proof key's thumbprint. Only after all of that is the `jti` recorded: a replayed
//! proof is refused for as long as it could be accepted. The replay cache is bounded; when it
//! is full of live entries, new proofs get `503` rather than evicting entries early (which
//! would reopen the replay window).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, Uri};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{ConfigError, DpopChallenge, ErrorCode, Rejection};
use crate::keys::{Algorithm, Key};

/// Largest `DPoP` header accepted (an RSA-4096 `jwk` fits with room to spare).
const MAX_PROOF_LEN: usize = 8 * 1024;
const MAX_JTI_LEN: usize = 256;
const SHARDS: usize = 16;

/// Whether bearer tokens are still accepted next to DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Bearer` (unbound tokens) and `DPoP` (bound tokens).
    Allowed,
    /// `DPoP` only.
    Required,
}

/// The DPoP policy of a layer; build with [`Dpop::allowed`] or [`Dpop::required`]. Cheap to
/// clone; clones share the replay cache.
#[derive(Clone)]
pub struct Dpop {
    inner: Arc<Inner>,
}

struct Inner {
    mode: DpopMode,
    algs: Vec<Algorithm>,
    challenge: DpopChallenge,
    base_url: Option<String>,
    default_scheme: &'static str,
    lifetime: u64,
    leeway: u64,
    nonce: Option<Nonces>,
    replay: Replay,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Dpop")
            .field("mode", &i.mode)
            .field("algs", &i.algs)
            .field("base_url", &i.base_url)
            .field("proof_lifetime", &i.lifetime)
            .field("nonces", &i.nonce.is_some())
            .finish_non_exhaustive()
    }
}

impl Dpop {
    /// Accept `DPoP` next to `Bearer`.
    pub fn allowed() -> DpopBuilder {
        DpopBuilder::new(DpopMode::Allowed)
    }

    /// Accept only `DPoP`.
    pub fn required() -> DpopBuilder {
        DpopBuilder::new(DpopMode::Required)
    }

    /// The policy.
    pub fn mode(&self) -> DpopMode {
        self.inner.mode
    }

    /// The proof algorithms accepted, for RFC 9728's `dpop_signing_alg_values_supported`.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algs
    }

    pub(crate) fn challenge(&self) -> DpopChallenge {
        self.inner.challenge.clone()
    }

    pub(crate) fn required_rejection(&self) -> Rejection {
        Rejection::new(
            ErrorCode::InvalidToken,
            "this resource requires DPoP-bound tokens (Authorization: DPoP)",
        )
        .in_dpop_scheme()
    }

    /// Check the request's proof for `token` (everything but replay); the key thumbprint and
    /// what to record once the token itself has been accepted.
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Uri,
        token: &str,
    ) -> Result<Proof, Rejection> {
        self.inner
            .verify(headers, method, uri, token, now())
            .map_err(|e| match e {
                ProofError::Invalid(why) => {
                    Rejection::new(ErrorCode::InvalidDpopProof, why).in_dpop_scheme()
                }
                ProofError::Nonce(why) => match &self.inner.nonce {
                    Some(n) => Rejection::new(ErrorCode::UseDpopNonce, why)
                        .in_dpop_scheme()
                        .with_nonce(n.fresh(now())),
                    None => Rejection::new(ErrorCode::InvalidDpopProof, why).in_dpop_scheme(),
                },
            })
    }

    /// Record a verified proof's `jti`; a rejection if it was seen before.
    pub(crate) fn record(&self, proof: &Proof) -> Result<(), Rejection> {
        let now = now();
        // A proof that outlived its window while keys were fetched or the token was
        // introspected is refused: recording it would store an entry that is already dead,
        // and let copies of it through.
        if proof.expires <= now {
            return Err(Rejection::new(
                ErrorCode::InvalidDpopProof,
                "DPoP proof expired while the request was being checked",
            )
            .in_dpop_scheme());
        }
        match self
            .inner
            .replay
            .insert(proof.replay_key, proof.expires, now)
        {
            Insert::Fresh => Ok(()),
            Insert::Replayed => Err(Rejection::new(
                ErrorCode::InvalidDpopProof,
                "DPoP proof replayed (jti seen before)",
            )
            .in_dpop_scheme()),
            Insert::Full => Err(Rejection::unavailable(
                "DPoP replay cache is full, retry later",
                self.inner.lifetime.max(1),
            )
            .in_dpop_scheme()),
        }
    }
}

/// Configures a [`Dpop`] policy.
#[must_use]
pub struct DpopBuilder {
    mode: DpopMode,
    algs: Vec<Algorithm>,
    base_url: Option<String>,
    default_scheme: &'static str,
    lifetime: Duration,
    leeway: Duration,
    nonce: Option<Duration>,
    replay_entries: usize,
}

impl fmt::Debug for DpopBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopBuilder")
            .field("mode", &self.mode)
            .field("algs", &self.algs)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl DpopBuilder {
    fn new(mode: DpopMode) -> Self {
        use Algorithm as A;
        Self {
            mode,
            algs: vec![
                A::ES256,
                A::ES384,
                A::EdDSA,
                A::PS256,
                A::PS384,
                A::PS512,
                A::RS256,
                A::RS384,
                A::RS512,
            ],
            base_url: None,
            default_scheme: "https",
            lifetime: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            nonce: None,
            replay_entries: 100_000,
        }
    }

    /// The proof algorithms to accept (default: every asymmetric one this crate verifies).
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algs = algs.into_iter().collect();
        self
    }

    /// The scheme and authority clients use to reach this service, such as
    /// `https://api.example.com` (a path prefix is allowed: `https://example.com/api`). The
    /// proof's `htu` must equal it followed by the request's path. Without it, the URL is
    /// rebuilt from the request: its scheme and authority when absolute (HTTP/2), else
    /// `https` (or `http` after [`DpopBuilder::plain_http`]) and the `Host` header.
    pub fn public_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Without a public base URL, assume requests arrived over plain `http` (local
    /// development and tests); the default assumes `https`.
    pub fn plain_http(mut self) -> Self {
        self.default_scheme = "http";
        self
    }

    /// How old a proof's `iat` may be (default 60 s). Also how long its `jti` is remembered.
    pub fn proof_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How far in the future a proof's `iat` may be, for client clocks ahead (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Require server nonces (RFC 9449 §9): a proof without a current nonce is answered 401
    /// `use_dpop_nonce` with a fresh one in `DPoP-Nonce`. Nonces are stateless (an HMAC of the
    /// time window under a key made at start-up) and valid for `lifetime` to twice that.
    pub fn require_nonce(mut self, lifetime: Duration) -> Self {
        self.nonce = Some(lifetime);
        self
    }

    /// How many proofs the replay cache remembers (default 100 000).
    pub fn replay_cache(mut self, max_entries: usize) -> Self {
        self.replay_entries = max_entries;
        self
    }

    /// Check the configuration.
    ///
    /// # Errors
    /// No algorithms, an HMAC algorithm (proofs are signed with the client's private key), a
    /// base URL that is not an absolute `http(s)` URL without query or fragment, a zero
    /// lifetime or replay cache, or no randomness for nonces.
    pub fn build(self) -> Result<Dpop, ConfigError> {
        let bad = |why: String| ConfigError::Invalid(why.into());
        if self.algs.is_empty() {
            return Err(bad("DPoP needs at least one proof algorithm".into()));
        }
        if let Some(a) = self
            .algs
            .iter()
            .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(bad(format!(
                "DPoP proofs are signed with the client's private key: {a} (HMAC) cannot be a proof algorithm"
            )));
        }
        let base_url = match self.base_url {
            None => None,
            Some(url) => {
                if url.contains(['?', '#']) {
                    return Err(bad(format!(
                        "DPoP public base URL {url:?} must not have a query or fragment"
                    )));
                }
                let normal = normalize(url.trim_end_matches('/')).ok_or_else(|| {
                    bad(format!(
                        "DPoP public base URL {url:?} is not an absolute http(s) URL, such as https://api.example.com"
                    ))
                })?;
                Some(normal.trim_end_matches('/').to_owned())
            }
        };
        if self.lifetime.is_zero() || self.lifetime > Duration::from_secs(3600) {
            return Err(bad(
                "DPoP proof lifetime must be above zero and at most an hour (proofs are meant to be fresh)".into(),
            ));
        }
        if self.leeway > Duration::from_secs(300) {
            return Err(bad(
                "DPoP leeway above 300 seconds: clock skew should be seconds, not minutes".into(),
            ));
        }
        if self.replay_entries == 0 {
            return Err(bad(
                "DPoP replay cache must hold at least one entry: without it proofs can be replayed"
                    .into(),
            ));
        }
        let nonce = match self.nonce {
            None => None,
            Some(lifetime) if lifetime.as_secs() == 0 => {
                return Err(bad("DPoP nonce lifetime must be at least one second".into()))
            }
            Some(lifetime) => {
                let mut key = [0u8; 32];
                getrandom::getrandom(&mut key)
                    .map_err(|e| bad(format!("no randomness for DPoP nonces: {e}")))?;
                Some(Nonces {
                    key,
                    window: lifetime.as_secs(),
                })
            }
        };
        let algs_text = self
            .algs
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Dpop {
            inner: Arc::new(Inner {
                mode: self.mode,
                challenge: DpopChallenge {
                    algs: Arc::from(algs_text),
                    required: self.mode == DpopMode::Required,
                },
                algs: self.algs,
                base_url,
                default_scheme: self.default_scheme,
                lifetime: self.lifetime.as_secs().max(1),
                leeway: self.leeway.as_secs(),
                nonce,
                replay: Replay::new(self.replay_entries),
            }),
        })
    }
}

/// A proof that passed every stateless check.
#[derive(Debug, Clone)]
pub(crate) struct Proof {
    /// RFC 7638 thumbprint of the proof key, base64url.
    pub(crate) jkt: String,
    replay_key: u128,
    expires: u64,
}

enum ProofError {
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
    #[serde(default, deserialize_with = "crate::header::present")]
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

impl Inner {
    fn verify(
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
                Some(n) if !nonces.valid(n, now) => {
                    return Err(ProofError::Nonce("DPoP proof nonce is stale or unknown"))
                }
                Some(_) => {}
            }
        }
        let mut h = Sha256::new();
        h.update(jkt.as_bytes());
        h.update([0]);
        h.update(jti.as_bytes());
        let digest = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        Ok(Proof {
            jkt,
            replay_key: u128::from_le_bytes(first),
            // Accepted until `iat + lifetime`; remember it a little longer.
            expires: (iat as u64)
                .saturating_add(self.lifetime)
                .saturating_add(self.leeway)
                .saturating_add(1),
        })
    }

    /// The normalised URL of this request as the client addressed it.
    fn request_url(&self, headers: &HeaderMap, uri: &Uri) -> Option<String> {
        let path = uri.path();
        if !path.starts_with('/') {
            return None;
        }
        if let Some(base) = &self.base_url {
            let url = normalize(&format!("{base}{path}"))?;
            // Dot segments must not climb out of the base's path.
            let inside = url.len() > base.len()
                && url.starts_with(base.as_str())
                && url.as_bytes()[base.len()] == b'/';
            return inside.then_some(url);
        }
        let (scheme, authority) = match (uri.scheme_str(), uri.authority()) {
            (Some(s), Some(a)) => (s, a.as_str()),
            _ => (
                self.default_scheme,
                headers.get(http::header::HOST)?.to_str().ok()?,
            ),
        };
        // The Host header is the client's: it must be a bare host[:port], or it could move
        // part of the path into the authority (`Host: api.test/admin`).
        if !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        {
            return None;
        }
        normalize(&format!("{scheme}://{authority}{path}"))
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

fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members of the key type,
/// in lexicographic order, without whitespace. `None` for an unsupported or incomplete key.
pub fn thumbprint(jwk: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let s = |name: &str| jwk.get(name)?.as_str();
    let members: Vec<(&str, &str)> = match s("kty")? {
        "RSA" => vec![("e", s("e")?), ("kty", "RSA"), ("n", s("n")?)],
        "EC" => vec![
            ("crv", s("crv")?),
            ("kty", "EC"),
            ("x", s("x")?),
            ("y", s("y")?),
        ],
        "OKP" => vec![("crv", s("crv")?), ("kty", "OKP"), ("x", s("x")?)],
        _ => return None,
    };
    let mut canonical = String::with_capacity(256);
    canonical.push('{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        // serde_json writes the string with exactly the escaping JSON requires.
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// RFC 3986 §6.2.2–6.2.3 normalisation of an absolute `http(s)` URL without query or
/// fragment: lowercase scheme and host, default port removed, empty path as `/`,
/// percent-encodings uppercased and unreserved ones decoded, dot segments removed. `None`
/// for anything else (another scheme, userinfo, a malformed authority or escape).
pub(crate) fn normalize(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port: u16 = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let path_at = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(path_at);
    if authority.is_empty() || authority.contains('@') || rest.contains(['?', '#']) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority.as_str(), None),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'))
    {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(host);
    match port {
        Some("") | None => {}
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u16 = p.parse().ok().filter(|&n| n != 0)?;
            if n != default_port {
                out.push(':');
                out.push_str(&n.to_string());
            }
        }
    }
    let path = normalize_escapes(if path.is_empty() { "/" } else { path })?;
    out.push_str(&remove_dot_segments(&path));
    Some(out)
}

fn normalize_escapes(path: &str) -> Option<String> {
    let b = path.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            let v = u8::from_str_radix(hex, 16).ok()?;
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                out.push(v as char);
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else if c.is_ascii_graphic() {
            out.push(c as char);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// RFC 3986 §5.2.4, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let trailing = path.ends_with("/.") || path.ends_with("/..") || path.ends_with('/');
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing && !out.ends_with('/') || out.is_empty() {
        out.push('/');
    }
    out
}

/// Stateless server nonces: `window || HMAC(key, window)[..16]`, base64url.
struct Nonces {
    key: [u8; 32],
    window: u64,
}

impl Nonces {
    fn keyed(&self, slot: u64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&slot.to_be_bytes());
        mac
    }

    fn mac(&self, slot: u64) -> [u8; 16] {
        let tag = self.keyed(slot).finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag[..16]);
        out
    }

    fn fresh(&self, now: u64) -> String {
        let slot = now / self.window;
        let mut raw = [0u8; 24];
        raw[..8].copy_from_slice(&slot.to_be_bytes());
        raw[8..].copy_from_slice(&self.mac(slot));
        URL_SAFE_NO_PAD.encode(raw)
    }

    fn valid(&self, nonce: &str, now: u64) -> bool {
        let mut raw = [0u8; 24];
        match URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) {
            Ok(24) => {}
            _ => return false,
        }
        let mut slot = [0u8; 8];
        slot.copy_from_slice(&raw[..8]);
        let slot = u64::from_be_bytes(slot);
        let current = now / self.window;
        if slot != current && slot.saturating_add(1) != current {
            return false;
        }
        // Constant-time comparison of the tag.
        self.keyed(slot).verify_truncated_left(&raw[8..]).is_ok()
    }
}

enum Insert {
    Fresh,
    Replayed,
    Full,
}

/// Seen proofs: hash of (thumbprint, `jti`) → when it may be forgotten.
struct Replay {
    shards: Vec<Mutex<ReplayShard>>,
    per_shard: usize,
}

#[derive(Default)]
struct ReplayShard {
    seen: HashMap<u128, u64>,
    /// When expired entries were last swept out (at most once a second, so a full shard
    /// does not cost a sweep per request).
    swept: u64,
}

impl Replay {
    fn new(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(ReplayShard::default()))
                .collect(),
            per_shard: max_entries.div_ceil(SHARDS).max(1),
        }
    }

    fn insert(&self, key: u128, expires: u64, now: u64) -> Insert {
        let shard = &self.shards[(key as usize) % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&until) = shard.seen.get(&key) {
            if until > now {
                return Insert::Replayed;
            }
        }
        if shard.seen.len() >= self.per_shard {
            if shard.swept < now {
                shard.swept = now;
                shard.seen.retain(|_, until| *until > now);
            }
            if shard.seen.len() >= self.per_shard {
                return Insert::Full;
            }
        }
        shard.seen.insert(key, expires);
        Insert::Fresh
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r#"{
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }"#).unwrap();
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn url_normalisation() {
        let n = |u| normalize(u);
        assert_eq!(
            n("HTTPS://Api.Example.COM:443").unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(n("http://a.test:80/x").unwrap(), "http://a.test/x");
        assert_eq!(n("http://a.test:8080/x").unwrap(), "http://a.test:8080/x");
        assert_eq!(
            n("https://a.test/%7euser/%2f/./b/../c").unwrap(),
            "https://a.test/~user/%2F/c"
        );
        assert_eq!(n("https://a.test/a%2fb").unwrap(), "https://a.test/a%2Fb");
        assert_eq!(n("https://a.test:0443/x").unwrap(), "https://a.test/x");
        for bad in [
            "https://a.test:0/x",
            "https://a.test:65536/x",
            "https://a.test/%+1",
            "ftp://a.test/",
            "https://user@a.test/",
            "https:///x",
            "https://a.test/%zz",
            "https://a.test:port/",
            "https://a.test/x?q",
            "a.test/x",
        ] {
            assert!(n(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn request_url_refuses_host_injection_and_climbing_out_of_the_base() {
        let dpop = |b: DpopBuilder| b.build().unwrap();
        let from_host = dpop(Dpop::allowed());
        let uri = Uri::from_static("/foo");
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "api.test".parse().unwrap());
        assert_eq!(
            from_host.inner.request_url(&headers, &uri).as_deref(),
            Some("https://api.test/foo")
        );
        for host in [
            "api.test/admin",
            "user@api.test",
            "api.test?x",
            "api.test\\x",
        ] {
            headers.insert(http::header::HOST, host.parse().unwrap());
            assert_eq!(from_host.inner.request_url(&headers, &uri), None, "{host}");
        }
        let based = dpop(Dpop::allowed().public_base_url("https://h.test/api"));
        let ok = Uri::from_static("/users");
        assert_eq!(
            based.inner.request_url(&HeaderMap::new(), &ok).as_deref(),
            Some("https://h.test/api/users")
        );
        let climb = Uri::from_static("/../admin");
        assert_eq!(based.inner.request_url(&HeaderMap::new(), &climb), None);
    }

    #[test]
    fn nonces_are_accepted_for_two_windows_only() {
        let n = Nonces {
            key: [7; 32],
            window: 60,
        };
        let t = 6_000_000;
        let nonce = n.fresh(t);
        assert!(n.valid(&nonce, t));
        assert!(n.valid(&nonce, t + 60));
        assert!(!n.valid(&nonce, t + 120));
        assert!(!n.valid(&nonce, t - 60));
        let other = Nonces {
            key: [8; 32],
            window: 60,
        };
        assert!(!other.valid(&nonce, t), "another server key");
        assert!(!n.valid("AAAA", t));
    }

    #[test]
    fn replay_cache_refuses_repeats_and_never_evicts_live_entries() {
        let r = Replay::new(SHARDS);
        assert!(matches!(r.insert(1, 100, 10), Insert::Fresh));
        assert!(matches!(r.insert(1, 100, 11), Insert::Replayed));
        // Same shard (keys congruent mod SHARDS), one entry per shard: full while live.
        let same_shard = 1 + SHARDS as u128;
        assert!(matches!(r.insert(same_shard, 100, 12), Insert::Full));
        // Once the first has expired it is purged to make room.
        assert!(matches!(r.insert(same_shard, 300, 101), Insert::Fresh));
    }
}
