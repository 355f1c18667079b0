//! `ScopeMapLayer`: requirements by path; the exact rule, then the longest prefix, then the
//! fallback; fail closed by default.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, ScopeMapLayer, ScopeRequirement};

async fn status(
    layer: ScopeMapLayer,
    bearer: BearerLayer,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String) {
    let svc = ServiceBuilder::new()
        .layer(bearer)
        .layer(layer)
        .service(service_fn(|_req: Request<Full<Bytes>>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        }));
    let mut req = Request::builder().uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = svc
        .oneshot(req.body(Full::default()).unwrap())
        .await
        .unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status(), challenge)
}

fn map() -> ScopeMapLayer {
    ScopeMapLayer::new()
        .prefix("/stock.v1.Stock/", ScopeRequirement::all(["stock:read"]))
        .prefix(
            "/stock.v1.Stock/Admin/",
            ScopeRequirement::all(["stock:admin"]),
        )
        .path(
            "/stock.v1.Stock/Update",
            ScopeRequirement::all(["stock:write"]),
        )
}

#[tokio::test]
async fn the_exact_rule_then_the_longest_prefix_then_refusal() {
    let issuer = TestIssuer::new();
    let read = issuer.token().scopes(["stock:read"]).sign();
    let write = issuer.token().scopes(["stock:write"]).sign();
    let admin = issuer.token().scopes(["stock:admin"]).sign();
    let bearer = || BearerLayer::new(issuer.validator());
    let s = |path: &'static str, token: &str| {
        let token = token.to_owned();
        async move { status(map(), bearer(), path, Some(&token)).await }
    };
    assert_eq!(s("/stock.v1.Stock/Get", &read).await.0, StatusCode::OK);
    let (code, challenge) = s("/stock.v1.Stock/Get", &write).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(challenge.ends_with(r#"scope="stock:read""#), "{challenge}");
    // The exact rule wins over the prefix.
    assert_eq!(s("/stock.v1.Stock/Update", &write).await.0, StatusCode::OK);
    assert_eq!(
        s("/stock.v1.Stock/Update", &read).await.0,
        StatusCode::FORBIDDEN
    );
    // The longer prefix wins over the shorter one.
    assert_eq!(
        s("/stock.v1.Stock/Admin/Reset", &admin).await.0,
        StatusCode::OK
    );
    assert_eq!(
        s("/stock.v1.Stock/Admin/Reset", &read).await.0,
        StatusCode::FORBIDDEN
    );
    // A prefix covers whole segments: `/stock.v1.Stock/` is not `/stock.v1.StockAdmin/`.
    let (code, challenge) = s("/stock.v1.StockAdmin/Delete", &read).await;
    assert_eq!((code, challenge.as_str()), (StatusCode::FORBIDDEN, ""));
    // No rule: refused, without a challenge (no scope would help).
    let (code, challenge) = s("/other.v1.Svc/Call", &admin).await;
    assert_eq!((code, challenge.as_str()), (StatusCode::FORBIDDEN, ""));
    // Unauthenticated requests never reach the map: 401 from the bearer layer.
    assert_eq!(
        status(map(), bearer(), "/stock.v1.Stock/Get", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn fallbacks_and_optional_layers() {
    let issuer = TestIssuer::new();
    let token = issuer.token().scopes(["x"]).sign();
    let bearer = || BearerLayer::new(issuer.validator());
    let any = map().otherwise_authenticated();
    assert_eq!(
        status(any, bearer(), "/other/Call", Some(&token)).await.0,
        StatusCode::OK
    );
    let fallback = map().otherwise(ScopeRequirement::all(["y"]));
    let (code, challenge) = status(fallback, bearer(), "/other/Call", Some(&token)).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(challenge.ends_with(r#"scope="y""#), "{challenge}");
    // Optional layer, no token: 401 for a listed and an unlisted path alike.
    let optional = || BearerLayer::optional(issuer.validator());
    let (code, challenge) = status(map(), optional(), "/stock.v1.Stock/Get", None).await;
    assert_eq!(
        (code, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, r#"Bearer scope="stock:read""#)
    );
    let (code, challenge) = status(map(), optional(), "/other/Call", None).await;
    assert_eq!(
        (code, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
}

#[test]
fn bad_rules_are_configuration_errors() {
    let e = ScopeMapLayer::new()
        .try_path("grpc.health.v1.Health/Check", ScopeRequirement::all(["a"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("must start with '/'"), "{e}");
    let e = ScopeMapLayer::new()
        .path("/a", ScopeRequirement::all(["a"]))
        .try_path("/a", ScopeRequirement::all(["b"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("two rules"), "{e}");
    let e = ScopeMapLayer::new()
        .try_prefix("/stock.v1.Stock", ScopeRequirement::all(["a"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("must end with '/'"), "{e}");
    let e = ScopeMapLayer::new()
        .prefix("/a/", ScopeRequirement::all(["a"]))
        .try_prefix("/a/", ScopeRequirement::all(["b"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("two rules"), "{e}");
    let guards: Vec<_> = map()
        .guards()
        .flat_map(|g| {
            g.requirement()
                .scopes()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(guards.len(), 3);
}

/// Under `Router::nest`, rules name the path the client addressed.
#[tokio::test]
async fn rules_match_the_addressed_path_under_a_nested_router() {
    use axum::routing::get;
    let issuer = TestIssuer::new();
    let read = issuer.token().scopes(["stock:read"]).sign();
    let inner = axum::Router::new()
        .route("/stock.v1.Stock/Get", get(|| async { "ok" }))
        .layer(ScopeMapLayer::new().path(
            "/api/stock.v1.Stock/Get",
            ScopeRequirement::all(["stock:read"]),
        ));
    let app = axum::Router::new()
        .nest("/api", inner)
        .layer(BearerLayer::new(issuer.validator()));
    let req = Request::builder()
        .uri("/api/stock.v1.Stock/Get")
        .header("authorization", format!("Bearer {read}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::OK);
}
