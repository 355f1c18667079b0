//! The application's asynchronous claim checks (a revocation lookup, a tenant's status): run
//! after the signature and every standard check passed, on every request (a verified-token
//! cache hit included), within one deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::claims::{Authenticated, TokenClaims};
use crate::error::{CheckError, TokenError};

/// The future an asynchronous check returns.
pub(crate) type CheckFuture = Pin<Box<dyn Future<Output = Result<(), CheckError>> + Send>>;

/// One asynchronous check.
pub(crate) type AsyncCheck = Arc<dyn Fn(TokenClaims) -> CheckFuture + Send + Sync>;

/// The default deadline for all of a token's asynchronous checks together.
pub(crate) const DEFAULT_CHECK_DEADLINE: Duration = Duration::from_secs(2);
/// The longest deadline accepted.
pub(crate) const MAX_CHECK_DEADLINE: Duration = Duration::from_secs(60);

/// A validator's asynchronous checks and their deadline.
pub(crate) struct AsyncChecks {
    pub(crate) list: Vec<AsyncCheck>,
    pub(crate) deadline: Duration,
}

impl fmt::Debug for AsyncChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncChecks")
            .field("checks", &self.list.len())
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl AsyncChecks {
    /// Run every check in order: a refusal is `401 invalid_token`; a check that fails or
    /// does not finish within the deadline is `503` (never a silent pass).
    pub(crate) async fn run(&self, auth: Authenticated) -> Result<Authenticated, TokenError> {
        let claims = auth.claims().clone();
        let all = async {
            for check in &self.list {
                check(claims.clone()).await?;
            }
            Ok::<(), CheckError>(())
        };
        let unavailable = TokenError::CheckUnavailable { retry_after: 1 };
        match tokio::time::timeout(self.deadline, all).await {
            Ok(Ok(())) => Ok(auth),
            Ok(Err(CheckError::Refused(why))) => Err(TokenError::Rejected(why)),
            Ok(Err(CheckError::Unavailable(why))) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(reason = %why, "asynchronous token check failed");
                let _ = why;
                Err(unavailable)
            }
            Err(_) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    deadline_ms = self.deadline.as_millis() as u64,
                    "asynchronous token check timed out"
                );
                Err(unavailable)
            }
        }
    }
}
