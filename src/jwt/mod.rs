//! JWT access tokens (RFC 9068): the [`Validator`], its builder, and the JWS steps
//! (segments, base64url, the JOSE header, the signature). The claim rules live in one place
//! that every path shares; see the crate's `rules` module.
//!
//! The validation policy: which issuers, audiences, keys and token types are accepted.
//!
//! ```
//! use tower_bearer::{Algorithm, Validator};
//!
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .hmac_secret(b"0123456789abcdef0123456789abcdef", Algorithm::HS256)
//!     .build()?;
//! # let _ = validator;
//! # Ok::<(), tower_bearer::ConfigError>(())
//! ```
//!
//! # What is checked, in order
//!
//! 1. Length, before any parsing (default 8 KiB).
//! 2. Three base64url segments, canonical encoding; the header a JSON object without
//!    duplicate `alg`, `kid`, `typ` or `crit`.
//! 3. `alg` is one this crate knows (never `none`); `crit` absent; `typ` allowed by the policy.
//! 4. The key, when the key set is at hand: by `kid`, and the header's `alg` must be that
//!    key's one algorithm, or the token is refused before its claims are read; so is a
//!    `kid` a static set lacks. `jku`, `x5u`, `jwk` and `x5c` are never read. A `kid` a
//!    remote set lacks (refetched within the cooldown), and remote keys not fetched yet, are
//!    decided after the claims, so that an expired token never waits for a fetch nor causes
//!    a refetch. (Looking a remote set up may start its scheduled background refresh, for
//!    any token.)
//! 5. For an HMAC key, the signature, before the claims: it costs about what they do, and a
//!    forged token naming a key of the set then costs no claims work and learns nothing
//!    about them.
//! 6. The claims: a JSON object that names no member twice; `exp` present and numeric;
//!    `nbf` and `iat` numeric when present; all three checked against the clock with the
//!    leeway; `iss` a string equal to a configured issuer; `aud` a string or array of
//!    strings containing a configured audience; no `cnf` (sender-constrained tokens are not
//!    bearer tokens) unless it is a DPoP `cnf.jkt` matched by a verified proof
//!    ([`crate::dpop`]) and/or a `cnf.x5t#S256` matched by the request's client
//!    certificate ([`crate::mtls`]); required claims present.
//! 7. For a public key, the signature, after the claims (each must pass anyway, and an
//!    expired token then costs no public-key operation), through the crate's own crypto
//!    backend.
//! 8. Your own checks, in the order they were added; then, with feature `tokio`, your
//!    asynchronous checks ([`ValidatorBuilder::check_async`]).

mod builder;
#[cfg(feature = "tokio")]
mod checks;
pub(crate) mod codec;
pub(crate) mod header;
mod multi;
#[cfg(feature = "remote")]
mod opaque;
mod segments;
mod signature;
mod single;
mod validator;

pub use crate::claims::Authenticated;
pub use crate::rules::length::DEFAULT_MAX_TOKEN_LEN;
pub use crate::rules::typ::TypPolicy;
pub use builder::{ValidatorBuilder, DEFAULT_LEEWAY};
pub(crate) use validator::Step;
pub use validator::Validator;

/// Google's signing keys for its ID tokens (see [`ValidatorBuilder::google_id_tokens`]).
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// The two spellings of Google's issuer that its ID tokens carry.
pub(crate) const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];

#[cfg(test)]
mod tests;
