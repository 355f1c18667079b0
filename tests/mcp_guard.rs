//! `McpScopesLayer` through a real axum `Router`: the requirement of the tool a `tools/call`
//! names, the default for everything else, strict JSON-RPC reading, the body cap, the bytes
//! the MCP server receives, and `check_tool` in a handler.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_bearer::mcp::{check_tool, McpBody, McpMessage, McpScopesLayer, ToolScopeError};
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, ScopeHierarchy, ScopeRequirement};

const RESOURCE: &str = "https://mcp.test/mcp";
const METADATA: &str = "https://mcp.test/.well-known/oauth-protected-resource/mcp";

fn scopes() -> McpScopesLayer {
    McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"]))
        .tool("admin_reset", ScopeRequirement::all(["mcp:admin"]))
}

/// The answer of the stand-in MCP server: what it received.
struct Seen {
    status: StatusCode,
    challenge: String,
    body: Bytes,
    /// `x-method`, `x-tool` and `x-check` as the inner service saw them.
    method: String,
    tool: String,
    check: String,
}

/// A stand-in MCP server that echoes the body it received, names the guard's decision in
/// headers, and runs `check_tool` for the tool the guard named (with `handler_needs`).
fn app(
    issuer: &TestIssuer,
    layer: McpScopesLayer,
    handler_needs: ScopeRequirement,
    calls: Arc<AtomicUsize>,
) -> Router {
    let metadata = ResourceMetadata::builder(RESOURCE)
        .authorization_server(issuer.issuer_id())
        .build()
        .unwrap();
    let validator = issuer
        .validator_builder()
        .scope_hierarchy(ScopeHierarchy::new().implies("mcp:admin", ["mcp:tools"]))
        .build()
        .unwrap();
    let inner = service_fn(move |req: Request<McpBody<Body>>| {
        let calls = calls.clone();
        let needs = handler_needs.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let (parts, body) = req.into_parts();
            let message = parts.extensions.get::<McpMessage>().cloned();
            let check = match message.as_ref().and_then(McpMessage::tool) {
                Some(tool) => format!("{:?}", check_tool(&parts.extensions, tool, &needs)),
                None => "no tool".to_owned(),
            };
            let body = body.collect().await.unwrap().to_bytes();
            // Printable ASCII, whatever the client sent.
            let shown = |v: Option<&str>| v.unwrap_or("-").escape_default().to_string();
            let response = Response::builder()
                .header(
                    "x-method",
                    shown(message.as_ref().and_then(McpMessage::method)),
                )
                .header("x-tool", shown(message.as_ref().and_then(McpMessage::tool)))
                .header("x-check", check.escape_default().to_string())
                .body(Body::from(body))
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    });
    Router::new()
        .route_service("/mcp", ServiceBuilder::new().layer(layer).service(inner))
        .layer(BearerLayer::optional(validator).resource_metadata(&metadata))
}

async fn send(app: &Router, req: Request<Body>) -> Seen {
    let resp = app.clone().oneshot(req).await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (status, challenge) = (resp.status(), header("www-authenticate"));
    let (method, tool, check) = (header("x-method"), header("x-tool"), header("x-check"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Seen {
        status,
        challenge,
        body,
        method,
        tool,
        check,
    }
}

fn post(token: Option<&str>, body: impl Into<Bytes>) -> Request<Body> {
    let mut req = Request::post("/mcp").header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.body(Body::from(body.into())).unwrap()
}

fn call(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{tool}","arguments":{{}}}}}}"#
    )
}

struct Fixture {
    issuer: TestIssuer,
    app: Router,
    calls: Arc<AtomicUsize>,
}

impl Fixture {
    fn new(layer: McpScopesLayer) -> Self {
        Self::with_handler(layer, ScopeRequirement::all(["mcp:tools"]))
    }

    fn with_handler(layer: McpScopesLayer, handler_needs: ScopeRequirement) -> Self {
        let issuer = TestIssuer::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app(&issuer, layer, handler_needs, calls.clone());
        Self { issuer, app, calls }
    }

    fn token(&self, scopes: &[&str]) -> String {
        self.issuer.token().scopes(scopes).sign()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_tool_call_needs_the_tools_own_requirement() {
    let f = Fixture::new(scopes());
    let tools = f.token(&["mcp:tools"]);
    let admin = f.token(&["mcp:admin"]);

    let seen = send(&f.app, post(Some(&tools), call("whoami"))).await;
    assert_eq!(seen.status, 200);
    assert_eq!(
        (seen.method.as_str(), seen.tool.as_str()),
        ("tools/call", "whoami")
    );
    assert_eq!(seen.body, call("whoami"));

    let seen = send(&f.app, post(Some(&tools), call("admin_reset"))).await;
    assert_eq!(seen.status, 403);
    assert_eq!(
        seen.challenge,
        format!(
            r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp:admin", resource_metadata="{METADATA}""#
        )
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen.body).unwrap(),
        serde_json::json!({"error": "insufficient_scope", "error_description": "insufficient scope", "scope": "mcp:admin"})
    );
    assert_eq!(f.calls(), 1, "the refused call never reached the server");

    let seen = send(&f.app, post(Some(&admin), call("admin_reset"))).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.tool, "admin_reset");
    // mcp:admin implies mcp:tools (the validator's hierarchy): any tool.
    assert_eq!(
        send(&f.app, post(Some(&admin), call("whoami")))
            .await
            .status,
        200
    );
    // A tool without a rule gets the default.
    let seen = send(&f.app, post(Some(&tools), call("unlisted"))).await;
    assert_eq!(
        (seen.status, seen.tool.as_str()),
        (StatusCode::OK, "unlisted")
    );
    let seen = send(&f.app, post(Some(&f.token(&["profile"])), call("unlisted"))).await;
    assert_eq!(seen.status, 403);
    assert!(
        seen.challenge.contains(r#"scope="mcp:tools""#),
        "{}",
        seen.challenge
    );
}

#[tokio::test]
async fn other_messages_need_the_default() {
    let f = Fixture::new(scopes());
    let tools = f.token(&["mcp:tools"]);
    let other = f.token(&["profile"]);
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":3,"result":{}}"#,
        // `name` in another method's params names no tool.
        r#"{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"admin_reset"}}"#,
    ] {
        let seen = send(&f.app, post(Some(&tools), body)).await;
        assert_eq!(seen.status, 200, "{body}");
        assert_eq!(seen.tool, "-", "{body}");
        assert_eq!(seen.body, body.as_bytes(), "{body}");
        let seen = send(&f.app, post(Some(&other), body)).await;
        assert_eq!(seen.status, 403, "{body}");
        assert_eq!(
            seen.challenge,
            format!(
                r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp:tools", resource_metadata="{METADATA}""#
            )
        );
    }
    let seen = send(&f.app, post(Some(&tools), r#"{"id":3,"result":{}}"#)).await;
    assert_eq!(seen.method, "-", "a response has no method");
}

#[tokio::test]
async fn get_and_delete_need_the_default_and_keep_their_bodies() {
    let f = Fixture::new(scopes());
    for method in ["GET", "DELETE"] {
        let req = |token: &str| {
            Request::builder()
                .method(method)
                .uri("/mcp")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from("not json at all"))
                .unwrap()
        };
        let seen = send(&f.app, req(&f.token(&["mcp:tools"]))).await;
        assert_eq!(seen.status, 200, "{method}");
        assert_eq!((seen.method.as_str(), seen.tool.as_str()), ("-", "-"));
        assert_eq!(seen.body, "not json at all");
        let seen = send(&f.app, req(&f.token(&["mcp:other"]))).await;
        assert_eq!(seen.status, 403, "{method}");
        assert!(seen.challenge.contains(r#"scope="mcp:tools""#));
    }
}

#[tokio::test]
async fn no_token_is_401_naming_the_scope_and_the_metadata_before_the_body_is_read() {
    let f = Fixture::new(scopes());
    // Not even valid JSON: the body is never read.
    for body in [call("admin_reset"), "[1,".to_owned()] {
        let seen = send(&f.app, post(None, body)).await;
        assert_eq!(seen.status, 401);
        assert_eq!(
            seen.challenge,
            format!(r#"Bearer scope="mcp:tools", resource_metadata="{METADATA}""#)
        );
    }
    let get = Request::get("/mcp").body(Body::empty()).unwrap();
    assert_eq!(send(&f.app, get).await.status, 401);
    assert_eq!(f.calls(), 0);
    // A bad token is the bearer layer's answer.
    let seen = send(
        &f.app,
        post(Some(&f.issuer.token().expired().sign()), call("whoami")),
    )
    .await;
    assert_eq!(seen.status, 401);
    assert!(seen.challenge.contains(r#"error="invalid_token""#));
}

async fn assert_invalid(f: &Fixture, body: impl Into<Bytes>, says: &str) {
    let body = body.into();
    let before = f.calls();
    let seen = send(&f.app, post(Some(&f.token(&["mcp:admin"])), body.clone())).await;
    let shown = String::from_utf8_lossy(&body);
    assert_eq!(seen.status, 400, "{shown}");
    assert!(
        seen.challenge
            .starts_with(r#"Bearer error="invalid_request""#),
        "{shown}: {}",
        seen.challenge
    );
    let json: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(json["error"], "invalid_request");
    assert_eq!(json["error_description"], says, "{shown}");
    assert_eq!(f.calls(), before, "{shown} reached the server");
}

#[tokio::test]
async fn ambiguous_messages_are_400() {
    let f = Fixture::new(scopes());
    assert_invalid(
        &f,
        format!("[{}]", call("whoami")),
        "JSON-RPC batches are not accepted",
    )
    .await;
    assert_invalid(&f, "[]", "JSON-RPC batches are not accepted").await;
    let repeated = "repeated key in the JSON-RPC message";
    for body in [
        r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"whoami"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"admin_reset"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"},"params":{"name":"admin_reset"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","m\u0065thod":"tools/list","params":{"name":"whoami"}}"#,
    ] {
        assert_invalid(&f, body, repeated).await;
    }
    assert_invalid(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"admin_reset"}}"#,
        "repeated key in JSON-RPC params",
    )
    .await;
    assert_invalid(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["admin_reset",{}]}"#,
        "tools/call params must be an object",
    )
    .await;
    assert_invalid(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
        "tools/call needs params.name",
    )
    .await;
    assert_invalid(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":null}}"#,
        "tools/call params.name must be a string",
    )
    .await;
    assert_invalid(
        &f,
        r#"{"jsonrpc":"2.0","id":1,"method":["tools/call"]}"#,
        "JSON-RPC method must be a string",
    )
    .await;
    for body in ["\"tools/call\"", "42", "null", "true"] {
        assert_invalid(&f, body, "a JSON-RPC message must be an object").await;
    }
    for body in [
        &b""[..],
        b"{",
        b"{\"method\":\"ping\"}{}",
        b"{\"method\":\"ping\",}",
        b"{'method':'ping'}",
    ] {
        assert_invalid(
            &f,
            Bytes::from_static(body),
            "request body is not valid JSON",
        )
        .await;
    }
    // Not UTF-8, also where the decision reads nothing (serde_json skips such strings).
    for body in [
        &b"{\"method\":\"\xff\"}"[..],
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}",
    ] {
        assert_invalid(&f, Bytes::from_static(body), "request body is not UTF-8").await;
    }
    // Deep nesting where nothing is decided: skipped without recursion, passed on (the
    // server's own parser applies its depth limit).
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let seen = send(&f.app, post(Some(&f.token(&["mcp:tools"])), deep.clone())).await;
    assert_eq!((seen.status, seen.body.len()), (StatusCode::OK, deep.len()));
}

#[tokio::test]
async fn bodies_over_the_cap_are_400_with_or_without_content_length() {
    let f = Fixture::new(scopes().limit(256));
    let token = f.token(&["mcp:tools"]);
    let padded = |len: usize| {
        let head = r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#;
        let tail = r#""}}"#;
        let mut s = head.to_owned();
        s.push_str(&"x".repeat(len - head.len() - tail.len()));
        s.push_str(tail);
        assert_eq!(s.len(), len);
        s
    };
    // Exactly at the cap: read and passed on.
    let seen = send(&f.app, post(Some(&token), padded(256))).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body, padded(256));
    let with_length = |body: String, length: usize| {
        Request::post("/mcp")
            .header("authorization", format!("Bearer {token}"))
            .header("content-length", length)
            .body(Body::from(body))
            .unwrap()
    };
    let seen = send(&f.app, with_length(padded(256), 256)).await;
    assert_eq!(seen.status, 200);
    let calls = f.calls();
    // Over it, declared: refused before reading (the body here is short).
    let seen = send(&f.app, with_length(padded(100), 257)).await;
    assert_eq!(seen.status, 400);
    assert!(
        seen.challenge.contains("JSON-RPC message too large"),
        "{}",
        seen.challenge
    );
    // Over it, streamed without Content-Length.
    let chunks = padded(257)
        .into_bytes()
        .chunks(50)
        .map(|c| Ok::<_, Infallible>(Bytes::copy_from_slice(c)))
        .collect::<Vec<_>>();
    let req = Request::post("/mcp")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let seen = send(&f.app, req).await;
    assert_eq!(seen.status, 400);
    assert!(seen.challenge.contains(r#"error="invalid_request""#));
    assert_eq!(f.calls(), calls);
}

#[tokio::test]
async fn the_server_receives_exactly_the_bytes_sent() {
    let f = Fixture::new(scopes());
    let token = f.token(&["mcp:admin"]);
    let body = "\r\n {\"id\" : \"\\u0041\\n\", \"params\":{\"name\":\"admin\\u005freset\",\"arguments\":{\"x\":[1.50e3,\"\u{1F600}\",{\"name\":1,\"name\":2}]}},\n\t\"method\":\"tools\\/call\",\"jsonrpc\":\"2.0\"}  ";
    let seen = send(&f.app, post(Some(&token), body)).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.tool, "admin_reset", "read after unescaping");
    assert_eq!(seen.body, body.as_bytes());
}

#[tokio::test]
async fn a_handler_rechecks_its_requirement() {
    // The guard is configured more loosely than the handler of admin_reset wants.
    let loose = McpScopesLayer::new(ScopeRequirement::all(["mcp:tools"]));
    let f = Fixture::with_handler(loose, ScopeRequirement::all(["mcp:admin"]));
    let seen = send(
        &f.app,
        post(Some(&f.token(&["mcp:tools"])), call("admin_reset")),
    )
    .await;
    assert_eq!(seen.status, 200, "the guard let it through");
    assert_eq!(
        seen.check,
        r#"Err(InsufficientScope { needed: \"mcp:admin\" })"#
    );
    let seen = send(
        &f.app,
        post(Some(&f.token(&["mcp:admin"])), call("admin_reset")),
    )
    .await;
    assert_eq!(seen.check, "Ok(())");

    // Outside a request the guard read: refused.
    let mut parts = Request::new(()).into_parts().0;
    let admin = ScopeRequirement::all(["mcp:admin"]);
    assert_eq!(
        check_tool(&parts.extensions, "admin_reset", &admin),
        Err(ToolScopeError::NotGuarded)
    );
    // The decision of another request names another tool.
    let f = Fixture::new(scopes());
    let captured = Arc::new(std::sync::Mutex::new(None));
    let keep = captured.clone();
    let validator = f.issuer.validator();
    let svc = ServiceBuilder::new()
        .layer(BearerLayer::new(validator))
        .layer(scopes())
        .service(service_fn(move |req: Request<McpBody<Body>>| {
            let keep = keep.clone();
            async move {
                *keep.lock().unwrap() = Some(req.into_parts().0.extensions);
                Ok::<_, Infallible>(Response::new(Body::empty()))
            }
        }));
    let resp = svc
        .oneshot(post(
            Some(&f.token(&["mcp:tools", "mcp:admin"])),
            call("whoami"),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    parts.extensions = captured.lock().unwrap().take().unwrap();
    assert_eq!(
        check_tool(&parts.extensions, "admin_reset", &admin),
        Err(ToolScopeError::OtherTool)
    );
    assert_eq!(check_tool(&parts.extensions, "whoami", &admin), Ok(()));
}

#[tokio::test]
async fn without_the_bearer_layer_it_is_a_server_error() {
    let svc = ServiceBuilder::new().layer(scopes()).service(service_fn(
        |_req: Request<McpBody<Body>>| async { Ok::<_, Infallible>(Response::new(Body::empty())) },
    ));
    let resp = svc.oneshot(post(None, call("whoami"))).await.unwrap();
    assert_eq!(resp.status(), 500);
}

#[test]
fn tool_rules_are_checked_at_start_up() {
    assert!(scopes()
        .try_tool("admin_reset", ScopeRequirement::all(["x"]))
        .is_err());
    assert!(scopes().try_tool("", ScopeRequirement::all(["x"])).is_err());
    let layer = scopes();
    assert_eq!(
        layer.requirement("admin_reset"),
        &ScopeRequirement::all(["mcp:admin"])
    );
    assert_eq!(
        layer.requirement("whoami"),
        &ScopeRequirement::all(["mcp:tools"])
    );
    let listed: Vec<_> = layer
        .guards()
        .flat_map(|g| g.requirement().scopes())
        .collect();
    assert_eq!(listed, ["mcp:tools", "mcp:admin"]);
}

/// What `serde_json::Value` reads as the method and the tool of a message the guard passed.
fn value_reading(body: &[u8]) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).expect("the guard passed valid JSON");
    let method = v.get("method").and_then(|m| m.as_str()).unwrap_or("-");
    let tool = if method == "tools/call" {
        v["params"]["name"]
            .as_str()
            .expect("a tools/call names a tool")
    } else {
        "-"
    };
    (method.to_owned(), tool.to_owned())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Fragments of JSON-RPC messages, assembled in any order with any repeats.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#""jsonrpc":"2.0""#.to_owned()),
        Just(r#""id":1"#.to_owned()),
        Just(r#""method":"tools/call""#.to_owned()),
        Just(r#""method":"tools/list""#.to_owned()),
        Just(r#""met\u0068od":"tools\/call""#.to_owned()),
        Just(r#""params":{"name":"admin_reset"}"#.to_owned()),
        Just(r#""params":{"name":"whoami","arguments":{}}"#.to_owned()),
        Just(r#""params":{"name":"whoami","n\u0061me":"admin_reset"}"#.to_owned()),
        Just(r#""params":["admin_reset"]"#.to_owned()),
        Just(r#""params":{"name":7}"#.to_owned()),
        Just(r#""result":{}"#.to_owned()),
        "[a-z]{1,6}".prop_map(|k| format!(r#""{k}":null"#)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes: an answer, never a panic; whatever passes reached the server intact.
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let f = Fixture::new(scopes().limit(512));
        let token = f.token(&["mcp:tools"]);
        let seen = runtime().block_on(send(&f.app, post(Some(&token), body.clone())));
        prop_assert!([200, 400, 403].contains(&seen.status.as_u16()), "{}", seen.status);
        if seen.status == 200 {
            prop_assert_eq!(&seen.body[..], &body[..]);
        }
    }

    /// Messages assembled from fragments: when the guard passes one, its reading (method,
    /// tool) is the one any other JSON reader makes, and the requirement is that tool's.
    #[test]
    fn the_guard_reads_what_every_reader_reads(
        fragments in proptest::collection::vec(fragment(), 0..6),
        admin in any::<bool>(),
    ) {
        let body = format!("{{{}}}", fragments.join(","));
        let f = Fixture::new(scopes());
        let token = f.token(if admin { &["mcp:admin"] } else { &["mcp:tools"] });
        let seen = runtime().block_on(send(&f.app, post(Some(&token), body.clone())));
        match seen.status.as_u16() {
            200 => {
                let (method, tool) = value_reading(body.as_bytes());
                prop_assert_eq!(&seen.method, &method);
                prop_assert_eq!(&seen.tool, &tool);
                prop_assert!(admin || tool != "admin_reset");
            }
            403 => {
                prop_assert!(!admin);
                prop_assert_eq!(value_reading(body.as_bytes()).1, "admin_reset");
            }
            400 => {}
            other => prop_assert!(false, "status {}", other),
        }
    }
}

/// An inner service that is never ready, with the error it reports.
#[derive(Clone, Debug)]
struct Unready;

impl tower::Service<Request<McpBody<Body>>> for Unready {
    type Response = Response<Body>;
    type Error = &'static str;
    type Future = std::future::Ready<Result<Response<Body>, &'static str>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Err("inner not ready"))
    }

    fn call(&mut self, _: Request<McpBody<Body>>) -> Self::Future {
        std::future::ready(Ok(Response::new(Body::empty())))
    }
}

#[tokio::test]
async fn readiness_and_debug_come_from_the_inner_service() {
    let mut guarded = ServiceBuilder::new().layer(scopes()).service(Unready);
    // The guard is as ready as the MCP server behind it: back-pressure passes through.
    let ready =
        std::future::poll_fn(|cx| tower::Service::<Request<Body>>::poll_ready(&mut guarded, cx))
            .await;
    assert_eq!(ready, Err("inner not ready"));
    let shown = format!("{guarded:?}");
    assert!(
        shown.contains("McpScopes") && shown.contains("Unready"),
        "{shown}"
    );
}
