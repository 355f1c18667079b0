//! [`ErrorFormat`]: how a rejection's body is written.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::Response;

use super::code::ErrorCode;
use super::rejection::Rejection;

pub(crate) fn json_response(rejection: &Rejection, problem: bool) -> Response<Bytes> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<&'a str>,
        error: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_description: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        acr_values: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_age: Option<u64>,
    }
    let status = rejection.status();
    // The body names scopes only for insufficient_scope; a 401 carries them in its challenge.
    let body_scope = rejection
        .scope()
        .filter(|_| rejection.code == ErrorCode::InsufficientScope);
    let body = if problem {
        Body {
            kind: Some("about:blank"),
            title: status.canonical_reason(),
            status: Some(status.as_u16()),
            detail: Some(rejection.description()),
            error: rejection.code.as_str(),
            error_description: None,
            scope: body_scope,
            acr_values: rejection.acr_values(),
            max_age: rejection.max_age(),
        }
    } else {
        Body {
            kind: None,
            title: None,
            status: None,
            detail: None,
            error: rejection.code.as_str(),
            error_description: Some(rejection.description()),
            scope: body_scope,
            acr_values: rejection.acr_values(),
            max_age: rejection.max_age(),
        }
    };
    // Serializing a struct of strings and integers into a Vec cannot fail.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(Bytes::from(bytes));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(if problem {
            "application/problem+json"
        } else {
            "application/json"
        }),
    );
    response
}

type CustomResponder = Arc<dyn Fn(&Rejection) -> Response<Bytes> + Send + Sync>;

/// How a rejection's body is written.
///
/// The status, `WWW-Authenticate`, `Retry-After` and `Cache-Control: no-store` headers are set
/// in every format, so a custom responder cannot forget the challenge.
#[derive(Clone, Default)]
pub struct ErrorFormat(pub(crate) Format);

#[derive(Clone, Default)]
pub(crate) enum Format {
    #[default]
    Json,
    ProblemJson,
    Empty,
    Custom(CustomResponder),
}

impl ErrorFormat {
    /// `application/json`: `{"error": "...", "error_description": "...", "scope": "..."}` (the
    /// default).
    pub fn json() -> Self {
        Self(Format::Json)
    }

    /// RFC 9457 `application/problem+json`, with `error` and `scope` as extension members.
    pub fn problem_json() -> Self {
        Self(Format::ProblemJson)
    }

    /// No body at all.
    pub fn empty() -> Self {
        Self(Format::Empty)
    }

    /// Your own responder. Status and challenge headers are set after it runs.
    ///
    /// ```
    /// use tower_bearer::{ErrorFormat, Rejection};
    /// use bytes::Bytes;
    ///
    /// let format = ErrorFormat::custom(|rejection: &Rejection| {
    ///     http::Response::new(Bytes::from(format!("denied: {}", rejection.description())))
    /// });
    /// # let _ = format;
    /// ```
    pub fn custom<F>(responder: F) -> Self
    where
        F: Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static,
    {
        Self(Format::Custom(Arc::new(responder)))
    }
}

impl fmt::Debug for ErrorFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Format::Json => "ErrorFormat::Json",
            Format::ProblemJson => "ErrorFormat::ProblemJson",
            Format::Empty => "ErrorFormat::Empty",
            Format::Custom(_) => "ErrorFormat::Custom",
        })
    }
}
