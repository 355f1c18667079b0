//! `htu` against the URL the client addressed (RFC 9449 §4.3, RFC 3986 §6.2): dot segments,
//! IPv6 hosts, an empty host, absolute-form request targets, and a public base URL that a
//! request path must not climb out of.

use axum::body::Body;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_bearer::dpop::{Dpop, DpopBuilder};
use tower_bearer::testing::{DpopClient, TestIssuer};
use tower_bearer::{Algorithm, BearerLayer};

struct Setup {
    client: DpopClient,
    token: String,
    app: Router,
}

/// Every path answers `ok` once the layer let the request through.
fn setup(dpop: DpopBuilder) -> Setup {
    let issuer = TestIssuer::new();
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer.token().dpop_bound(&client).sign();
    let app = Router::new()
        .fallback(|| async { "ok" })
        .layer(BearerLayer::new(issuer.validator()).dpop(dpop.build().unwrap()));
    Setup { client, token, app }
}

impl Setup {
    /// `GET uri` with `Host: host` and a proof for `htu`: the status and the
    /// `error_description` (empty when there is none).
    async fn call(&self, uri: &str, host: &str, htu: &str) -> (StatusCode, String) {
        let proof = self.client.proof("GET", htu, &self.token);
        let req = Request::builder()
            .uri(uri)
            .header("host", host)
            .header("authorization", format!("DPoP {}", self.token))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let description = body["error_description"].as_str().unwrap_or("").to_owned();
        (status, description)
    }
}

fn ok() -> (StatusCode, String) {
    (StatusCode::OK, String::new())
}

fn refused(why: &str) -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, why.to_owned())
}

/// A final `.` or `..` segment leaves a trailing slash (RFC 3986 §5.2.4).
#[tokio::test]
async fn a_final_dot_segment_leaves_a_trailing_slash() {
    let s = setup(Dpop::allowed());
    for htu in [
        "https://api.test/b/",
        "https://api.test/b/.",
        "https://api.test/b/c/..",
        "https://api.test/b/./",
    ] {
        assert_eq!(s.call("/b/", "api.test", htu).await, ok(), "{htu}");
    }
    assert_eq!(
        s.call("/b", "api.test", "https://api.test/b/.").await,
        refused("DPoP proof htu does not match the request URL")
    );
}

/// An IPv6 literal's colons are not a port separator.
#[tokio::test]
async fn ipv6_hosts_with_and_without_a_port() {
    let s = setup(Dpop::allowed());
    assert_eq!(s.call("/users", "[::1]", "https://[::1]/users").await, ok());
    assert_eq!(
        s.call("/users", "[::1]:8443", "https://[::1]:8443/users")
            .await,
        ok()
    );
    assert_eq!(
        s.call("/users", "[::1]:8443", "https://[::1]/users").await,
        refused("DPoP proof htu does not match the request URL")
    );
}

/// A port without a host is not a URL, in `htu` or in the `Host` header.
#[tokio::test]
async fn an_empty_host_is_never_a_url() {
    let s = setup(Dpop::allowed());
    assert_eq!(
        s.call("/users", ":443", "https://:443/users").await,
        refused("DPoP proof htu is not a URL")
    );
    assert_eq!(
        s.call("/users", ":443", "https://api.test/users").await,
        refused("request URL unknown")
    );
}

/// An absolute-form request target (RFC 9112 §3.2.2) names the URL itself; the `Host`
/// header does not override it.
#[tokio::test]
async fn an_absolute_form_target_is_the_url_the_client_addressed() {
    let s = setup(Dpop::allowed());
    assert_eq!(
        s.call(
            "https://api.test/users",
            "elsewhere.test",
            "https://api.test/users"
        )
        .await,
        ok()
    );
    assert_eq!(
        s.call(
            "https://api.test/users",
            "elsewhere.test",
            "https://elsewhere.test/users"
        )
        .await,
        refused("DPoP proof htu does not match the request URL")
    );
}

/// Behind a public base URL, dot segments in the request path cannot reach a URL outside the
/// base, nor the base itself, even when the proof signs that URL.
#[tokio::test]
async fn a_request_path_cannot_climb_out_of_the_public_base_url() {
    let s = setup(Dpop::allowed().public_base_url("https://h.test/api"));
    assert_eq!(
        s.call("/users", "internal.test", "https://h.test/api/users")
            .await,
        ok()
    );
    for (path, htu) in [
        // Out of the base, to a URL whose byte after the base's length is a slash.
        ("/../abc/def", "https://h.test/abc/def"),
        ("/../xyz/", "https://h.test/xyz/"),
        // Back to the base itself, without the slash that would follow it.
        ("/../api", "https://h.test/api"),
    ] {
        assert_eq!(
            s.call(path, "internal.test", htu).await,
            refused("request URL unknown"),
            "{path}"
        );
    }
}
