//! Rejections and their rendering: what a client is answered when a request is not let
//! through.
//!
//! * [`Rejection`]: the answer (an [`ErrorCode`], a description, the scopes to name, a retry
//!   hint), built from a [`TokenError`](crate::TokenError), a failed scope check or a
//!   malformed request.
//! * Its challenges (`WWW-Authenticate`, RFC 6750 §3, with `DPoP` and RFC 9728's
//!   `resource_metadata` where configured), written once for every transport.
//! * [`ErrorFormat`]: how the body of an HTTP answer is written (JSON, RFC 9457 problem+json,
//!   empty, or your own). Transports without an HTTP error body take the headers alone.
//! * With feature `tracing`, one event per rejection: its code and description, the method
//!   and the path, never the token, a claim value or the query string.

mod challenge;
mod code;
mod format;
mod rejection;
pub(crate) mod render;
#[cfg(feature = "tracing")]
pub(crate) mod trace;

pub(crate) use challenge::DpopChallenge;
pub use code::ErrorCode;
pub use format::ErrorFormat;
pub use rejection::Rejection;

#[cfg(test)]
mod tests;
