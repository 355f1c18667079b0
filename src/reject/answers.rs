//! [`Answers`]: the HTTP answer to each fixed rejection, rendered once per layer and cloned
//! afterwards.
//!
//! A layer's realm, `resource_metadata`, DPoP challenge and body format do not change once it
//! is built, so the answer to a rejection with a [`Reason`] (and no per-request part: no scope,
//! nonce, retry hint or step-up parameters) is the same every time. The first such rejection
//! renders it through the general renderer ([`Rejection::render`]), which is what keeps the
//! two byte for byte equal; later ones clone its status, headers and body (`HeaderValue` and
//! `Bytes` clones share the bytes). A custom body format is never cached: the user's
//! responder runs for every rejection.

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Response, StatusCode};

use super::reason::Reason;
use super::rejection::Rejection;

/// One rendered answer.
struct Answer {
    status: StatusCode,
    /// In the order the renderer wrote them (a field's values in order).
    headers: Box<[(HeaderName, HeaderValue)]>,
    body: Bytes,
}

/// Room for the headers the layers outside add to an answer (`Content-Length`, CORS…)
/// without growing the map.
const SPARE_HEADERS: usize = 3;

impl Answer {
    fn of(response: Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        let mut last = None;
        let headers = parts
            .headers
            .into_iter()
            .filter_map(|(name, value)| {
                // `None`: another value of the field named last.
                last = name.or_else(|| last.clone());
                Some((last.clone()?, value))
            })
            .collect();
        Self {
            status: parts.status,
            headers,
            body,
        }
    }

    /// A fresh map with room to spare: a clone of a `HeaderMap` has none, and the first
    /// header added to it (axum adds `Content-Length`) would reallocate it.
    #[inline]
    fn response<B: From<Bytes>>(&self) -> Response<B> {
        let mut headers = HeaderMap::with_capacity(self.headers.len() + SPARE_HEADERS);
        for (name, value) in self.headers.iter() {
            headers.append(name.clone(), value.clone());
        }
        let mut response = Response::new(B::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }
}

/// Slots for every (reason, scheme) pair: a `Bearer`-scheme and a `DPoP`-scheme answer.
const SLOTS: usize = Reason::COUNT * 2;

/// The answers of one rendering configuration, each built on first use.
///
/// A clone starts empty: [`Render`](super::render::Render) is cloned to build another
/// configuration (another realm, format…), whose answers differ.
#[derive(Default)]
pub(crate) struct Answers(OnceLock<Box<[OnceLock<Answer>]>>);

impl Clone for Answers {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for Answers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let built = self.0.get().map_or(0, |slots| {
            slots.iter().filter(|s| s.get().is_some()).count()
        });
        f.debug_struct("Answers").field("built", &built).finish()
    }
}

impl Answers {
    /// The answer to `rejection` if it is a fixed one, rendering it with `render` the first
    /// time; `None` for a rejection with per-request parts.
    #[inline]
    pub(crate) fn answer<B: From<Bytes>>(
        &self,
        rejection: &Rejection,
        render: impl FnOnce() -> Response<Bytes>,
    ) -> Option<Response<B>> {
        let reason = rejection.fixed_reason()?;
        let slot = reason.index() * 2 + usize::from(rejection.dpop);
        let slots = self
            .0
            .get_or_init(|| (0..SLOTS).map(|_| OnceLock::new()).collect());
        let answer = slots.get(slot)?.get_or_init(|| Answer::of(render()));
        Some(answer.response())
    }
}
