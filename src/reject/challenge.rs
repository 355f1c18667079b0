//! `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1).

use std::sync::Arc;

use http::header::HeaderValue;

use super::code::ErrorCode;
use super::rejection::Rejection;

/// How `DPoP` challenges are written for a layer that accepts DPoP (RFC 9449 §7.1).
#[derive(Debug, Clone)]
pub(crate) struct DpopChallenge {
    /// Space-separated `algs` value.
    pub(crate) algs: Arc<str>,
    /// Bearer tokens are not accepted at all: every challenge is `DPoP`.
    pub(crate) required: bool,
}

impl Rejection {
    /// The challenges for this rejection: one `Bearer` or `DPoP` challenge, or both when a
    /// layer accepts either and the request brought no credentials.
    pub(crate) fn challenges(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
    ) -> (Option<HeaderValue>, Option<HeaderValue>) {
        let Some(d) = dpop else {
            return (self.challenge(realm, resource_metadata, None), None);
        };
        let algs = Some(&*d.algs);
        if self.dpop || d.required || self.code.dpop_only() {
            (self.challenge(realm, resource_metadata, algs), None)
        } else if self.code == ErrorCode::Unauthorized {
            let bearer = self.challenge(realm, resource_metadata, None);
            (bearer, self.challenge(realm, resource_metadata, algs))
        } else {
            (self.challenge(realm, resource_metadata, None), None)
        }
    }

    /// One challenge, with RFC 9728's `resource_metadata` parameter when given; `dpop_algs`:
    /// a `DPoP` challenge with these `algs`, else `Bearer`.
    pub(crate) fn challenge(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop_algs: Option<&str>,
    ) -> Option<HeaderValue> {
        if !self.code.challenges() {
            return None;
        }
        let mut out = String::with_capacity(96);
        out.push_str(if dpop_algs.is_some() {
            "DPoP"
        } else {
            "Bearer"
        });
        let mut first = true;
        let mut param = |out: &mut String, name: &str| {
            out.push_str(if first { " " } else { ", " });
            first = false;
            out.push_str(name);
            out.push_str("=\"");
        };
        if let Some(realm) = realm {
            param(&mut out, "realm");
            push_quoted(&mut out, realm);
            out.push('"');
        }
        if self.code.in_challenge() {
            param(&mut out, "error");
            out.push_str(self.code.as_str());
            out.push('"');
            param(&mut out, "error_description");
            push_restricted(&mut out, &self.description);
            out.push('"');
        }
        if let Some(scope) = &self.scope {
            param(&mut out, "scope");
            push_restricted(&mut out, scope);
            out.push('"');
        }
        if let Some(step_up) = &self.step_up {
            if let Some(acr) = &step_up.acr_values {
                param(&mut out, "acr_values");
                push_restricted(&mut out, acr);
                out.push('"');
            }
            if let Some(age) = step_up.max_age {
                param(&mut out, "max_age");
                out.push_str(&age.to_string());
                out.push('"');
            }
        }
        if let Some(algs) = dpop_algs {
            param(&mut out, "algs");
            push_restricted(&mut out, algs);
            out.push('"');
        }
        if let Some(url) = resource_metadata {
            param(&mut out, "resource_metadata");
            push_quoted(&mut out, url);
            out.push('"');
        }
        // Every byte pushed above is visible ASCII or a space, so this cannot fail.
        HeaderValue::from_str(&out).ok()
    }
}

/// Append `value` as the inside of an RFC 9110 quoted-string: `"` and `\` are escaped, and
/// anything that is not visible ASCII or a space becomes `?`, so no value can break the header.
pub(crate) fn push_quoted(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
}

/// Append `value` restricted to RFC 6750's `error_description`/`scope` characters
/// (`%x20-21 / %x23-5B / %x5D-7E`): those values may not contain `"` or `\` even escaped.
pub(crate) fn push_restricted(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
}
