//! Mint tokens and a matching validator in your own tests (feature `testing`).
//!
//! The keys are fixed development keys embedded in this crate: never trust a
//! [`TestIssuer`] outside tests.
//!
//! ```
//! use tower_bearer::testing::TestIssuer;
//!
//! let issuer = TestIssuer::new();
//! let token = issuer.token().scopes(["users:read"]).subject("alice").sign();
//! let auth = issuer.validator().validate(&token)?;
//! assert!(auth.scopes().contains("users:read"));
//! assert_eq!(auth.claims().subject(), Some("alice"));
//!
//! let expired = issuer.token().expired().sign();
//! assert!(issuer.validator().validate(&expired).is_err());
//! let forged = issuer.token().forged().sign();
//! assert!(issuer.validator().validate(&forged).is_err());
//! # Ok::<(), tower_bearer::TokenError>(())
//! ```

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::EncodingKey;
use serde_json::{json, Map, Value};

use crate::keys::{Algorithm, Key};
use crate::validator::{Validator, ValidatorBuilder};
use crate::BearerLayer;

/// The issuer every [`TestIssuer`] uses unless told otherwise.
pub const TEST_ISSUER: &str = "https://issuer.test";
/// The audience every [`TestIssuer`] uses unless told otherwise.
pub const TEST_AUDIENCE: &str = "https://api.test";

pub(crate) const HMAC_SECRET: &[u8] =
    b"tower-bearer test secret, never use in production!!!!!!!!!!!!!!!";
const FORGER_SECRET: &[u8] = b"a forger's secret that the validator does not know!!!!!!!!!!!!!!";

/// Embedded development key pairs (PEM), for tests and examples only.
pub mod keys {
    /// RSA 2048 private key (PKCS#8).
    pub const RSA_PRIVATE: &str = include_str!("keys/rsa_private.pem");
    /// RSA 2048 public key (SPKI).
    pub const RSA_PUBLIC: &str = include_str!("keys/rsa_public.pem");
    /// P-256 private key (PKCS#8).
    pub const P256_PRIVATE: &str = include_str!("keys/p256_private.pem");
    /// P-256 public key (SPKI).
    pub const P256_PUBLIC: &str = include_str!("keys/p256_public.pem");
    /// P-384 private key (PKCS#8).
    pub const P384_PRIVATE: &str = include_str!("keys/p384_private.pem");
    /// P-384 public key (SPKI).
    pub const P384_PUBLIC: &str = include_str!("keys/p384_public.pem");
    /// Ed25519 private key (PKCS#8).
    pub const ED25519_PRIVATE: &str = include_str!("keys/ed25519_private.pem");
    /// Ed25519 public key (SPKI).
    pub const ED25519_PUBLIC: &str = include_str!("keys/ed25519_public.pem");
    pub(crate) const FORGER_RSA: &str = include_str!("keys/forger_rsa_private.pem");
    pub(crate) const FORGER_P256: &str = include_str!("keys/forger_p256_private.pem");
    pub(crate) const FORGER_P384: &str = include_str!("keys/forger_p384_private.pem");
    pub(crate) const FORGER_ED25519: &str = include_str!("keys/forger_ed25519_private.pem");
    pub(crate) const FORGER_RSA_PUBLIC: &str = include_str!("keys/forger_rsa_public.pem");
    pub(crate) const FORGER_P256_PUBLIC: &str = include_str!("keys/forger_p256_public.pem");
    pub(crate) const FORGER_P384_PUBLIC: &str = include_str!("keys/forger_p384_public.pem");
    pub(crate) const FORGER_ED25519_PUBLIC: &str = include_str!("keys/forger_ed25519_public.pem");
}

/// An authorization server in a box: signs tokens with an embedded key, and builds validators
/// that trust it.
pub struct TestIssuer {
    alg: Algorithm,
    signing: EncodingKey,
    forger: EncodingKey,
    public: Key,
    issuer: String,
    audience: String,
    kid: String,
}

impl fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestIssuer")
            .field("alg", &self.alg)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Default for TestIssuer {
    fn default() -> Self {
        Self::new()
    }
}

fn embedded(result: Result<EncodingKey, jsonwebtoken::errors::Error>) -> EncodingKey {
    match result {
        Ok(k) => k,
        Err(e) => panic!("embedded test key failed to load: {e}"),
    }
}

impl TestIssuer {
    /// An ES256 issuer at [`TEST_ISSUER`] for [`TEST_AUDIENCE`].
    pub fn new() -> Self {
        Self::with_algorithm(Algorithm::ES256)
    }

    /// An issuer signing with `alg` (each algorithm has its own embedded key).
    pub fn with_algorithm(alg: Algorithm) -> Self {
        use Algorithm as A;
        let (signing, forger, public) = match alg {
            A::HS256 | A::HS384 | A::HS512 => (
                EncodingKey::from_secret(HMAC_SECRET),
                EncodingKey::from_secret(FORGER_SECRET),
                Key::hmac(HMAC_SECRET, alg),
            ),
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512 => (
                embedded(EncodingKey::from_rsa_pem(keys::RSA_PRIVATE.as_bytes())),
                embedded(EncodingKey::from_rsa_pem(keys::FORGER_RSA.as_bytes())),
                Key::rsa_pem(keys::RSA_PUBLIC, alg),
            ),
            A::ES256 => (
                embedded(EncodingKey::from_ec_pem(keys::P256_PRIVATE.as_bytes())),
                embedded(EncodingKey::from_ec_pem(keys::FORGER_P256.as_bytes())),
                Key::ec_pem(keys::P256_PUBLIC),
            ),
            A::ES384 => (
                embedded(EncodingKey::from_ec_pem(keys::P384_PRIVATE.as_bytes())),
                embedded(EncodingKey::from_ec_pem(keys::FORGER_P384.as_bytes())),
                Key::ec_pem(keys::P384_PUBLIC),
            ),
            A::EdDSA => (
                embedded(EncodingKey::from_ed_pem(keys::ED25519_PRIVATE.as_bytes())),
                embedded(EncodingKey::from_ed_pem(keys::FORGER_ED25519.as_bytes())),
                Key::ed_pem(keys::ED25519_PUBLIC),
            ),
        };
        let kid = format!("test-{}", alg.as_str().to_ascii_lowercase());
        let public = match public {
            Ok(k) => k.with_kid(kid.clone()),
            Err(e) => panic!("embedded test key failed to load: {e}"),
        };
        Self {
            alg,
            signing,
            forger,
            public,
            issuer: TEST_ISSUER.to_owned(),
            audience: TEST_AUDIENCE.to_owned(),
            kid,
        }
    }

    /// Use another issuer identifier.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Use another audience.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Use another key id.
    #[must_use]
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self.public = self.public.with_kid(self.kid.clone());
        self
    }

    /// The issuer identifier (`iss`).
    pub fn issuer_id(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`).
    pub fn audience_id(&self) -> &str {
        &self.audience
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public key (with its `kid`).
    pub fn public_key(&self) -> Key {
        self.public.clone()
    }

    /// The public key as a JWKS document (`{"keys":[...]}`), to serve from a test JWKS
    /// endpoint or write to a file. HMAC issuers publish nothing (an empty set): a JWKS
    /// never carries shared secrets.
    pub fn jwks(&self) -> String {
        let key = public_jwk(&self.public, self.alg, Some(&self.kid));
        json!({ "keys": key.into_iter().collect::<Vec<_>>() }).to_string()
    }

    /// A validator builder that trusts this issuer, to add your own settings to.
    pub fn validator_builder(&self) -> ValidatorBuilder {
        Validator::builder()
            .issuer(&self.issuer)
            .audience(&self.audience)
            .key(self.public.clone())
    }

    /// A validator that trusts this issuer.
    pub fn validator(&self) -> Validator {
        match self.validator_builder().build() {
            Ok(v) => v,
            Err(e) => panic!("test validator failed to build: {e}"),
        }
    }

    /// A `BearerLayer` that trusts this issuer.
    pub fn layer(&self) -> BearerLayer {
        BearerLayer::new(self.validator())
    }

    /// Start a token: `iss`, `aud`, `sub` (`"test-user"`), `iat`, `exp` (in one hour) and
    /// `jti` are set; `typ` is `at+jwt`.
    pub fn token(&self) -> TokenBuilder<'_> {
        let now = unix_now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("aud".into(), json!(self.audience));
        claims.insert("sub".into(), json!("test-user"));
        claims.insert("client_id".into(), json!("test-client"));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 3600));
        claims.insert("jti".into(), json!(format!("jti-{now}")));
        let mut header = Map::new();
        header.insert("alg".into(), json!(self.alg.as_str()));
        header.insert("typ".into(), json!("at+jwt"));
        header.insert("kid".into(), json!(self.kid));
        TokenBuilder {
            issuer: self,
            header,
            claims,
            forged: false,
        }
    }
}

/// The public JWK of an asymmetric key (`None` for HMAC).
fn public_jwk(public: &Key, alg: Algorithm, kid: Option<&str>) -> Option<Value> {
    use jsonwebtoken::DecodingKeyKind;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let alg_name = alg.as_str();
    let mut key = match (public.decoding.kind(), alg) {
        (_, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => return None,
        (DecodingKeyKind::RsaModulusExponent { n, e }, _) => json!({
            "kty": "RSA", "use": "sig", "alg": alg_name, "n": b64(n), "e": b64(e)
        }),
        (DecodingKeyKind::SecretOrDer(point), Algorithm::ES256 | Algorithm::ES384) => {
            let half = (point.len() - 1) / 2;
            let crv = if half == 32 { "P-256" } else { "P-384" };
            json!({
                "kty": "EC", "use": "sig", "alg": alg_name, "crv": crv,
                "x": b64(&point[1..1 + half]), "y": b64(&point[1 + half..])
            })
        }
        (DecodingKeyKind::SecretOrDer(raw), _) => json!({
            "kty": "OKP", "use": "sig", "alg": alg_name, "crv": "Ed25519", "x": b64(raw)
        }),
    };
    if let (Some(kid), Some(map)) = (kid, key.as_object_mut()) {
        map.insert("kid".into(), json!(kid));
    }
    Some(key)
}

/// A DPoP client (RFC 9449): a key pair that signs proofs, and the thumbprint to bind tokens
/// to with [`TokenBuilder::dpop_bound`]. Its keys are embedded development keys that no
/// [`TestIssuer`] signs tokens with.
///
/// ```
/// use tower_bearer::testing::{DpopClient, TestIssuer};
/// use tower_bearer::Algorithm;
///
/// let issuer = TestIssuer::new();
/// let client = DpopClient::new(Algorithm::ES256);
/// let token = issuer.token().dpop_bound(&client).sign();
/// let proof = client.proof("GET", "https://api.test/users", &token);
/// # let _ = proof;
/// ```
pub struct DpopClient {
    alg: Algorithm,
    signing: EncodingKey,
    jwk: Map<String, Value>,
}

impl fmt::Debug for DpopClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopClient")
            .field("alg", &self.alg)
            .field("jkt", &self.jkt())
            .finish_non_exhaustive()
    }
}

impl DpopClient {
    /// A client signing proofs with `alg` (ES256, ES384, EdDSA, RS*/PS*).
    ///
    /// # Panics
    /// For HMAC algorithms: DPoP proofs are asymmetric.
    pub fn new(alg: Algorithm) -> Self {
        use Algorithm as A;
        let (signing, public) = match alg {
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512 => (
                EncodingKey::from_rsa_pem(keys::FORGER_RSA.as_bytes()),
                Key::rsa_pem(keys::FORGER_RSA_PUBLIC, alg),
            ),
            A::ES256 => (
                EncodingKey::from_ec_pem(keys::FORGER_P256.as_bytes()),
                Key::ec_pem(keys::FORGER_P256_PUBLIC),
            ),
            A::ES384 => (
                EncodingKey::from_ec_pem(keys::FORGER_P384.as_bytes()),
                Key::ec_pem(keys::FORGER_P384_PUBLIC),
            ),
            A::EdDSA => (
                EncodingKey::from_ed_pem(keys::FORGER_ED25519.as_bytes()),
                Key::ed_pem(keys::FORGER_ED25519_PUBLIC),
            ),
            A::HS256 | A::HS384 | A::HS512 => panic!("DPoP proofs cannot use {alg}"),
        };
        let public = match public {
            Ok(k) => k,
            Err(e) => panic!("embedded test key failed to load: {e}"),
        };
        let jwk = match public_jwk(&public, alg, None) {
            Some(Value::Object(mut map)) => {
                map.remove("use");
                map.remove("alg");
                map
            }
            _ => unreachable!("asymmetric keys have a JWK"),
        };
        Self {
            alg,
            signing: embedded(signing),
            jwk,
        }
    }

    /// The public key as a JWK (what goes into a proof's `jwk` header).
    pub fn jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint of the public key (a bound token's `cnf.jkt`).
    pub fn jkt(&self) -> String {
        match crate::dpop::thumbprint(&self.jwk) {
            Some(t) => t,
            None => unreachable!("embedded keys have thumbprints"),
        }
    }

    /// A fresh proof for `method` `url` presenting `access_token` (new `jti`, `iat` now).
    pub fn proof(&self, method: &str, url: &str, access_token: &str) -> String {
        self.proof_builder(method, url)
            .access_token(access_token)
            .sign()
    }

    /// Start a proof to adjust before signing.
    pub fn proof_builder(&self, method: &str, url: &str) -> ProofBuilder<'_> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("alg".into(), json!(self.alg.as_str()));
        header.insert("jwk".into(), Value::Object(self.jwk.clone()));
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(format!("proof-{}-{n}", unix_now())));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(url));
        claims.insert("iat".into(), json!(unix_now()));
        ProofBuilder {
            client: self,
            header,
            claims,
        }
    }
}

/// A DPoP proof being put together; finish with [`ProofBuilder::sign`].
#[derive(Debug)]
pub struct ProofBuilder<'a> {
    client: &'a DpopClient,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ProofBuilder<'_> {
    /// `ath`: the hash of the access token this proof presents.
    #[must_use]
    pub fn access_token(self, token: &str) -> Self {
        use sha2::Digest as _;
        let ath = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
        self.claim("ath", ath)
    }

    /// Set or replace a claim.
    #[must_use]
    pub fn claim(mut self, name: &str, value: impl serde::Serialize) -> Self {
        put(&mut self.claims, name, value);
        self
    }

    /// Remove a claim.
    #[must_use]
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Set or replace a header member.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl serde::Serialize) -> Self {
        put(&mut self.header, name, value);
        self
    }

    /// `iat` this many seconds from now (negative: in the past).
    #[must_use]
    pub fn issued_in(self, seconds: i64) -> Self {
        self.claim("iat", unix_now() + seconds)
    }

    /// Sign with the client's key.
    pub fn sign(self) -> String {
        compact(
            self.header,
            self.claims,
            &self.client.signing,
            self.client.alg,
        )
    }

    /// Sign with an HMAC secret instead (an attack: proofs must be asymmetric).
    pub fn sign_hmac(mut self, secret: &[u8]) -> String {
        self.header.insert("alg".into(), json!("HS256"));
        let key = EncodingKey::from_secret(secret);
        compact(self.header, self.claims, &key, Algorithm::HS256)
    }
}

/// Set `name` to `value` (JSON `null` if it does not serialize).
fn put(map: &mut Map<String, Value>, name: &str, value: impl serde::Serialize) {
    map.insert(
        name.to_owned(),
        serde_json::to_value(value).unwrap_or(Value::Null),
    );
}

/// A compact JWS of `header` and `claims`, signed with `key` for `alg`.
fn compact(
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: &EncodingKey,
    alg: Algorithm,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    let claims = URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string());
    let message = format!("{header}.{claims}");
    let signature = sign_with(key, alg, message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A token being put together; finish with [`TokenBuilder::sign`].
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    forged: bool,
}

impl fmt::Debug for TokenBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("forged", &self.forged)
            .finish()
    }
}

impl TokenBuilder<'_> {
    /// `scope`: these scopes, space-delimited.
    #[must_use]
    pub fn scopes<I, S>(self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.claim("scope", joined)
    }

    /// `sub`.
    #[must_use]
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// Set any claim.
    #[must_use]
    pub fn claim(mut self, name: &str, value: impl serde::Serialize) -> Self {
        put(&mut self.claims, name, value);
        self
    }

    /// Remove a claim.
    #[must_use]
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Set a header member (`typ`, `kid`, `alg`, `crit`, …).
    #[must_use]
    pub fn header(mut self, name: &str, value: impl serde::Serialize) -> Self {
        put(&mut self.header, name, value);
        self
    }

    /// Remove a header member.
    #[must_use]
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// `exp` this many seconds from now (negative: in the past).
    #[must_use]
    pub fn expires_in(self, seconds: i64) -> Self {
        self.claim("exp", unix_now() + seconds)
    }

    /// Expired an hour ago (well beyond any leeway).
    #[must_use]
    pub fn expired(self) -> Self {
        self.claim("iat", unix_now() - 7200).expires_in(-3600)
    }

    /// `nbf` this many seconds from now.
    #[must_use]
    pub fn not_before(self, seconds: i64) -> Self {
        self.claim("nbf", unix_now() + seconds)
    }

    /// Bind the token to `client`'s key (`cnf.jkt`, RFC 9449 §6): it is then only accepted
    /// with the `DPoP` scheme and a proof signed by that key.
    #[must_use]
    pub fn dpop_bound(self, client: &DpopClient) -> Self {
        self.claim("cnf", json!({ "jkt": client.jkt() }))
    }

    /// Bind the token to a client certificate (`cnf.x5t#S256`, RFC 8705 §3): it is then only
    /// accepted on a request that comes with that certificate ([`crate::mtls`]). Replaces a
    /// binding set before (`dpop_bound`); set `cnf` with [`claim`](Self::claim) for both.
    #[must_use]
    pub fn certificate_bound(self, certificate: &crate::mtls::ClientCertificate) -> Self {
        self.claim("cnf", json!({ "x5t#S256": certificate.thumbprint() }))
    }

    /// Signed by a key the validator does not trust (same algorithm, same `kid`).
    #[must_use]
    pub fn forged(mut self) -> Self {
        self.forged = true;
        self
    }

    /// The claims as they stand.
    pub fn claims_json(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Sign and encode.
    ///
    /// # Panics
    /// Never with the embedded keys.
    pub fn sign(self) -> String {
        let key = if self.forged {
            &self.issuer.forger
        } else {
            &self.issuer.signing
        };
        compact(self.header, self.claims, key, self.issuer.alg)
    }
}

/// Sign `message` with `key` for `alg` through the crate's backend.
///
/// # Panics
/// If the key does not fit the algorithm.
pub(crate) fn sign_with(key: &EncodingKey, alg: Algorithm, message: &[u8]) -> Vec<u8> {
    let signer = match (crate::keys::backend::provider().signer_factory)(&alg.to_jwt(), key) {
        Ok(s) => s,
        Err(e) => panic!("key does not fit {alg}: {e}"),
    };
    match signer.try_sign(message) {
        Ok(s) => s,
        Err(e) => panic!("signing failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_jwks_verifies_the_issuers_tokens() {
        for alg in [
            Algorithm::RS256,
            Algorithm::PS384,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            let issuer = TestIssuer::with_algorithm(alg);
            let validator = Validator::builder()
                .issuer(TEST_ISSUER)
                .audience(TEST_AUDIENCE)
                .jwks_json(&issuer.jwks())
                .build()
                .unwrap();
            assert!(validator.validate(&issuer.token().sign()).is_ok(), "{alg}");
            assert!(
                validator.validate(&issuer.token().forged().sign()).is_err(),
                "{alg}"
            );
        }
        assert_eq!(
            TestIssuer::with_algorithm(Algorithm::HS256).jwks(),
            r#"{"keys":[]}"#
        );
    }
}
