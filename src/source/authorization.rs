//! `Authorization: Bearer <b64token>` (RFC 6750 §2.1), and `DPoP <token>` (RFC 9449 §7.1)
//! where the layer accepts DPoP.

use http::header::AUTHORIZATION;
use http::HeaderMap;

use super::token::BearerToken;
use super::{Found, Via};
use crate::reject::{Reason, Rejection};
use crate::rules::length;

pub(crate) fn find(
    headers: &HeaderMap,
    max_len: usize,
    dpop: bool,
) -> Result<Option<Found>, Rejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Reason::TwoAuthorizationHeaders.into());
    }
    let bytes = value.as_bytes();
    // The everyday form first, `Bearer` in any case, one space and the token, in one
    // comparison of eight bytes: the six letters lower-cased (`| 0x20` makes a letter of no
    // other byte), the space exact, and the token's first byte anything but a space.
    const LOWER: u64 = u64::from_le_bytes([0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0, 0]);
    const SEVEN: u64 = u64::from_le_bytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
    if let Some(head) = bytes.first_chunk::<8>() {
        if (u64::from_le_bytes(*head) | LOWER) & SEVEN == u64::from_le_bytes(*b"bearer \0")
            && head[7] != b' '
        {
            return found(value, 7, max_len, Via::Header);
        }
    }
    // The scheme, case-insensitively; another scheme is not ours to judge.
    let scheme_is =
        |name: &[u8]| bytes.len() >= name.len() && bytes[..name.len()].eq_ignore_ascii_case(name);
    let (scheme, via): (&[u8], _) = if scheme_is(b"bearer") {
        (b"bearer", Via::Header)
    } else if dpop && scheme_is(b"dpop") {
        (b"dpop", Via::Dpop)
    } else {
        return Ok(None);
    };
    let empty = || {
        Rejection::fixed(if via == Via::Dpop {
            Reason::DpopWithoutToken
        } else {
            Reason::BearerWithoutToken
        })
    };
    let rest = &bytes[scheme.len()..];
    if rest.is_empty() {
        return Err(empty());
    }
    if rest[0] != b' ' {
        // `BearerX …` is another scheme (the name goes on: a `tchar`, RFC 9110 §5.6.2);
        // anything else after our scheme's name (`Bearer<TAB>…`, `Bearer,…`) is our scheme
        // with malformed credentials, not the absence of them.
        let tchar = rest[0].is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&rest[0]);
        return if tchar {
            Ok(None)
        } else {
            Err(Reason::MalformedAuthorization.into())
        };
    }
    let start = scheme.len() + rest.iter().take_while(|&&b| b == b' ').count();
    let token = &bytes[start..];
    if token.is_empty() {
        return Err(empty());
    }
    found(value, start, max_len, via)
}

/// The token `value[start..]` (not empty), within the length cap.
#[inline(always)]
fn found(
    value: &http::HeaderValue,
    start: usize,
    max_len: usize,
    via: Via,
) -> Result<Option<Found>, Rejection> {
    length::check(value.len() - start, max_len)?;
    // Not checked as text here: a token that fails validation is checked against the
    // `b64token` grammar then (400 or 401), and one that passes is three base64url segments.
    let mut t = BearerToken::from_header(value.clone(), start);
    t.dpop = via == Via::Dpop;
    Ok(Some(Found {
        token: t,
        via,
        vary: None,
    }))
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderValue, AUTHORIZATION};
    use http::HeaderMap;
    use proptest::prelude::*;

    use super::find;
    use crate::source::Via;

    /// RFC 6750 §2.1 read plainly, byte by byte: what `find` must conclude from one header.
    /// `Err(())` for our scheme with no or malformed credentials.
    fn model(value: &[u8], dpop: bool, max_len: usize) -> Result<Option<(Vec<u8>, Via, bool)>, ()> {
        let is = |name: &[u8]| {
            value.len() >= name.len() && value[..name.len()].eq_ignore_ascii_case(name)
        };
        let (n, via) = if is(b"bearer") {
            (6, Via::Header)
        } else if dpop && is(b"dpop") {
            (4, Via::Dpop)
        } else {
            return Ok(None);
        };
        let rest = &value[n..];
        match rest.first() {
            None => Err(()),
            Some(b' ') => {
                let token: Vec<u8> = rest.iter().copied().skip_while(|&b| b == b' ').collect();
                if token.is_empty() || token.len() > max_len {
                    Err(())
                } else {
                    Ok(Some((token, via, via == Via::Dpop)))
                }
            }
            Some(&c) if c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c) => Ok(None),
            Some(_) => Err(()),
        }
    }

    /// What `find` concludes, as the model says it.
    fn reading(
        headers: &HeaderMap,
        dpop: bool,
        max_len: usize,
    ) -> Result<Option<(Vec<u8>, Via, bool)>, ()> {
        find(headers, max_len, dpop)
            .map(|f| f.map(|f| (f.token.as_bytes().to_vec(), f.via, f.token.is_dpop())))
            .map_err(|_| ())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The eight-byte shortcut for `Bearer <token>` concludes what the general reading
        /// does, whatever the first bytes: the letters in any case, the bytes that `| 0x20`
        /// turns into a letter's lower case only if they are its upper case, spaces, tabs.
        #[test]
        fn the_shortcut_agrees_with_the_rule(
            dpop_scheme in any::<bool>(),
            // Per letter: lower case, upper case, with the top bit set (`| 0x20` leaves it no
            // letter), another letter; mostly the first two.
            cases in prop::collection::vec(prop::sample::select(vec![0, 0, 0, 1, 1, 1, 2, 3]), 6),
            separator in prop::collection::vec(prop::sample::select(vec![b' ', b' ', b'\t', b'x', b'@']), 0..4),
            tail in "[A-Za-z0-9 ._~+/=-]{0,6}",
            dpop in any::<bool>(),
        ) {
            let scheme: &[u8] = if dpop_scheme { b"dpop" } else { b"bearer" };
            let mut value: Vec<u8> = scheme
                .iter()
                .zip(&cases)
                .map(|(&c, &case)| match case {
                    0 => c,
                    1 => c.to_ascii_uppercase(),
                    2 => c | 0x80,
                    _ => c ^ 0x01,
                })
                .collect();
            value.extend_from_slice(&separator);
            value.extend_from_slice(tail.as_bytes());
            let Ok(header) = HeaderValue::from_bytes(&value) else {
                return Ok(());
            };
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, header);
            let got = reading(&headers, dpop, 100);
            prop_assert_eq!(got, model(&value, dpop, 100), "{:?}", String::from_utf8_lossy(&value));
        }
    }

    /// Every byte at every place of the eight the shortcut reads, and the one after them.
    #[test]
    fn the_shortcut_agrees_with_the_rule_byte_by_byte() {
        for base in [&b"Bearer xyz"[..], b"bearer  yz", b"DPoP xyzab"] {
            for at in 0..9 {
                for byte in 0..=255u8 {
                    let mut value = base.to_vec();
                    value[at] = byte;
                    let Ok(header) = HeaderValue::from_bytes(&value) else {
                        continue;
                    };
                    let mut headers = HeaderMap::new();
                    headers.insert(AUTHORIZATION, header);
                    // The length cap at its edge too: three and two bytes of token.
                    for (dpop, max_len) in [(false, 100), (true, 100), (false, 3), (false, 2)] {
                        let got = reading(&headers, dpop, max_len);
                        assert_eq!(
                            got,
                            model(&value, dpop, max_len),
                            "{value:?}, dpop {dpop}, cap {max_len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_shortcut_takes_the_everyday_header_and_no_other() {
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bEARER x", Some("x")),
            ("Bearer  two", Some("two")),
            ("Bearer\tabc", None),
            ("Bearerabcd", None),
            ("Bearer", None),
            ("Bearex abc", None),
            ("Bearer a", Some("a")),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
            let got = find(&headers, 100, false)
                .ok()
                .flatten()
                .map(|f| f.token.as_str().to_owned());
            assert_eq!(got.as_deref(), token, "{value:?}");
        }
    }
}
