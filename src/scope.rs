//! Scopes: the granted set ([`Scopes`]), what a route needs ([`ScopeRequirement`]), where
//! granted scopes are read from ([`ScopeClaims`]), and opt-in implication ([`ScopeHierarchy`]).
//!
//! Scope tokens are case-sensitive and compared exactly (RFC 6749 §3.3). A granted value with
//! characters outside `%x21 / %x23-5B / %x5D-7E` is dropped: it can never match.
//!
//! ```
//! use tower_bearer::scope::{Scope, ScopeRequirement};
//!
//! const USERS_READ: Scope = Scope::from_static("users:read");
//!
//! let need = ScopeRequirement::all([
//!     ScopeRequirement::from(USERS_READ),
//!     ScopeRequirement::any(["accounts:read", "accounts:write"]),
//! ]);
//! assert_eq!(need.challenge_scopes(), "users:read accounts:read accounts:write");
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use crate::claims::{Grant, Registered, StringOrList, Text};
use crate::error::ConfigError;
use crate::TokenClaims;

/// Whether `s` is a valid RFC 6749 §3.3 scope token.
pub const fn is_valid_scope(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)) {
            return false;
        }
        i += 1;
    }
    true
}

/// One validated scope token.
///
/// ```
/// use tower_bearer::scope::Scope;
/// const USERS_READ: Scope = Scope::from_static("users:read");
/// assert!(Scope::new("has space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Cow<'static, str>);

impl Scope {
    /// A scope from a literal. Invalid scope strings panic; in a `const` this is a compile
    /// error.
    ///
    /// # Panics
    /// If `s` is empty or contains a character outside RFC 6749 §3.3's set.
    pub const fn from_static(s: &'static str) -> Self {
        if !is_valid_scope(s) {
            panic!("invalid scope: a scope is one or more characters from %x21 / %x23-5B / %x5D-7E (no spaces, quotes or backslashes)");
        }
        Self(Cow::Borrowed(s))
    }

    /// A scope from any string.
    ///
    /// # Errors
    /// If `s` is empty or contains a character outside RFC 6749 §3.3's set.
    pub fn new(s: impl Into<String>) -> Result<Self, ConfigError> {
        let s = s.into();
        if is_valid_scope(&s) {
            Ok(Self(Cow::Owned(s)))
        } else {
            Err(ConfigError::InvalidScope(s))
        }
    }

    /// The scope as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The scopes a token grants. Cheap to clone; lookups are a binary search.
///
/// [`Scopes::contains`] is exact; [`Scopes::grants`] also applies the validator's
/// [`ScopeHierarchy`], if one is configured.
#[derive(Clone)]
pub struct Scopes {
    /// Shared with the token's [`TokenClaims`]: one allocation holds both.
    inner: Arc<Grant>,
}

/// The index of a grant's scopes: spans, sorted by the text they cover, into the claims JSON
/// (when every scope string there was free of escapes, as they almost always are) or into a
/// text of their own.
#[derive(Clone)]
pub(crate) struct ScopeIndex {
    own: Option<Box<str>>,
    spans: Spans,
    hierarchy: Option<Arc<CompiledHierarchy>>,
}

/// Up to [`INLINE`] spans without an allocation, more on the heap.
#[derive(Default, Clone)]
struct Spans {
    inline: [(u32, u32); INLINE],
    len: usize,
    heap: Vec<(u32, u32)>,
}

const INLINE: usize = 8;

impl Spans {
    fn push(&mut self, start: usize, end: usize) {
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

    fn as_slice(&self) -> &[(u32, u32)] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }

    /// Sort by the covered text and drop duplicates.
    fn finish(&mut self, text: &str) {
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

    fn text<'a>(&'a self, json: &'a str) -> &'a str {
        self.own.as_deref().unwrap_or(json)
    }
}

/// Push the spans of the valid items of `text[start..]`'s delimited pieces, as offsets into
/// the text `text` is part of (`base` is where it starts there).
fn split_into(spans: &mut Spans, text: &str, base: usize, delimiter: char) {
    let mut start = base;
    for piece in text.split(delimiter) {
        let end = start + piece.len();
        if is_valid_scope(piece) {
            spans.push(start, end);
        }
        start = end + delimiter.len_utf8();
    }
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
        self.spans()
            .binary_search_by(|&(start, end)| {
                text.get(start as usize..end as usize)
                    .unwrap_or_default()
                    .cmp(scope)
            })
            .is_ok()
    }

    /// Whether the grant covers `scope`: exactly, or through the configured hierarchy.
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
            ScopeRequirement::All(v) => v.iter().all(|r| self.satisfies(r)),
            ScopeRequirement::Any(v) => v.iter().any(|r| self.satisfies(r)),
        }
    }

    /// The granted scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let text = self.text();
        self.spans()
            .iter()
            .map(move |&(start, end)| text.get(start as usize..end as usize).unwrap_or_default())
    }

    /// How many distinct scopes were granted.
    pub fn len(&self) -> usize {
        self.spans().len()
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

/// What a route needs: one scope, all of several, any of several, nested.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeRequirement {
    /// This one scope.
    Scope(Scope),
    /// Every one of these.
    All(Vec<ScopeRequirement>),
    /// At least one of these.
    Any(Vec<ScopeRequirement>),
}

/// Anything a requirement can be built from: `&str`, `String`, [`Scope`], or a nested
/// [`ScopeRequirement`].
pub trait IntoRequirement {
    /// Convert, validating scope strings.
    ///
    /// # Errors
    /// If a scope string is invalid or a list is empty.
    fn into_requirement(self) -> Result<ScopeRequirement, ConfigError>;
}

impl IntoRequirement for &str {
    fn into_requirement(self) -> Result<ScopeRequirement, ConfigError> {
        Scope::new(self).map(ScopeRequirement::Scope)
    }
}

impl IntoRequirement for String {
    fn into_requirement(self) -> Result<ScopeRequirement, ConfigError> {
        Scope::new(self).map(ScopeRequirement::Scope)
    }
}

impl IntoRequirement for Scope {
    fn into_requirement(self) -> Result<ScopeRequirement, ConfigError> {
        Ok(ScopeRequirement::Scope(self))
    }
}

impl IntoRequirement for ScopeRequirement {
    fn into_requirement(self) -> Result<ScopeRequirement, ConfigError> {
        Ok(self)
    }
}

impl From<Scope> for ScopeRequirement {
    fn from(s: Scope) -> Self {
        Self::Scope(s)
    }
}

fn collect<I>(items: I) -> Result<Vec<ScopeRequirement>, ConfigError>
where
    I: IntoIterator,
    I::Item: IntoRequirement,
{
    let v = items
        .into_iter()
        .map(IntoRequirement::into_requirement)
        .collect::<Result<Vec<_>, _>>()?;
    if v.is_empty() {
        return Err(ConfigError::EmptyRequirement);
    }
    Ok(v)
}

#[track_caller]
fn or_panic<T>(r: Result<T, ConfigError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

impl ScopeRequirement {
    /// Exactly this scope.
    ///
    /// # Panics
    /// If the scope string is invalid (see [`ScopeRequirement::try_scope`]).
    #[track_caller]
    pub fn scope(scope: impl IntoRequirement) -> Self {
        or_panic(scope.into_requirement())
    }

    /// Exactly this scope.
    ///
    /// # Errors
    /// If the scope string is invalid.
    pub fn try_scope(scope: impl IntoRequirement) -> Result<Self, ConfigError> {
        scope.into_requirement()
    }

    /// Every one of these.
    ///
    /// # Panics
    /// If a scope string is invalid or the list is empty; the message names it. Use
    /// [`ScopeRequirement::try_all`] for scopes that come from configuration.
    #[track_caller]
    pub fn all<I>(items: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        or_panic(Self::try_all(items))
    }

    /// Every one of these.
    ///
    /// # Errors
    /// If a scope string is invalid or the list is empty.
    pub fn try_all<I>(items: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        collect(items).map(Self::All)
    }

    /// At least one of these.
    ///
    /// # Panics
    /// If a scope string is invalid or the list is empty; the message names it.
    #[track_caller]
    pub fn any<I>(items: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        or_panic(Self::try_any(items))
    }

    /// At least one of these.
    ///
    /// # Errors
    /// If a scope string is invalid or the list is empty.
    pub fn try_any<I>(items: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: IntoRequirement,
    {
        collect(items).map(Self::Any)
    }

    /// Every scope this requirement mentions, in order of first appearance.
    pub fn scopes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |s| {
            if !out.contains(&s) {
                out.push(s);
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Self::Scope(s) => f(s.as_str()),
            Self::All(v) | Self::Any(v) => v.iter().for_each(|r| r.walk(f)),
        }
    }

    /// The `scope` value of an `insufficient_scope` challenge: every scope mentioned,
    /// space-delimited.
    pub fn challenge_scopes(&self) -> String {
        self.scopes().join(" ")
    }
}

impl fmt::Debug for ScopeRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ScopeRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scope(s) => f.write_str(s.as_str()),
            Self::All(v) | Self::Any(v) => {
                f.write_str(if matches!(self, Self::All(_)) {
                    "all("
                } else {
                    "any("
                })?;
                for (i, r) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    fmt::Display::fmt(r, f)?;
                }
                f.write_str(")")
            }
        }
    }
}

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

impl CompiledHierarchy {
    fn grants(&self, granted: &Scopes, scope: &str) -> bool {
        if self.superusers.iter().any(|s| granted.contains(s)) {
            return true;
        }
        if let Some(granters) = self.granted_by.get(scope) {
            if granters.iter().any(|g| granted.contains(g)) {
                return true;
            }
        }
        if self.wildcards {
            return granted.iter().any(|g| {
                g.strip_suffix('*')
                    .is_some_and(|prefix| scope.starts_with(prefix))
            });
        }
        false
    }
}

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
    /// `resource_access.my-api.roles`), string or array.
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
                    let mut spans = Spans::default();
                    for claim in claims.into_iter().flatten() {
                        match claim {
                            StringOrList::String(Text::Span(start, len)) => {
                                let (start, len) = (*start as usize, *len as usize);
                                let piece = json.get(start..start + len).unwrap_or_default();
                                split_into(&mut spans, piece, start, delimiter);
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
                    return Some(ScopeIndex {
                        own: None,
                        spans,
                        hierarchy,
                    });
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
            Source::Custom(_) => return None,
        }
        Some(ScopeIndex::owned(text, delimiter, hierarchy))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(h: &ScopeHierarchy, granted: &[&str]) -> Scopes {
        Scopes::from_values(granted, Some(Arc::new(h.compile().unwrap())))
    }

    fn extracted(source: &ScopeClaims, json: &str) -> Vec<String> {
        let mut r: Registered = serde_json::from_str(json).unwrap();
        assert!(r.rebase(json));
        let scopes = source.extract(&r, json, None).unwrap();
        Scopes::from_grant(Arc::new(Grant {
            registered: r,
            json: json.to_owned(),
            scopes,
        }))
        .iter()
        .map(str::to_owned)
        .collect()
    }

    #[test]
    fn array_items_are_never_split() {
        let std = ScopeClaims::standard();
        assert_eq!(
            extracted(&std, r#"{"scp":["a","users:read admin"]}"#),
            ["a"]
        );
        let comma = ScopeClaims::standard().delimiter(',');
        assert_eq!(extracted(&comma, r#"{"scope":["x,y","z"]}"#), ["z"]);
        assert_eq!(extracted(&comma, r#"{"scope":"x,y"}"#), ["x", "y"]);
        assert_eq!(
            extracted(&std, r#"{"scope":"b a  b","scp":["c"]}"#),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn exact_and_case_sensitive() {
        let s = Scopes::new(["users:read", "Users:Write"]);
        assert!(s.contains("users:read"));
        assert!(!s.contains("users:Read"));
        assert!(!s.grants("users:write"));
    }

    #[test]
    fn invalid_values_are_dropped() {
        let s = Scopes::new(["ok", "bad\"quote", "bad\\slash", "", "é"]);
        assert_eq!(s.iter().collect::<Vec<_>>(), ["ok"]);
    }

    #[test]
    fn hierarchy_is_transitive_and_opt_in() {
        let h = ScopeHierarchy::new()
            .implies("users:admin", ["users:write"])
            .implies("users:write", ["users:read"]);
        let s = with(&h, &["users:admin"]);
        assert!(s.grants("users:read"));
        assert!(!s.contains("users:read"));
        assert!(!with(&h, &["users:read"]).grants("users:write"));
    }

    #[test]
    fn superuser_and_wildcards() {
        let h = ScopeHierarchy::new().superuser("admin").wildcards();
        assert!(with(&h, &["admin"]).grants("anything"));
        assert!(with(&h, &["users:*"]).grants("users:read"));
        assert!(!with(&h, &["users:*"]).grants("accounts:read"));
        let plain = ScopeHierarchy::new();
        assert!(!with(&plain, &["users:*"]).grants("users:read"));
    }

    #[test]
    fn requirement_construction_validates() {
        assert!(ScopeRequirement::try_all(["a b"]).is_err());
        assert!(matches!(
            ScopeRequirement::try_any(Vec::<&str>::new()),
            Err(ConfigError::EmptyRequirement)
        ));
        let r = ScopeRequirement::all([
            ScopeRequirement::scope("a"),
            ScopeRequirement::any(["b", "a"]),
        ]);
        assert_eq!(r.challenge_scopes(), "a b");
        assert_eq!(r.to_string(), "all(a, any(b, a))");
    }

    #[test]
    #[should_panic(expected = "invalid scope \"bad scope\"")]
    fn bad_scope_panics_with_its_name() {
        let _ = ScopeRequirement::all(["bad scope"]);
    }
}
