//! The `typ` header (RFC 9068 §2.1, RFC 8725 §3.11).

use crate::jwt::header::Typ;

/// Which `typ` header values are accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypPolicy {
    /// `at+jwt` or `application/at+jwt` (any case), `JWT`, or no `typ` (the default).
    #[default]
    Lenient,
    /// RFC 9068: only `at+jwt` or `application/at+jwt` (any case). Tells access tokens from
    /// ID tokens signed by the same issuer.
    Strict,
}

/// Whether `typ` is allowed under `policy`.
#[inline]
pub(crate) fn allowed(policy: TypPolicy, typ: Typ) -> bool {
    match policy {
        TypPolicy::Lenient => matches!(typ, Typ::Absent | Typ::Jwt | Typ::AtJwt),
        TypPolicy::Strict => typ == Typ::AtJwt,
    }
}
