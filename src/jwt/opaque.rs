//! Opaque tokens: answered from the introspection cache, or asked of the endpoint.

use super::single::Inner;
use super::validator::{Kind, Step, Validator};
use crate::claims::Authenticated;
use crate::error::TokenError;
use crate::introspect::answer::{self, Answer, Unusable};
use crate::rules::binding::{self, Presented};
use crate::rules::Origin;
use crate::source::grammar::is_b64token;
use crate::store::StoredAnswer;

impl Inner {
    /// An opaque token (its length was checked by the caller): a cached answer, or the
    /// endpoint must be asked.
    pub(crate) fn step_opaque(
        &self,
        validator: &Validator,
        token: &[u8],
        binding: Presented<'_>,
    ) -> Step {
        // Nothing reaches the endpoint unless it could be a token (RFC 6750 §2.1); a
        // `b64token` is ASCII, so it is text.
        let Some(token) = is_b64token(token)
            .then(|| std::str::from_utf8(token).ok())
            .flatten()
        else {
            return Step::Done(Err(TokenError::Malformed("not an RFC 6750 b64token")));
        };
        match self.introspection.as_ref().and_then(|i| i.cached(token)) {
            Some(Some(auth)) => Step::Done(match self.recheck_cached(auth, binding) {
                Ok(auth) => Ok(auth),
                Err(e) => Err(e),
            }),
            Some(None) => Step::Done(Err(TokenError::Inactive)),
            None => Step::Introspect(validator.clone()),
        }
    }
}

impl Validator {
    pub(crate) fn introspection_retry_after(&self) -> u64 {
        match &*self.inner {
            Kind::One(Inner {
                introspection: Some(i),
                ..
            }) => i.retry_after(),
            _ => 1,
        }
    }

    /// Ask the introspection endpoint about an opaque token and check the answer.
    pub(crate) async fn introspect(
        &self,
        token: &str,
        binding: Presented<'_>,
    ) -> Result<Authenticated, TokenError> {
        let Kind::One(inner) = &*self.inner else {
            return Err(TokenError::IntrospectionUnavailable { retry_after: 1 });
        };
        let Some(introspection) = &inner.introspection else {
            return Err(TokenError::IntrospectionUnavailable { retry_after: 1 });
        };
        let unavailable = || TokenError::IntrospectionUnavailable {
            retry_after: introspection.retry_after(),
        };
        let shared = introspection.shared_answer(token).await;
        let from_store = shared.is_some();
        if from_store {
            crate::metrics::introspection(crate::metrics::Introspected::Shared);
        }
        let json = match shared {
            Some(StoredAnswer::Active(json)) => Ok(json),
            Some(StoredAnswer::Refused) => {
                introspection.remember(token, None, None);
                return Err(TokenError::Inactive);
            }
            None => introspection.ask(token).await,
        };
        let json = match json {
            Ok(json) => json,
            Err(e) => {
                crate::metrics::introspection(crate::metrics::Introspected::Error);
                #[cfg(feature = "tracing")]
                tracing::warn!(error = %e, "token introspection failed");
                let _ = &e;
                return Err(unavailable());
            }
        };
        // An answer this validator refuses is remembered like an inactive one (later
        // requests with the token get `Inactive`, without another call to the endpoint): the
        // first request learns why, the rest that it is not accepted here.
        let refused = |e: TokenError| {
            introspection.remember(token, None, None);
            e
        };
        // An answer the endpoint just gave is shared with other instances (a refused one as
        // a refusal), so they need not ask again.
        let share = |answer: StoredAnswer, exp: Option<f64>| async move {
            if !from_store {
                introspection.share(token, answer, exp).await;
            }
        };
        let answer = answer::read(&json);
        if !from_store {
            use crate::metrics::Introspected;
            crate::metrics::introspection(match &answer {
                Ok(Answer::Active(_)) | Err(Unusable::Refused(_)) => Introspected::Active,
                Ok(Answer::Inactive) => Introspected::Inactive,
                Err(Unusable::NotAnAnswer) => Introspected::Error,
            });
        }
        let registered = match answer {
            Ok(Answer::Active(registered)) => registered,
            Ok(Answer::Inactive) => {
                introspection.remember(token, None, None);
                share(StoredAnswer::Refused, None).await;
                return Err(TokenError::Inactive);
            }
            Err(Unusable::Refused(e)) => {
                share(StoredAnswer::Refused, None).await;
                return Err(refused(e));
            }
            Err(Unusable::NotAnAnswer) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    "token introspection answered something that is not an RFC 7662 response"
                );
                return Err(unavailable());
            }
        };
        let exp = registered.exp;
        if let Err(e) = inner.rules.check(&registered, &json, Origin::Introspection) {
            share(StoredAnswer::Refused, None).await;
            return Err(refused(e));
        }
        let cnf = registered.cnf.clone();
        let shared_json = (!from_store && introspection.shares()).then(|| json.clone());
        let auth = match inner.finish(registered, json) {
            Ok(auth) => auth,
            Err(e) => {
                share(StoredAnswer::Refused, None).await;
                return Err(refused(e));
            }
        };
        if let Some(json) = shared_json {
            share(StoredAnswer::Active(json), exp).await;
        }
        // The binding depends on the request (its DPoP proof), not on the answer: the answer
        // is cached, and every hit checks the binding again (`recheck_cached`).
        introspection.remember(token, Some(&auth), exp);
        binding::check(cnf.as_deref(), binding)?;
        // Never cached: run again on every hit too.
        self.run_async_checks(auth).await
    }
}
