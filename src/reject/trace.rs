//! One `tracing` event per rejection (feature `tracing`).

use super::code::ErrorCode;
use super::rejection::Rejection;

/// A `debug` event for a client's mistake, `warn` for a server-side problem. The path only:
/// a query string may carry the token.
pub(crate) fn rejection(rejection: &Rejection, method: &http::Method, uri: &http::Uri) {
    let path = uri.path();
    match rejection.code() {
        ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable => tracing::warn!(
            error = rejection.code().as_str(),
            reason = rejection.description(),
            %method,
            path,
            "bearer request rejected"
        ),
        _ => tracing::debug!(
            error = rejection.code().as_str(),
            reason = rejection.description(),
            %method,
            path,
            "bearer request rejected"
        ),
    }
}
