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

mod algorithm;
pub(crate) mod backend;
mod der;
pub(crate) mod jwk;
mod key;
#[cfg(feature = "aws-lc-rs")]
mod prepared;
#[cfg(feature = "remote")]
pub mod remote;
pub(crate) mod set;

pub use algorithm::Algorithm;
pub use key::Key;

#[cfg(test)]
mod tests;
