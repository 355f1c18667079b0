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
    let mut start = base;
    for piece in text.split(delimiter) {
        let end = start + piece.len();
        if is_valid_scope(piece) {
            spans.push(start, end);
        }
        start = end + delimiter.len_utf8();
    }
}
