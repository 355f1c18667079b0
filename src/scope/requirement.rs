//! [`ScopeRequirement`]: what a route needs.

use std::fmt;

use super::token::Scope;
use crate::error::ConfigError;

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
