//! [`ScopeHierarchy`]: opt-in implication between scopes.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::token::is_valid_scope;
use crate::error::ConfigError;

/// Opt-in implication between scopes. Without one, matching is exact.
///
/// ```
/// use tower_bearer::scope::ScopeHierarchy;
///
/// let hierarchy = ScopeHierarchy::new()
///     .implies("users:write", ["users:read"])
///     .implies("users:admin", ["users:write"]) // transitive: admin → write → read
///     .superuser("admin")                      // grants every scope
///     .wildcards();                            // `users:*` grants `users:read`
/// # let _ = hierarchy;
/// ```
#[derive(Clone, Default)]
pub struct ScopeHierarchy {
    edges: Vec<(String, Vec<String>)>,
    superusers: Vec<String>,
    wildcards: bool,
    error: Option<String>,
}

impl fmt::Debug for ScopeHierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeHierarchy")
            .field("implies", &self.edges)
            .field("superusers", &self.superusers)
            .field("wildcards", &self.wildcards)
            .finish()
    }
}

impl ScopeHierarchy {
    /// No implication yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(&mut self, s: &str) {
        if !is_valid_scope(s) && self.error.is_none() {
            self.error = Some(s.to_owned());
        }
    }

    /// Granting `broader` also grants each of `narrower` (transitively).
    #[must_use]
    pub fn implies<I, S>(mut self, broader: &str, narrower: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.check(broader);
        let narrower: Vec<String> = narrower.into_iter().map(Into::into).collect();
        for n in &narrower {
            self.check(n);
        }
        self.edges.push((broader.to_owned(), narrower));
        self
    }

    /// Granting `scope` grants every scope.
    #[must_use]
    pub fn superuser(mut self, scope: &str) -> Self {
        self.check(scope);
        self.superusers.push(scope.to_owned());
        self
    }

    /// A granted scope ending in `*` grants every scope that starts with what precedes the
    /// `*`: `users:*` grants `users:read`; a bare `*` grants everything.
    #[must_use]
    pub fn wildcards(mut self) -> Self {
        self.wildcards = true;
        self
    }

    pub(crate) fn compile(&self) -> Result<CompiledHierarchy, ConfigError> {
        if let Some(bad) = &self.error {
            return Err(ConfigError::InvalidScope(bad.clone()));
        }
        let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
        for (broad, narrow) in &self.edges {
            direct
                .entry(broad.as_str())
                .or_default()
                .extend(narrow.iter().map(String::as_str));
        }
        // granted_by[n] = every scope whose grant implies n, through any chain.
        let mut granted_by: HashMap<Box<str>, Vec<Box<str>>> = HashMap::new();
        for &start in direct.keys() {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack: Vec<&str> = direct[start].clone();
            while let Some(n) = stack.pop() {
                if n == start || !seen.insert(n) {
                    continue;
                }
                granted_by.entry(n.into()).or_default().push(start.into());
                if let Some(next) = direct.get(n) {
                    stack.extend(next.iter().copied());
                }
            }
        }
        Ok(CompiledHierarchy {
            granted_by,
            superusers: self.superusers.iter().map(|s| s.as_str().into()).collect(),
            wildcards: self.wildcards,
        })
    }
}

#[derive(Debug)]
pub(crate) struct CompiledHierarchy {
    granted_by: HashMap<Box<str>, Vec<Box<str>>>,
    superusers: Vec<Box<str>>,
    wildcards: bool,
}

/// What a hierarchy needs of a grant.
pub(crate) trait Granted {
    /// Exactly this scope was granted.
    fn contains(&self, scope: &str) -> bool;
    /// Every granted scope.
    fn each(&self) -> impl Iterator<Item = &str>;
}

impl CompiledHierarchy {
    pub(crate) fn grants(&self, granted: &impl Granted, scope: &str) -> bool {
        if self.superusers.iter().any(|s| granted.contains(s)) {
            return true;
        }
        if let Some(granters) = self.granted_by.get(scope) {
            if granters.iter().any(|g| granted.contains(g)) {
                return true;
            }
        }
        if self.wildcards {
            return granted.each().any(|g| {
                g.strip_suffix('*')
                    .is_some_and(|prefix| scope.starts_with(prefix))
            });
        }
        false
    }
}
