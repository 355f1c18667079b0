//! Multi-tenant issuers (Entra ID): an issuer template with a `{tenantid}` placeholder, filled
//! from the token's `tid` claim, which must be GUID-shaped and allowed, and then compared with
//! `iss` exactly.

use std::borrow::Cow;

use crate::claims::registered::Registered;
use crate::error::{ConfigError, TokenError};

/// The placeholder of an issuer template.
pub(crate) const PLACEHOLDER: &str = "{tenantid}";

/// `prefix{tenantid}suffix`, and the tenants it may be filled with.
#[derive(Debug, Clone)]
pub(crate) struct TenantIssuer {
    /// Read by discovery (feature `remote`).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) template: String,
    prefix: String,
    suffix: String,
    /// Lower-case GUIDs; `None`: any tenant (an explicit opt-out).
    tenants: Option<Vec<String>>,
}

impl TenantIssuer {
    pub(crate) fn new(template: &str, tenants: Option<Vec<String>>) -> Result<Self, ConfigError> {
        let (prefix, suffix) = template.split_once(PLACEHOLDER).ok_or_else(|| {
            invalid(format!(
                "issuer template {template:?} has no {PLACEHOLDER} placeholder"
            ))
        })?;
        if suffix.contains(PLACEHOLDER) {
            return Err(invalid(format!(
                "issuer template {template:?} has {PLACEHOLDER} more than once"
            )));
        }
        let tenants = match tenants {
            None => None,
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for t in list {
                    if !is_guid(&t) {
                        return Err(invalid(format!(
                            "tenant {t:?} is not a tenant id (a GUID such as 9188040d-6c67-4c5b-b112-36a304b66dad)"
                        )));
                    }
                    out.push(t.to_ascii_lowercase());
                }
                if out.is_empty() {
                    return Err(invalid(
                        "tenants([]) allows no tenant: name at least one, or call any_tenant()"
                            .into(),
                    ));
                }
                Some(out)
            }
        };
        Ok(Self {
            template: template.to_owned(),
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            tenants,
        })
    }

    /// `iss` is the template filled with the token's own `tid`, which is GUID-shaped and
    /// allowed.
    pub(crate) fn check(&self, c: &Registered, json: &str) -> Result<(), TokenError> {
        let iss = c
            .iss
            .as_ref()
            .ok_or(TokenError::MissingClaim("iss"))?
            .get(json);
        #[derive(serde::Deserialize)]
        struct Tid<'a> {
            #[serde(borrow, default)]
            tid: Option<Cow<'a, str>>,
        }
        let tid = serde_json::from_str::<Tid<'_>>(json)
            .map_err(|_| TokenError::InvalidClaim("tid"))?
            .tid
            .ok_or(TokenError::MissingClaim("tid"))?;
        if !is_guid(&tid) {
            return Err(TokenError::InvalidClaim("tid"));
        }
        let filled = iss.len() == self.prefix.len() + tid.len() + self.suffix.len()
            && iss.starts_with(&self.prefix)
            && iss.ends_with(&self.suffix)
            && iss[self.prefix.len()..iss.len() - self.suffix.len()] == *tid;
        if !filled {
            return Err(TokenError::IssuerMismatch);
        }
        match &self.tenants {
            Some(allowed) if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&tid)) => {
                Err(TokenError::TenantNotAllowed)
            }
            _ => Ok(()),
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits.
pub(crate) fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("9188040d-6c67-4c5b-b112-36a304b66dad"));
        assert!(is_guid("9188040D-6C67-4C5B-B112-36A304B66DAD"));
        for bad in [
            "",
            "common",
            "9188040d-6c67-4c5b-b112-36a304b66da",
            "9188040d-6c67-4c5b-b112-36a304b66dadd",
            "9188040d66c67-4c5b-b112-36a304b66dad",
            "9188040g-6c67-4c5b-b112-36a304b66dad",
            "../../../evil.example/x/y/zzzzzzzzzzz",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }

    #[test]
    fn templates_are_checked_when_built() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(TenantIssuer::new(t, None).is_ok());
        for (bad, says) in [
            ("https://login.microsoftonline.com/v2.0", "no {tenantid}"),
            ("https://x/{tenantid}/{tenantid}", "more than once"),
        ] {
            let e = TenantIssuer::new(bad, None).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
        let e = TenantIssuer::new(t, Some(vec!["contoso".into()]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"contoso\""), "{e}");
        let e = TenantIssuer::new(t, Some(vec![])).unwrap_err().to_string();
        assert!(e.contains("any_tenant()"), "{e}");
    }
}
