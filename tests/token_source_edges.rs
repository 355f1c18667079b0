//! Where a token is found (RFC 6750 §2), at the edges: a scheme with no token (named in the
//! answer), an empty query parameter, the form body's size cap, and which responses are
//! marked private.

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::dpop::Dpop;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, FormTokenLayer};

/// Status, `WWW-Authenticate` and `error_description` of an answer.
async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let description = body["error_description"].as_str().unwrap_or("").to_owned();
    (status, challenge, description)
}

fn app(layer: BearerLayer) -> Router {
    Router::new()
        .route("/me", post(|| async { "ok" }).get(|| async { "ok" }))
        .layer(layer)
}

fn get_with_authorization(value: &str) -> Request<Body> {
    Request::get("/me")
        .header("authorization", value)
        .body(Body::empty())
        .unwrap()
}

/// A scheme with nothing after it is a malformed request, and the answer says which scheme.
#[tokio::test]
async fn a_scheme_without_a_token_is_named() {
    let issuer = TestIssuer::new();
    let dpop = app(issuer.layer().dpop(Dpop::allowed().build().unwrap()));
    for (value, why) in [
        ("Bearer", "Bearer scheme without a token"),
        ("Bearer   ", "Bearer scheme without a token"),
        ("DPoP", "DPoP scheme without a token"),
        ("DPoP   ", "DPoP scheme without a token"),
    ] {
        let (status, _, description) = send(&dpop, get_with_authorization(value)).await;
        assert_eq!(
            (status, description.as_str()),
            (StatusCode::BAD_REQUEST, why),
            "{value:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_query_token_is_named() {
    let issuer = TestIssuer::new();
    let on = app(issuer.layer().allow_query_token());
    for uri in ["/me?access_token=", "/me?a=1&access_token"] {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        let (status, _, description) = send(&on, req).await;
        assert_eq!(
            (status, description.as_str()),
            (StatusCode::BAD_REQUEST, "empty access_token parameter"),
            "{uri}"
        );
    }
}

fn form_post(body: String) -> Request<Body> {
    Request::post("/me")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// A form body up to the cap (64 KiB by default, or what `limit` says) is read; a larger one
/// is answered `400`.
#[tokio::test]
async fn the_form_body_cap_is_64_kib_unless_set() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    // A form with the token after 16 KiB of other fields.
    let body = format!("pad={}&access_token={token}", "x".repeat(16 * 1024));
    let default = app(issuer.layer()).layer(FormTokenLayer::new());
    assert_eq!(
        send(&default, form_post(body.clone())).await,
        (StatusCode::OK, String::new(), String::new())
    );
    let too_large = format!("pad={}&access_token={token}", "x".repeat(64 * 1024));
    let (status, _, description) = send(&default, form_post(too_large)).await;
    assert_eq!(
        (status, description.as_str()),
        (StatusCode::BAD_REQUEST, "form body too large or unreadable")
    );
    let capped = app(issuer.layer()).layer(FormTokenLayer::new().limit(1024));
    let (status, _, description) = send(&capped, form_post(body)).await;
    assert_eq!(
        (status, description.as_str()),
        (StatusCode::BAD_REQUEST, "form body too large or unreadable")
    );
    let small = format!("access_token={token}");
    assert_eq!(
        send(&capped, form_post(small)).await,
        (StatusCode::OK, String::new(), String::new())
    );
}

/// RFC 6750 §2.3: a response to a request authenticated by a query token is marked private;
/// one authenticated by the `Authorization` header keeps the handler's own `Cache-Control`.
#[tokio::test]
async fn only_query_token_responses_are_marked_private() {
    let issuer = TestIssuer::new();
    let token = issuer.token().sign();
    let app = Router::new()
        .route(
            "/page",
            axum::routing::get(|| async { ([("cache-control", "public, max-age=60")], "page") }),
        )
        .layer(issuer.layer().allow_query_token());
    let cache_control = |req: Request<Body>| {
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    let by_header = Request::get("/page")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        cache_control(by_header).await.as_deref(),
        Some("public, max-age=60")
    );
    let by_query = Request::get(format!("/page?access_token={token}"))
        .body(Body::empty())
        .unwrap();
    // The handler's directives are kept, less what would let a shared cache store it.
    assert_eq!(
        cache_control(by_query).await.as_deref(),
        Some("max-age=60, private")
    );
}

/// `FormTokenLayer` passes readiness through (tower's contract): a concurrency limit inside
/// it is polled ready before each call, for a form body and for any other request.
#[tokio::test]
async fn the_form_layer_polls_the_inner_service_ready() {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http::Response;
    use http_body_util::{Either, Full};
    use tower::ServiceBuilder;

    let svc = ServiceBuilder::new()
        .layer(FormTokenLayer::new())
        .concurrency_limit(1)
        .service_fn(|_: Request<Either<Full<Bytes>, Full<Bytes>>>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
        });
    let form = Request::post("/me")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from("access_token=abc")))
        .unwrap();
    let other = Request::get("/me").body(Full::new(Bytes::new())).unwrap();
    for req in [form, other] {
        let resp = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

/// In a query (form-urlencoded) token, `+` is a space, so the token is malformed; `%2B` is a
/// `+`, which the token grammar allows. Sent from a thread with a deadline, so that a decoder
/// that never finishes fails the test instead of hanging it.
#[test]
fn a_plus_in_a_query_token_is_a_space() {
    let (done, answers) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let issuer = TestIssuer::new();
        let on = app(issuer.layer().allow_query_token());
        for uri in ["/me?access_token=ab+cd", "/me?access_token=ab%2Bcd"] {
            let req = Request::get(uri).body(Body::empty()).unwrap();
            let (status, _, description) = rt.block_on(send(&on, req));
            let _ = done.send((status, description));
        }
    });
    let next = || {
        answers
            .recv_timeout(std::time::Duration::from_secs(3))
            .expect("the query is decoded at once")
    };
    assert_eq!(
        next(),
        (StatusCode::BAD_REQUEST, "malformed bearer token".to_owned())
    );
    assert_eq!(next().0, StatusCode::UNAUTHORIZED);
}

/// Bytes that are not text (obs-text, which HTTP allows in a field value) in a token: a
/// malformed request, never a validation of something else, and the layer does not panic.
/// The `Authorization` header's token goes to the validator unchecked as text, so the bytes
/// go into each segment, under both schemes; a cookie or a named header refuses them itself.
#[tokio::test]
async fn a_token_that_is_not_text_is_a_malformed_request() {
    let issuer = TestIssuer::new();
    let valid = issuer.token().scopes(["users:read"]).sign();
    let dots: Vec<usize> = valid.match_indices('.').map(|(i, _)| i).collect();
    let sources = tower_bearer::TokenSources::default()
        .cookie("at")
        .header("x-api-token");
    let app = app(issuer
        .layer()
        .token_sources(sources)
        .dpop(Dpop::allowed().build().unwrap()));
    let places = [0, dots[0] / 2, dots[0] + 5, dots[1] + 3, valid.len()];
    for (name, prefix) in [
        ("authorization", "Bearer "),
        ("authorization", "DPoP "),
        ("x-api-token", ""),
        ("cookie", "at="),
    ] {
        for at in places {
            for bad in [&b"\xe9"[..], b"\xff\xfe", b"\xc3\xa9"] {
                let mut value = format!("{prefix}{}", &valid[..at]).into_bytes();
                value.extend_from_slice(bad);
                value.extend_from_slice(&valid.as_bytes()[at..]);
                let req = Request::get("/me")
                    .header(name, http::HeaderValue::from_bytes(&value).unwrap())
                    .body(Body::empty())
                    .unwrap();
                let (status, _, _) = send(&app, req).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{name} at {at} {bad:?}");
            }
        }
    }
    let req = get_with_authorization(&format!("Bearer {valid}"));
    assert_eq!(send(&app, req).await.0, StatusCode::OK);
}
