//! The claims of a validated token: registered claims parsed once, plus the raw JSON for your
//! own.

mod authenticated;
pub(crate) mod grant;
pub(crate) mod registered;
pub(crate) mod scan;
pub(crate) mod text;
mod token_claims;

pub use authenticated::Authenticated;
pub use token_claims::{ClaimsError, TokenClaims};
