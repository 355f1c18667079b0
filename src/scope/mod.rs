//! Scopes: the granted set ([`Scopes`]), what a route needs ([`ScopeRequirement`]), where
//! granted scopes are read from ([`ScopeClaims`]), and opt-in implication ([`ScopeHierarchy`]).
//!
//! Scope tokens are case-sensitive and compared exactly (RFC 6749 §3.3). A granted value with
//! characters outside `%x21 / %x23-5B / %x5D-7E` is dropped: it can never match.
//!
//! ```
//! use tower_bearer::scope::{Scope, ScopeRequirement};
//!
//! const USERS_READ: Scope = Scope::from_static("users:read");
//!
//! let need = ScopeRequirement::all([
//!     ScopeRequirement::from(USERS_READ),
//!     ScopeRequirement::any(["accounts:read", "accounts:write"]),
//! ]);
//! assert_eq!(need.challenge_scopes(), "users:read accounts:read accounts:write");
//! ```

mod alternatives;
mod granted;
pub(crate) mod hierarchy;
pub(crate) mod index;
mod requirement;
mod source;
mod token;

pub use alternatives::{TooManyAlternatives, MAX_ALTERNATIVES};
pub use granted::Scopes;
pub use hierarchy::ScopeHierarchy;
pub use requirement::{IntoRequirement, ScopeRequirement};
pub use source::ScopeClaims;
pub use token::{is_valid_scope, Scope};

#[cfg(test)]
mod tests;
