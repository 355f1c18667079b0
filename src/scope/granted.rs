//! [`Scopes`]: the scopes a token grants.

use std::fmt;
use std::sync::Arc;

use super::hierarchy::{CompiledHierarchy, Granted};
use super::index::ScopeIndex;
use super::requirement::ScopeRequirement;
use super::token::is_valid_scope;
use crate::claims::grant::Grant;
use crate::claims::registered::Registered;

/// The scopes a token grants. Cheap to clone; a lookup compares lengths among a handful of
/// scopes, and is a binary search among more.
///
/// [`Scopes::contains`] is exact; [`Scopes::grants`] also applies the validator's
/// [`ScopeHierarchy`](crate::ScopeHierarchy), if one is configured.
#[derive(Clone)]
pub struct Scopes {
    /// Shared with the token's [`TokenClaims`]: one allocation holds both.
    inner: Arc<Grant>,
}

impl Scopes {
    pub(crate) fn from_grant(inner: Arc<Grant>) -> Self {
        Self { inner }
    }

    pub(crate) fn grant(&self) -> &Arc<Grant> {
        &self.inner
    }

    pub(crate) fn from_values<I, S>(values: I, hierarchy: Option<Arc<CompiledHierarchy>>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut text = String::new();
        for v in values {
            let v = v.as_ref();
            if is_valid_scope(v) {
                text.push_str(v);
                text.push(' ');
            }
        }
        Self::from_grant(Arc::new(Grant {
            registered: Registered::default(),
            json: String::new(),
            scopes: ScopeIndex::owned(text, ' ', hierarchy),
        }))
    }

    /// A set of scopes with exact matching, e.g. for tests.
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::from_values(values, None)
    }

    fn spans(&self) -> &[(u32, u32)] {
        self.inner.scopes.spans.as_slice()
    }

    fn text(&self) -> &str {
        self.inner.scopes.text(&self.inner.json)
    }

    /// Whether the token was granted exactly this scope.
    pub fn contains(&self, scope: &str) -> bool {
        // Byte order is `str` order; spans always lie on character boundaries.
        let text = self.text().as_bytes();
        let scope = scope.as_bytes();
        let index = &self.inner.scopes.spans;
        let spans = index.as_slice();
        if !index.is_sorted() {
            // A handful of scopes: their lengths tell most apart without reading a byte.
            return spans
                .iter()
                .any(|&(start, end)| text.get(start as usize..end as usize) == Some(scope));
        }
        spans
            .binary_search_by(|&(start, end)| {
                text.get(start as usize..end as usize)
                    .unwrap_or_default()
                    .cmp(scope)
            })
            .is_ok()
    }

    /// Whether the grant covers `scope`: exactly, or through the configured hierarchy.
    #[inline]
    pub fn grants(&self, scope: &str) -> bool {
        if self.contains(scope) {
            return true;
        }
        match &self.inner.scopes.hierarchy {
            Some(h) => h.grants(self, scope),
            None => false,
        }
    }

    /// Whether these scopes satisfy a requirement.
    pub fn satisfies(&self, requirement: &ScopeRequirement) -> bool {
        match requirement {
            ScopeRequirement::Scope(s) => self.grants(s.as_str()),
            ScopeRequirement::All(v) => v.iter().all(|r| self.satisfies_item(r)),
            ScopeRequirement::Any(v) => v.iter().any(|r| self.satisfies_item(r)),
        }
    }

    /// An item of a list: a scope (nearly always) without a call, a nested list with one.
    #[inline(always)]
    fn satisfies_item(&self, requirement: &ScopeRequirement) -> bool {
        match requirement {
            ScopeRequirement::Scope(s) => self.grants(s.as_str()),
            nested => self.satisfies(nested),
        }
    }

    /// The granted scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let text = self.text();
        self.inner
            .scopes
            .spans
            .ordered(text)
            .map(move |(start, end)| text.get(start as usize..end as usize).unwrap_or_default())
    }

    /// The granted scopes in no particular order.
    fn unordered(&self) -> impl Iterator<Item = &str> {
        let text = self.text();
        self.spans()
            .iter()
            .map(move |&(start, end)| text.get(start as usize..end as usize).unwrap_or_default())
    }

    /// How many distinct scopes were granted.
    pub fn len(&self) -> usize {
        self.inner.scopes.spans.distinct(self.text())
    }

    /// Whether no scope was granted.
    pub fn is_empty(&self) -> bool {
        self.spans().is_empty()
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl PartialEq for Scopes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Granted for Scopes {
    fn contains(&self, scope: &str) -> bool {
        Scopes::contains(self, scope)
    }

    fn each(&self) -> impl Iterator<Item = &str> {
        self.unordered()
    }
}
