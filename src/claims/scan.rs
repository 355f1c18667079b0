//! The claims fast path: everyday claims read without serde.

use super::registered::Registered;
use super::text::{Aud, StringOrList, Text};

/// The claims of an everyday access token, read without serde: a flat JSON object whose
/// registered members are plain strings (no escapes), arrays of them, or small non-negative
/// integers, and whose other members are any valid JSON without string escapes. `None` for
/// anything else, including every input that is not valid JSON; the caller then parses with
/// serde_json, which gives the answer (and the error) for those. Where this returns
/// `Some`, it is exactly what serde_json gives (a differential fuzz target checks this).
pub(crate) fn parse_fast(json: &str) -> Option<Registered> {
    let mut r = Registered::default();
    parse_fast_into(json, &mut r).map(|()| r)
}

/// [`parse_fast`] into `r`, which must be [`Registered::default`]: the claims are not moved
/// on their way out. After `None`, `r` holds whatever was read and must be replaced.
pub(crate) fn parse_fast_into(json: &str, r: &mut Registered) -> Option<()> {
    let mut p = Scan {
        b: json.as_bytes(),
        i: 0,
    };
    // The (start, len) of the unknown member names seen, to decline on a duplicate (the
    // serde path refuses it); declining too past this many.
    let mut unknown = [(0u32, 0u32); 32];
    let mut unknown_len = 0;
    p.ws();
    p.eat(b'{')?;
    p.ws();
    if p.peek()? == b'}' {
        p.i += 1;
    } else {
        loop {
            let (start, len) = p.plain_string()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            let key = &p.b[start as usize..(start + len) as usize];
            match key {
                b"iss" => set(&mut r.iss, p.text()?)?,
                b"sub" => set(&mut r.sub, p.text()?)?,
                b"jti" => set(&mut r.jti, p.text()?)?,
                b"client_id" => set(&mut r.client_id, p.text()?)?,
                b"azp" => set(&mut r.azp, p.text()?)?,
                b"exp" => set(&mut r.exp, p.small_integer()?)?,
                b"nbf" => set(&mut r.nbf, p.small_integer()?)?,
                b"iat" => set(&mut r.iat, p.small_integer()?)?,
                b"aud" => {
                    let aud = match p.peek()? {
                        b'[' => Aud::Many(p.texts()?),
                        _ => Aud::One(p.text()?),
                    };
                    set(&mut r.aud, aud)?;
                }
                b"scope" | b"scp" => {
                    let v = match p.peek()? {
                        b'[' => StringOrList::List(p.texts()?),
                        _ => StringOrList::String(p.text()?),
                    };
                    set(
                        if key == b"scope" {
                            &mut r.scope
                        } else {
                            &mut r.scp
                        },
                        v,
                    )?;
                }
                // Rare, and checked for more than a string: serde reads these.
                b"cnf" => return None,
                _ => {
                    let seen = unknown.get(..unknown_len)?;
                    if seen.iter().any(|&(s, l)| {
                        l == len && p.b.get(s as usize..(s + l) as usize) == Some(key)
                    }) {
                        return None;
                    }
                    *unknown.get_mut(unknown_len)? = (start, len);
                    unknown_len += 1;
                    p.skip_value(0)?
                }
            }
            p.ws();
            match p.peek()? {
                b',' => {
                    p.i += 1;
                    p.ws();
                }
                b'}' => {
                    p.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    p.ws();
    (p.i == p.b.len()).then_some(())
}

/// A registered member seen twice is serde's error to report.
#[inline(always)]
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Bytes that end a plain string: `"`, `\\` and the control characters.
const STRING_END: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first `"`, `\\` or control character in `b`, eight bytes at a time.
///
/// In each little-endian word, the three tests below flag every byte that is a `"`, a `\\` or
/// below 0x20. A byte above a flagged one may be flagged falsely (the borrow of the
/// subtraction runs upwards), one below it never, so the lowest flag is the answer.
fn string_end(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // Flags (at least) the lowest zero byte of `x`, and nothing below it.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = 0;
    for chunk in b.chunks_exact(8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let quote = zero(v ^ (ONES * u64::from(b'"')));
        let backslash = zero(v ^ (ONES * u64::from(b'\\')));
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
        let found = quote | backslash | below_space;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|c| STRING_END[usize::from(*c)])
        .map(|i| at + i)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// A string without escapes or control characters: its content's offset and length.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<(u32, u32)> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.b.get(start..)?;
        let end = string_end(rest)?;
        if rest[end] != b'"' {
            return None;
        }
        self.i = start + end + 1;
        Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
    }

    #[inline(always)]
    fn text(&mut self) -> Option<Text> {
        let (start, len) = self.plain_string()?;
        Some(Text::Span(start, len))
    }

    /// `[ string, ... ]`, every item a plain string.
    fn texts(&mut self) -> Option<Vec<Text>> {
        self.eat(b'[')?;
        self.ws();
        let mut out = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(out);
        }
        loop {
            out.push(self.text()?);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// `0` or `[1-9][0-9]{0,14}`: exact in an `f64`, the way serde_json reads it. One pass:
    /// the value is accumulated while the digits are counted (sixteen digits cannot
    /// overflow a `u64`, and more are refused).
    #[inline(always)]
    fn small_integer(&mut self) -> Option<f64> {
        let start = self.i;
        let rest = self.b.get(start..)?;
        let mut v: u64 = 0;
        let mut digits = 0;
        for &c in rest.iter().take(16) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            digits += 1;
        }
        if digits == 0 || digits > 15 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        // A fraction or an exponent: serde's to read.
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i = start + digits;
        Some(v as f64)
    }

    /// Any JSON value, checked for validity but not kept; strings must have no escapes,
    /// nesting is capped.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > 32 {
            return None;
        }
        match self.peek()? {
            b'"' => self.plain_string().map(|_| ()),
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.plain_string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..)?.starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// RFC 8259 `number`.
    fn number(&mut self) -> Option<()> {
        let digits = |s: &mut Self| {
            let n =
                s.b.get(s.i..)
                    .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
            s.i += n;
            n
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::string_end;

    fn naive(b: &[u8]) -> Option<usize> {
        b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    }

    #[test]
    fn string_end_finds_every_byte_at_every_position() {
        // Fillers next to the bytes looked for, so an off-by-one in the word test shows.
        for filler in [b'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xff] {
            for len in 0..48 {
                let plain = vec![filler; len];
                assert_eq!(string_end(&plain), naive(&plain), "{filler:#x} x {len}");
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut b = plain.clone();
                        b[at] = byte;
                        assert_eq!(string_end(&b), naive(&b), "{byte:#x} at {at} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn string_end_reports_the_first_of_several() {
        let mut b = vec![b'x'; 40];
        b[30] = b'"';
        b[20] = 0x01;
        b[25] = b'\\';
        assert_eq!(string_end(&b), Some(20));
        b[17] = b'\\';
        assert_eq!(string_end(&b), Some(17));
    }
}

#[cfg(test)]
mod integers {
    /// Integers at the edges of what the scanner reads itself: it agrees with serde_json on
    /// each, or declines.
    #[test]
    fn time_claims_agree_with_serde() {
        for n in [
            "0",
            "00",
            "01",
            "1",
            "9",
            "10",
            "1765000000",
            "99999999999999",
            "100000000000000",
            "999999999999999",
            "1000000000000000",
            "9999999999999999",
            "99999999999999999999",
            "1.5",
            "1e3",
            "1E3",
            "-1",
            "12a",
            "1 ",
            "",
        ] {
            for claim in ["exp", "nbf", "iat"] {
                let json = format!("{{\"{claim}\":{n}}}");
                assert_eq!(
                    crate::__fuzz::claims_fast_path_agrees(&json),
                    Ok(()),
                    "{json}"
                );
            }
        }
        assert!(crate::__fuzz::claims_fast_path_answers(
            r#"{"exp":999999999999999}"#
        ));
    }
}
