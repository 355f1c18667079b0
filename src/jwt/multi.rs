//! Several issuers behind one [`Validator`], chosen by the token's `iss`.

use std::collections::HashMap;
use std::sync::Arc;

use super::validator::{Kind, Validator};
use crate::error::ConfigError;

impl Validator {
    /// Several issuers, each validated by its own validator (own keys, audience, policy):
    /// a token goes to the validator of its `iss`, read before verification, and is then
    /// verified against that issuer's keys only.
    ///
    /// # Errors
    /// If a validator skips the issuer check, or two validators claim the same issuer.
    pub fn multi_issuer(
        validators: impl IntoIterator<Item = Validator>,
    ) -> Result<Validator, ConfigError> {
        let mut by_issuer = HashMap::new();
        let mut max_len = 0;
        for v in validators {
            let Kind::One(inner) = &*v.inner else {
                return Err(ConfigError::Invalid(
                    "multi_issuer takes single-issuer validators, not another multi_issuer".into(),
                ));
            };
            if !inner.rules.check_issuer {
                return Err(ConfigError::Invalid(
                    "a validator in multi_issuer must check its issuer: remove insecure_skip_issuer_check()".into(),
                ));
            }
            if inner.rules.tenant.is_some() {
                return Err(ConfigError::Invalid(
                    "a validator with an issuer template cannot be routed by `iss` in multi_issuer: give it its own layer, or list its tenants' issuers with issuer(..)".into(),
                ));
            }
            max_len = max_len.max(inner.max_len);
            for iss in &inner.rules.issuers {
                if by_issuer.insert(iss.clone(), v.clone()).is_some() {
                    return Err(ConfigError::Invalid(
                        format!("issuer {iss:?} is configured twice in multi_issuer").into(),
                    ));
                }
            }
        }
        if by_issuer.is_empty() {
            return Err(ConfigError::MissingIssuer);
        }
        Ok(Validator {
            inner: Arc::new(Kind::Many { by_issuer, max_len }),
        })
    }
}
