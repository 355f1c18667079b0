//! RFC 6750 §2.1's `b64token`, and form-urlencoded escapes (§2.2, §2.3).

/// The characters of a `b64token` before its `=` padding: 1 for
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, else 0.
static TOKEN_CHAR: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/') {
            t[c] = 1;
        }
        c += 1;
    }
    t
};

/// Whether `s` matches RFC 6750's `b64token`.
///
/// Every rejected token is checked (a token that is not one is `400`, not `401`), so this
/// runs on the path a flood of bad tokens takes. A JWS (three base64url segments) is
/// recognised with the SIMD base64 check; anything else is read through a table, eight
/// characters per test.
pub(crate) fn is_b64token(s: &[u8]) -> bool {
    jws_shaped(s) || by_table(s)
}

/// `s` is three segments of the base64url alphabet, joined by dots: a `b64token` (the
/// alphabet and `.` are token characters). `false` says nothing either way.
fn jws_shaped(b: &[u8]) -> bool {
    let (Some(first), Some(last)) = (memchr::memchr(b'.', b), memchr::memrchr(b'.', b)) else {
        return false;
    };
    let base64url = |segment: &[u8]| base64_simd::URL_SAFE_NO_PAD.check(segment).is_ok();
    first < last
        && base64url(&b[..first])
        && base64url(&b[first + 1..last])
        && base64url(&b[last + 1..])
}

fn by_table(b: &[u8]) -> bool {
    let mut body_end = 0;
    for chunk in b.chunks_exact(8) {
        let all = chunk
            .iter()
            .fold(1u8, |all, &c| all & TOKEN_CHAR[usize::from(c)]);
        if all == 0 {
            break;
        }
        body_end += 8;
    }
    body_end += b[body_end..]
        .iter()
        .position(|&c| TOKEN_CHAR[usize::from(c)] == 0)
        .unwrap_or(b.len() - body_end);
    body_end > 0 && b[body_end..].iter().all(|&c| c == b'=')
}

/// Decode `application/x-www-form-urlencoded` escapes (`+` is a space, `%XX` a byte).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                // Two hex digits exactly (`from_str_radix` alone would take `+1`).
                let hex = b.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::is_b64token;

    /// The grammar as written in RFC 6750 §2.1, one character at a time.
    fn reference(s: &str) -> bool {
        let b = s.as_bytes();
        let token = |c: u8| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c);
        let body = b.iter().take_while(|&&c| token(c)).count();
        body > 0 && b[body..].iter().all(|&c| c == b'=')
    }

    #[test]
    fn agrees_with_the_grammar_at_every_position() {
        // Each odd character at each position of tokens around the chunk size, and padding.
        let odd = [" ", "=", "==", "\"", "%", "é", "\u{7f}", ",", "\t", "a="];
        for len in 0..=26 {
            let base: String = "aZ09-._~+/".chars().cycle().take(len).collect();
            assert_eq!(is_b64token(base.as_bytes()), reference(&base), "{base:?}");
            for at in 0..=len {
                for o in odd {
                    let s = format!("{}{o}{}", &base[..at], &base[at..]);
                    assert_eq!(is_b64token(s.as_bytes()), reference(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn jws_shapes_and_near_misses() {
        for s in [
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
            "a.b.c",
            "..",
            "a..",
            ".a.",
            "a.b.c.d",
            "a.b",
            "a=.b.c",
            "a.b.c=",
            "a.b.c==",
            "a.b c.d",
            "a.b.c+/~",
            "abcde.fghij.klmno",
            "a.b.c\u{e9}",
        ] {
            assert_eq!(is_b64token(s.as_bytes()), reference(s), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_grammar(s in "[a-zA-Z0-9._~+/=\\- %\"]{0,40}") {
            proptest::prop_assert_eq!(is_b64token(s.as_bytes()), reference(&s));
        }

        #[test]
        fn agrees_with_the_grammar_on_jws_shapes(s in "[a-zA-Z0-9_=.\\-]{0,12}\\.[a-zA-Z0-9_=~.\\-]{0,30}\\.[a-zA-Z0-9_=+/\\-]{0,12}") {
            proptest::prop_assert_eq!(is_b64token(s.as_bytes()), reference(&s));
        }
    }
}
