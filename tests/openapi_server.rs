//! The reference server's `GET /openapi.json` against what its guards enforce: every
//! documented alternative, minted as a token, passes; each alternative minus one scope is
//! `403`; public routes answer without a token. With `TOWER_BEARER_OPENAPI=1` the document is
//! also checked by a real OpenAPI 3.1 validator (`tests/openapi`: node and
//! `npm ci --prefix tests/openapi`), which is shown to reject broken documents.
//!
//! Build the example first (`cargo build --examples`): `cargo test --test X` does not.

#[path = "common/child.rs"]
mod child;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use child::{example, first_line, Process};
use serde_json::{json, Value};
use tower_bearer::testing::TestIssuer;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(example("resource_server"));
    cmd.env_clear()
        .env("RS_BIND", "127.0.0.1:0")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .expect("the resource_server example is built (cargo build --examples)");
    let line = first_line(&mut child, Duration::from_secs(20));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, addr }
}

/// A JWKS in a temporary file, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tb-openapi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Status and body of `method path`, with a bearer token and, for `/ws`, a WebSocket
/// handshake.
async fn call(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{addr}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if path == "/ws" {
        req = req
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(req.body(http_body_util::Empty::new()).unwrap()),
    )
    .await
    .expect("answer in time")
    .unwrap();
    let status = resp.status().as_u16();
    if status == 101 {
        return (status, String::new());
    }
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn document(addr: &str) -> Value {
    let (status, body) = call(addr, "GET", "/openapi.json", None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// One requirement object: its scheme and scopes.
type Requirement = (String, Vec<String>);

/// A documented operation: method, path, `security` (absent: `None`).
type Documented = (String, String, Option<Vec<Requirement>>);

/// Each operation's `security` as (scheme, scopes) pairs, in the document's order.
fn operations(doc: &Value) -> Vec<Documented> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op.get("security").map(|list| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|req| {
                        let req = req.as_object().unwrap();
                        assert_eq!(req.len(), 1, "one scheme per requirement object: {req:?}");
                        let (scheme, scopes) = req.iter().next().unwrap();
                        let scopes = scopes.as_array().unwrap();
                        let scopes = scopes.iter().map(|s| s.as_str().unwrap().to_owned());
                        (scheme.clone(), scopes.collect())
                    })
                    .collect()
            });
            out.push((method.to_uppercase(), path.clone(), security));
        }
    }
    out
}

fn success(method: &str, path: &str, status: u16) -> bool {
    match (method, path) {
        ("GET", "/ws") => status == 101,
        _ => (200..300).contains(&status),
    }
}

/// The documented alternatives of one operation under `scheme`.
fn alternatives(security: &[Requirement], scheme: &str) -> Vec<Vec<String>> {
    security
        .iter()
        .filter(|(s, _)| s == scheme)
        .map(|(_, scopes)| scopes.clone())
        .collect()
}

#[tokio::test]
async fn the_served_document_is_what_the_guards_enforce() {
    let issuer = TestIssuer::new();
    let jwks = TempFile::new("jwks-enforce.json", &issuer.jwks());
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
    ]);
    let a = server.addr.as_str();
    let doc = document(a).await;

    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    let flow = &schemes["oauth2"]["flows"]["clientCredentials"];
    assert_eq!(
        flow["tokenUrl"],
        format!("{}/token", issuer.issuer_id().trim_end_matches('/'))
    );
    let declared: BTreeSet<&str> = flow["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        declared,
        BTreeSet::from([
            "accounts:read",
            "accounts:write",
            "users.profile:read",
            "users:read",
            "users:write"
        ])
    );
    assert_eq!(
        schemes["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );

    // What DESIGN.md's table says each route needs, as the document must say it.
    let ops = operations(&doc);
    // `None`: public.
    type Expected<'a> = (&'a str, &'a str, Option<Vec<Vec<&'a str>>>);
    let expected: [Expected; 10] = [
        ("GET", "/health", None),
        ("GET", "/metrics", None),
        ("GET", "/openapi.json", None),
        ("GET", "/me", Some(vec![vec![]])),
        ("GET", "/users", Some(vec![vec!["users:read"]])),
        ("POST", "/users", Some(vec![vec!["users:write"]])),
        (
            "GET",
            "/users/profile",
            Some(vec![vec!["users:read", "users.profile:read"]]),
        ),
        (
            "GET",
            "/accounts",
            Some(vec![vec!["accounts:read"], vec!["accounts:write"]]),
        ),
        ("GET", "/transfer", Some(vec![vec!["accounts:write"]])),
        ("GET", "/ws", Some(vec![vec!["users:read"]])),
    ];
    for (method, path, want) in &expected {
        let (_, _, security) = ops
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .unwrap_or_else(|| panic!("{method} {path} is not documented"));
        let security = security
            .as_ref()
            .unwrap_or_else(|| panic!("{method} {path} has no security"));
        match want {
            None => assert!(security.is_empty(), "{method} {path}: {security:?}"),
            Some(want) => {
                assert_eq!(alternatives(security, "oauth2"), *want, "{method} {path}");
                assert_eq!(alternatives(security, "bearer"), *want, "{method} {path}");
                assert_eq!(security.len(), 2 * want.len(), "{method} {path}");
            }
        }
    }

    // Every documented operation, against the running server. Step-up cannot be said in
    // OpenAPI, so each token also carries a recent strong authentication.
    let mint = |scopes: &[String]| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        issuer
            .token()
            .scopes(scopes)
            .claim("acr", "urn:example:mfa")
            .claim("auth_time", now)
            .sign()
    };
    let mut checked = 0;
    for (method, path, security) in &ops {
        let security = security.as_ref().unwrap();
        if security.is_empty() {
            let (status, body) = call(a, method, path, None).await;
            assert!(
                success(method, path, status),
                "{method} {path} public: {status} {body}"
            );
            checked += 1;
            continue;
        }
        let (status, _) = call(a, method, path, None).await;
        assert_eq!(status, 401, "{method} {path} without a token");
        for alt in alternatives(security, "oauth2") {
            let (status, body) = call(a, method, path, Some(&mint(&alt))).await;
            assert!(
                success(method, path, status),
                "{method} {path} with exactly {alt:?}: {status} {body}"
            );
            for i in 0..alt.len() {
                let mut fewer = alt.clone();
                let dropped = fewer.remove(i);
                let (status, body) = call(a, method, path, Some(&mint(&fewer))).await;
                assert_eq!(
                    status, 403,
                    "{method} {path} with {alt:?} minus {dropped}: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} alternatives checked");
}

// ---- a real OpenAPI 3.1 validator ----

fn validator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openapi")
}

/// `(valid, errors)` as the validator reports them for `doc`.
fn validate(doc: &Value, name: &str) -> (bool, Vec<String>) {
    let file = TempFile::new(name, &serde_json::to_string_pretty(doc).unwrap());
    let out = Command::new("node")
        .arg(validator_dir().join("validate.mjs"))
        .arg(file.path())
        .output()
        .expect("node runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "validator output: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let valid = report["valid"].as_bool().unwrap();
    assert_eq!(out.status.success(), valid, "exit status agrees: {report}");
    assert_eq!(
        report["version"], "3.1",
        "validated as OpenAPI 3.1: {report}"
    );
    let errors = report["errors"].as_array().unwrap();
    let errors = errors.iter().map(|e| e.as_str().unwrap().to_owned());
    (valid, errors.collect())
}

#[tokio::test]
async fn a_real_openapi_validator_accepts_the_document_and_rejects_broken_ones() {
    if std::env::var("TOWER_BEARER_OPENAPI").as_deref() != Ok("1") {
        eprintln!("skipping the OpenAPI validator test: set TOWER_BEARER_OPENAPI=1 (needs node and `npm ci --prefix tests/openapi`)");
        return;
    }
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "TOWER_BEARER_OPENAPI=1 but node is not installed"
    );
    assert!(
        validator_dir()
            .join("node_modules/@seriousme/openapi-schema-validator")
            .exists(),
        "TOWER_BEARER_OPENAPI=1 but tests/openapi/node_modules is missing: run `npm ci --prefix tests/openapi`"
    );
    let issuer = TestIssuer::new();
    let jwks = TempFile::new("jwks-validate.json", &issuer.jwks());
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
    ]);
    let doc = document(&server.addr).await;
    let (valid, errors) = validate(&doc, "served.json");
    assert!(valid, "{errors:?}");

    // The check bites: a schema violation, and references the schema cannot check.
    let mut no_version = doc.clone();
    no_version["info"]
        .as_object_mut()
        .unwrap()
        .remove("version");
    let (valid, errors) = validate(&no_version, "no-version.json");
    assert!(!valid);
    assert!(errors.iter().any(|e| e.contains("version")), "{errors:?}");

    let mut scopes_not_a_list = doc.clone();
    scopes_not_a_list["paths"]["/users"]["get"]["security"] = json!([{"oauth2": "users:read"}]);
    let (valid, errors) = validate(&scopes_not_a_list, "not-a-list.json");
    assert!(!valid);
    assert!(
        errors.iter().any(|e| e.contains("/paths/~1users/get")),
        "{errors:?}"
    );

    let mut undeclared_scope = doc.clone();
    undeclared_scope["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
        ["scopes"]
        .as_object_mut()
        .unwrap()
        .remove("users.profile:read");
    let (valid, errors) = validate(&undeclared_scope, "undeclared-scope.json");
    assert!(!valid);
    assert_eq!(
        errors,
        ["GET /users/profile: scope \"users.profile:read\" is not declared by scheme \"oauth2\""]
    );

    let mut undeclared_scheme = doc;
    undeclared_scheme["components"]["securitySchemes"]
        .as_object_mut()
        .unwrap()
        .remove("bearer");
    let (valid, errors) = validate(&undeclared_scheme, "undeclared-scheme.json");
    assert!(!valid);
    assert!(
        errors
            .iter()
            .all(|e| e.ends_with("security names an undeclared scheme \"bearer\"")),
        "{errors:?}"
    );
}

// ---- the token endpoint from discovery ----

#[tokio::test]
async fn with_discovery_the_token_url_is_the_discovered_one() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let iss = format!("http://{addr}");
    let issuer = TestIssuer::new().issuer(iss.clone());
    let metadata = json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/keys"),
        "token_endpoint": format!("{iss}/oauth2/v1/token"),
    })
    .to_string();
    let jwks = issuer.jwks();
    // Down until `up`: the server starts without its issuer's metadata.
    let up = Arc::new(AtomicBool::new(false));
    let serving = up.clone();
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let (metadata, serving) = (metadata.clone(), serving.clone());
                async move {
                    if serving.load(Ordering::SeqCst) {
                        (http::StatusCode::OK, metadata)
                    } else {
                        (http::StatusCode::SERVICE_UNAVAILABLE, String::new())
                    }
                }
            }),
        )
        .route(
            "/keys",
            axum::routing::get(move || async move { jwks.clone() }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let server = start(&[
        ("RS_ISSUER", iss.as_str()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_ALLOW_HTTP", "1"),
    ]);
    let a = server.addr.as_str();
    let (status, body) = call(a, "GET", "/openapi.json", None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("temporarily_unavailable"), "{body}");

    up.store(true, Ordering::SeqCst);
    // A request with a token makes the server fetch the keys (after its backoff).
    let token = issuer.token().sign();
    let deadline = Instant::now() + Duration::from_secs(20);
    while call(a, "GET", "/me", Some(&token)).await.0 != 200 {
        assert!(Instant::now() < deadline, "keys never loaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let doc = document(a).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
        format!("{iss}/oauth2/v1/token")
    );
}

// ---- interop: tokens from the documented token URL (panva's oidc-provider, tests/interop) ----

/// The provider of `tests/interop` on a free port, and its issuer URL.
fn start_provider() -> (Process, String) {
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop"))
        .env("PORT", "0")
        .env("AUDIENCE", "https://api.test")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is installed");
    let line = first_line(&mut child, Duration::from_secs(30));
    let provider = Process(child);
    let issuer = line
        .trim()
        .strip_prefix("issuer ")
        .unwrap_or_else(|| panic!("unexpected provider line {line:?}"))
        .to_owned();
    (provider, issuer)
}

/// A client-credentials token for exactly `scopes`, from `token_url`.
async fn client_credentials(token_url: &str, scopes: &[String]) -> String {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut form = "grant_type=client_credentials&resource=https%3A%2F%2Fapi.test&client_id=es256&client_secret=interop-secret".to_owned();
    if !scopes.is_empty() {
        form.push_str("&scope=");
        form.push_str(&scopes.join("+"));
    }
    let req = http::Request::post(token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(form)))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), http.request(req))
        .await
        .unwrap()
        .unwrap();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token for {scopes:?}: {v}"))
        .to_owned()
}

#[tokio::test]
async fn interop_tokens_from_the_documented_token_url_pass_the_documented_routes() {
    if std::env::var("TOWER_BEARER_INTEROP").as_deref() != Ok("1") {
        eprintln!("skipping interop test: set TOWER_BEARER_INTEROP=1 (needs node and `npm ci --prefix tests/interop`)");
        return;
    }
    let (_provider, issuer) = start_provider();
    let server = start(&[
        ("RS_ISSUER", issuer.as_str()),
        ("RS_AUDIENCE", "https://api.test"),
        ("RS_ALLOW_HTTP", "1"),
    ]);
    let a = server.addr.as_str();
    // The server discovers the provider in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    let doc = loop {
        let (status, body) = call(a, "GET", "/openapi.json", None).await;
        if status == 200 {
            break serde_json::from_str::<Value>(&body).unwrap();
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "discovery never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let token_url = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
        ["tokenUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        token_url,
        format!("{issuer}/token"),
        "oidc-provider's token endpoint"
    );
    let mut checked = 0;
    for (method, path, security) in operations(&doc) {
        let security = security.unwrap();
        for alt in alternatives(&security, "oauth2") {
            let token = client_credentials(&token_url, &alt).await;
            let (status, body) = call(a, &method, &path, Some(&token)).await;
            if path == "/transfer" {
                // Step-up is not expressible in OpenAPI: a client-credentials token has the
                // scopes but no `acr`.
                assert_eq!(status, 401, "{body}");
                assert!(body.contains("insufficient_user_authentication"), "{body}");
                continue;
            }
            assert!(
                success(&method, &path, status),
                "{method} {path} with a provider token for {alt:?}: {status} {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} alternatives checked");
}
