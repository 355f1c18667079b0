//! One scope token (RFC 6749 §3.3).

use std::borrow::Cow;
use std::fmt;

use crate::error::ConfigError;

/// Whether `s` is a valid RFC 6749 §3.3 scope token.
pub const fn is_valid_scope(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)) {
            return false;
        }
        i += 1;
    }
    true
}

/// One validated scope token.
///
/// ```
/// use tower_bearer::scope::Scope;
/// const USERS_READ: Scope = Scope::from_static("users:read");
/// assert!(Scope::new("has space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Cow<'static, str>);

impl Scope {
    /// A scope from a literal. Invalid scope strings panic; in a `const` this is a compile
    /// error.
    ///
    /// # Panics
    /// If `s` is empty or contains a character outside RFC 6749 §3.3's set.
    pub const fn from_static(s: &'static str) -> Self {
        if !is_valid_scope(s) {
            panic!("invalid scope: a scope is one or more characters from %x21 / %x23-5B / %x5D-7E (no spaces, quotes or backslashes)");
        }
        Self(Cow::Borrowed(s))
    }

    /// A scope from any string.
    ///
    /// # Errors
    /// If `s` is empty or contains a character outside RFC 6749 §3.3's set.
    pub fn new(s: impl Into<String>) -> Result<Self, ConfigError> {
        let s = s.into();
        if is_valid_scope(&s) {
            Ok(Self(Cow::Owned(s)))
        } else {
            Err(ConfigError::InvalidScope(s))
        }
    }

    /// The scope as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
