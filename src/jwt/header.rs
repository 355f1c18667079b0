//! The JOSE header of an access token, read once per distinct header.
//!
//! An issuer signs every token with the same few headers (`alg`, `kid`, `typ`), so the
//! encoded header segment repeats byte for byte across tokens. What validation needs from it
//! is a pure function of those bytes; each thread remembers it for the last few segments it
//! saw, and a segment seen before skips its base64 and JSON decoding. Only well-formed
//! headers with a supported `alg` and no `crit` are remembered, keyed by the complete segment;
//! a segment that differs in any byte is decoded afresh.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;

use crate::error::TokenError;
use crate::keys::Algorithm;

/// What the header says, as far as validation is concerned.
#[derive(Clone)]
pub(crate) struct HeaderFacts {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<Rc<str>>,
    pub(crate) typ: Typ,
}

/// The `typ` header parameter, classified (media types compare case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Typ {
    Absent,
    /// `JWT`.
    Jwt,
    /// `at+jwt` or `application/at+jwt` (RFC 9068).
    AtJwt,
    Other,
}

impl Typ {
    fn of(typ: Option<&str>) -> Self {
        match typ {
            None => Typ::Absent,
            Some(t)
                if t.eq_ignore_ascii_case("at+jwt")
                    || t.eq_ignore_ascii_case("application/at+jwt") =>
            {
                Typ::AtJwt
            }
            Some(t) if t.eq_ignore_ascii_case("jwt") => Typ::Jwt,
            Some(_) => Typ::Other,
        }
    }
}

/// Segments longer than this are decoded every time (real headers are 40–200 characters).
const MEMO_MAX_LEN: usize = 256;
/// Distinct segments remembered per thread.
const MEMO_SLOTS: usize = 4;

#[derive(Default)]
struct Memo {
    slots: Vec<(Box<[u8]>, HeaderFacts)>,
    next: usize,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// The facts of an encoded header segment, or why the token is refused: malformed (not
/// base64url, not a JSON object, `alg` missing or not a string), an unsupported `alg`, or a
/// `crit` member (present at all, even `null`).
pub(crate) fn facts(segment: &[u8]) -> Result<HeaderFacts, TokenError> {
    let memo = segment.len() <= MEMO_MAX_LEN;
    if memo {
        let hit = MEMO
            .try_with(|m| {
                m.borrow()
                    .slots
                    .iter()
                    .find(|(seen, _)| **seen == *segment)
                    .map(|(_, facts)| facts.clone())
            })
            .ok()
            .flatten();
        if let Some(facts) = hit {
            return Ok(facts);
        }
    }
    let facts = decode(segment)?;
    if memo {
        let _ = MEMO.try_with(|m| {
            let mut m = m.borrow_mut();
            let entry = (Box::<[u8]>::from(segment), facts.clone());
            if m.slots.len() < MEMO_SLOTS {
                m.slots.push(entry);
            } else {
                let at = m.next % MEMO_SLOTS;
                m.slots[at] = entry;
                m.next = at + 1;
            }
        });
    }
    Ok(facts)
}

/// Decode and parse a header segment, without the memo.
pub(crate) fn decode(segment: &[u8]) -> Result<HeaderFacts, TokenError> {
    // Headers are small: decode on the stack, fall back to the heap for odd ones.
    let mut stack = [0u8; 512];
    let heap: Vec<u8>;
    let bytes: &[u8] = if segment.len() <= 680 {
        super::codec::b64_into(segment, &mut stack)
            .ok_or(TokenError::Malformed("header is not base64url"))?
    } else {
        heap = base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(segment)
            .map_err(|_| TokenError::Malformed("header is not base64url"))?;
        &heap
    };
    let header = super::codec::parse_object::<Header<'_>>(bytes)
        .ok_or(TokenError::Malformed("header is not a valid JSON object"))?;
    let alg = Algorithm::from_name(&header.alg).ok_or(TokenError::UnsupportedAlgorithm)?;
    if header.crit {
        return Err(TokenError::CriticalHeader);
    }
    Ok(HeaderFacts {
        alg,
        kid: header.kid.map(|k| Rc::from(&*k.0)),
        typ: Typ::of(header.typ.as_deref()),
    })
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    kid: Option<Str<'a>>,
    #[serde(default, borrow)]
    typ: Option<Str<'a>>,
    /// Present at all (even `null`): refused, since no extension is understood.
    #[serde(default, deserialize_with = "super::codec::present")]
    crit: bool,
}

/// A JSON string, borrowed from the input unless it has escapes. (Inside an `Option`, serde's
/// own `Cow<str>` always copies.)
struct Str<'a>(Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    fn seg(json: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.encode(json).into_bytes()
    }

    #[test]
    fn remembered_facts_equal_decoded_facts() {
        for json in [
            r#"{"alg":"RS256","kid":"k1","typ":"at+jwt"}"#,
            r#"{"alg":"ES256","kid":"k\u0032"}"#,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"EdDSA","typ":"dpop+jwt"}"#,
        ] {
            let s = seg(json);
            for _ in 0..3 {
                let (a, b) = (facts(&s).unwrap(), decode(&s).unwrap());
                assert_eq!(a.alg, b.alg);
                assert_eq!(a.kid, b.kid);
                assert_eq!(a.typ, b.typ);
            }
        }
        assert_eq!(
            facts(&seg(r#"{"alg":"ES256","kid":"k\u0032"}"#))
                .unwrap()
                .kid
                .as_deref(),
            Some("k2")
        );
    }

    #[test]
    fn refusals_are_never_remembered() {
        let crit = seg(r#"{"alg":"RS256","crit":null}"#);
        let none = seg(r#"{"alg":"none"}"#);
        for _ in 0..3 {
            assert!(matches!(facts(&crit), Err(TokenError::CriticalHeader)));
            assert!(matches!(
                facts(&none),
                Err(TokenError::UnsupportedAlgorithm)
            ));
            assert!(matches!(facts(b"e30"), Err(TokenError::Malformed(_))));
            assert!(matches!(facts(b"!!"), Err(TokenError::Malformed(_))));
        }
    }

    #[test]
    fn one_byte_apart_is_another_header() {
        let a = seg(r#"{"alg":"RS256","kid":"a"}"#);
        let b = seg(r#"{"alg":"RS256","kid":"b"}"#);
        assert_eq!(facts(&a).unwrap().kid.as_deref(), Some("a"));
        assert_eq!(facts(&b).unwrap().kid.as_deref(), Some("b"));
        // More distinct headers than slots: each still reads as itself.
        for i in 0..(MEMO_SLOTS * 3) {
            let s = seg(&format!(r#"{{"alg":"RS256","kid":"k{i}"}}"#));
            assert_eq!(facts(&s).unwrap().kid.as_deref(), Some(&*format!("k{i}")));
        }
        assert_eq!(facts(&a).unwrap().kid.as_deref(), Some("a"));
    }
}
