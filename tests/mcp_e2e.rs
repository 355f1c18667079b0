//! `examples/mcp_server.rs` end to end: a real authorization server (oidc-provider, as in
//! `reference_server_e2e.rs`) and the official MCP TypeScript SDK as the client
//! (`tests/interop/mcp_client.mjs`). Needs node and `npm ci --prefix tests/interop`; runs when
//! `TOWER_BEARER_INTEROP=1`.

#[path = "common/child.rs"]
mod child;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use child::{example, first_line, Process};
use serde_json::Value;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn start_provider() -> (Process, String) {
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(interop_dir())
        .env("PORT", "0")
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
    (Process(child), issuer)
}

fn start_server(issuer: &str) -> (Process, String) {
    let mut child = Command::new(example("mcp_server"))
        .env_clear()
        .env("RS_BIND", "127.0.0.1:0")
        .env("RS_ISSUER", issuer)
        .env("RS_ALLOW_HTTP", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mcp_server example is built");
    let line = first_line(&mut child, Duration::from_secs(20));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (Process(child), addr)
}

async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .expect("answered in time")
        .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = tokio::time::timeout(
        Duration::from_secs(10),
        http_body_util::BodyExt::collect(resp.into_body()),
    )
    .await
    .expect("body in time")
    .unwrap()
    .to_bytes();
    (
        status,
        challenge,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// A token for `resource` from the provider, as the MCP client `client` (client_secret_basic).
async fn token(issuer: &str, client: &str, scope: &str, resource: &str) -> String {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{client}:interop-secret"));
    let form = format!(
        "grant_type=client_credentials&scope={}&resource={}",
        scope.replace(' ', "+").replace(':', "%3A"),
        resource.replace(':', "%3A").replace('/', "%2F")
    );
    let (status, _, body) = http(
        "POST",
        &format!("{issuer}/token"),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &format!("Basic {basic}")),
        ],
        &form,
    )
    .await;
    assert_eq!(status, 200, "token request: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

async fn post_mcp(url: &str, token: &str, body: &str) -> (u16, String, String) {
    let auth = format!("Bearer {token}");
    http(
        "POST",
        url,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ],
        body,
    )
    .await
}

/// Run the SDK client; its JSON lines, within a time limit.
fn run_sdk_client(mcp_url: &str, issuer: &str) -> Vec<Value> {
    let mut child = Process(
        Command::new("node")
            .arg("mcp_client.mjs")
            .current_dir(interop_dir())
            .env("MCP_URL", mcp_url)
            .env("ISSUER", issuer)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is installed"),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the SDK client did not finish in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().unwrap();
    assert!(status.success(), "the SDK client failed ({status}):\n{out}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[tokio::test]
async fn the_mcp_sdk_client_against_the_example_and_a_real_authorization_server() {
    if std::env::var("TOWER_BEARER_INTEROP").as_deref() != Ok("1") {
        eprintln!("skipping MCP end-to-end test: set TOWER_BEARER_INTEROP=1 (needs node and `npm ci --prefix tests/interop`)");
        return;
    }
    for module in ["oidc-provider", "@modelcontextprotocol/sdk"] {
        assert!(
            interop_dir().join("node_modules").join(module).exists(),
            "TOWER_BEARER_INTEROP=1 but {module} is missing: run `npm ci --prefix tests/interop`"
        );
    }
    let (_provider, issuer) = start_provider();
    let (_server, addr) = start_server(&issuer);
    let mcp_url = format!("{addr}/mcp");
    let metadata_url = format!("{addr}/.well-known/oauth-protected-resource/mcp");

    // Keys load in the background: wait (bounded) until a token for this resource is
    // accepted, i.e. no longer 503.
    let tools = token(&issuer, "mcp-tools", "mcp:tools", &mcp_url).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, body) = post_mcp(&mcp_url, &tools, ping).await;
        if status != 503 {
            assert!(![401, 403].contains(&status), "{status}: {body}");
            break;
        }
        assert!(Instant::now() < deadline, "keys never loaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The metadata document names the authorization server and the scopes.
    let (status, _, body) = http("GET", &metadata_url, &[], "").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["resource"], mcp_url.as_str());
    assert_eq!(doc["authorization_servers"], serde_json::json!([issuer]));
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["mcp:tools", "mcp:admin"])
    );
    // The audience is this server: the same client's token for another resource is refused.
    let elsewhere = token(&issuer, "mcp-tools", "mcp:tools", "https://api.test").await;
    let (status, challenge, _) = post_mcp(&mcp_url, &elsewhere, ping).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!(r#"resource_metadata="{metadata_url}""#)),
        "{challenge}"
    );

    let events = run_sdk_client(&mcp_url, &issuer);
    let shown = events
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let of = |client: &str, kind: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["client"] == client && e["event"] == kind)
            .collect()
    };
    let mcp_path = |e: &&Value| e["origin"] == addr.as_str() && e["path"] == "/mcp";

    // 1. The first request has no token: 401 naming the metadata and the scope.
    let http_tools = of("tools", "http");
    let first = http_tools
        .first()
        .unwrap_or_else(|| panic!("no requests:\n{shown}"));
    assert_eq!(
        (&first["method"], &first["path"], &first["status"]),
        (&"POST".into(), &"/mcp".into(), &401.into()),
        "{shown}"
    );
    assert_eq!(
        first["www_authenticate"],
        format!(r#"Bearer scope="mcp:tools", resource_metadata="{metadata_url}""#).as_str(),
    );
    // 2. Discovery: the metadata, then the issuer's metadata, then a token.
    let position = |pred: &dyn Fn(&Value) -> bool| {
        http_tools
            .iter()
            .position(|e| pred(e))
            .unwrap_or_else(|| panic!("missing step:\n{shown}"))
    };
    let metadata = position(&|e| {
        e["path"] == "/.well-known/oauth-protected-resource/mcp" && e["status"] == 200
    });
    let discovery = position(&|e| {
        e["origin"] == issuer.as_str()
            && e["path"].as_str().unwrap().starts_with("/.well-known/")
            && e["status"] == 200
    });
    let token_request = position(&|e| {
        e["origin"] == issuer.as_str() && e["path"] == "/token" && e["status"] == 200
    });
    let authorized = position(&|e| mcp_path(&e) && e["status"] == 200);
    assert!(
        0 < metadata
            && metadata < discovery
            && discovery < token_request
            && token_request < authorized,
        "{shown}"
    );
    // 3. Connected, tools listed, whoami answered with the client's identity.
    assert_eq!(of("tools", "connected").len(), 1, "{shown}");
    assert_eq!(
        of("tools", "tools")[0]["names"],
        serde_json::json!(["admin_reset", "whoami"])
    );
    let calls = of("tools", "call");
    assert_eq!(
        (&calls[0]["tool"], &calls[0]["ok"], &calls[0]["text"]),
        (&"whoami".into(), &true.into(), &"mcp-tools".into()),
        "{shown}"
    );
    // 4. admin_reset with an mcp:tools token: 403 naming mcp:admin and the metadata; the SDK
    //    tries to step up, gets the same scope again (its client is configured for mcp:tools),
    //    and gives up.
    assert_eq!(
        (&calls[1]["tool"], &calls[1]["ok"], &calls[1]["code"]),
        (&"admin_reset".into(), &false.into(), &403.into()),
        "{shown}"
    );
    let refused: Vec<_> = http_tools
        .iter()
        .filter(|e| mcp_path(e) && e["status"] == 403)
        .collect();
    assert!(!refused.is_empty(), "{shown}");
    for e in &refused {
        assert_eq!(
            e["www_authenticate"],
            format!(r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp:admin", resource_metadata="{metadata_url}""#).as_str(),
        );
    }
    // The session's end (DELETE) needs only mcp:tools.
    assert!(
        http_tools.iter().any(|e| mcp_path(e)
            && e["method"] == "DELETE"
            && e["status"].as_u64().is_some_and(|s| s < 300)),
        "{shown}"
    );
    // 5. Step-up: a client configured for mcp:tools mcp:admin runs admin_reset.
    let admin_first = of("admin", "http")[0];
    assert_eq!(admin_first["status"], 401, "{shown}");
    let calls = of("admin", "call");
    assert_eq!(
        (&calls[0]["tool"], &calls[0]["ok"], &calls[0]["text"]),
        (&"admin_reset".into(), &true.into(), &"reset done".into()),
        "{shown}"
    );
    assert_eq!(calls[1]["text"], "mcp-admin", "{shown}");
    assert_eq!(events.last().unwrap()["event"], "done", "{shown}");
    // Nothing the client saw is a 5xx.
    assert!(
        events
            .iter()
            .all(|e| e["status"].as_u64().is_none_or(|s| s < 500)),
        "{shown}"
    );
}
