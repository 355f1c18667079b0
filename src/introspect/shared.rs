//! Introspection answers shared with other instances through an [`AnswerStore`].
//!
//! [`AnswerStore`]: crate::store::AnswerStore

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{now, Introspection};
use crate::store::StoredAnswer;

impl Introspection {
    /// Whether answers are shared with other instances.
    pub(crate) fn shares(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// The shared store's key for `token`.
    fn shared_key(mac: &Hmac<Sha256>, token: &str) -> [u8; 32] {
        let mut mac = mac.clone();
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// What the shared store holds for `token`; `None` when it holds nothing or cannot
    /// answer (the endpoint is asked then).
    pub(crate) async fn shared_answer(&self, token: &str) -> Option<StoredAnswer> {
        let (store, mac) = self.inner.shared.as_ref()?;
        match store.get(Self::shared_key(mac, token)).resolve().await {
            Ok(answer) => answer,
            Err(e) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(error = %e, "introspection answer store failed; asking the endpoint");
                let _ = e;
                None
            }
        }
    }

    /// Share an answer: an active one (its JSON) until `exp` at most, a refusal briefly.
    pub(crate) async fn share(&self, token: &str, answer: StoredAnswer, exp: Option<f64>) {
        let Some((store, mac)) = self.inner.shared.as_ref() else {
            return;
        };
        let now = now();
        let until = match &answer {
            StoredAnswer::Active(_) => {
                let cap = now.saturating_add(self.inner.max_ttl);
                match exp {
                    Some(exp) if exp.is_finite() && exp >= 0.0 => cap.min(exp as u64),
                    _ => cap,
                }
            }
            _ => now.saturating_add(self.inner.inactive_ttl),
        };
        if until <= now {
            return;
        }
        let ttl = Duration::from_secs(until - now);
        if let Err(e) = store
            .put(Self::shared_key(mac, token), answer, ttl)
            .resolve()
            .await
        {
            #[cfg(feature = "tracing")]
            tracing::warn!(error = %e, "introspection answer store failed to store an answer");
            let _ = e;
        }
    }
}
