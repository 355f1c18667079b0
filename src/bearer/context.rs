//! What guards and extractors further in learn from the layer: that it ran, and how to
//! render their rejections.

use std::sync::Arc;

use crate::reject::render::Render;
use crate::source::BearerToken;

/// Put into the extensions of requests that pass [`Bearer`](super::Bearer) unauthenticated (optional mode);
/// its presence tells guards and extractors that the layer ran. Authenticated requests carry
/// the same settings in their [`BearerToken`](crate::BearerToken), which saves an extension.
#[derive(Clone, Debug)]
pub(crate) struct AuthContext(pub(crate) Arc<Render>);

/// How this request's rejections render, if a `Bearer` layer saw it.
pub(crate) fn context(ext: &http::Extensions) -> Option<&Arc<Render>> {
    match ext.get::<BearerToken>().and_then(|t| t.render()) {
        Some(render) => Some(render),
        None => ext.get::<AuthContext>().map(|c| &c.0),
    }
}

/// The URI the client addressed. Under axum's `Router::nest` the request's own URI has lost
/// the outer path; axum keeps the original as `OriginalUri` (feature `axum`). A DPoP proof
/// signs it, and path rules name it.
pub(crate) fn addressed_uri<B>(req: &http::Request<B>) -> &http::Uri {
    #[cfg(feature = "axum")]
    if let Some(original) = req.extensions().get::<axum::extract::OriginalUri>() {
        return &original.0;
    }
    req.uri()
}
