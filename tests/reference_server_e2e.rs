//! The reference server (`examples/resource_server.rs`) as a user runs it: a child process
//! configured through the environment, called over loopback.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tower_bearer::testing::TestIssuer;

/// `target/<profile>/examples/resource_server`; cargo builds examples before integration
/// tests.
fn binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join("resource_server")
}

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
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("RS_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the resource_server example is built");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("listening line within 20 s");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, addr }
}

async fn get(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{addr}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        client.request(req.body(http_body_util::Empty::new()).unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        challenge,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn every_route_answers_per_the_table() {
    let issuer = TestIssuer::new();
    let dir = std::env::temp_dir().join(format!("rs-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, issuer.jwks()).unwrap();
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.to_str().unwrap()),
        ("RS_REALM", "reference"),
    ]);
    let a = server.addr.as_str();
    let t = |scopes: &[&str]| issuer.token().scopes(scopes).sign();

    assert_eq!(get(a, "GET", "/health", None).await.0, 200);
    let (s, _, body) = get(a, "GET", "/me", Some(&t(&["x"]))).await;
    assert_eq!(s, 200);
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me, serde_json::json!({"sub": "test-user", "scopes": ["x"]}));
    let no_sub = issuer.token().without_claim("sub").sign();
    let (_, _, body) = get(a, "GET", "/me", Some(&no_sub)).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["sub"],
        serde_json::Value::Null
    );

    assert_eq!(
        get(a, "GET", "/users", Some(&t(&["users:read"]))).await.0,
        200
    );
    let (s, ch, _) = get(a, "GET", "/users", Some(&t(&["users:write"]))).await;
    assert_eq!(s, 403);
    assert!(ch.ends_with(r#"scope="users:read""#), "{ch}");
    assert_eq!(
        get(a, "POST", "/users", Some(&t(&["users:write"]))).await.0,
        201
    );
    assert_eq!(
        get(a, "GET", "/users/profile", Some(&t(&["users:read"])))
            .await
            .0,
        403
    );
    assert_eq!(
        get(
            a,
            "GET",
            "/users/profile",
            Some(&t(&["users:read", "users.profile:read"]))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        get(a, "GET", "/accounts", Some(&t(&["accounts:write"])))
            .await
            .0,
        200
    );
    let (s, ch, _) = get(a, "GET", "/accounts", None).await;
    assert_eq!((s, ch.as_str()), (401, r#"Bearer realm="reference""#));
    let (s, ch, _) = get(a, "GET", "/users", Some(&issuer.token().expired().sign())).await;
    assert_eq!(s, 401);
    assert!(ch.contains(r#"error="invalid_token""#));
    let _ = std::fs::remove_dir_all(&dir);
}

fn config_error(envs: &[(&str, &str)]) -> String {
    let out = Command::new(binary())
        .env_clear()
        .env("RS_BIND", "127.0.0.1:0")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    stderr
}

#[test]
fn bad_configuration_exits_with_one_clear_line() {
    let err = config_error(&[("RS_AUDIENCE", "a"), ("RS_JWKS_FILE", "/nonexistent")]);
    assert!(err.contains("RS_ISSUER is required"), "{err}");
    let err = config_error(&[
        ("RS_ISSUER", "i"),
        ("RS_AUDIENCE", "a"),
        ("RS_JWKS_FILE", "/nonexistent/jwks.json"),
    ]);
    assert!(err.contains("cannot be read"), "{err}");
    let err = config_error(&[
        ("RS_ISSUER", "i"),
        ("RS_AUDIENCE", "a"),
        ("RS_JWKS_URL", "http://keys.example/jwks"),
    ]);
    assert!(err.contains("plain http refused"), "{err}");
}

#[tokio::test]
async fn unreachable_issuer_starts_and_answers_503_then_recovers() {
    let issuer = TestIssuer::new();
    // A port with nothing behind it yet; the JWKS server comes up later on the same port.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let url = format!("http://127.0.0.1:{port}/jwks");
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_URL", url.as_str()),
        ("RS_ALLOW_HTTP", "1"),
    ]);
    let token = issuer.token().scopes(["users:read"]).sign();
    let (s, _, body) = get(&server.addr, "GET", "/users", Some(&token)).await;
    assert_eq!(s, 503, "{body}");
    assert!(body.contains("temporarily_unavailable"));

    let jwks = issuer.jwks();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || async move { jwks.clone() }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (s, _, _) = get(&server.addr, "GET", "/users", Some(&token)).await;
        if s == 200 {
            break;
        }
        assert_eq!(s, 503, "only 503 until keys load");
        assert!(Instant::now() < deadline, "keys never loaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---- interop with a real OpenID provider (panva's oidc-provider, tests/interop) ----

struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn start_provider(port: u16) -> Provider {
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(interop_dir())
        .env("PORT", port.to_string())
        .env("AUDIENCE", "https://api.test")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node is installed");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("provider up within 30 s");
    let issuer = line
        .trim()
        .strip_prefix("issuer ")
        .unwrap_or_else(|| panic!("unexpected provider line {line:?}"))
        .to_owned();
    Provider { child, issuer }
}

/// `client_credentials` with a resource indicator: an RFC 9068 JWT access token.
async fn provider_token(issuer: &str, client: &str, scope: &str) -> String {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let form = format!(
        "grant_type=client_credentials&scope={scope}&resource=https%3A%2F%2Fapi.test&client_id={client}&client_secret=interop-secret"
    );
    let req = http::Request::post(format!("{issuer}/token"))
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
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {v}"))
        .to_owned()
}

#[tokio::test]
async fn interop_with_a_real_openid_provider() {
    if std::env::var("TOWER_BEARER_INTEROP").as_deref() != Ok("1") {
        eprintln!("skipping interop test: set TOWER_BEARER_INTEROP=1 (needs node and `npm ci --prefix tests/interop`)");
        return;
    }
    assert!(
        interop_dir().join("node_modules/oidc-provider").exists(),
        "TOWER_BEARER_INTEROP=1 but tests/interop/node_modules is missing: run `npm ci --prefix tests/interop`"
    );
    let provider = start_provider(0);
    let port: u16 = provider.issuer.rsplit(':').next().unwrap().parse().unwrap();
    // No JWKS settings: the server discovers the provider's keys from its issuer.
    let server = start(&[
        ("RS_ISSUER", provider.issuer.as_str()),
        ("RS_AUDIENCE", "https://api.test"),
        ("RS_ALLOW_HTTP", "1"),
        ("RS_KEY_COOLDOWN", "1"),
    ]);
    let clients = ["rs256", "ps256", "es256", "eddsa"];
    for client in clients {
        let read = provider_token(&provider.issuer, client, "users:read").await;
        let (s, _, body) = get(&server.addr, "GET", "/users", Some(&read)).await;
        assert_eq!(s, 200, "{client}: {body}");
        let other = provider_token(&provider.issuer, client, "accounts:read").await;
        let (s, ch, _) = get(&server.addr, "GET", "/users", Some(&other)).await;
        assert_eq!(s, 403, "{client}");
        assert!(ch.contains(r#"scope="users:read""#), "{client}: {ch}");
        assert_eq!(
            get(&server.addr, "GET", "/accounts", Some(&other)).await.0,
            200,
            "{client}"
        );
    }

    // Rotation: the provider restarts on the same port with new keys and new kids.
    drop(provider);
    let provider = start_provider(port);
    tokio::time::sleep(Duration::from_millis(1100)).await; // past RS_KEY_COOLDOWN
    for client in clients {
        let read = provider_token(&provider.issuer, client, "users:read").await;
        let (s, _, body) = get(&server.addr, "GET", "/users", Some(&read)).await;
        assert_eq!(s, 200, "{client} after rotation: {body}");
    }
}
