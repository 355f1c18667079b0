//! [`TokenClaims`]: what a handler reads of a validated token.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::grant::Grant;
use super::registered::Registered;
use super::text::{Aud, Text};

/// The claims of a validated access token.
///
/// Cheap to clone. The registered claims are parsed once during validation; your own claims
/// are read from the raw JSON with [`TokenClaims::deserialize`] or [`TokenClaims::get`].
///
/// `Debug` shows the issuer, subject, audience and times, never the token.
#[derive(Clone)]
pub struct TokenClaims {
    inner: Arc<Grant>,
}

impl TokenClaims {
    pub(crate) fn from_grant(inner: Arc<Grant>) -> Self {
        Self { inner }
    }

    pub(crate) fn grant(&self) -> &Arc<Grant> {
        &self.inner
    }

    /// `iss`: the issuer (always present after validation).
    pub fn issuer(&self) -> &str {
        self.text(&self.inner.registered.iss).unwrap_or_default()
    }

    fn text<'a>(&'a self, field: &'a Option<Text>) -> Option<&'a str> {
        field.as_ref().map(|t| t.get(&self.inner.json))
    }

    /// `sub`: the subject, if the token has one.
    pub fn subject(&self) -> Option<&str> {
        self.text(&self.inner.registered.sub)
    }

    /// `aud`: the audiences (always at least one after validation, unless the audience check
    /// was explicitly skipped).
    pub fn audience(&self) -> impl Iterator<Item = &str> {
        let json = &self.inner.json;
        let (one, many): (Option<&Text>, &[Text]) = match &self.inner.registered.aud {
            None => (None, &[]),
            Some(Aud::One(t)) => (Some(t), &[]),
            Some(Aud::Many(v)) => (None, v.as_slice()),
        };
        one.into_iter().chain(many).map(move |t| t.get(json))
    }

    /// `exp`, seconds since the Unix epoch.
    pub fn expires_at(&self) -> f64 {
        self.inner.registered.exp.unwrap_or_default()
    }

    /// The time left until `exp`, zero once it has passed; `None` when the token has no `exp`
    /// (an introspected token may omit it). A token stays usable for as long as the handler
    /// keeps it: a long-lived connection (a WebSocket, a stream) should end by then; see
    /// [`expiry`](Self::expiry).
    pub fn expires_in(&self) -> Option<std::time::Duration> {
        let exp = self.inner.registered.exp?;
        let left = exp - crate::rules::time::now();
        Some(std::time::Duration::try_from_secs_f64(left).unwrap_or_default())
    }

    /// Completes when the token expires (never, for a token without `exp`): select on it to
    /// close a long-lived connection the token opened.
    ///
    /// ```no_run
    /// # async fn socket(mut socket: axum::extract::ws::WebSocket, claims: tower_bearer::TokenClaims) {
    /// use axum::extract::ws::{close_code, CloseFrame, Message};
    ///
    /// let expiry = claims.expiry();
    /// tokio::pin!(expiry);
    /// loop {
    ///     tokio::select! {
    ///         () = &mut expiry => {
    ///             let frame = CloseFrame { code: close_code::POLICY, reason: "token expired".into() };
    ///             let _ = socket.send(Message::Close(Some(frame))).await;
    ///             break;
    ///         }
    ///         message = socket.recv() => match message {
    ///             Some(Ok(Message::Text(text))) => {
    ///                 if socket.send(Message::Text(text)).await.is_err() { break; }
    ///             }
    ///             Some(Ok(_)) => {}
    ///             _ => break,
    ///         },
    ///     }
    /// }
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub fn expiry(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let left = self.expires_in();
        async move {
            match left {
                Some(left) => tokio::time::sleep(left).await,
                None => std::future::pending().await,
            }
        }
    }

    /// `nbf`, seconds since the Unix epoch.
    pub fn not_before(&self) -> Option<f64> {
        self.inner.registered.nbf
    }

    /// `iat`, seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<f64> {
        self.inner.registered.iat
    }

    /// `jti`: the token's unique identifier.
    pub fn jwt_id(&self) -> Option<&str> {
        self.text(&self.inner.registered.jti)
    }

    /// `client_id` (RFC 9068), falling back to `azp` (OpenID Connect).
    pub fn client_id(&self) -> Option<&str> {
        self.text(&self.inner.registered.client_id)
            .or(self.text(&self.inner.registered.azp))
    }

    /// The whole claims set as JSON text.
    pub fn json(&self) -> &str {
        &self.inner.json
    }

    /// Deserialize the whole claims set into your own type.
    ///
    /// ```
    /// # use tower_bearer::testing::TestIssuer;
    /// #[derive(serde::Deserialize)]
    /// struct Mine { tenant: String }
    ///
    /// let issuer = TestIssuer::new();
    /// let token = issuer.token().claim("tenant", "acme").sign();
    /// let claims = issuer.validator().validate(&token)?.claims().clone();
    /// assert_eq!(claims.deserialize::<Mine>()?.tenant, "acme");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// If the claims do not fit `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        serde_json::from_str(&self.inner.json).map_err(ClaimsError)
    }

    /// One claim by name, deserialized into `T`; `Ok(None)` when absent or `null`.
    ///
    /// # Errors
    /// If the claim does not fit `T`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ClaimsError> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.inner.json).map_err(ClaimsError)?;
        match map.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(ClaimsError),
        }
    }

    pub(crate) fn registered(&self) -> &Registered {
        &self.inner.registered
    }

    /// `cnf.jkt`: the RFC 7638 thumbprint of the key this token is bound to (RFC 9449 DPoP),
    /// if it is DPoP-bound. A request only passes with such a token when it carried a DPoP
    /// proof signed by that key.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.inner.registered.cnf.as_ref()?.jkt.as_deref()
    }

    /// `cnf.x5t#S256`: the thumbprint of the client certificate this token is bound to
    /// (RFC 8705), if it is certificate-bound. A request only passes with such a token when it
    /// came with that certificate ([`crate::mtls`]).
    pub fn certificate_thumbprint(&self) -> Option<&str> {
        self.inner.registered.cnf.as_ref()?.x5t_s256.as_deref()
    }
}

impl fmt::Debug for TokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClaims")
            .field("iss", &self.issuer())
            .field("sub", &self.subject())
            .field("aud", &self.audience().collect::<Vec<_>>())
            .field("exp", &self.expires_at())
            .finish_non_exhaustive()
    }
}

/// The claims do not fit the type they were read into.
#[derive(Debug, thiserror::Error)]
#[error("claims do not match the expected type: {0}")]
pub struct ClaimsError(#[source] serde_json::Error);
