//! The response future of [`Bearer`](super::Bearer) and [`RequireScope`](crate::RequireScope).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, VARY};
use http::Response;
use pin_project_lite::pin_project;

type Waiting<B, E> = Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>>;

pin_project! {
    /// Response future of [`Bearer`] and [`RequireScope`](crate::RequireScope).
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
        mark: Mark,
    }
}

/// What an answer must say about caching, by how the request brought its token.
#[derive(Debug, Clone, Default)]
pub(crate) enum Mark {
    /// Nothing to add.
    #[default]
    None,
    /// `Cache-Control: private` (the query, RFC 6750 §2.3).
    Private,
    /// `Cache-Control: private` and `Vary` naming the header the token came in.
    Vary(HeaderName),
    /// `Vary` alone: an unauthenticated answer of an optional layer that also reads these
    /// headers (a cookie, a named header), which a token in them would have changed.
    VaryOnly(Arc<[HeaderName]>),
}

impl Mark {
    pub(crate) fn new(private: bool, vary: Option<HeaderName>) -> Self {
        match (private, vary) {
            (false, _) => Mark::None,
            (true, None) => Mark::Private,
            (true, Some(name)) => Mark::Vary(name),
        }
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
    pub(crate) fn waiting(future: Waiting<B, E>, mark: Mark) -> Self {
        Self {
            kind: Kind::Waiting { future },
            mark,
        }
    }

    pub(crate) fn inner_future(future: F) -> Self {
        Self::inner(future, Mark::None)
    }

    pub(crate) fn rejected_response(response: Response<B>) -> Self {
        Self::rejected(response, Mark::None)
    }

    pub(crate) fn inner(future: F, mark: Mark) -> Self {
        Self {
            kind: Kind::Inner { future },
            mark,
        }
    }

    pub(crate) fn rejected(response: Response<B>, mark: Mark) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
            mark,
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
        let mut response = match (this.kind.project(), &*this.mark) {
            // Nothing to add, the everyday case: the inner answer is passed on as it comes,
            // not moved through this frame.
            (KindProj::Inner { future }, Mark::None) => return future.poll(cx),
            (KindProj::Inner { future }, _) => ready!(future.poll(cx))?,
            (KindProj::Waiting { future }, _) => ready!(future.as_mut().poll(cx))?,
            (KindProj::Rejected { response }, _) => match response.take() {
                Some(r) => r,
                None => panic!("ResponseFuture polled after completion"),
            },
        };
        match this.mark {
            Mark::None => {}
            Mark::Private => mark_private(&mut response),
            Mark::Vary(name) => {
                mark_private(&mut response);
                add_vary(&mut response, name);
            }
            Mark::VaryOnly(names) => {
                for name in names.iter() {
                    add_vary(&mut response, name);
                }
            }
        }
        Poll::Ready(Ok(response))
    }
}

/// RFC 6750 §2.3: responses to a query-token request should not be cached publicly; nor
/// those to a request whose token came in a cookie or a header shared caches do not know.
///
/// The handler's own directives are kept (`no-cache`, `max-age=0`, …), except those that
/// would let a shared cache keep the answer (`public`, `s-maxage`), and `private` is added.
fn mark_private<B>(response: &mut Response<B>) {
    let headers = response.headers_mut();
    let current: Vec<&str> = headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let directive = |d: &str| d.split('=').next().unwrap_or(d).trim().to_ascii_lowercase();
    if current
        .iter()
        .any(|d| matches!(directive(d).as_str(), "private" | "no-store"))
    {
        return;
    }
    let mut kept: Vec<&str> = current
        .into_iter()
        .filter(|d| !matches!(directive(d).as_str(), "public" | "s-maxage"))
        .collect();
    kept.push("private");
    let value = HeaderValue::from_str(&kept.join(", "))
        .unwrap_or_else(|_| HeaderValue::from_static("private"));
    headers.insert(CACHE_CONTROL, value);
}

/// Add `name` to `Vary`, unless it (or `*`) is already there.
fn add_vary<B>(response: &mut Response<B>, name: &HeaderName) {
    let headers = response.headers_mut();
    let listed = headers.get_all(VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|n| {
                let n = n.trim();
                n == "*" || n.eq_ignore_ascii_case(name.as_str())
            })
        })
    });
    if !listed {
        headers.append(VARY, HeaderValue::from(name.clone()));
    }
}
