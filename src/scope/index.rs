//! The index of a grant's scopes.

use std::sync::Arc;

use super::hierarchy::CompiledHierarchy;
use super::token::is_valid_scope;

/// The index of a grant's scopes: spans, sorted by the text they cover, into the claims JSON
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

    /// Sort by the covered text and drop duplicates.
    pub(crate) fn finish(&mut self, text: &str) {
        // Byte order is `str` order, and spans always lie on character boundaries.
        let text = text.as_bytes();
        let at = |span: &(u32, u32)| {
            text.get(span.0 as usize..span.1 as usize)
                .unwrap_or_default()
        };
        if self.heap.is_empty() {
            let spans = &mut self.inline[..self.len];
            spans.sort_unstable_by(|a, b| at(a).cmp(at(b)));
            let mut kept = 0;
            for i in 0..spans.len() {
                if kept == 0 || at(&spans[kept - 1]) != at(&spans[i]) {
                    spans[kept] = spans[i];
                    kept += 1;
                }
            }
            self.len = kept;
        } else {
            self.heap.sort_unstable_by(|a, b| at(a).cmp(at(b)));
            self.heap.dedup_by(|a, b| at(a) == at(b));
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
    // An ASCII delimiter (a space, a comma): one pass over the bytes, splitting and checking
    // each piece's characters at once. A byte of a multi-byte character is never ASCII, so
    // it never splits, and it is no scope character.
    let d = delimiter as u8;
    let b = text.as_bytes();
    let mut start = 0;
    let mut valid = true;
    for (i, &c) in b.iter().enumerate() {
        if c == d {
            if valid && i > start {
                spans.push(base + start, base + i);
            }
            start = i + 1;
            valid = true;
        } else {
            valid &= SCOPE_CHAR[usize::from(c)];
        }
    }
    if valid && b.len() > start {
        spans.push(base + start, base + b.len());
    }
}

/// The characters of a scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
static SCOPE_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::{split_into, Spans};
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
}
