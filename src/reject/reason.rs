//! [`Reason`]: the rejections whose answer a layer's configuration fixes, each a value.
//!
//! Most refusals a layer answers (no credentials, a malformed `Authorization` header, a token
//! over the length cap, a bad signature, an expired token, a wrong audience…) have a fixed code
//! and a fixed description. Each is one [`Reason`]: a [`Rejection`](super::Rejection) built
//! from one carries it, the layer's [`Answers`](super::answers::Answers) render each
//! (reason, scheme) once and clone the answer afterwards, and a counter can count them by
//! value. Descriptions that are not fixed (an application's own check, a DPoP proof's
//! failure, a claim named only by configuration) have no reason and are rendered each time.

use super::code::ErrorCode;
use crate::error::TokenError;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $name:ident = $code:ident, $description:expr; )*) => {
        /// A rejection with a fixed code and description.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Reason {
            $( $(#[$doc])* $name, )*
        }

        impl Reason {
            /// Every reason, in declaration order (`ALL[r.index()] == r`).
            pub(crate) const ALL: &'static [Reason] = &[$(Reason::$name),*];

            /// The error code of this rejection.
            pub(crate) const fn code(self) -> ErrorCode {
                match self {
                    $( Reason::$name => ErrorCode::$code, )*
                }
            }

            /// The `error_description` of this rejection.
            pub(crate) const fn description(self) -> &'static str {
                match self {
                    $( Reason::$name => $description, )*
                }
            }
        }
    };
}

/// `TokenError::Malformed`'s description: `malformed token: ` and the detail.
macro_rules! malformed {
    ($detail:literal) => {
        concat!("malformed token: ", $detail)
    };
}

reasons! {
    /// No credentials (401, challenge without `error`).
    MissingCredentials = Unauthorized, "bearer token required";

    // 400: the request's credentials are malformed.
    TwoAuthorizationHeaders = InvalidRequest, "more than one Authorization header";
    BearerWithoutToken = InvalidRequest, "Bearer scheme without a token";
    DpopWithoutToken = InvalidRequest, "DPoP scheme without a token";
    MalformedAuthorization = InvalidRequest, "malformed authorization header";
    MalformedBearerToken = InvalidRequest, "malformed bearer token";
    MalformedDpopToken = InvalidRequest, "malformed DPoP token";
    TwoWays = InvalidRequest, "token presented in more than one way";
    TwoTokenHeaders = InvalidRequest, "more than one token header";
    MalformedTokenHeader = InvalidRequest, "malformed token header";
    TwoTokenCookies = InvalidRequest, "more than one token cookie";
    EmptyToken = InvalidRequest, "empty token";
    TwoQueryTokens = InvalidRequest, "more than one access_token parameter";
    MalformedQueryToken = InvalidRequest, "malformed access_token parameter";
    EmptyQueryToken = InvalidRequest, "empty access_token parameter";

    /// A cookie-borne token from a foreign origin (403, no challenge).
    CrossSite = AccessDenied, "cross-site request refused";
    /// A bearer token where only DPoP-bound tokens are accepted.
    DpopRequired = InvalidToken, "this resource requires DPoP-bound tokens (Authorization: DPoP)";

    // 401 invalid_token: the unit variants of `TokenError`, with its `Display` text.
    TooLong = InvalidToken, "token too long";
    UnsupportedAlgorithm = InvalidToken, "unsupported algorithm";
    AlgorithmMismatch = InvalidToken, "algorithm not allowed for this key";
    UnknownKey = InvalidToken, "unknown signing key";
    InvalidSignature = InvalidToken, "invalid signature";
    Expired = InvalidToken, "token expired";
    NotYetValid = InvalidToken, "token not yet valid";
    IssuedInFuture = InvalidToken, "token issued in the future";
    IssuerMismatch = InvalidToken, "issuer mismatch";
    TenantNotAllowed = InvalidToken, "tenant not allowed";
    AudienceMismatch = InvalidToken, "audience mismatch";
    TypeNotAllowed = InvalidToken, "token type not allowed";
    CriticalHeader = InvalidToken, "unsupported critical header";
    BoundToken = InvalidToken, "token is sender-constrained (cnf) and cannot be used as a bearer token";
    Inactive = InvalidToken, "token is not active";
    NotDpopBound = InvalidToken, "token is not DPoP-bound (no cnf.jkt) but was presented with a DPoP proof";
    DpopKeyMismatch = InvalidDpopProof, "DPoP proof key does not match the token's cnf.jkt";
    CertificateRequired = InvalidToken, "token is bound to a client certificate (cnf.x5t#S256) and none was presented";
    CertificateMismatch = InvalidToken, "client certificate does not match the token's cnf.x5t#S256";
    // 400: the client certificate header (RFC 9440).
    CertificateHeaderUntrusted = InvalidRequest, "client certificate header from an untrusted peer";
    TwoCertificateHeaders = InvalidRequest, "more than one client certificate header";
    MalformedCertificateHeader = InvalidRequest, "malformed client certificate header";

    // `TokenError::Malformed`, one per detail the parser reports.
    MalformedSegments = InvalidToken, malformed!("expected three dot-separated segments");
    MalformedHeaderBase64 = InvalidToken, malformed!("header is not base64url");
    MalformedHeaderJson = InvalidToken, malformed!("header is not a valid JSON object");
    MalformedClaimsBase64 = InvalidToken, malformed!("claims are not base64url");
    MalformedClaimsUtf8 = InvalidToken, malformed!("claims are not UTF-8");
    MalformedClaimsIndex = InvalidToken, malformed!("claims could not be indexed");
    MalformedClaimsObject = InvalidToken, malformed!("claims are not a JSON object");
    MalformedClaimsJson = InvalidToken, malformed!("claims are not a valid JSON object");
    MalformedClaimsDuplicate = InvalidToken, malformed!("claims contain a duplicated member");
    MalformedSignatureBase64 = InvalidToken, malformed!("signature is not base64url");
    MalformedNotB64token = InvalidToken, malformed!("not an RFC 6750 b64token");

    // `TokenError::MissingClaim` for the claims the crate names itself.
    MissingIss = InvalidToken, "missing claim iss";
    MissingAud = InvalidToken, "missing claim aud";
    MissingExp = InvalidToken, "missing claim exp";
    MissingSub = InvalidToken, "missing claim sub";
    MissingClientId = InvalidToken, "missing claim client_id";
    MissingTid = InvalidToken, "missing claim tid";

    // `TokenError::InvalidClaim` for the claims the crate names itself.
    InvalidIss = InvalidToken, "invalid claim iss";
    InvalidAud = InvalidToken, "invalid claim aud";
    InvalidExp = InvalidToken, "invalid claim exp";
    InvalidNbf = InvalidToken, "invalid claim nbf";
    InvalidIat = InvalidToken, "invalid claim iat";
    InvalidSub = InvalidToken, "invalid claim sub";
    InvalidJti = InvalidToken, "invalid claim jti";
    InvalidClientId = InvalidToken, "invalid claim client_id";
    InvalidAzp = InvalidToken, "invalid claim azp";
    InvalidScope = InvalidToken, "invalid claim scope";
    InvalidScp = InvalidToken, "invalid claim scp";
    InvalidTid = InvalidToken, "invalid claim tid";
}

impl Reason {
    /// The number of reasons.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// This reason's place in [`Reason::ALL`].
    #[inline]
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The reason of a token error whose description is fixed; `None` for the others (an
    /// application's refusal, a claim named by configuration, the 503s).
    pub(crate) fn of(err: &TokenError) -> Option<Reason> {
        Some(match err {
            TokenError::TooLong => Reason::TooLong,
            TokenError::UnsupportedAlgorithm => Reason::UnsupportedAlgorithm,
            TokenError::AlgorithmMismatch => Reason::AlgorithmMismatch,
            TokenError::UnknownKey => Reason::UnknownKey,
            TokenError::InvalidSignature => Reason::InvalidSignature,
            TokenError::Expired => Reason::Expired,
            TokenError::NotYetValid => Reason::NotYetValid,
            TokenError::IssuedInFuture => Reason::IssuedInFuture,
            TokenError::IssuerMismatch => Reason::IssuerMismatch,
            TokenError::TenantNotAllowed => Reason::TenantNotAllowed,
            TokenError::AudienceMismatch => Reason::AudienceMismatch,
            TokenError::TypeNotAllowed => Reason::TypeNotAllowed,
            TokenError::CriticalHeader => Reason::CriticalHeader,
            TokenError::BoundToken => Reason::BoundToken,
            TokenError::Inactive => Reason::Inactive,
            TokenError::NotDpopBound => Reason::NotDpopBound,
            TokenError::DpopKeyMismatch => Reason::DpopKeyMismatch,
            TokenError::CertificateRequired => Reason::CertificateRequired,
            TokenError::CertificateMismatch => Reason::CertificateMismatch,
            TokenError::Malformed(detail) => malformed(detail)?,
            TokenError::MissingClaim(name) => missing(name)?,
            TokenError::InvalidClaim(name) => invalid(name)?,
            _ => return None,
        })
    }
}

fn malformed(detail: &str) -> Option<Reason> {
    Some(match detail {
        "expected three dot-separated segments" => Reason::MalformedSegments,
        "header is not base64url" => Reason::MalformedHeaderBase64,
        "header is not a valid JSON object" => Reason::MalformedHeaderJson,
        "claims are not base64url" => Reason::MalformedClaimsBase64,
        "claims are not UTF-8" => Reason::MalformedClaimsUtf8,
        "claims could not be indexed" => Reason::MalformedClaimsIndex,
        "claims are not a JSON object" => Reason::MalformedClaimsObject,
        "claims are not a valid JSON object" => Reason::MalformedClaimsJson,
        "claims contain a duplicated member" => Reason::MalformedClaimsDuplicate,
        "signature is not base64url" => Reason::MalformedSignatureBase64,
        "not an RFC 6750 b64token" => Reason::MalformedNotB64token,
        _ => return None,
    })
}

fn missing(name: &str) -> Option<Reason> {
    Some(match name {
        "iss" => Reason::MissingIss,
        "aud" => Reason::MissingAud,
        "exp" => Reason::MissingExp,
        "sub" => Reason::MissingSub,
        "client_id" => Reason::MissingClientId,
        "tid" => Reason::MissingTid,
        _ => return None,
    })
}

fn invalid(name: &str) -> Option<Reason> {
    Some(match name {
        "iss" => Reason::InvalidIss,
        "aud" => Reason::InvalidAud,
        "exp" => Reason::InvalidExp,
        "nbf" => Reason::InvalidNbf,
        "iat" => Reason::InvalidIat,
        "sub" => Reason::InvalidSub,
        "jti" => Reason::InvalidJti,
        "client_id" => Reason::InvalidClientId,
        "azp" => Reason::InvalidAzp,
        "scope" => Reason::InvalidScope,
        "scp" => Reason::InvalidScp,
        "tid" => Reason::InvalidTid,
        _ => return None,
    })
}
