//! gRPC on tonic: the layers in front of a real tonic server on 127.0.0.1, called by a real
//! tonic client; rejections are gRPC statuses with the challenge in the metadata.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tonic::codegen::tokio_stream::{self, Stream};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{
    health_check_response::ServingStatus, HealthCheckRequest, HealthCheckResponse,
};
use tower_bearer::grpc::GrpcLayer;
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, ScopeMapLayer, ScopeRequirement, Scopes, TokenClaims, Validator};

/// A health service whose answer shows what the handler saw in the request's extensions:
/// `SERVING` when the token's subject is the service asked about and it was granted
/// `health:read`.
struct Whoami;

#[tonic::async_trait]
impl Health for Whoami {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let claims = request
            .extensions()
            .get::<TokenClaims>()
            .ok_or_else(|| Status::internal("no claims"))?;
        let scopes = request
            .extensions()
            .get::<Scopes>()
            .ok_or_else(|| Status::internal("no scopes"))?;
        let me = claims.subject() == Some(request.get_ref().service.as_str())
            && scopes.contains("health:read");
        let status = if me {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        Ok(Response::new(HealthCheckResponse {
            status: status.into(),
        }))
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }
}

fn scopes() -> ScopeMapLayer {
    ScopeMapLayer::new().path(
        "/grpc.health.v1.Health/Check",
        ScopeRequirement::all(["health:read"]),
    )
}

/// The whole server behind the layer (`Server::builder().layer(..)`).
async fn serve_all(validator: Validator) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = GrpcLayer::new(BearerLayer::new(validator), scopes());
    tokio::spawn(async move {
        Server::builder()
            .layer(layer)
            .add_service(HealthServer::new(Whoami))
            .serve_with_incoming(TcpIncoming::from(listener))
            .await
            .unwrap()
    });
    addr
}

/// One service wrapped (`add_service(layer.layer(service))`).
async fn serve_one(validator: Validator) -> SocketAddr {
    use tower::Layer;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = GrpcLayer::new(BearerLayer::new(validator), scopes());
    tokio::spawn(async move {
        Server::builder()
            .add_service(layer.layer(HealthServer::new(Whoami)))
            .serve_with_incoming(TcpIncoming::from(listener))
            .await
            .unwrap()
    });
    addr
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

async fn check(
    addr: SocketAddr,
    service: &str,
    token: Option<&str>,
) -> Result<ServingStatus, Status> {
    let mut request = Request::new(HealthCheckRequest {
        service: service.into(),
    });
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let response = client(addr).await.check(request).await?;
    Ok(ServingStatus::try_from(response.into_inner().status).unwrap())
}

fn challenge(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn every_answer_in_grpc_for_a_whole_server_and_for_one_service() {
    let issuer = TestIssuer::new();
    for addr in [
        serve_all(issuer.validator()).await,
        serve_one(issuer.validator()).await,
    ] {
        let good = issuer
            .token()
            .subject("alice")
            .scopes(["health:read"])
            .sign();
        assert_eq!(
            check(addr, "alice", Some(&good)).await.unwrap(),
            ServingStatus::Serving
        );
        assert_eq!(
            check(addr, "bob", Some(&good)).await.unwrap(),
            ServingStatus::NotServing
        );

        let none = check(addr, "alice", None).await.unwrap_err();
        assert_eq!(none.code(), Code::Unauthenticated);
        assert_eq!(none.message(), "bearer token required");
        assert_eq!(challenge(&none), Some("Bearer"));

        let weak = issuer
            .token()
            .subject("alice")
            .scopes(["users:read"])
            .sign();
        let denied = check(addr, "alice", Some(&weak)).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        assert_eq!(denied.message(), "insufficient scope");
        assert_eq!(
            challenge(&denied),
            Some(
                r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="health:read""#
            )
        );

        let expired = issuer.token().scopes(["health:read"]).expired().sign();
        let refused = check(addr, "alice", Some(&expired)).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert_eq!(refused.message(), "token expired");
        assert_eq!(
            challenge(&refused),
            Some(r#"Bearer error="invalid_token", error_description="token expired""#)
        );

        let malformed = check(addr, "alice", Some("not a token")).await.unwrap_err();
        assert_eq!(malformed.code(), Code::Unauthenticated);
        assert!(challenge(&malformed)
            .unwrap()
            .contains(r#"error="invalid_request""#));
    }
}

#[tokio::test]
async fn a_method_without_a_rule_is_refused() {
    let issuer = TestIssuer::new();
    let addr = serve_all(issuer.validator()).await;
    let token = issuer.token().scopes(["health:read"]).sign();
    let mut request = Request::new(HealthCheckRequest::default());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let denied = client(addr).await.watch(request).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(denied.message(), "no access rule for this path");
    assert_eq!(challenge(&denied), None);
}

#[tokio::test]
async fn keys_that_cannot_load_are_unavailable_with_a_retry_hint() {
    // A port that refuses connections: the key set never loads.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", closed.local_addr().unwrap());
    drop(closed);
    let issuer = TestIssuer::new();
    let validator = Validator::builder()
        .issuer(issuer.issuer_id())
        .audience(issuer.audience_id())
        .jwks_url(url)
        .remote_options(tower_bearer::remote::RemoteOptions::new().allow_http(true))
        .build()
        .unwrap();
    let addr = serve_all(validator).await;
    let token = issuer.token().scopes(["health:read"]).sign();
    let unavailable = check(addr, "", Some(&token)).await.unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable);
    let meta = unavailable.metadata();
    let secs: u64 = meta
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs >= 1);
    let ms: u64 = meta
        .get("grpc-retry-pushback-ms")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ms, secs * 1000);
    assert_eq!(challenge(&unavailable), None);
}

#[tokio::test]
async fn json_clients_of_the_same_server_still_get_http_answers() {
    let issuer = TestIssuer::new();
    let addr = serve_all(issuer.validator()).await;
    // An HTTP/2 request that is not a gRPC call.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        client.get(
            format!("http://{addr}/grpc.health.v1.Health/Check")
                .parse()
                .unwrap(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(response.headers()["content-type"], "application/json");
    // A GET claiming a gRPC content type is no gRPC call (every call is a POST): HTTP answer.
    let request = http::Request::get(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .body(http_body_util::Empty::new())
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn grpc_rejections_are_never_stored() {
    let issuer = TestIssuer::new();
    let addr = serve_all(issuer.validator()).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let request = http::Request::post(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(http_body_util::Empty::new())
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(response.headers()["cache-control"], "no-store");
}

/// `examples/grpc_server.rs` as a user runs it: a child process configured through the
/// environment, called by a tonic client.
#[tokio::test]
async fn the_grpc_server_example() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let issuer = TestIssuer::new();
    let dir = std::env::temp_dir().join(format!("grpc-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, issuer.jwks()).unwrap();
    let mut binary = std::env::current_exe().unwrap();
    binary.pop();
    if binary.ends_with("deps") {
        binary.pop();
    }
    let mut child = Child(
        Command::new(binary.join("examples").join("grpc_server"))
            .env_clear()
            .env("RS_BIND", "127.0.0.1:0")
            .env("RS_ISSUER", issuer.issuer_id())
            .env("RS_AUDIENCE", issuer.audience_id())
            .env("RS_JWKS_FILE", &jwks)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the grpc_server example is built"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();

    let good = issuer.token().scopes(["health:read"]).sign();
    assert_eq!(
        check(addr, "", Some(&good)).await.unwrap(),
        ServingStatus::Serving
    );
    let none = check(addr, "", None).await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated);
    let weak = issuer.token().scopes(["users:read"]).sign();
    let denied = check(addr, "", Some(&weak)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(challenge(&denied)
        .unwrap()
        .contains(r#"scope="health:read""#));
    let _ = std::fs::remove_dir_all(&dir);
}
