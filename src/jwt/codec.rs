//! Base64url and JSON as JOSE uses them: canonical base64url, objects only, claims parsed
//! once (the fast path, then serde_json).

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::claims::registered::has_duplicate_member;
use crate::claims::registered::Registered;
use crate::error::TokenError;
use crate::rules::required::static_name;

/// Decode canonical unpadded base64url into `buf` (SIMD where the CPU has it); `None` when
/// the input is not canonical base64url or does not fit.
#[inline]
pub(crate) fn b64_into<'b>(src: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    let n = b64.decoded_length(src).ok()?;
    let out = buf.get_mut(..n)?;
    b64.decode(src, base64_simd::Out::from_slice(out))
        .ok()
        .map(|d| &*d)
}

/// Parse a JSON object; `None` for anything else (serde's derive would also take an array).
pub(crate) fn parse_object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// [`parse_object`] for text already known to be UTF-8: serde_json then skips validating
/// every string again.
pub(crate) fn parse_object_str<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace())?;
    if first != b'{' {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// `true` for a member that is present, whatever its value (`null` included).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// The registered claims of a claims set (a JWT's payload or an introspection answer),
/// indexed into `json`. `fast`: try the everyday-claims scanner first.
/// (Introspection answers; the validator parses into its grant with [`parse_claims_into`].)
#[cfg(feature = "remote")]
#[inline]
pub(crate) fn parse_claims(json: &str, fast: bool) -> Result<Registered, TokenError> {
    let mut r = Registered::default();
    parse_claims_into(json, fast, &mut r).map(|()| r)
}

/// [`parse_claims`] into `out` (a [`Registered::default`]), which the fast path fills in
/// place: the claims are not moved on their way to the validator.
#[inline(always)]
pub(crate) fn parse_claims_into(
    json: &str,
    fast: bool,
    out: &mut Registered,
) -> Result<(), TokenError> {
    if fast && crate::claims::scan::parse_fast_into(json, out).is_some() {
        return Ok(());
    }
    *out = parse_claims_slow(json)?;
    Ok(())
}

/// The serde path of [`parse_claims`].
fn parse_claims_slow(json: &str) -> Result<Registered, TokenError> {
    let mut r = match parse_object_str::<Registered>(json) {
        Some(r) => r,
        None => return Err(diagnose_claims(json)),
    };
    if !r.rebase(json) {
        return Err(TokenError::Malformed("claims could not be indexed"));
    }
    // serde's derive ignores members it does not read, twice or not; RFC 7519 §4 lets us
    // refuse them, so that `TokenClaims::get` and `deserialize` never read a claim two ways.
    if has_duplicate_member(json) {
        return Err(DUPLICATE);
    }
    Ok(r)
}

/// The slow path after the claims failed to parse: say which registered claim is at fault.
fn diagnose_claims(json: &str) -> TokenError {
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) else {
        return TokenError::Malformed("claims are not a JSON object");
    };
    for name in [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "client_id",
        "azp",
        "scope",
        "scp",
    ] {
        if let Some(v) = map.get(name) {
            let mut one = serde_json::Map::new();
            one.insert(name.to_owned(), v.clone());
            if serde_json::from_value::<Registered>(serde_json::Value::Object(one)).is_err() {
                return TokenError::InvalidClaim(static_claim(name));
            }
        }
    }
    DUPLICATE
}

const DUPLICATE: TokenError = TokenError::Malformed("claims contain a duplicated member");

fn static_claim(name: &str) -> &'static str {
    match name {
        "azp" => "azp",
        "scope" => "scope",
        "scp" => "scp",
        other => static_name(other),
    }
}
