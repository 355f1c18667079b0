//! Turning a [`Rejection`] into an HTTP answer.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Response};

use super::answers::Answers;
use super::challenge::DpopChallenge;
use super::format::{json_response, ErrorFormat, Format};
use super::rejection::Rejection;

impl Rejection {
    /// Render the response with the given realm and body format.
    pub fn to_response(&self, realm: Option<&str>, format: &ErrorFormat) -> Response<Bytes> {
        self.render(realm, None, None, format)
    }

    pub(crate) fn render(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
        format: &ErrorFormat,
    ) -> Response<Bytes> {
        let mut response = match &format.0 {
            Format::Json => json_response(self, false),
            Format::ProblemJson => json_response(self, true),
            Format::Empty => Response::new(Bytes::new()),
            Format::Custom(f) => f(self),
        };
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        self.headers(realm, resource_metadata, dpop, headers);
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The challenges, `DPoP-Nonce` and `Retry-After` of this answer.
    pub(crate) fn headers(
        &self,
        realm: Option<&str>,
        resource_metadata: Option<&str>,
        dpop: Option<&DpopChallenge>,
        headers: &mut HeaderMap,
    ) {
        let (first, second) = self.challenges(realm, resource_metadata, dpop);
        if let Some(challenge) = first {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(challenge) = second {
            headers.append(WWW_AUTHENTICATE, challenge);
        }
        if let Some(nonce) = self
            .nonce
            .as_deref()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            headers.insert(http::HeaderName::from_static("dpop-nonce"), nonce);
        }
        if let Some(secs) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
    }
}

/// How rejections are rendered; shared with guards and extractors through the request's
/// extensions so every answer of one service looks the same.
#[derive(Debug, Default, Clone)]
pub(crate) struct Render {
    pub(crate) realm: Option<Arc<str>>,
    pub(crate) format: ErrorFormat,
    pub(crate) resource_metadata: Option<Arc<str>>,
    pub(crate) dpop: Option<DpopChallenge>,
    /// The answers to fixed rejections under this configuration (empty in a clone).
    pub(crate) answers: Answers,
}

impl Render {
    /// The answer to a request: gRPC for a gRPC call (a `POST` with a gRPC content type),
    /// else HTTP.
    pub(crate) fn respond_to<B: From<Bytes>>(
        &self,
        rejection: &Rejection,
        method: &http::Method,
        request: &HeaderMap,
    ) -> Response<B> {
        if method == http::Method::POST && super::is_grpc(request) {
            rejection
                .render_grpc(
                    self.realm.as_deref(),
                    self.resource_metadata.as_deref(),
                    self.dpop.as_ref(),
                )
                .map(B::from)
        } else {
            self.respond(rejection)
        }
    }

    /// The whole HTTP answer: status, headers and body; for a fixed rejection, a clone of the
    /// answer rendered the first time (except for a custom format, whose responder runs for
    /// every rejection).
    #[inline]
    pub(crate) fn respond<B: From<Bytes>>(&self, rejection: &Rejection) -> Response<B> {
        if !matches!(self.format.0, Format::Custom(_)) {
            if let Some(answer) = self.answers.answer(rejection, || self.render(rejection)) {
                return answer;
            }
        }
        self.render(rejection).map(B::from)
    }

    /// The HTTP answer, rendered now.
    pub(crate) fn render(&self, rejection: &Rejection) -> Response<Bytes> {
        rejection.render(
            self.realm.as_deref(),
            self.resource_metadata.as_deref(),
            self.dpop.as_ref(),
            &self.format,
        )
    }
}
