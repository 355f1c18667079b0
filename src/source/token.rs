//! [`BearerToken`]: the raw token of an authenticated request.

use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;

use crate::reject::render::Render;

/// The raw access token of an authenticated request.
///
/// `Debug` and `Display` print `[redacted]`; read it with [`BearerToken::as_str`] when you
/// must forward it (for example to call another API on the user's behalf).
#[derive(Clone)]
pub struct BearerToken {
    value: HeaderValue,
    start: usize,
    end: usize,
    /// The layer's rendering settings, for guards and extractors further in.
    render: Option<Arc<Render>>,
    /// Presented with the `DPoP` scheme.
    pub(crate) dpop: bool,
}

impl BearerToken {
    /// The token is `value[start..]`.
    pub(crate) fn from_header(value: HeaderValue, start: usize) -> Self {
        let end = value.len();
        Self::within(value, start, end)
    }

    /// The token is `value[start..end]` (a cookie among others in one `Cookie` field).
    pub(crate) fn within(value: HeaderValue, start: usize, end: usize) -> Self {
        Self {
            value,
            start,
            end,
            render: None,
            dpop: false,
        }
    }

    pub(crate) fn owned(token: &str) -> Option<Self> {
        HeaderValue::from_str(token)
            .ok()
            .map(|value| Self::from_header(value, 0))
    }

    pub(crate) fn with_render(mut self, render: Arc<Render>) -> Self {
        self.render = Some(render);
        self
    }

    pub(crate) fn render(&self) -> Option<&Arc<Render>> {
        self.render.as_ref()
    }

    /// Whether the token came with the `DPoP` scheme and a verified proof (RFC 9449), rather
    /// than as a plain bearer token.
    pub fn is_dpop(&self) -> bool {
        self.dpop
    }

    /// The token's bytes, not checked as text.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.value
            .as_bytes()
            .get(self.start..self.end)
            .unwrap_or_default()
    }

    /// The token text (empty for bytes that are not text: the layer refuses such a token
    /// before any handler or guard sees it).
    pub fn as_str(&self) -> &str {
        // A token from the `Authorization` header may hold obs-text bytes until it is
        // refused; every accepted token is ASCII.
        self.value
            .as_bytes()
            .get(self.start..self.end)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

impl fmt::Display for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
