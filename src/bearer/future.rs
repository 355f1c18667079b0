//! The response future of [`Bearer`](super::Bearer) and [`RequireScope`](crate::RequireScope).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::header::{HeaderValue, CACHE_CONTROL};
use http::Response;
use pin_project_lite::pin_project;

type Waiting<B, E> = Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>>;

pin_project! {
    /// Response future of [`Bearer`] and [`RequireScope`](crate::RequireScope).
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
        private: bool,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<B>> },
        // Only when keys must be fetched before the token can be checked.
        Waiting { future: Waiting<B, E> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn waiting(future: Waiting<B, E>, private: bool) -> Self {
        Self {
            kind: Kind::Waiting { future },
            private,
        }
    }

    pub(crate) fn inner_future(future: F) -> Self {
        Self::inner(future, false)
    }

    pub(crate) fn rejected_response(response: Response<B>) -> Self {
        Self::rejected(response, false)
    }

    pub(crate) fn inner(future: F, private: bool) -> Self {
        Self {
            kind: Kind::Inner { future },
            private,
        }
    }

    pub(crate) fn rejected(response: Response<B>, private: bool) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
            private,
        }
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.kind.project() {
            KindProj::Inner { future } => ready!(future.poll(cx))?,
            KindProj::Waiting { future } => ready!(future.as_mut().poll(cx))?,
            KindProj::Rejected { response } => match response.take() {
                Some(r) => r,
                None => panic!("ResponseFuture polled after completion"),
            },
        };
        if *this.private {
            mark_private(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}

/// RFC 6750 §2.3: responses to a query-token request should not be cached publicly.
fn mark_private<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    let already = headers
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("private") || v.contains("no-store"));
    if !already {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    }
}
