//! `#[require_scope(...)]`: guard an axum handler with a scope requirement.
//!
//! Re-exported by `tower-bearer` behind its `macros` feature; see its documentation.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{parse_macro_input, Error, ItemFn, LitStr, Token};

/// One requirement: a scope literal, or `all(...)` / `any(...)` of requirements.
enum Req {
    Scope(LitStr),
    All(Vec<Req>),
    Any(Vec<Req>),
}

impl Parse for Req {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            check_scope(&lit)?;
            return Ok(Req::Scope(lit));
        }
        let ident: syn::Ident = input.parse().map_err(|e| {
            Error::new(
                e.span(),
                "expected a scope string literal, `all(...)` or `any(...)`",
            )
        })?;
        let content;
        syn::parenthesized!(content in input);
        let items = parse_list(&content, ident.span())?;
        match ident.to_string().as_str() {
            "all" => Ok(Req::All(items)),
            "any" => Ok(Req::Any(items)),
            other => Err(Error::new(
                ident.span(),
                format!("unknown combinator `{other}`: use `all(...)` or `any(...)`"),
            )),
        }
    }
}

fn parse_list(input: ParseStream<'_>, span: Span) -> syn::Result<Vec<Req>> {
    let items: Punctuated<Req, Token![,]> = Punctuated::parse_terminated(input)?;
    if items.is_empty() {
        return Err(Error::new(
            span,
            "empty scope list: name at least one scope, e.g. #[require_scope(\"users:read\")]",
        ));
    }
    Ok(items.into_iter().collect())
}

fn check_scope(lit: &LitStr) -> syn::Result<()> {
    let value = lit.value();
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|c| c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c));
    if valid {
        Ok(())
    } else {
        Err(Error::new(
            lit.span(),
            format!(
                "invalid scope {value:?}: a scope is one or more characters from %x21 / %x23-5B / %x5D-7E (no spaces, quotes or backslashes)"
            ),
        ))
    }
}

/// An `acr` value appears space-separated in a challenge: the characters of a scope token.
fn check_acr(lit: &LitStr) -> syn::Result<()> {
    check_scope(lit).map_err(|_| {
        Error::new(
            lit.span(),
            format!(
                "invalid acr value {:?}: use the characters of a scope token (no spaces, quotes or backslashes)",
                lit.value()
            ),
        )
    })
}

impl Req {
    fn tokens(&self) -> TokenStream2 {
        match self {
            Req::Scope(lit) => quote! {
                ::tower_bearer::ScopeRequirement::Scope(::tower_bearer::Scope::from_static(#lit))
            },
            Req::All(items) => {
                let items = items.iter().map(Req::tokens);
                quote! { ::tower_bearer::ScopeRequirement::All(::std::vec![#(#items),*]) }
            }
            Req::Any(items) => {
                let items = items.iter().map(Req::tokens);
                quote! { ::tower_bearer::ScopeRequirement::Any(::std::vec![#(#items),*]) }
            }
        }
    }
}

/// The attribute's arguments: a list that is implicitly `all(...)`, with the options
/// `hide_scopes`, `acr_values("…", …)` and `max_age = SECONDS` (RFC 9470 step-up).
struct Args {
    requirement: Req,
    hide_scopes: bool,
    acr_values: Option<Vec<LitStr>>,
    max_age: Option<syn::LitInt>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let span = input.span();
        let mut items = Vec::new();
        let mut hide_scopes = false;
        let mut acr_values = None;
        let mut max_age = None;
        while !input.is_empty() {
            let fork = input.fork();
            let option = fork.parse::<syn::Ident>().ok().map(|i| i.to_string());
            match option.as_deref() {
                Some("hide_scopes") => {
                    input.parse::<syn::Ident>()?;
                    hide_scopes = true;
                }
                Some("acr_values") => {
                    let ident: syn::Ident = input.parse()?;
                    let content;
                    syn::parenthesized!(content in input);
                    let values: Punctuated<LitStr, Token![,]> =
                        Punctuated::parse_terminated(&content)?;
                    if values.is_empty() {
                        return Err(Error::new(
                            ident.span(),
                            "acr_values(...) must name at least one value",
                        ));
                    }
                    for v in &values {
                        check_acr(v)?;
                    }
                    acr_values = Some(values.into_iter().collect());
                }
                Some("max_age") => {
                    input.parse::<syn::Ident>()?;
                    input.parse::<Token![=]>()?;
                    let secs: syn::LitInt = input.parse()?;
                    secs.base10_parse::<u64>()?;
                    max_age = Some(secs);
                }
                _ => items.push(input.parse::<Req>()?),
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        if items.is_empty() {
            return Err(Error::new(
                span,
                "empty scope list: name at least one scope, e.g. #[require_scope(\"users:read\")]",
            ));
        }
        let requirement = if items.len() == 1 && !matches!(items[0], Req::Scope(_)) {
            items.remove(0)
        } else {
            Req::All(items)
        };
        Ok(Args {
            requirement,
            hide_scopes,
            acr_values,
            max_age,
        })
    }
}

/// Guard an async axum handler: the request must carry a token whose scopes meet the
/// requirement, or it is answered exactly as `RequireScopeLayer` would (403
/// `insufficient_scope` with every required scope in the challenge; 401 when
/// unauthenticated; 500 without `BearerLayer`).
///
/// ```ignore
/// #[require_scope("users:read")]
/// async fn list_users() -> &'static str { "..." }
///
/// #[require_scope(any("accounts:read", "accounts:write"))]
/// async fn accounts() -> &'static str { "..." }
///
/// #[require_scope(all("users:read", "users.profile:read"))]
/// async fn profile() -> &'static str { "..." }
/// ```
///
/// `#[require_scope("admin", hide_scopes)]` leaves `scope="…"` out of the answers.
///
/// Step-up authentication (RFC 9470): `acr_values("urn:example:mfa", …)` requires the token's
/// `acr` to be one of them, `max_age = 300` its `auth_time` at most that many seconds old;
/// otherwise `401 insufficient_user_authentication` naming them. The scopes are checked
/// first.
///
/// ```ignore
/// #[require_scope("accounts:write", acr_values("urn:example:mfa"), max_age = 300)]
/// async fn transfer() -> &'static str { "..." }
/// ```
///
/// Scope strings are checked at compile time. The handler must be a free `async fn`.
///
/// [`guard_of!(handler)`](guard_of!) gives the guard this generates, to document the route
/// from the same declaration.
#[proc_macro_attribute]
pub fn require_scope(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as Args);
    let mut func = parse_macro_input!(item as ItemFn);
    if func.sig.asyncness.is_none() {
        return Error::new(
            func.sig.fn_token.span(),
            "#[require_scope] goes on an `async fn` handler",
        )
        .to_compile_error()
        .into();
    }
    if let Some(receiver) = func.sig.receiver() {
        return Error::new(
            receiver.span(),
            "#[require_scope] goes on a free `async fn` handler, not a method",
        )
        .to_compile_error()
        .into();
    }
    let marker = format_ident!("__TowerBearerScope_{}", func.sig.ident);
    let requirement = args.requirement.tokens();
    let hide = args.hide_scopes.then(|| quote! { .hide_scopes() });
    let acr = args
        .acr_values
        .as_ref()
        .map(|values| quote! { .acr_values([#(#values),*]) });
    let max_age = args
        .max_age
        .as_ref()
        .map(|secs| quote! { .max_age(::std::time::Duration::from_secs(#secs)) });
    let vis = &func.vis;
    let span = func.sig.ident.span();
    let guard_arg: syn::FnArg = syn::parse_quote_spanned! {span=>
        _: ::tower_bearer::extract::Authorized<#marker>
    };
    func.sig.inputs.insert(0, guard_arg);
    let marker_item = quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl ::tower_bearer::extract::ScopeMarker for #marker {
            fn guard() -> &'static ::tower_bearer::ScopeGuard {
                static GUARD: ::std::sync::OnceLock<::tower_bearer::ScopeGuard> =
                    ::std::sync::OnceLock::new();
                GUARD.get_or_init(|| {
                    ::tower_bearer::ScopeGuard::new(#requirement) #hide #acr #max_age
                })
            }
        }
    };
    quote! {
        #marker_item
        #func
    }
    .into()
}

/// The guard that `#[require_scope(...)]` generated for a handler, as a
/// `&'static ScopeGuard`: to document the route from the same declaration that enforces it
/// (`tower_bearer::openapi`, feature `utoipa`), or to list its scopes in RFC 9728 metadata.
///
/// ```ignore
/// #[require_scope("users:read")]
/// async fn list_users() -> &'static str { "..." }
///
/// let guard: &'static ScopeGuard = guard_of!(list_users);
/// let security = OpenApiSecurity::new(schemes).route(Method::GET, "/users", guard_of!(list_users));
/// ```
///
/// The handler may be named by a path (`handlers::list_users`); it must carry
/// `#[require_scope]`, and be visible where `guard_of!` is used. Without the attribute the
/// error is ``cannot find type `__TowerBearerScope_<handler>` ``.
#[proc_macro]
pub fn guard_of(input: TokenStream) -> TokenStream {
    let mut path = parse_macro_input!(input as syn::Path);
    let Some(last) = path.segments.last_mut() else {
        return Error::new(Span::call_site(), "guard_of!(handler): name a handler")
            .to_compile_error()
            .into();
    };
    if !last.arguments.is_none() {
        return Error::new(
            last.arguments.span(),
            "guard_of!(handler): name the handler without generic arguments",
        )
        .to_compile_error()
        .into();
    }
    let span = last.ident.span();
    last.ident = syn::Ident::new(&format!("__TowerBearerScope_{}", last.ident), span);
    quote_spanned! {span=>
        <#path as ::tower_bearer::extract::ScopeMarker>::guard()
    }
    .into()
}
