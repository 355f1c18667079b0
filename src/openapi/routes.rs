//! [`OpenApiSecurity`]: each operation's access, declared once, written into a document.

use std::fmt;

use http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ComponentsBuilder, OpenApi};

use super::error::OpenApiError;
use super::schemes::SecuritySchemes;
use crate::guard::require_scope::{RequireScopeLayer, ScopeGuard};
use crate::scope::{Scope, ScopeRequirement};

/// Anything that holds the [`ScopeRequirement`] a route enforces:
/// [`RequireScopeLayer`], [`ScopeGuard`] (what [`guard_of!`](crate::guard_of) gives for a
/// `#[require_scope]` handler), or the requirement itself.
pub trait AsRequirement {
    /// The requirement.
    fn as_requirement(&self) -> &ScopeRequirement;
}

impl AsRequirement for ScopeRequirement {
    fn as_requirement(&self) -> &ScopeRequirement {
        self
    }
}

impl AsRequirement for ScopeGuard {
    fn as_requirement(&self) -> &ScopeRequirement {
        self.requirement()
    }
}

impl AsRequirement for RequireScopeLayer {
    fn as_requirement(&self) -> &ScopeRequirement {
        self.guard().requirement()
    }
}

impl<T: AsRequirement + ?Sized> AsRequirement for &T {
    fn as_requirement(&self) -> &ScopeRequirement {
        (**self).as_requirement()
    }
}

#[derive(Clone, Debug)]
enum Access {
    Public,
    /// Alternatives of scopes; `[[]]` for any valid token.
    Scopes(Vec<Vec<Scope>>),
}

#[derive(Clone, Debug)]
struct Rule {
    method: Method,
    path: String,
    access: Access,
}

impl Rule {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every operation of an API with the access it enforces: written into a utoipa document's
/// `components.securitySchemes` and each operation's `security` by
/// [`apply`](Self::apply) (or as a utoipa [`Modify`](utoipa::Modify)). See the
/// [module docs](super) for a complete example.
///
/// Paths are written as in the document (`/users/{id}`, which is also axum 0.8's syntax).
#[derive(Clone)]
#[must_use]
pub struct OpenApiSecurity {
    schemes: SecuritySchemes,
    rules: Vec<Rule>,
}

impl fmt::Debug for OpenApiSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiSecurity")
            .field("schemes", &self.schemes)
            .field(
                "operations",
                &self.rules.iter().map(Rule::name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl OpenApiSecurity {
    /// No operation declared yet.
    pub fn new(schemes: SecuritySchemes) -> Self {
        Self {
            schemes,
            rules: Vec::new(),
        }
    }

    /// `method path` is guarded by `requirement` (a [`RequireScopeLayer`], a [`ScopeGuard`]
    /// or a [`ScopeRequirement`]): pass the very value that guards the route.
    ///
    /// # Panics
    /// If the requirement expands to more than
    /// [`MAX_ALTERNATIVES`](crate::scope::MAX_ALTERNATIVES) alternatives, or the operation is
    /// already declared; see [`try_route`](Self::try_route).
    #[track_caller]
    pub fn route(
        self,
        method: Method,
        path: impl Into<String>,
        requirement: impl AsRequirement,
    ) -> Self {
        self.try_route(method, path, requirement)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `method path` is guarded by `requirement`.
    ///
    /// # Errors
    /// If the requirement expands to more than
    /// [`MAX_ALTERNATIVES`](crate::scope::MAX_ALTERNATIVES) alternatives, or the operation is
    /// already declared.
    pub fn try_route(
        self,
        method: Method,
        path: impl Into<String>,
        requirement: impl AsRequirement,
    ) -> Result<Self, OpenApiError> {
        let alternatives = requirement.as_requirement().alternatives()?;
        self.add(method, path.into(), Access::Scopes(alternatives))
    }

    /// `method path` needs a valid token and no particular scope (a route behind
    /// [`BearerLayer`](crate::BearerLayer) without a guard): one requirement object per
    /// scheme, with no scopes.
    ///
    /// # Panics
    /// If the operation is already declared.
    #[track_caller]
    pub fn authenticated(self, method: Method, path: impl Into<String>) -> Self {
        self.add(method, path.into(), Access::Scopes(vec![Vec::new()]))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `method path` needs no token (outside [`BearerLayer`](crate::BearerLayer), or let
    /// through by its predicate): `security: []`.
    ///
    /// # Panics
    /// If the operation is already declared.
    #[track_caller]
    pub fn public(self, method: Method, path: impl Into<String>) -> Self {
        self.add(method, path.into(), Access::Public)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn add(mut self, method: Method, path: String, access: Access) -> Result<Self, OpenApiError> {
        let rule = Rule {
            method,
            path,
            access,
        };
        if self
            .rules
            .iter()
            .any(|r| r.method == rule.method && r.path == rule.path)
        {
            return Err(OpenApiError::Duplicate {
                operation: rule.name(),
            });
        }
        self.rules.push(rule);
        Ok(self)
    }

    /// Every scope the declared operations need, in order of first appearance.
    pub fn scopes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if let Access::Scopes(alternatives) = &rule.access {
                for scope in alternatives.iter().flatten() {
                    if !out.contains(&scope.as_str()) {
                        out.push(scope.as_str());
                    }
                }
            }
        }
        out
    }

    /// Write the security schemes into `doc.components` (replacing schemes of the same
    /// names) and each declared operation's `security` (replacing what it had).
    ///
    /// # Errors
    /// If no scheme is configured, or the document's operations and the declared ones
    /// differ: every operation of the document must be declared (as
    /// [`public`](Self::public) if it is), and every declared one must be in the document.
    /// Nothing is written then.
    pub fn apply(&self, doc: &mut OpenApi) -> Result<(), OpenApiError> {
        let names = self.schemes.names()?;
        let mut missing = Vec::new();
        for rule in &self.rules {
            let found = doc
                .paths
                .paths
                .get_mut(&rule.path)
                .and_then(|item| operation(item, &rule.method));
            if found.is_none() {
                missing.push(rule.name());
            }
        }
        let mut undeclared = Vec::new();
        for (path, item) in &doc.paths.paths {
            for method in methods(item) {
                if !self
                    .rules
                    .iter()
                    .any(|r| r.path == *path && r.method == method)
                {
                    undeclared.push(format!("{method} {path}"));
                }
            }
        }
        if !missing.is_empty() || !undeclared.is_empty() {
            return Err(OpenApiError::Mismatch {
                missing,
                undeclared,
            });
        }
        for rule in &self.rules {
            let Some(op) = doc
                .paths
                .paths
                .get_mut(&rule.path)
                .and_then(|item| operation(item, &rule.method))
            else {
                continue;
            };
            op.security = Some(requirements(&rule.access, &names));
        }
        let components = doc
            .components
            .get_or_insert_with(|| ComponentsBuilder::new().build());
        for (name, scheme) in self.schemes.build(self.scopes()) {
            components.add_security_scheme(name, scheme);
        }
        Ok(())
    }
}

/// The `security` list of one operation: per scheme, one object per alternative.
fn requirements(access: &Access, names: &[&str]) -> Vec<SecurityRequirement> {
    match access {
        Access::Public => Vec::new(),
        Access::Scopes(alternatives) => names
            .iter()
            .flat_map(|name| {
                alternatives
                    .iter()
                    .map(move |alt| SecurityRequirement::new(*name, alt.iter().map(Scope::as_str)))
            })
            .collect(),
    }
}

fn operation<'a>(item: &'a mut PathItem, method: &Method) -> Option<&'a mut Operation> {
    let slot = match *method {
        Method::GET => &mut item.get,
        Method::PUT => &mut item.put,
        Method::POST => &mut item.post,
        Method::DELETE => &mut item.delete,
        Method::OPTIONS => &mut item.options,
        Method::HEAD => &mut item.head,
        Method::PATCH => &mut item.patch,
        Method::TRACE => &mut item.trace,
        // OpenAPI 3.2's `query` operation.
        _ if method.as_str() == "QUERY" => &mut item.query,
        _ => return item.additional_operations.get_mut(method.as_str()),
    };
    slot.as_mut()
}

/// The methods a path item has operations for.
fn methods(item: &PathItem) -> Vec<Method> {
    let fixed = [
        (Method::GET, &item.get),
        (Method::PUT, &item.put),
        (Method::POST, &item.post),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::HEAD, &item.head),
        (Method::PATCH, &item.patch),
        (Method::TRACE, &item.trace),
    ];
    let mut out: Vec<Method> = fixed
        .into_iter()
        .filter(|(_, op)| op.is_some())
        .map(|(m, _)| m)
        .collect();
    if item.query.is_some() {
        out.extend(Method::from_bytes(b"QUERY").ok());
    }
    out.extend(
        item.additional_operations
            .keys()
            .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
    );
    out
}

impl utoipa::Modify for OpenApiSecurity {
    /// [`apply`](OpenApiSecurity::apply), for `#[openapi(modifiers(..))]`.
    ///
    /// # Panics
    /// Where `apply` returns an error: the document would not describe what the guards
    /// enforce. Call `apply` to handle it.
    fn modify(&self, doc: &mut OpenApi) {
        if let Err(e) = self.apply(doc) {
            panic!("{e}");
        }
    }
}
