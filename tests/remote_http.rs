//! Remote keys against a real JWKS endpoint on 127.0.0.1 that each test scripts (body,
//! status, delay, `Cache-Control`) and that counts the requests it gets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::Request;
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_bearer::remote::RemoteOptions;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{Algorithm, BearerLayer, RequireScopeLayer, TokenError, Validator};

#[derive(Clone)]
struct Script {
    status: u16,
    body: String,
    delay: Duration,
    cache_control: Option<String>,
}

#[derive(Clone)]
struct Endpoint {
    script: Arc<Mutex<Script>>,
    hits: Arc<AtomicUsize>,
    addr: SocketAddr,
}

impl Endpoint {
    fn set(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.script.lock().unwrap());
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve_script(State(e): State<Endpoint>) -> Response {
    e.hits.fetch_add(1, Ordering::SeqCst);
    let s = e.script.lock().unwrap().clone();
    tokio::time::sleep(s.delay).await;
    let mut resp = (StatusCode::from_u16(s.status).unwrap(), s.body).into_response();
    if let Some(cc) = s.cache_control {
        resp.headers_mut()
            .insert("cache-control", HeaderValue::from_str(&cc).unwrap());
    }
    resp
}

/// A scripted JWKS endpoint at `/jwks`.
async fn endpoint(body: String) -> Endpoint {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let e = Endpoint {
        script: Arc::new(Mutex::new(Script {
            status: 200,
            body,
            delay: Duration::ZERO,
            cache_control: None,
        })),
        hits: Arc::default(),
        addr,
    };
    let router = Router::new()
        .route("/jwks", get(serve_script))
        .with_state(e.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    e
}

fn options() -> RemoteOptions {
    RemoteOptions::new()
        .allow_http(true)
        .cooldown(Duration::from_millis(300))
        .backoff(Duration::from_millis(100), Duration::from_millis(200))
        .timeout(Duration::from_millis(500))
}

fn remote(issuer: &TestIssuer, e: &Endpoint, opts: RemoteOptions) -> Validator {
    issuer
        .validator_builder_without_keys()
        .jwks_url(e.url("/jwks"))
        .remote_options(opts)
        .build()
        .unwrap()
}

trait WithoutKeys {
    fn validator_builder_without_keys(&self) -> tower_bearer::ValidatorBuilder;
}

impl WithoutKeys for TestIssuer {
    fn validator_builder_without_keys(&self) -> tower_bearer::ValidatorBuilder {
        Validator::builder()
            .issuer(self.issuer_id())
            .audience(self.audience_id())
    }
}

fn app(validator: Validator) -> Router {
    Router::new()
        .route(
            "/users",
            get(|| async { "users" }).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(validator))
}

async fn status(app: &Router, token: &str) -> (StatusCode, Option<String>) {
    let req = Request::get("/users")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), app.clone().oneshot(req))
        .await
        .expect("answer within 10 s")
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status(), retry)
}

/// Two keys in one document.
fn merged(a: &TestIssuer, b: &TestIssuer) -> String {
    let mut ka: Value = serde_json::from_str(&a.jwks()).unwrap();
    let kb: Value = serde_json::from_str(&b.jwks()).unwrap();
    ka["keys"]
        .as_array_mut()
        .unwrap()
        .extend(kb["keys"].as_array().unwrap().iter().cloned());
    ka.to_string()
}

#[tokio::test]
async fn concurrent_first_requests_cause_one_fetch() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    e.set(|s| s.delay = Duration::from_millis(100));
    let app = app(remote(&issuer, &e, options()));
    let token = issuer.token().scopes(["users:read"]).sign();
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { status(&app, &token).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(e.hits(), 1);
}

#[tokio::test]
async fn rotation_new_kid_appears_old_one_retires() {
    let old = TestIssuer::new().kid("old");
    let new = TestIssuer::new().kid("new");
    let e = endpoint(old.jwks()).await;
    let validator = remote(&old, &e, options());
    let app = app(validator.clone());
    assert_eq!(
        status(&app, &old.token().scopes(["users:read"]).sign())
            .await
            .0,
        StatusCode::OK
    );

    // The issuer publishes the new key next to the old one and starts using it.
    e.set(|s| s.body = merged(&old, &new));
    tokio::time::sleep(Duration::from_millis(350)).await; // past the cooldown
    assert_eq!(
        status(&app, &new.token().scopes(["users:read"]).sign())
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(e.hits(), 2);

    // Then retires the old one; after the next refetch its tokens fail.
    e.set(|s| s.body = new.jwks());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let unknown = new.token().header("kid", "brand-new").sign();
    assert_eq!(status(&app, &unknown).await.0, StatusCode::UNAUTHORIZED); // triggers the refetch
    assert_eq!(e.hits(), 3);
    assert_eq!(
        validator.validate(&old.token().sign()).unwrap_err(),
        TokenError::UnknownKey
    );
}

/// The verified-token cache answers only under the key set that verified the token: once a
/// refetch retires the key, the very token it had cached is an unknown key's.
#[tokio::test]
async fn a_cached_token_stops_when_its_key_retires() {
    let old = TestIssuer::new().kid("old");
    let new = TestIssuer::new().kid("new");
    let e = endpoint(merged(&old, &new)).await;
    let validator = old
        .validator_builder_without_keys()
        .jwks_url(e.url("/jwks"))
        .remote_options(options())
        .token_cache(100)
        .build()
        .unwrap();
    let app = app(validator);
    let cached = old.token().scopes(["users:read"]).sign();
    for _ in 0..3 {
        assert_eq!(status(&app, &cached).await.0, StatusCode::OK);
    }
    assert_eq!(e.hits(), 1);

    e.set(|s| s.body = new.jwks());
    tokio::time::sleep(Duration::from_millis(350)).await; // past the cooldown
    let unknown = new.token().header("kid", "brand-new").sign();
    assert_eq!(status(&app, &unknown).await.0, StatusCode::UNAUTHORIZED); // the refetch
    assert_eq!(e.hits(), 2);
    assert_eq!(status(&app, &cached).await.0, StatusCode::UNAUTHORIZED);
    let fresh = new.token().scopes(["users:read"]).sign();
    assert_eq!(status(&app, &fresh).await.0, StatusCode::OK);
}

/// A remote set decides an unknown `kid` after the claims: an expired token naming one is
/// refused as expired and causes no refetch; a current one causes the refetch.
#[tokio::test]
async fn an_expired_token_with_an_unknown_kid_causes_no_refetch() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    let v = remote(&issuer, &e, options());
    v.warm_up().await.unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await; // past the cooldown
    let expired = issuer.token().header("kid", "unknown").expired().sign();
    assert_eq!(
        v.validate_async(&expired).await.unwrap_err(),
        TokenError::Expired
    );
    assert_eq!(e.hits(), 1);
    let current = issuer.token().header("kid", "unknown").sign();
    assert_eq!(
        v.validate_async(&current).await.unwrap_err(),
        TokenError::UnknownKey
    );
    assert_eq!(e.hits(), 2);
}

#[tokio::test]
async fn unknown_kid_storm_costs_one_fetch_per_cooldown() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    let app = app(remote(
        &issuer,
        &e,
        options().cooldown(Duration::from_secs(60)),
    ));
    assert_eq!(
        status(&app, &issuer.token().scopes(["users:read"]).sign())
            .await
            .0,
        StatusCode::OK
    );
    for i in 0..300 {
        let t = issuer.token().header("kid", format!("random-{i}")).sign();
        assert_eq!(status(&app, &t).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(e.hits(), 1, "the storm fetched nothing within the cooldown");
}

#[tokio::test]
async fn outage_with_a_warm_cache_keeps_serving() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    // Keys go stale fast, so every request would like a refresh.
    let v = remote(
        &issuer,
        &e,
        options()
            .min_ttl(Duration::ZERO)
            .default_ttl(Duration::ZERO),
    );
    v.warm_up().await.unwrap();
    e.set(|s| s.status = 500);
    let app = app(v.clone());
    let token = issuer.token().scopes(["users:read"]).sign();
    for _ in 0..20 {
        assert_eq!(status(&app, &token).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(v.keys_loaded());
    assert!(e.hits() >= 2, "background refreshes were attempted");
    assert!(
        e.hits() <= 8,
        "with backoff, not one per request: {}",
        e.hits()
    );
}

/// Past the stale window the key set no longer verifies anything, and the verified-token
/// cache does not answer for it either: a cached token gets what an uncached one gets, 503.
#[tokio::test]
async fn past_the_stale_window_a_cached_token_is_503_too() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    let v = issuer
        .validator_builder_without_keys()
        .jwks_url(e.url("/jwks"))
        .remote_options(
            options()
                .min_ttl(Duration::ZERO)
                .default_ttl(Duration::ZERO)
                .stale_window(Duration::from_millis(300)),
        )
        .token_cache(100)
        .build()
        .unwrap();
    v.warm_up().await.unwrap();
    let app = app(v);
    let token = issuer.token().scopes(["users:read"]).sign();
    assert_eq!(status(&app, &token).await.0, StatusCode::OK);
    e.set(|s| s.status = 500);
    assert_eq!(
        status(&app, &token).await.0,
        StatusCode::OK,
        "within the window"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        status(&app, &token).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn outage_with_a_cold_cache_is_503_never_401() {
    let issuer = TestIssuer::new();
    let e = endpoint(String::new()).await;
    e.set(|s| s.status = 500);
    let app = app(remote(&issuer, &e, options()));
    let (s, retry) = status(&app, &issuer.token().scopes(["users:read"]).sign()).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    // Once the endpoint is back (and the backoff has passed), requests go through.
    e.set(|s| {
        s.status = 200;
        s.body = issuer.jwks();
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let (s, _) = status(&app, &issuer.token().scopes(["users:read"]).sign()).await;
    assert_eq!(s, StatusCode::OK);
}

async fn cold_failure(script: impl FnOnce(&mut Script), opts: RemoteOptions) -> TokenError {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    e.set(script);
    let v = remote(&issuer, &e, opts);
    assert!(v.warm_up().await.is_err());
    v.validate_async(&issuer.token().sign()).await.unwrap_err()
}

#[tokio::test]
async fn slow_endpoint_times_out() {
    let err = cold_failure(|s| s.delay = Duration::from_secs(3), options()).await;
    assert!(matches!(err, TokenError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let err = cold_failure(
        |s| s.body = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(300_000)),
        options(),
    )
    .await;
    assert!(matches!(err, TokenError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn bad_json_is_refused() {
    let err = cold_failure(|s| s.body = "<html>not json</html>".into(), options()).await;
    assert!(matches!(err, TokenError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn mixed_good_and_bad_keys_the_good_one_works() {
    let issuer = TestIssuer::with_algorithm(Algorithm::RS256).kid("good");
    let good: Value = serde_json::from_str(&issuer.jwks()).unwrap();
    let doc = json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI", "kid": "sym"},
        {"kty": "RSA", "use": "enc", "kid": "enc", "n": good["keys"][0]["n"], "e": "AQAB"},
        {"kty": "RSA", "kid": "weak", "n": "wwww", "e": "AQAB"},
        {"kty": "XYZ", "kid": "odd"},
        {"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"},
        good["keys"][0],
    ]});
    let e = endpoint(doc.to_string()).await;
    let v = remote(&issuer, &e, options());
    v.warm_up().await.unwrap();
    assert!(v.validate(&issuer.token().sign()).is_ok());
    let enc = issuer.token().header("kid", "enc").sign();
    assert_eq!(v.validate(&enc).unwrap_err(), TokenError::UnknownKey);
}

#[tokio::test]
async fn cache_control_max_age_is_honoured() {
    let issuer = TestIssuer::new();
    let e = endpoint(issuer.jwks()).await;
    e.set(|s| s.cache_control = Some("public, max-age=1".into()));
    let opts = options().min_ttl(Duration::from_millis(500));
    let v = remote(&issuer, &e, opts.clone());
    v.warm_up().await.unwrap();
    let token = issuer.token().sign();
    // Refresh starts at 80% of the TTL: ask again after 1.2 s, give the background fetch time.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(v.validate(&token).is_ok());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(e.hits(), 2, "refreshed in the background after max-age");

    let long = endpoint(issuer.jwks()).await;
    long.set(|s| s.cache_control = Some("max-age=3600".into()));
    let v = remote(&issuer, &long, opts);
    v.warm_up().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(v.validate(&token).is_ok());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(long.hits(), 1, "a fresh set is not refetched");
}

#[tokio::test]
async fn discovery_openid_then_rfc8414_and_issuer_check() {
    // OpenID Connect's document first; with only RFC 8414's published, the fallback.
    for rfc8414 in [false, true] {
        // Bind first so the documents can name the real address.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let iss = format!("http://{addr}/tenant");
        let issuer = TestIssuer::new().issuer(iss.clone());
        let doc = json!({"issuer": iss, "jwks_uri": format!("http://{addr}/keys")}).to_string();
        let path = if rfc8414 {
            "/.well-known/oauth-authorization-server/tenant"
        } else {
            "/tenant/.well-known/openid-configuration"
        };
        let jwks = issuer.jwks();
        let router = Router::new()
            .route(path, get(move || async move { doc.clone() }))
            .route("/keys", get(move || async move { jwks.clone() }));
        tokio::spawn(async move { axum::serve(listener, router).await });
        let v = Validator::builder()
            .issuer(iss.clone())
            .audience(issuer.audience_id())
            .discover()
            .remote_options(options())
            .build()
            .unwrap();
        v.warm_up()
            .await
            .unwrap_or_else(|e| panic!("rfc8414={rfc8414}: {e}"));
        assert!(
            v.validate(&issuer.token().sign()).is_ok(),
            "rfc8414={rfc8414}"
        );
    }
}

#[tokio::test]
async fn discovery_refuses_a_document_for_another_issuer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let iss = format!("http://{addr}");
    let doc = json!({"issuer": "https://evil.example", "jwks_uri": format!("http://{addr}/keys")})
        .to_string();
    let keys_hits = Arc::new(AtomicUsize::new(0));
    let kh = keys_hits.clone();
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { doc.clone() }),
        )
        .route(
            "/keys",
            get(move || {
                kh.fetch_add(1, Ordering::SeqCst);
                async { "{\"keys\":[]}" }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let v = Validator::builder()
        .issuer(iss)
        .audience("a")
        .discover()
        .remote_options(options())
        .build()
        .unwrap();
    let err = v.warm_up().await.unwrap_err().to_string();
    assert!(err.contains("another issuer"), "{err}");
    assert_eq!(keys_hits.load(Ordering::SeqCst), 0);
}

#[test]
fn plain_http_is_refused_without_allow_http() {
    let err = Validator::builder()
        .issuer("i")
        .audience("a")
        .jwks_url("http://keys.example/jwks")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("plain http refused"), "{err}");
}

#[tokio::test]
async fn redirect_to_another_host_is_not_followed() {
    let issuer = TestIssuer::new();
    let target = endpoint(issuer.jwks()).await;
    // `localhost` is another host name than `127.0.0.1`, even on the same machine.
    let elsewhere = format!("http://localhost:{}/jwks", target.addr.port());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route(
        "/jwks",
        get(move || {
            let to = elsewhere.clone();
            async move { axum::response::Redirect::temporary(&to) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let v = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url(format!("http://{addr}/jwks"))
        .remote_options(options())
        .build()
        .unwrap();
    assert!(v.warm_up().await.is_err());
    assert_eq!(target.hits(), 0);
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys() {
    let a = TestIssuer::new().issuer("https://a.test").kid("a");
    let b = TestIssuer::with_algorithm(Algorithm::EdDSA)
        .issuer("https://b.test")
        .kid("b");
    let ea = endpoint(a.jwks()).await;
    let eb = endpoint(b.jwks()).await;
    let v =
        Validator::multi_issuer([remote(&a, &ea, options()), remote(&b, &eb, options())]).unwrap();
    assert!(!v.keys_loaded());
    v.warm_up().await.unwrap();
    assert!(v.keys_loaded());
    assert!(v.validate(&a.token().sign()).is_ok());
    assert!(v.validate(&b.token().sign()).is_ok());
    // A token claiming issuer A but signed with B's key: verified against A's keys only.
    let crossed = b.token().claim("iss", "https://a.test").sign();
    assert!(v.validate(&crossed).is_err());
    let stranger = TestIssuer::new().issuer("https://c.test").token().sign();
    assert_eq!(
        v.validate(&stranger).unwrap_err(),
        TokenError::IssuerMismatch
    );
}
