//! RFC 6750 §2.1's `b64token`, and form-urlencoded escapes (§2.2, §2.3).

/// Whether `s` matches RFC 6750's `b64token`.
pub(crate) fn is_b64token(s: &str) -> bool {
    let b = s.as_bytes();
    let body_end = b
        .iter()
        .position(|&c| {
            !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
        })
        .unwrap_or(b.len());
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
