//! The reference server (`examples/resource_server.rs`) as a user runs it: a child process
//! configured through the environment, called over loopback.

#[path = "common/child.rs"]
mod child;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use child::{example, first_line};
use tower_bearer::testing::TestIssuer;

/// An issuer's JWKS in a temporary file, removed on drop.
struct JwksFile {
    dir: PathBuf,
    file: String,
}

impl JwksFile {
    fn new(prefix: &str, issuer: &TestIssuer) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("jwks.json");
        std::fs::write(&file, issuer.jwks()).unwrap();
        let file = file.to_str().expect("UTF-8 temp path").to_owned();
        Self { dir, file }
    }

    fn path(&self) -> &str {
        &self.file
    }
}

impl Drop for JwksFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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
    let mut cmd = Command::new(example("resource_server"));
    cmd.env_clear()
        .env("RS_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the resource_server example is built");
    let line = first_line(&mut child, Duration::from_secs(20));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, addr }
}

async fn get(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    request(addr, method, path, &headers).await
}

async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
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
    let jwks = JwksFile::new("rs-e2e", &issuer);
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
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
}

fn config_error(envs: &[(&str, &str)]) -> String {
    let out = Command::new(example("resource_server"))
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
    let jwks = JwksFile::new("rs-e2e-bad-sources", &TestIssuer::new());
    let base = [
        ("RS_ISSUER", "i"),
        ("RS_AUDIENCE", "a"),
        ("RS_JWKS_FILE", jwks.path()),
    ];
    for (var, value, says) in [
        ("RS_TOKEN_COOKIE", "a;b", "cookie name"),
        ("RS_TOKEN_HEADER", "authorization", "own token source"),
        (
            "RS_ALLOWED_ORIGINS",
            "https://app.example.com/path",
            "no path",
        ),
        (
            "RS_CLIENT_CERT_HEADER",
            "client cert",
            "not a valid header name",
        ),
        (
            "RS_TRUSTED_PROXIES",
            "127.0.0.1",
            "needs RS_CLIENT_CERT_HEADER",
        ),
    ] {
        let mut envs = base.to_vec();
        envs.push((var, value));
        let err = config_error(&envs);
        assert!(err.contains(var) && err.contains(says), "{err}");
    }
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
    let line = first_line(&mut child, Duration::from_secs(30));
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

#[tokio::test]
async fn interop_introspection_with_a_real_openid_provider() {
    if std::env::var("TOWER_BEARER_INTEROP").as_deref() != Ok("1") {
        eprintln!("skipping interop test: set TOWER_BEARER_INTEROP=1 (needs node and `npm ci --prefix tests/interop`)");
        return;
    }
    let provider = start_provider(0);
    // JWT keys by discovery, opaque tokens by introspection (client_secret_basic as `rs`).
    let introspection = format!("{}/token/introspection", provider.issuer);
    let server = start(&[
        ("RS_ISSUER", provider.issuer.as_str()),
        ("RS_AUDIENCE", "https://api.test"),
        ("RS_ALLOW_HTTP", "1"),
        ("RS_INTROSPECTION_URL", introspection.as_str()),
        ("RS_CLIENT_ID", "rs"),
        ("RS_CLIENT_SECRET", "rs-secret"),
    ]);
    let opaque = provider_token(&provider.issuer, "opaque", "users:read").await;
    assert_eq!(
        opaque.matches('.').count(),
        0,
        "oidc-provider issued an opaque token"
    );
    let (s, _, body) = get(&server.addr, "GET", "/me", Some(&opaque)).await;
    assert_eq!(s, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["scopes"], serde_json::json!(["users:read"]), "{me}");
    assert_eq!(
        get(&server.addr, "GET", "/users", Some(&opaque)).await.0,
        200
    );
    let (s, ch, _) = get(&server.addr, "GET", "/accounts", Some(&opaque)).await;
    assert_eq!(s, 403, "{ch}");
    // A JWT from the same provider, side by side.
    let jwt = provider_token(&provider.issuer, "es256", "users:read").await;
    assert_eq!(get(&server.addr, "GET", "/users", Some(&jwt)).await.0, 200);
    // A token the provider never issued is inactive: 401, not 503.
    let (s, ch, _) = get(
        &server.addr,
        "GET",
        "/users",
        Some("NotATokenTheProviderIssued0123456789"),
    )
    .await;
    assert_eq!(s, 401, "{ch}");
    assert!(ch.contains("invalid_token"), "{ch}");
    // The provider goes away: an uncached opaque token gets 503, never 401.
    let fresh = provider_token(&provider.issuer, "opaque", "users:read").await;
    drop(provider);
    let (s, _, body) = get(&server.addr, "GET", "/users", Some(&fresh)).await;
    assert_eq!(s, 503, "{body}");
}

// ---- soak: load with faults ----

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Key A published.
    A,
    /// A and B published (rotation under way).
    Both,
    /// The endpoint answers 500.
    Down,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_rotation_outage_and_recovery_under_load() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let phase_time = Duration::from_millis(
        std::env::var("SOAK_PHASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500),
    );
    let a = TestIssuer::new().kid("key-a");
    let b = TestIssuer::with_algorithm(tower_bearer::Algorithm::EdDSA).kid("key-b");
    let both = {
        let mut doc: serde_json::Value = serde_json::from_str(&a.jwks()).unwrap();
        let kb: serde_json::Value = serde_json::from_str(&b.jwks()).unwrap();
        doc["keys"]
            .as_array_mut()
            .unwrap()
            .push(kb["keys"][0].clone());
        doc.to_string()
    };

    // The JWKS endpoint: what it serves is switched by the test; it counts fetches.
    let state: Arc<Mutex<(u16, String)>> = Arc::new(Mutex::new((200, a.jwks())));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (st, f) = (state.clone(), fetches.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            f.fetch_add(1, Ordering::SeqCst);
            let (status, body) = st.lock().unwrap().clone();
            async move { (http::StatusCode::from_u16(status).unwrap(), body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });

    let server = start(&[
        ("RS_ISSUER", a.issuer_id()),
        ("RS_AUDIENCE", a.audience_id()),
        ("RS_JWKS_URL", jwks_url.as_str()),
        ("RS_ALLOW_HTTP", "1"),
        ("RS_KEY_COOLDOWN", "1"),
    ]);
    let pid = server.child.id();
    let addr = server.addr.clone();

    let good_a = a.token().scopes(["users:read"]).sign();
    let good_b = b.token().scopes(["users:read"]).sign();
    let no_scope = a.token().scopes(["other"]).sign();
    let forged = a.token().scopes(["users:read"]).forged().sign();

    let phases = [Phase::A, Phase::Both, Phase::Down, Phase::Both];
    let current = Arc::new(Mutex::new(Phase::A));
    let wrong = Arc::new(Mutex::new(Vec::<String>::new()));
    let counts = Arc::new(AtomicUsize::new(0));
    let five_xx = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Warm up: first request loads key set A.
    assert_eq!(get(&addr, "GET", "/users", Some(&good_a)).await.0, 200);
    let rss_start = rss_kib(pid);
    let started = Instant::now();

    let mut workers = Vec::new();
    for w in 0..6usize {
        let (addr, current, wrong, counts, five_xx, stop) = (
            addr.clone(),
            current.clone(),
            wrong.clone(),
            counts.clone(),
            five_xx.clone(),
            stop.clone(),
        );
        let tokens = [
            good_a.clone(),
            good_b.clone(),
            no_scope.clone(),
            forged.clone(),
        ];
        let random_kid = a.token().header("kid", format!("random-{w}")).sign();
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let phase = *current.lock().unwrap();
                // B is sent only once it is published; random kids probe the cooldown.
                let (token, allowed): (&str, &[u16]) = match (i % 6, phase) {
                    (0 | 5, _) => (&tokens[0], &[200]),
                    (1, Phase::A) => (&tokens[0], &[200]),
                    (1, _) => (&tokens[1], &[200]),
                    (2, _) => (&tokens[2], &[403]),
                    (3, _) => (&tokens[3], &[401]),
                    (_, _) => (&random_kid, &[401]),
                };
                let (status, _, _) = get(&addr, "GET", "/users", Some(token)).await;
                counts.fetch_add(1, Ordering::SeqCst);
                if status >= 500 {
                    five_xx.fetch_add(1, Ordering::SeqCst);
                }
                if !allowed.contains(&status) {
                    wrong
                        .lock()
                        .unwrap()
                        .push(format!("{phase:?} #{}: {status}", i % 6));
                }
            }
        }));
    }

    for phase in phases {
        match phase {
            Phase::A => {}
            Phase::Both => {
                *state.lock().unwrap() = (200, both.clone());
                // Let a refetch (at most one per 1 s cooldown) pick B up before sending B.
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            Phase::Down => state.lock().unwrap().0 = 500,
        }
        *current.lock().unwrap() = phase;
        tokio::time::sleep(phase_time).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        tokio::time::timeout(Duration::from_secs(15), w)
            .await
            .unwrap()
            .unwrap();
    }
    let elapsed = started.elapsed();
    let rss_end = rss_kib(pid);

    let wrong = wrong.lock().unwrap();
    let total = counts.load(Ordering::SeqCst);
    let fetched = fetches.load(Ordering::SeqCst);
    eprintln!(
        "soak: {total} requests in {elapsed:?}, {} wrong, {} 5xx, {fetched} JWKS fetches, RSS {rss_start} KiB -> {rss_end} KiB",
        wrong.len(),
        five_xx.load(Ordering::SeqCst)
    );
    assert!(total > 200, "the soak sent too few requests: {total}");
    assert!(
        wrong.is_empty(),
        "wrong answers: {:?}",
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(five_xx.load(Ordering::SeqCst), 0);
    // The warm-up fetch, plus at most one per started second of cooldown.
    let bound = 1 + elapsed.as_secs() as usize + 1;
    assert!(
        fetched <= bound,
        "{fetched} fetches in {elapsed:?} (bound {bound})"
    );
    assert!(
        rss_end < rss_start + 16 * 1024,
        "memory grew from {rss_start} KiB to {rss_end} KiB"
    );
}

#[tokio::test]
async fn dpop_required_over_http() {
    use tower_bearer::testing::DpopClient;
    use tower_bearer::Algorithm;
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("tb-dpop", &issuer);
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_DPOP", "required"),
        ("RS_RESOURCE", "https://api.test"),
    ]);
    let addr = &server.addr;
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer
        .token()
        .scopes(["users:read"])
        .dpop_bound(&client)
        .sign();
    let url = format!("{addr}/users");
    let auth = format!("DPoP {token}");
    let proof = client.proof("GET", &url, &token);
    let ok = request(
        addr,
        "GET",
        "/users",
        &[("authorization", &auth), ("dpop", &proof)],
    )
    .await;
    assert_eq!(ok.0, 200, "{ok:?}");
    // The same proof again: a replay.
    let replay = request(
        addr,
        "GET",
        "/users",
        &[("authorization", &auth), ("dpop", &proof)],
    )
    .await;
    assert_eq!(replay.0, 401);
    assert!(
        replay.1.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{replay:?}"
    );
    // As a bearer token: refused, with a DPoP challenge.
    let bearer = get(addr, "GET", "/users", Some(&token)).await;
    assert_eq!(bearer.0, 401);
    assert!(bearer.1.starts_with("DPoP "), "{bearer:?}");
    // The metadata document says DPoP is required.
    let meta = get(addr, "GET", "/.well-known/oauth-protected-resource", None).await;
    let doc: serde_json::Value = serde_json::from_str(&meta.2).unwrap();
    assert_eq!(doc["dpop_bound_access_tokens_required"], true);
    assert!(doc["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&"ES256".into()));
}

#[tokio::test]
async fn token_cookie_header_origins_and_websocket() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-sources", &issuer);
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_TOKEN_COOKIE", "at"),
        ("RS_TOKEN_HEADER", "x-api-token"),
        (
            "RS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:8080",
        ),
    ]);
    let addr = server.addr.as_str();
    let token = issuer.token().scopes(["users:read", "users:write"]).sign();
    let cookie = format!("at={token}");
    let (status, _, body) = request(addr, "GET", "/users", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = request(addr, "GET", "/users", &[("x-api-token", &token)]).await;
    assert_eq!(status, 200);
    let (status, _, body) = request(
        addr,
        "GET",
        "/users",
        &[("x-api-token", &token), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, challenge, body) = request(
        addr,
        "POST",
        "/users",
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await;
    assert_eq!((status, challenge.as_str()), (403, ""));
    assert_eq!(
        body,
        r#"{"error":"access_denied","error_description":"cross-site request refused"}"#
    );
    let (status, _, _) = request(
        addr,
        "POST",
        "/users",
        &[("cookie", &cookie), ("origin", "http://localhost:8080")],
    )
    .await;
    assert_eq!(status, 201);

    // GET /ws: a WebSocket that echoes, behind users:read.
    let ws_url = format!("{}/ws", addr.replacen("http://", "ws://", 1));
    let mut request = ws_url.clone().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .unwrap()
    .unwrap();
    socket.send(Message::text("ping")).await.unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echo, Message::text("ping"));
    let weak = issuer.token().scopes(["accounts:read"]).sign();
    let mut request = ws_url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {weak}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected 403, got {:?}", other.map(|(_, r)| r.status())),
    }
}

#[tokio::test]
async fn certificate_bound_tokens_from_a_proxy_header() {
    use tower_bearer::mtls::ClientCertificate;
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-mtls", &issuer);
    let base = [
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_CLIENT_CERT_HEADER", "Client-Cert"),
        ("RS_RESOURCE", "https://api.example.com"),
    ];
    // Certificates are opaque bytes to the thumbprint; two DER SEQUENCEs stand in for them.
    let alice = ClientCertificate::from_der(vec![0x30, 0x03, 1, 2, 3]);
    let alice_header = ":MAMBAgM=:";
    let bob_header = ":MAMBAgQ=:";
    let bound = issuer.token().certificate_bound(&alice).sign();
    let unbound = issuer.token().sign();
    let with = |token: &str, cert: Option<&'static str>| {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization".to_owned(), auth)];
        if let Some(cert) = cert {
            headers.push(("client-cert".to_owned(), cert.to_owned()));
        }
        headers
    };
    let send = |addr: String, headers: Vec<(String, String)>| async move {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        request(&addr, "GET", "/me", &headers).await
    };

    // Loopback is a trusted proxy by default.
    let server = start(&base);
    let addr = server.addr.clone();
    assert_eq!(
        send(addr.clone(), with(&bound, Some(alice_header))).await.0,
        200
    );
    let (status, challenge, _) = send(addr.clone(), with(&bound, Some(bob_header))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("does not match"), "{challenge}");
    let (status, challenge, _) = send(addr.clone(), with(&bound, None)).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("none was presented"), "{challenge}");
    assert_eq!(
        send(addr.clone(), with(&unbound, Some(bob_header))).await.0,
        200
    );
    assert_eq!(send(addr.clone(), with(&unbound, None)).await.0, 200);
    let (status, _, body) =
        request(&addr, "GET", "/.well-known/oauth-protected-resource", &[]).await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["tls_client_certificate_bound_access_tokens"], true);
    drop(server);

    // Only another proxy is trusted: from loopback the header is a bad request.
    let mut envs = base.to_vec();
    envs.push(("RS_TRUSTED_PROXIES", "10.0.0.7, ::ffff:10.0.0.8"));
    let server = start(&envs);
    let addr = server.addr.clone();
    for token in [&bound, &unbound] {
        let (status, challenge, _) = send(addr.clone(), with(token, Some(alice_header))).await;
        assert_eq!(status, 400);
        assert!(challenge.contains("untrusted peer"), "{challenge}");
    }
    assert_eq!(send(addr.clone(), with(&unbound, None)).await.0, 200);
}

#[tokio::test]
async fn metrics_in_prometheus_text() {
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-metrics", &issuer);
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_TOKEN_CACHE", "64"),
    ]);
    let addr = server.addr.as_str();
    let valid = issuer
        .token()
        .scopes(["users:read"])
        .subject("subject-4c1d")
        .sign();
    let expired = issuer.token().subject("subject-4c1d").expired().sign();
    assert_eq!(get(addr, "GET", "/users", Some(&valid)).await.0, 200);
    assert_eq!(get(addr, "GET", "/users", Some(&valid)).await.0, 200);
    assert_eq!(get(addr, "GET", "/users", Some(&expired)).await.0, 401);
    assert_eq!(get(addr, "GET", "/accounts", Some(&valid)).await.0, 403);
    assert_eq!(get(addr, "GET", "/users", None).await.0, 401);

    // Outside the layer, like /health.
    let (status, _, text) = get(addr, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    for line in [
        r#"tower_bearer_requests_total{outcome="accepted"} 3"#,
        r#"tower_bearer_requests_total{outcome="rejected",error="invalid_token",status="401"} 1"#,
        r#"tower_bearer_requests_total{outcome="rejected",error="unauthorized",status="401"} 1"#,
        r#"tower_bearer_token_errors_total{reason="expired"} 1"#,
        r#"tower_bearer_guard_rejections_total{error="insufficient_scope",status="403"} 1"#,
        r#"tower_bearer_token_cache_total{result="hit"} 2"#,
        "# TYPE tower_bearer_validation_seconds summary",
        "# HELP tower_bearer_requests_total Requests the bearer layer decided, by outcome",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
    }
    assert!(
        text.contains("tower_bearer_validation_seconds_count 5"),
        "{text}"
    );
    for secret in [
        valid.as_str(),
        expired.as_str(),
        "subject-4c1d",
        "users:read",
    ] {
        assert!(
            !text.contains(secret),
            "the metrics carry no token or claim value"
        );
    }
}

#[tokio::test]
async fn transfer_needs_step_up() {
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-step-up", &issuer);
    let server = start(&[
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_ACR_VALUES", "urn:example:mfa, urn:example:hwk"),
        ("RS_MAX_AGE", "120"),
    ]);
    let addr = server.addr.as_str();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let strong = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:hwk")
        .claim("auth_time", now - 5)
        .sign();
    let (status, _, body) = get(addr, "GET", "/transfer", Some(&strong)).await;
    assert_eq!(status, 200, "{body}");
    let stale = issuer
        .token()
        .scopes(["accounts:write"])
        .claim("acr", "urn:example:mfa")
        .claim("auth_time", now - 600)
        .sign();
    let (status, challenge, _) = get(addr, "GET", "/transfer", Some(&stale)).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        r#"Bearer error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="urn:example:mfa urn:example:hwk", max_age="120""#
    );
    let read_only = issuer.token().scopes(["accounts:read"]).sign();
    let (status, challenge, _) = get(addr, "GET", "/transfer", Some(&read_only)).await;
    assert_eq!(status, 403, "the scope check comes first");
    assert!(
        challenge.contains(r#"scope="accounts:write""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_tenant_template_issuer() {
    const T1: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
    const T2: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-tenants", &issuer);
    let err = config_error(&[
        ("RS_ISSUER", template),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
    ]);
    assert!(err.contains("RS_TENANTS is required"), "{err}");
    let server = start(&[
        ("RS_ISSUER", template),
        ("RS_TENANTS", T1),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
    ]);
    let token = |tid: &str| {
        issuer
            .token()
            .claim("iss", template.replace("{tenantid}", tid))
            .claim("tid", tid)
            .sign()
    };
    let (status, _, body) = get(&server.addr, "GET", "/me", Some(&token(T1))).await;
    assert_eq!(status, 200, "{body}");
    let (status, challenge, _) = get(&server.addr, "GET", "/me", Some(&token(T2))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("tenant not allowed"), "{challenge}");
}

#[path = "common/redis_server.rs"]
mod redis_server;

/// Two reference servers behind one public URL, sharing a real Redis: a DPoP proof
/// accepted by one is a replay at the other.
#[tokio::test]
async fn two_servers_on_one_redis_share_dpop_replays() {
    use tower_bearer::testing::DpopClient;
    use tower_bearer::Algorithm;
    let port = redis_server::free_port();
    let Some(_redis) = redis_server::redis_server(port, "noeviction") else {
        return;
    };
    let redis_url = format!("redis://127.0.0.1:{port}/0");
    let issuer = TestIssuer::new();
    let jwks = JwksFile::new("rs-e2e-redis", &issuer);
    let env = [
        ("RS_ISSUER", issuer.issuer_id()),
        ("RS_AUDIENCE", issuer.audience_id()),
        ("RS_JWKS_FILE", jwks.path()),
        ("RS_DPOP", "allowed"),
        ("RS_PUBLIC_URL", "https://api.test"),
        ("RS_REDIS_URL", redis_url.as_str()),
    ];
    let (a, b) = (start(&env), start(&env));
    let client = DpopClient::new(Algorithm::ES256);
    let token = issuer
        .token()
        .scopes(["users:read"])
        .dpop_bound(&client)
        .sign();
    let auth = format!("DPoP {token}");
    let proof = client.proof("GET", "https://api.test/users", &token);
    let headers = [("authorization", auth.as_str()), ("dpop", proof.as_str())];
    let first = request(&a.addr, "GET", "/users", &headers).await;
    assert_eq!(first.0, 200, "{first:?}");
    let replay = request(&b.addr, "GET", "/users", &headers).await;
    assert_eq!(replay.0, 401, "{replay:?}");
    assert!(replay.1.contains("invalid_dpop_proof"), "{replay:?}");
    let fresh = client.proof("GET", "https://api.test/users", &token);
    let second = request(
        &b.addr,
        "GET",
        "/users",
        &[("authorization", auth.as_str()), ("dpop", fresh.as_str())],
    )
    .await;
    assert_eq!(second.0, 200, "{second:?}");
}
