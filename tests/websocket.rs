//! WebSocket upgrades through the layer and the guards, with a real client
//! (tokio-tungstenite) against a real axum `WebSocketUpgrade` route on 127.0.0.1.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Error as WsError};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, RequireScopeLayer, TokenClaims, TokenSources};

/// Echo text frames until the client leaves or the token expires.
async fn echo(mut socket: WebSocket, claims: TokenClaims) {
    let expiry = claims.expiry();
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => {
                let frame = CloseFrame { code: close_code::POLICY, reason: "token expired".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                break;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
}

async fn ws(upgrade: WebSocketUpgrade, claims: TokenClaims) -> Response {
    upgrade.on_upgrade(move |socket| echo(socket, claims))
}

async fn serve(issuer: &TestIssuer) -> SocketAddr {
    let sources = TokenSources::authorization_header()
        .cookie("at")
        .query_on_websocket_upgrades()
        .allowed_origins(["https://app.example.com"]);
    let app = Router::new()
        .route(
            "/ws",
            get(ws).route_layer(RequireScopeLayer::all(["users:read"])),
        )
        .layer(BearerLayer::new(issuer.validator()).token_sources(sources));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    addr: SocketAddr,
    query: &str,
    headers: &[(&'static str, String)],
) -> Result<Socket, tungstenite::http::Response<Option<Vec<u8>>>> {
    let mut request = format!("ws://{addr}/ws{query}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    let connected = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .expect("the handshake answers within 10 s");
    match connected {
        Ok((socket, response)) => {
            assert_eq!(response.status(), 101);
            Ok(socket)
        }
        Err(WsError::Http(response)) => Err(*response),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

async fn round_trip(socket: &mut Socket) {
    socket
        .send(tungstenite::Message::text("hello"))
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an echo within 10 s")
        .expect("a frame")
        .unwrap();
    assert_eq!(reply, tungstenite::Message::text("hello"));
}

fn challenge(response: &tungstenite::http::Response<Option<Vec<u8>>>) -> Option<&str> {
    response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn an_authorized_client_upgrades_and_talks() {
    let issuer = TestIssuer::new();
    let addr = serve(&issuer).await;
    let token = issuer.token().scopes(["users:read"]).sign();
    // A non-browser client: the Authorization header.
    let mut socket = connect(addr, "", &[("authorization", format!("Bearer {token}"))])
        .await
        .unwrap();
    round_trip(&mut socket).await;
    // A browser: the query (it cannot set headers on `new WebSocket(..)`).
    let mut socket = connect(
        addr,
        &format!("?access_token={token}"),
        &[("origin", "https://evil.example".into())],
    )
    .await
    .unwrap();
    round_trip(&mut socket).await;
    // A browser with the cookie, from the allowed origin.
    let mut socket = connect(
        addr,
        "",
        &[
            ("cookie", format!("at={token}")),
            ("origin", "https://app.example.com".into()),
        ],
    )
    .await
    .unwrap();
    round_trip(&mut socket).await;
}

#[tokio::test]
async fn the_upgrade_request_itself_gets_401_and_403() {
    let issuer = TestIssuer::new();
    let addr = serve(&issuer).await;
    let refused = connect(addr, "", &[]).await.expect_err("no token: refused");
    assert_eq!(refused.status(), 401);
    assert_eq!(challenge(&refused), Some("Bearer"));

    let token = issuer.token().scopes(["users:write"]).sign();
    let refused = connect(addr, "", &[("authorization", format!("Bearer {token}"))])
        .await
        .expect_err("wrong scope: refused");
    assert_eq!(refused.status(), 403);
    assert_eq!(
        challenge(&refused),
        Some(
            r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="users:read""#
        )
    );

    let expired = issuer.token().scopes(["users:read"]).expired().sign();
    let refused = connect(addr, &format!("?access_token={expired}"), &[])
        .await
        .expect_err("expired: refused");
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn a_cookie_upgrade_from_a_foreign_page_is_refused() {
    let issuer = TestIssuer::new();
    let addr = serve(&issuer).await;
    let token = issuer.token().scopes(["users:read"]).sign();
    let refused = connect(
        addr,
        "",
        &[
            ("cookie", format!("at={token}")),
            ("origin", "https://evil.example".into()),
        ],
    )
    .await
    .expect_err("cross-site WebSocket hijacking refused");
    assert_eq!(refused.status(), 403);
    assert_eq!(challenge(&refused), None);
    let body: serde_json::Value =
        serde_json::from_slice(refused.body().as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"error": "access_denied", "error_description": "cross-site request refused"})
    );
    // Without Origin the client is no browser, and no other page started it.
    let mut socket = connect(addr, "", &[("cookie", format!("at={token}"))])
        .await
        .unwrap();
    round_trip(&mut socket).await;
}

#[tokio::test]
async fn the_socket_closes_when_the_token_expires() {
    let issuer = TestIssuer::new();
    let addr = serve(&issuer).await;
    let token = issuer.token().scopes(["users:read"]).expires_in(2).sign();
    let mut socket = connect(addr, "", &[("authorization", format!("Bearer {token}"))])
        .await
        .unwrap();
    round_trip(&mut socket).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(tungstenite::Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 10 s of a token that expires in 2 s")
    .expect("a close frame with a code");
    assert_eq!(closed.code, CloseCode::Policy);
    assert_eq!(closed.reason, "token expired");
}
