//! The index of a grant's scopes.

use std::sync::Arc;

use super::hierarchy::CompiledHierarchy;
use super::token::is_valid_scope;

/// The index of a grant's scopes: spans (as they came up to [`INLINE`] of them, sorted and
/// deduplicated beyond: see [`Spans::finish`]; listed through [`Spans::ordered`]) into the claims JSON
/// (when every scope string there was free of escapes, as they almost always are) or into a
/// text of their own.
#[derive(Clone)]
pub(crate) struct ScopeIndex {
    pub(crate) own: Option<Box<str>>,
    pub(crate) spans: Spans,
    pub(crate) hierarchy: Option<Arc<CompiledHierarchy>>,
}

/// Up to [`INLINE`] spans without an allocation, more on the heap.
#[derive(Default, Clone)]
pub(crate) struct Spans {
    inline: [(u32, u32); INLINE],
    len: usize,
    heap: Vec<(u32, u32)>,
}

const INLINE: usize = 8;

/// The text `span` covers in `text` (empty if it lies outside, which it never does). Byte
/// order is `str` order, and spans always lie on character boundaries; slices compare their
/// lengths first.
#[inline]
fn covered(text: &str, span: (u32, u32)) -> &[u8] {
    text.as_bytes()
        .get(span.0 as usize..span.1 as usize)
        .unwrap_or_default()
}

impl Spans {
    pub(crate) fn push(&mut self, start: usize, end: usize) {
        // Offsets fit in u32: tokens are capped far below 4 GiB; a longer text is dropped.
        let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
            return;
        };
        if self.heap.is_empty() && self.len < INLINE {
            self.inline[self.len] = (start, end);
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.reserve(INLINE * 2);
                self.heap.extend_from_slice(&self.inline[..self.len]);
            }
            self.heap.push((start, end));
        }
    }

    pub(crate) fn as_slice(&self) -> &[(u32, u32)] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }

    /// Past [`INLINE`] spans: sort them by the covered text, for a binary search, and drop
    /// duplicates. A handful stays as it came, duplicates included: lengths tell them apart
    /// faster than sorting would, and [`Spans::ordered`] sorts and deduplicates a copy for
    /// the few callers that list them.
    pub(crate) fn finish(&mut self, text: &str) {
        if self.heap.is_empty() {
            return;
        }
        let at = |span: &(u32, u32)| covered(text, *span);
        self.heap.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        self.heap.dedup_by(|a, b| at(a) == at(b));
    }

    /// No spans.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }

    /// How many distinct texts the spans cover: up to [`INLINE`] spans, each compared with
    /// those before it (lengths first), without sorting a copy.
    pub(crate) fn distinct(&self, text: &str) -> usize {
        if self.is_sorted() {
            return self.heap.len();
        }
        let at = |span: &(u32, u32)| covered(text, *span);
        let spans = self.as_slice();
        (0..spans.len())
            .filter(|&i| {
                let s = spans[i];
                !spans[..i].iter().any(|k| at(k) == at(&s))
            })
            .count()
    }

    /// Whether the spans are sorted by the text they cover, without duplicates (past
    /// [`INLINE`] of them).
    pub(crate) fn is_sorted(&self) -> bool {
        !self.heap.is_empty()
    }

    /// The distinct spans in the order of the text they cover.
    pub(crate) fn ordered(&self, text: &str) -> Ordered<'_> {
        if self.is_sorted() {
            return Ordered::Sorted(self.heap.iter());
        }
        let at = |span: &(u32, u32)| covered(text, *span);
        let mut spans = self.inline;
        let sorted = &mut spans[..self.len];
        sorted.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        let mut len = 0;
        for i in 0..sorted.len() {
            if len == 0 || at(&sorted[len - 1]) != at(&sorted[i]) {
                sorted[len] = sorted[i];
                len += 1;
            }
        }
        Ordered::Inline {
            spans,
            next: 0,
            len,
        }
    }
}

/// The iterator of [`Spans::ordered`].
pub(crate) enum Ordered<'a> {
    Sorted(std::slice::Iter<'a, (u32, u32)>),
    Inline {
        spans: [(u32, u32); INLINE],
        next: usize,
        len: usize,
    },
}

impl Iterator for Ordered<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        match self {
            Ordered::Sorted(spans) => spans.next().copied(),
            Ordered::Inline { spans, next, len } => {
                let span = spans[..*len].get(*next).copied()?;
                *next += 1;
                Some(span)
            }
        }
    }
}

impl ScopeIndex {
    /// Index the valid, non-empty items of a delimited string (its own text).
    pub(crate) fn owned(
        text: String,
        delimiter: char,
        hierarchy: Option<Arc<CompiledHierarchy>>,
    ) -> Self {
        let mut spans = Spans::default();
        split_into(&mut spans, &text, 0, delimiter);
        spans.finish(&text);
        Self {
            own: Some(text.into_boxed_str()),
            spans,
            hierarchy,
        }
    }

    /// No scopes.
    pub(crate) fn empty(hierarchy: Option<Arc<CompiledHierarchy>>) -> Self {
        Self {
            own: None,
            spans: Spans::default(),
            hierarchy,
        }
    }

    pub(crate) fn text<'a>(&'a self, json: &'a str) -> &'a str {
        self.own.as_deref().unwrap_or(json)
    }
}

/// Push the spans of the valid items of `text[start..]`'s delimited pieces, as offsets into
/// the text `text` is part of (`base` is where it starts there).
pub(crate) fn split_into(spans: &mut Spans, text: &str, base: usize, delimiter: char) {
    if !delimiter.is_ascii() {
        let mut start = base;
        for piece in text.split(delimiter) {
            let end = start + piece.len();
            if is_valid_scope(piece) {
                spans.push(start, end);
            }
            start = end + delimiter.len_utf8();
        }
        return;
    }
    // An ASCII delimiter (a space, a comma): eight bytes at a time, a word that holds
    // neither the delimiter nor a byte that is no scope character is passed whole; the bytes
    // flagged are visited one by one. A byte of a multi-byte character is never ASCII, so it
    // never splits, and it is no scope character.
    let d = delimiter as u8;
    let b = text.as_bytes();
    let mut pieces = Pieces {
        spans,
        base,
        d,
        start: 0,
        valid: true,
    };
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        pieces.visit(b, at, flagged(u64::from_le_bytes(word), d));
        at += 8;
    }
    let rest = chunks.remainder().len();
    if rest > 0 {
        // The last eight bytes, shifted down past those already seen (zeros come in at the
        // top, and are flagged: they are masked off).
        let word = match b.last_chunk::<8>() {
            Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - rest)),
            None => {
                let mut word = [0; 8];
                word[..rest].copy_from_slice(b);
                u64::from_le_bytes(word)
            }
        };
        let flags = flagged(word, d) & ((1u64 << (8 * rest)) - 1);
        pieces.visit(b, at, flags);
    }
    if pieces.valid && b.len() > pieces.start {
        pieces.spans.push(base + pieces.start, base + b.len());
    }
}

/// [`split_into`]'s state: where the current piece starts, and whether its bytes so far are
/// scope characters.
struct Pieces<'a> {
    spans: &'a mut Spans,
    base: usize,
    d: u8,
    start: usize,
    valid: bool,
}

impl Pieces<'_> {
    /// Visit the flagged bytes of the word at `at` (the delimiter ends a piece; any other
    /// flagged byte spoils the piece it is in).
    #[inline(always)]
    fn visit(&mut self, b: &[u8], at: usize, mut flags: u64) {
        while flags != 0 {
            let i = at + (flags.trailing_zeros() / 8) as usize;
            flags &= flags - 1;
            if b.get(i) == Some(&self.d) {
                if self.valid && i > self.start {
                    self.spans.push(self.base + self.start, self.base + i);
                }
                self.start = i + 1;
                self.valid = true;
            } else {
                self.valid = false;
            }
        }
    }
}

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const LOW7: u64 = ONES * 0x7f;
const HIGHS: u64 = ONES * 0x80;

/// The high bit of each byte of the little-endian word `x` that is `d` or no scope character
/// (below `!`, `"`, `\\`, or from DEL up), and of no other byte. No sum below carries out
/// of its byte, so unlike the usual zero-byte test nothing is flagged falsely.
#[inline(always)]
fn flagged(x: u64, d: u8) -> u64 {
    let low = x & LOW7;
    // A zero byte: its low seven bits are zero (no high bit from the sum) and so is its top.
    let zero = |z: u64| !(((z & LOW7) + LOW7) | z) & HIGHS;
    let below_bang = !(low + ONES * (0x80 - 0x21)) & !x & HIGHS;
    let del_or_above = ((low + ONES) | x) & HIGHS;
    below_bang
        | del_or_above
        | zero(x ^ (ONES * 0x22))
        | zero(x ^ (ONES * 0x5c))
        | zero(x ^ (ONES * u64::from(d)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{flagged, split_into, Spans};
    use crate::scope::token::is_valid_scope;

    /// The pieces `split_into` keeps, as text.
    fn kept(text: &str, delimiter: char) -> Vec<String> {
        let mut spans = Spans::default();
        split_into(&mut spans, text, 3, delimiter);
        spans
            .as_slice()
            .iter()
            .map(|&(s, e)| text[s as usize - 3..e as usize - 3].to_owned())
            .collect()
    }

    #[test]
    fn splits_as_str_split_does() {
        for text in [
            "",
            " ",
            "a",
            "users:read users:write profile",
            "  a  b ",
            "a\"b c",
            "a\\b c",
            "caf\u{e9} tea",
            "x,y z",
            "a\u{3000}b",
            "\u{7f} ok",
        ] {
            for delimiter in [' ', ',', '\u{3000}', '\u{e9}'] {
                let expected: Vec<String> = text
                    .split(delimiter)
                    .filter(|p| is_valid_scope(p))
                    .map(str::to_owned)
                    .collect();
                assert_eq!(kept(text, delimiter), expected, "{text:?} by {delimiter:?}");
            }
        }
    }

    /// A scope character (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
    fn scope_char(c: u8) -> bool {
        c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c)
    }

    #[test]
    fn flags_exactly_the_delimiter_and_the_bytes_no_scope_has() {
        // Delimiters among the scope characters and among the bytes flagged anyway.
        for d in [b' ', b',', b'a', b'"', b'\\', 0x7f] {
            for c in 0..=255u8 {
                for pos in 0..8 {
                    // Every neighbour, flagged or not, leaves this byte's flag alone.
                    for fill in [b'a', 0x00, 0x20, 0x7f, 0xff] {
                        let mut word = [fill; 8];
                        word[pos] = c;
                        let flags = flagged(u64::from_le_bytes(word), d);
                        let expect = c == d || !scope_char(c);
                        assert_eq!(
                            flags & (0x80 << (8 * pos)) != 0,
                            expect,
                            "byte {c:#x} at {pos} among {fill:#x}, delimiter {d:#x}"
                        );
                        assert_eq!(flags & !(0x8080_8080_8080_8080), 0);
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the text (any length, so words and tails; bytes below `!`, quotes,
        /// backslashes, DEL and multi-byte characters among scope characters), the pieces
        /// kept are `str::split`'s valid ones, in order.
        #[test]
        fn split_matches_str_split(
            text in "[a-c ,\\x00-\\x22\\x5c\\x7f\\u{e9}\\u{3000}]{0,40}",
            delimiter in prop::sample::select(vec![' ', ',', 'a', '\u{e9}']),
        ) {
            let expected: Vec<String> = text
                .split(delimiter)
                .filter(|p| is_valid_scope(p))
                .map(str::to_owned)
                .collect();
            prop_assert_eq!(kept(&text, delimiter), expected);
        }

        /// Deduplicated, and in text order through `ordered`, below and above the inline
        /// count.
        #[test]
        fn ordered_is_sorted_and_distinct(items in prop::collection::vec("[a-d]{1,2}", 0..20)) {
            let text = items.join(" ");
            let mut spans = Spans::default();
            split_into(&mut spans, &text, 0, ' ');
            spans.finish(&text);
            prop_assert_eq!(spans.distinct(&text), spans.ordered(&text).count());
            let got: Vec<&str> = spans
                .ordered(&text)
                .map(|(s, e)| &text[s as usize..e as usize])
                .collect();
            let mut expected: Vec<&str> = items.iter().map(String::as_str).collect();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(got, expected);
        }
    }
}
