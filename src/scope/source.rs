//! [`ScopeClaims`]: where granted scopes are read from.

use std::fmt;
use std::sync::Arc;

use super::granted::Scopes;
use super::hierarchy::CompiledHierarchy;
use super::index::{split_into, ScopeIndex};
use super::token::is_valid_scope;
use crate::claims::registered::Registered;
use crate::claims::text::{StringOrList, Text};
use crate::claims::TokenClaims;

type ScopeMapper = Arc<dyn Fn(&TokenClaims) -> Vec<String> + Send + Sync>;

/// Where granted scopes are read from.
///
/// The default reads the union of `scope` and `scp`, each a space-delimited string or an
/// array of strings.
///
/// ```
/// use tower_bearer::scope::ScopeClaims;
///
/// // Keycloak realm roles.
/// let keycloak = ScopeClaims::path("realm_access.roles");
/// // Cafe24: "mall.read_application,mall.write_application".
/// let cafe24 = ScopeClaims::standard().delimiter(',');
/// // Anything else.
/// let custom = ScopeClaims::custom(|claims| {
///     claims.get::<Vec<String>>("permissions").ok().flatten().unwrap_or_default()
/// });
/// # let _ = (keycloak, cafe24, custom);
/// ```
#[derive(Clone)]
pub struct ScopeClaims {
    source: Source,
    delimiter: char,
}

#[derive(Clone)]
enum Source {
    Standard,
    Paths(Vec<Vec<String>>),
    Custom(ScopeMapper),
}

impl Default for ScopeClaims {
    fn default() -> Self {
        Self::standard()
    }
}

impl fmt::Debug for ScopeClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ScopeClaims");
        match &self.source {
            Source::Standard => d.field("source", &"scope + scp"),
            Source::Paths(p) => d.field("paths", p),
            Source::Custom(_) => d.field("source", &"custom"),
        };
        d.field("delimiter", &self.delimiter).finish()
    }
}

impl ScopeClaims {
    /// `scope` and `scp`, string or array (the default).
    pub fn standard() -> Self {
        Self {
            source: Source::Standard,
            delimiter: ' ',
        }
    }

    /// A claim at a dot-separated path (`realm_access.roles`,
    /// `resource_access.my-api.roles`), string or array. Only the paths named are read:
    /// `resource_access.my-api.roles` never grants another client's roles. For member names
    /// with dots in them, see [`segment_paths`](Self::segment_paths).
    pub fn path(path: &str) -> Self {
        Self::paths([path])
    }

    /// The union of several claim paths.
    pub fn paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            source: Source::Paths(
                paths
                    .into_iter()
                    .map(|p| p.split('.').map(str::to_owned).collect())
                    .collect(),
            ),
            delimiter: ' ',
        }
    }

    /// The union of several claim paths, each given as its list of member names: for names
    /// that contain dots themselves, such as Auth0's namespaced claims.
    ///
    /// ```
    /// use tower_bearer::ScopeClaims;
    ///
    /// let auth0 = ScopeClaims::segment_paths([
    ///     vec!["permissions"],
    ///     vec!["https://example.com/roles"], // one member, dots and all
    /// ]);
    /// # let _ = auth0;
    /// ```
    pub fn segment_paths<P, S>(paths: impl IntoIterator<Item = P>) -> Self
    where
        P: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            source: Source::Paths(
                paths
                    .into_iter()
                    .map(|p| p.into_iter().map(Into::into).collect())
                    .collect(),
            ),
            delimiter: ' ',
        }
    }

    /// Your own mapping from claims to granted scopes.
    pub fn custom<F>(f: F) -> Self
    where
        F: Fn(&TokenClaims) -> Vec<String> + Send + Sync + 'static,
    {
        Self {
            source: Source::Custom(Arc::new(f)),
            delimiter: ' ',
        }
    }

    /// The delimiter of string-valued scope claims (default: space).
    #[must_use]
    pub fn delimiter(mut self, delimiter: char) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The scope index from the registered claims or the raw JSON; `None` for a custom
    /// mapping, which needs the finished [`TokenClaims`] (see [`ScopeClaims::custom_scopes`]).
    /// Standard claims free of escapes are indexed where they sit in `json`, without a copy.
    pub(crate) fn extract(
        &self,
        registered: &Registered,
        json: &str,
        hierarchy: Option<Arc<CompiledHierarchy>>,
    ) -> Option<ScopeIndex> {
        let mut index = ScopeIndex::empty(None);
        self.extract_into(registered, json, hierarchy, &mut index)
            .then_some(index)
    }

    /// [`ScopeClaims::extract`] into `out` (the validator's grant's own index, so that the
    /// index is not moved on its way there), which it replaces; `false` for a custom
    /// mapping, which leaves it alone.
    pub(crate) fn extract_into(
        &self,
        registered: &Registered,
        json: &str,
        hierarchy: Option<Arc<CompiledHierarchy>>,
        out: &mut ScopeIndex,
    ) -> bool {
        let delimiter = self.delimiter;
        let claims = [&registered.scope, &registered.scp];
        let mut text = String::new();
        let mut push = |v: &str| {
            text.push_str(v);
            text.push(delimiter);
        };
        match &self.source {
            Source::Standard => {
                if claims.into_iter().flatten().all(StringOrList::in_json) {
                    out.own = None;
                    out.hierarchy = hierarchy;
                    let spans = &mut out.spans;
                    spans.clear();
                    for claim in claims.into_iter().flatten() {
                        match claim {
                            StringOrList::String(Text::Span(start, len)) => {
                                let (start, len) = (*start as usize, *len as usize);
                                let piece = json.get(start..start + len).unwrap_or_default();
                                split_into(spans, piece, start, delimiter);
                            }
                            StringOrList::List(items) => {
                                for item in items {
                                    if let Text::Span(start, len) = *item {
                                        let (start, end) = (start as usize, (start + len) as usize);
                                        let v = json.get(start..end).unwrap_or_default();
                                        // Array items are exact: one that is invalid, or
                                        // that contains the delimiter, must not turn into
                                        // several scopes.
                                        if is_valid_scope(v) && !v.contains(delimiter) {
                                            spans.push(start, end);
                                        }
                                    }
                                }
                            }
                            StringOrList::String(_) => {}
                        }
                    }
                    spans.finish(json);
                    return true;
                }
                for claim in claims.into_iter().flatten() {
                    match claim {
                        StringOrList::String(t) => push(t.get(json)),
                        StringOrList::List(items) => {
                            for item in items.iter().map(|t| t.get(json)) {
                                if is_valid_scope(item) && !item.contains(delimiter) {
                                    push(item);
                                }
                            }
                        }
                    }
                }
            }
            Source::Paths(paths) => {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
                    for path in paths {
                        let mut at = Some(&value);
                        for seg in path {
                            at = at.and_then(|v| v.get(seg));
                        }
                        match at {
                            Some(serde_json::Value::String(s)) => push(s),
                            Some(serde_json::Value::Array(items)) => {
                                for item in items.iter().filter_map(|i| i.as_str()) {
                                    if is_valid_scope(item) && !item.contains(delimiter) {
                                        push(item);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            Source::Custom(_) => return false,
        }
        *out = ScopeIndex::owned(text, delimiter, hierarchy);
        true
    }

    pub(crate) fn custom_scopes(
        &self,
        claims: &TokenClaims,
        hierarchy: Option<Arc<CompiledHierarchy>>,
    ) -> Scopes {
        match &self.source {
            Source::Custom(f) => Scopes::from_values(f(claims), hierarchy),
            _ => Scopes::from_values(std::iter::empty::<&str>(), hierarchy),
        }
    }
}
