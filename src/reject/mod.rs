//! Rejections and their rendering: what a client is answered when a request is not let
//! through.
//!
//! * [`Rejection`]: the answer (an [`ErrorCode`], a description, the scopes to name, a retry
//!   hint), built from a [`TokenError`](crate::TokenError), a failed scope check or a
//!   malformed request.
//! * Its challenges (`WWW-Authenticate`, RFC 6750 §3, with `DPoP` and RFC 9728's
//!   `resource_metadata` where configured), written once for every transport.
//! * The rejections whose code and description are fixed (`reason.rs`): a layer renders the
//!   answer to each once (`answers.rs`) and clones it for every later request.
//! * [`ErrorFormat`]: how the body of an HTTP answer is written (JSON, RFC 9457 problem+json,
//!   empty, or your own). Transports without an HTTP error body take the headers alone.
//! * gRPC calls (`content-type: application/grpc`) are answered in gRPC: a trailers-only
//!   response whose `grpc-status` follows [`ErrorCode::grpc_code`], with the same challenges
//!   as metadata. The layers detect such calls by their content type, so one server can
//!   serve gRPC and JSON clients alike; axum extractors answer in HTTP.
//! * With feature `tracing`, one event per rejection: its code and description, the method
//!   and the path, never the token, a claim value or the query string.

mod answers;
mod challenge;
mod code;
mod format;
mod grpc;
mod reason;
mod rejection;
pub(crate) mod render;
#[cfg(feature = "tracing")]
pub(crate) mod trace;

pub(crate) use challenge::DpopChallenge;
pub use code::ErrorCode;
pub use format::ErrorFormat;
pub(crate) use grpc::is_grpc;
pub(crate) use reason::Reason;
pub use rejection::Rejection;
pub(crate) use rejection::StepUp;

#[cfg(test)]
mod tests;
