//! Which algorithm a key verifies, and each key type's default.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

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

    pub(crate) fn kind(self) -> KeyKind {
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
pub(crate) enum KeyKind {
    Hmac,
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Hmac => "an HMAC",
            Self::Rsa => "an RSA",
            Self::P256 => "a P-256",
            Self::P384 => "a P-384",
            Self::Ed25519 => "an Ed25519",
        }
    }

    pub(crate) const fn default_alg(self) -> Algorithm {
        match self {
            Self::Hmac => Algorithm::HS256,
            Self::Rsa => Algorithm::RS256,
            Self::P256 => Algorithm::ES256,
            Self::P384 => Algorithm::ES384,
            Self::Ed25519 => Algorithm::EdDSA,
        }
    }

    pub(crate) const fn hint(self) -> &'static str {
        match self {
            Self::Hmac => ": HMAC secrets verify HS256, HS384 or HS512",
            Self::Rsa => ": RSA keys verify RS256/384/512 or PS256/384/512",
            Self::P256 => ": P-256 keys verify ES256 only",
            Self::P384 => ": P-384 keys verify ES384 only",
            Self::Ed25519 => ": Ed25519 keys verify EdDSA only",
        }
    }
}

pub(crate) fn check_alg(alg: Algorithm, kind: KeyKind) -> Result<(), ConfigError> {
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

pub(crate) fn invalid(what: &'static str, reason: impl Into<Cow<'static, str>>) -> ConfigError {
    ConfigError::InvalidKey {
        what,
        reason: reason.into(),
    }
}
