//! Certificate-bound tokens (RFC 8705) over real connections on loopback: a rustls server
//! that asks for client certificates and hands each request the connection's certificate,
//! and an axum server behind which a "proxy" forwards the certificate in RFC 9440's
//! `Client-Cert` header.

#[path = "common/introspection.rs"]
mod introspection_endpoint;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::ServiceExt;
use tower_bearer::metadata::ResourceMetadata;
use tower_bearer::mtls::{ClientCertificate, ClientCertificates, PeerAddr};
use tower_bearer::testing::TestIssuer;
use tower_bearer::{BearerLayer, TokenClaims};

const WAIT: Duration = Duration::from_secs(10);

struct Pki {
    ca: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    /// Two client certificates of the same CA.
    clients: Vec<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let leaf = |names: Vec<String>, client: bool| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let cert = params.signed_by(&key, &issuer).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    };
    Pki {
        ca: ca_cert.der().clone(),
        server: leaf(vec!["localhost".into()], false),
        clients: vec![leaf(vec![], true), leaf(vec![], true)],
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn roots(pki: &Pki) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    Arc::new(roots)
}

async fn me(claims: Extension<TokenClaims>) -> String {
    claims
        .certificate_thumbprint()
        .unwrap_or("unbound")
        .to_owned()
}

/// A TLS server that asks for (but does not require) client certificates and puts the
/// connection's certificate into each request, the way an application on rustls would.
async fn tls_server(pki: &Pki, app: Router) -> SocketAddr {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(pki), provider())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|der| ClientCertificate::from_der(der.to_vec()));
                let service = hyper::service::service_fn(move |mut req: Request<_>| {
                    if let Some(cert) = &cert {
                        req.extensions_mut().insert(cert.clone());
                    }
                    req.extensions_mut().insert(PeerAddr(peer));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

/// One GET over a new TLS connection, with client certificate `client` (an index into the
/// PKI's client certificates) or none.
async fn tls_get(pki: &Pki, addr: SocketAddr, client: Option<usize>, token: &str) -> (u16, String) {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(pki));
    let config = match client {
        Some(i) => builder
            .with_client_auth_cert(vec![pki.clients[i].0.clone()], pki.clients[i].1.clone_key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get("/me")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = tokio::time::timeout(WAIT, sender.send_request(req))
        .await
        .unwrap()
        .unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    (status, challenge.unwrap_or(body))
}

fn thumbprint(der: &CertificateDer<'_>) -> ClientCertificate {
    ClientCertificate::from_der(der.to_vec())
}

#[tokio::test]
async fn a_bound_token_passes_only_on_a_connection_with_its_certificate() {
    let pki = pki();
    let issuer = TestIssuer::new();
    // The verified-token cache is on: a hit must check the certificate again.
    let validator = issuer.validator_builder().token_cache(64).build().unwrap();
    let app = Router::new().route("/me", get(me)).layer(
        BearerLayer::new(validator).client_certificates(ClientCertificates::from_connection()),
    );
    let addr = tls_server(&pki, app).await;
    let alice = thumbprint(&pki.clients[0].0);
    let bound = issuer.token().certificate_bound(&alice).sign();
    let unbound = issuer.token().sign();

    let (status, body) = tls_get(&pki, addr, Some(0), &bound).await;
    assert_eq!((status, body.as_str()), (200, alice.thumbprint()));
    // Twice: the second answer comes from the cache.
    assert_eq!(tls_get(&pki, addr, Some(0), &bound).await.0, 200);

    let (status, challenge) = tls_get(&pki, addr, Some(1), &bound).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        "Bearer error=\"invalid_token\", error_description=\"client certificate does not match the token's cnf.x5t#S256\""
    );
    let (status, challenge) = tls_get(&pki, addr, None, &bound).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        "Bearer error=\"invalid_token\", error_description=\"token is bound to a client certificate (cnf.x5t#S256) and none was presented\""
    );

    // Unbound tokens are unaffected, with or without a certificate.
    assert_eq!(
        tls_get(&pki, addr, Some(1), &unbound).await,
        (200, "unbound".into())
    );
    assert_eq!(
        tls_get(&pki, addr, None, &unbound).await,
        (200, "unbound".into())
    );
}

#[tokio::test]
async fn without_a_certificate_source_bound_tokens_are_refused() {
    let pki = pki();
    let issuer = TestIssuer::new();
    let app = Router::new()
        .route("/me", get(me))
        .layer(BearerLayer::new(issuer.validator()));
    let addr = tls_server(&pki, app).await;
    let alice = thumbprint(&pki.clients[0].0);
    let bound = issuer.token().certificate_bound(&alice).sign();
    // The connection has the certificate, but the layer was not told to look for one.
    assert_eq!(tls_get(&pki, addr, Some(0), &bound).await.0, 401);
}

/// An axum server that knows its peers (`ConnectInfo`), behind which the proxy's header is
/// believed only from `trusted`.
async fn proxied_server(issuer: &TestIssuer, certificates: ClientCertificates) -> String {
    let certificates =
        certificates.peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
    let app = Router::new()
        .route("/me", get(me))
        .layer(BearerLayer::new(issuer.validator()).client_certificates(certificates));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}/me")
}

fn header_value(der: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        ":{}:",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

async fn get_with(url: &str, token: &str, cert: Option<&str>) -> (StatusCode, String) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let mut req = Request::get(url).header("authorization", format!("Bearer {token}"));
    if let Some(cert) = cert {
        req = req.header("client-cert", cert);
    }
    let res = tokio::time::timeout(WAIT, client.request(req.body(Empty::new()).unwrap()))
        .await
        .unwrap()
        .unwrap();
    let status = res.status();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    (status, challenge.unwrap_or(body))
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_certificate_in_client_cert() {
    let pki = pki();
    let issuer = TestIssuer::new();
    // Loopback is trusted by default: the test client plays the proxy.
    let url = proxied_server(
        &issuer,
        ClientCertificates::from_header("Client-Cert").unwrap(),
    )
    .await;
    let alice = thumbprint(&pki.clients[0].0);
    let bound = issuer.token().certificate_bound(&alice).sign();
    let alice_header = header_value(&pki.clients[0].0);
    let bob_header = header_value(&pki.clients[1].0);

    let (status, body) = get_with(&url, &bound, Some(&alice_header)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, alice.thumbprint())
    );
    let (status, challenge) = get_with(&url, &bound, Some(&bob_header)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("does not match"), "{challenge}");
    let (status, challenge) = get_with(&url, &bound, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("none was presented"), "{challenge}");
    // A malformed header from the trusted proxy is a bad request.
    let (status, challenge) = get_with(&url, &bound, Some("MIIB")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        challenge,
        "Bearer error=\"invalid_request\", error_description=\"malformed client certificate header\""
    );
    // Unbound tokens pass with or without the header.
    let unbound = issuer.token().sign();
    assert_eq!(get_with(&url, &unbound, Some(&bob_header)).await.0, 200);
    assert_eq!(get_with(&url, &unbound, None).await.0, 200);
}

#[tokio::test]
async fn the_header_from_an_untrusted_peer_is_a_bad_request() {
    let pki = pki();
    let issuer = TestIssuer::new();
    // Only 10.0.0.7 may send the header; this test's connections come from 127.0.0.1.
    let url = proxied_server(
        &issuer,
        ClientCertificates::from_header("client-cert")
            .unwrap()
            .trusted_proxies(["10.0.0.7".parse().unwrap()]),
    )
    .await;
    let alice = thumbprint(&pki.clients[0].0);
    let bound = issuer.token().certificate_bound(&alice).sign();
    let alice_header = header_value(&pki.clients[0].0);
    for token in [bound.clone(), issuer.token().sign()] {
        let (status, challenge) = get_with(&url, &token, Some(&alice_header)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            challenge,
            "Bearer error=\"invalid_request\", error_description=\"client certificate header from an untrusted peer\""
        );
    }
    // Without the header: the bound token lacks its certificate, the unbound one passes.
    assert_eq!(get_with(&url, &bound, None).await.0, 401);
    assert_eq!(get_with(&url, &issuer.token().sign(), None).await.0, 200);
}

#[test]
fn the_metadata_can_announce_certificate_bound_tokens() {
    let metadata = ResourceMetadata::builder("https://api.example.com")
        .authorization_server("https://issuer.example.com")
        .tls_client_certificate_bound_access_tokens(true)
        .build()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(metadata.json()).unwrap();
    assert_eq!(doc["tls_client_certificate_bound_access_tokens"], true);
}

/// A request as a TLS server hands it on: the connection's certificate in the extensions.
fn on_connection(
    cert: Option<&ClientCertificate>,
    auth: &str,
    proof: Option<&str>,
) -> Request<axum::body::Body> {
    let mut req = Request::get("https://api.test/me")
        .header("host", "api.test")
        .header("authorization", auth);
    if let Some(proof) = proof {
        req = req.header("dpop", proof);
    }
    let mut req = req.body(axum::body::Body::empty()).unwrap();
    if let Some(cert) = cert {
        req.extensions_mut().insert(cert.clone());
    }
    req
}

async fn answer(app: &Router, req: Request<axum::body::Body>) -> (u16, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge)
}

#[tokio::test]
async fn bound_by_key_and_certificate_needs_both() {
    use tower_bearer::dpop::Dpop;
    use tower_bearer::testing::DpopClient;
    use tower_bearer::Algorithm;
    let issuer = TestIssuer::new();
    let client = DpopClient::new(Algorithm::ES256);
    let alice = ClientCertificate::from_der(vec![0x30, 0x01, 0x0a]);
    let mallory = ClientCertificate::from_der(vec![0x30, 0x01, 0x0b]);
    let app = Router::new().route("/me", get(me)).layer(
        BearerLayer::new(issuer.validator())
            .dpop(
                Dpop::allowed()
                    .public_base_url("https://api.test")
                    .build()
                    .unwrap(),
            )
            .client_certificates(ClientCertificates::from_connection()),
    );
    let both = issuer
        .token()
        .claim(
            "cnf",
            serde_json::json!({ "jkt": client.jkt(), "x5t#S256": alice.thumbprint() }),
        )
        .sign();
    let dpop = |token: &str| {
        (
            format!("DPoP {token}"),
            client.proof("GET", "https://api.test/me", token),
        )
    };
    let (auth, proof) = dpop(&both);
    assert_eq!(
        answer(&app, on_connection(Some(&alice), &auth, Some(&proof)))
            .await
            .0,
        200
    );
    let (auth, proof) = dpop(&both);
    let (status, challenge) = answer(&app, on_connection(None, &auth, Some(&proof))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("none was presented"), "{challenge}");
    let (auth, proof) = dpop(&both);
    let (status, challenge) =
        answer(&app, on_connection(Some(&mallory), &auth, Some(&proof))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("does not match"), "{challenge}");
    // The certificate alone does not do: the key binding needs its proof.
    let (status, challenge) = answer(
        &app,
        on_connection(Some(&alice), &format!("Bearer {both}"), None),
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.contains("sender-constrained"), "{challenge}");

    // Bound to the certificate only, presented with a DPoP proof: not a DPoP-bound token.
    let cert_only = issuer.token().certificate_bound(&alice).sign();
    let (auth, proof) = dpop(&cert_only);
    let (status, challenge) = answer(&app, on_connection(Some(&alice), &auth, Some(&proof))).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("not DPoP-bound"), "{challenge}");
    let (status, _) = answer(
        &app,
        on_connection(Some(&alice), &format!("Bearer {cert_only}"), None),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_bound_token_waiting_for_keys_still_needs_its_certificate() {
    use tower_bearer::remote::RemoteOptions;
    use tower_bearer::testing::{TEST_AUDIENCE, TEST_ISSUER};
    let issuer = TestIssuer::new();
    let jwks = issuer.jwks();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let keys = Router::new().route("/jwks", get(move || async move { jwks }));
    tokio::spawn(async move { axum::serve(listener, keys).await });
    let remote = || {
        tower_bearer::Validator::builder()
            .issuer(TEST_ISSUER)
            .audience(TEST_AUDIENCE)
            .jwks_url(format!("http://{addr}/jwks"))
            .remote_options(RemoteOptions::new().allow_http(true))
            .build()
            .unwrap()
    };
    let alice = ClientCertificate::from_der(vec![0x30, 0x01, 0x0a]);
    let mallory = ClientCertificate::from_der(vec![0x30, 0x01, 0x0b]);
    let bound = format!("Bearer {}", issuer.token().certificate_bound(&alice).sign());
    // Each request is the first of a fresh validator: it waits for the key fetch.
    for (cert, expected) in [(Some(&alice), 200), (Some(&mallory), 401), (None, 401)] {
        let app = Router::new().route("/me", get(me)).layer(
            BearerLayer::new(remote()).client_certificates(ClientCertificates::from_connection()),
        );
        assert_eq!(
            answer(&app, on_connection(cert, &bound, None)).await.0,
            expected
        );
    }
}

#[tokio::test]
async fn an_introspected_bound_token_needs_its_certificate_on_every_hit() {
    use tower_bearer::introspect::Introspection;
    use tower_bearer::remote::RemoteOptions;
    use tower_bearer::testing::{TEST_AUDIENCE, TEST_ISSUER};
    const OPAQUE: &str = "Xk2vq8NnR4tYb7LmP0sWc3HdJ9fGa1Ue";
    let alice = ClientCertificate::from_der(vec![0x30, 0x01, 0x0a]);
    let mallory = ClientCertificate::from_der(vec![0x30, 0x01, 0x0b]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let answer_json = serde_json::json!({
        "active": true, "scope": "users:read", "iss": TEST_ISSUER, "aud": TEST_AUDIENCE,
        "exp": now + 600, "cnf": { "x5t#S256": alice.thumbprint() },
    });
    let (url, calls) =
        introspection_endpoint::introspection_endpoint(vec![(OPAQUE, answer_json)]).await;
    let validator = tower_bearer::Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .introspection(
            Introspection::builder("rs", "secret")
                .endpoint(url)
                .remote_options(RemoteOptions::new().allow_http(true))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let app = Router::new().route("/me", get(me)).layer(
        BearerLayer::new(validator).client_certificates(ClientCertificates::from_connection()),
    );
    let auth = format!("Bearer {OPAQUE}");
    // The first answer is asked for with the wrong certificate, then reused from the cache.
    assert_eq!(
        answer(&app, on_connection(Some(&mallory), &auth, None))
            .await
            .0,
        401
    );
    assert_eq!(
        answer(&app, on_connection(Some(&alice), &auth, None))
            .await
            .0,
        200
    );
    assert_eq!(answer(&app, on_connection(None, &auth, None)).await.0, 401);
    assert_eq!(
        answer(&app, on_connection(Some(&mallory), &auth, None))
            .await
            .0,
        401
    );
    assert_eq!(
        answer(&app, on_connection(Some(&alice), &auth, None))
            .await
            .0,
        200
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one call, then the cache"
    );
}

#[tokio::test]
async fn unauthenticated_answers_vary_on_the_certificate_header() {
    let issuer = TestIssuer::new();
    let app = Router::new().route("/", get(|| async { "hello" })).layer(
        BearerLayer::optional(issuer.validator())
            .client_certificates(ClientCertificates::from_header("client-cert").unwrap()),
    );
    let req = Request::get("/").body(axum::body::Body::empty()).unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let vary: Vec<_> = res.headers().get_all("vary").iter().collect();
    assert!(
        vary.iter()
            .any(|v| v.to_str().unwrap().contains("client-cert")),
        "{vary:?}"
    );
}
