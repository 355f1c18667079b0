//! A requirement as alternatives: an OR of ANDs (disjunctive normal form), the shape of an
//! OpenAPI `security` list.

use std::fmt;

use super::requirement::ScopeRequirement;
use super::token::Scope;

/// The most alternatives [`ScopeRequirement::alternatives`] produces.
///
/// `all(any(a, b), any(c, d), …)` doubles with every `any`; past this many alternatives a
/// requirement is refused rather than written out as a `security` list nobody can read.
pub const MAX_ALTERNATIVES: usize = 64;

/// A requirement expands to more than [`MAX_ALTERNATIVES`] alternatives.
#[derive(Clone, PartialEq, Eq)]
pub struct TooManyAlternatives {
    requirement: String,
}

impl TooManyAlternatives {
    /// The cap that was exceeded ([`MAX_ALTERNATIVES`]).
    pub fn cap(&self) -> usize {
        MAX_ALTERNATIVES
    }
}

impl fmt::Debug for TooManyAlternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TooManyAlternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scope requirement {} expands to more than {MAX_ALTERNATIVES} alternatives (the cap \
             on an OpenAPI security list, an OR of ANDs): every any(...) inside an all(...) \
             multiplies them; split the route or simplify the requirement",
            self.requirement
        )
    }
}

impl std::error::Error for TooManyAlternatives {}

impl ScopeRequirement {
    /// The requirement as alternatives: it is met exactly when every scope of at least one
    /// alternative is granted (an OR of ANDs, the shape of an OpenAPI `security` list).
    ///
    /// `all(a, b)` is one alternative `[a, b]`; `any(a, b)` two, `[a]` and `[b]`;
    /// `all(a, any(b, c))` is `[a, b]`, `[a, c]`. Within an alternative a scope appears once;
    /// an alternative that contains another one is dropped (`any(a, all(a, b))` is `[a]`), since
    /// a token meeting the smaller one passes anyway. Order follows the requirement.
    ///
    /// Exact matching is assumed: a [`ScopeHierarchy`](super::ScopeHierarchy) lets more
    /// tokens through than the alternatives name, never fewer.
    ///
    /// ```
    /// use tower_bearer::ScopeRequirement;
    ///
    /// let need = ScopeRequirement::all([
    ///     ScopeRequirement::scope("a"),
    ///     ScopeRequirement::any(["b", "c"]),
    /// ]);
    /// let alternatives = need.alternatives()?;
    /// let names: Vec<Vec<&str>> = alternatives
    ///     .iter()
    ///     .map(|alt| alt.iter().map(|s| s.as_str()).collect())
    ///     .collect();
    /// assert_eq!(names, [["a", "b"], ["a", "c"]]);
    /// # Ok::<(), tower_bearer::scope::TooManyAlternatives>(())
    /// ```
    ///
    /// # Errors
    /// If there would be more than [`MAX_ALTERNATIVES`] alternatives; the message names the
    /// requirement and the cap.
    pub fn alternatives(&self) -> Result<Vec<Vec<Scope>>, TooManyAlternatives> {
        expand(self).ok_or_else(|| TooManyAlternatives {
            requirement: self.to_string(),
        })
    }
}

/// `None` past the cap. Every intermediate result is reduced and within the cap, so a
/// product holds at most `MAX_ALTERNATIVES²` entries before it is reduced and checked.
fn expand(req: &ScopeRequirement) -> Option<Vec<Vec<Scope>>> {
    match req {
        ScopeRequirement::Scope(s) => Some(vec![vec![s.clone()]]),
        ScopeRequirement::Any(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(expand(item)?);
                out = reduce(out);
                if out.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            Some(out)
        }
        ScopeRequirement::All(items) => {
            let mut acc: Vec<Vec<Scope>> = vec![Vec::new()];
            for item in items {
                let right = expand(item)?;
                let mut product = Vec::with_capacity(acc.len() * right.len());
                for left in &acc {
                    for r in &right {
                        let mut alt = left.clone();
                        for s in r {
                            if !alt.contains(s) {
                                alt.push(s.clone());
                            }
                        }
                        product.push(alt);
                    }
                }
                acc = reduce(product);
                if acc.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
            Some(acc)
        }
    }
}

/// Drop every alternative that contains an earlier-kept or a smaller one (duplicates too),
/// keeping the order of the survivors.
fn reduce(alts: Vec<Vec<Scope>>) -> Vec<Vec<Scope>> {
    let contains = |big: &[Scope], small: &[Scope]| small.iter().all(|s| big.contains(s));
    let mut keep = vec![true; alts.len()];
    for i in 0..alts.len() {
        for j in 0..alts.len() {
            if i == j || !keep[j] {
                continue;
            }
            // `i` goes if it contains `j` strictly, or equals an earlier `j`.
            let same = alts[i].len() == alts[j].len();
            if contains(&alts[i], &alts[j]) && (!same || j < i) {
                keep[i] = false;
                break;
            }
        }
    }
    alts.into_iter()
        .zip(keep)
        .filter_map(|(a, k)| k.then_some(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: &ScopeRequirement) -> Vec<Vec<String>> {
        r.alternatives()
            .unwrap()
            .into_iter()
            .map(|a| a.into_iter().map(|s| s.as_str().to_owned()).collect())
            .collect()
    }

    fn s(v: &str) -> ScopeRequirement {
        ScopeRequirement::scope(v)
    }

    #[test]
    fn all_is_one_alternative_any_is_one_each() {
        assert_eq!(names(&s("a")), [["a"]]);
        assert_eq!(names(&ScopeRequirement::all(["a", "b"])), [["a", "b"]]);
        assert_eq!(names(&ScopeRequirement::any(["a", "b"])), [["a"], ["b"]]);
    }

    #[test]
    fn nested_combinations_distribute() {
        let r = ScopeRequirement::all([s("a"), ScopeRequirement::any(["b", "c"])]);
        assert_eq!(names(&r), [["a", "b"], ["a", "c"]]);
        let r = ScopeRequirement::any([
            ScopeRequirement::all(["a", "b"]),
            ScopeRequirement::all(["c", "d"]),
        ]);
        assert_eq!(names(&r), [["a", "b"], ["c", "d"]]);
        let r = ScopeRequirement::all([
            ScopeRequirement::any(["a", "b"]),
            ScopeRequirement::any(["c", "d"]),
        ]);
        assert_eq!(names(&r), [["a", "c"], ["a", "d"], ["b", "c"], ["b", "d"]]);
    }

    #[test]
    fn duplicates_and_supersets_are_dropped() {
        assert_eq!(names(&ScopeRequirement::all(["a", "a"])), [["a"]]);
        assert_eq!(names(&ScopeRequirement::any(["a", "a"])), [["a"]]);
        let r = ScopeRequirement::any([ScopeRequirement::all(["a", "b"]), s("a")]);
        assert_eq!(names(&r), [["a"]]);
        let r = ScopeRequirement::all([
            ScopeRequirement::any(["a", "b"]),
            ScopeRequirement::any(["a", "c"]),
        ]);
        // [a], [a,c] ⊇ [a], [b,a] ⊇ [a], [b,c]
        assert_eq!(names(&r), vec![vec!["a"], vec!["b", "c"]]);
    }

    #[test]
    fn the_cap_is_inclusive_and_named_in_the_error() {
        let pairs = |n: usize| {
            ScopeRequirement::all(
                (0..n).map(|i| ScopeRequirement::any([format!("x{i}"), format!("y{i}")])),
            )
        };
        assert_eq!(pairs(6).alternatives().unwrap().len(), 64);
        let err = pairs(7).alternatives().unwrap_err();
        assert_eq!(err.cap(), 64);
        let msg = err.to_string();
        assert!(msg.contains("more than 64 alternatives"), "{msg}");
        assert!(
            msg.starts_with("scope requirement all(any(x0, y0)"),
            "{msg}"
        );
    }
}
