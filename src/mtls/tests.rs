use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use http::{Extensions, HeaderMap, HeaderValue};

use super::*;

const DER: &[u8] = &[0x30, 0x01, 0x02];
const HEADER: &str = ":MAEC:";

fn from(ip: IpAddr) -> Extensions {
    let mut ext = Extensions::new();
    ext.insert(PeerAddr(SocketAddr::new(ip, 4433)));
    ext
}

fn headers(values: &[&str]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for v in values {
        h.append("client-cert", HeaderValue::from_str(v).unwrap());
    }
    h
}

fn description(r: Result<Option<ClientCertificate>, Rejection>) -> String {
    r.expect_err("a rejection").description().to_string()
}

#[test]
fn the_thumbprint_is_base64url_sha256_of_the_der() {
    // SHA-256 of the three bytes, computed independently.
    let cert = ClientCertificate::from_der(DER.to_vec());
    let expected = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(DER))
    };
    assert_eq!(cert.thumbprint(), expected);
    assert_eq!(cert.thumbprint().len(), 43);
    assert_eq!(cert.der(), DER);
    assert!(format!("{cert:?}").contains(&expected));
}

#[test]
fn the_header_is_believed_from_loopback_by_default() {
    let source = ClientCertificates::from_header("Client-Cert").unwrap();
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        // An IPv4-mapped IPv6 peer counts as its IPv4 address.
        "::ffff:127.0.0.1".parse().unwrap(),
    ] {
        let cert = source.find(&headers(&[HEADER]), &from(ip)).unwrap();
        assert_eq!(cert.unwrap().der(), DER, "{ip}");
    }
}

#[test]
fn the_header_from_anyone_else_is_a_bad_request() {
    let source = ClientCertificates::from_header("client-cert").unwrap();
    let other = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    assert_eq!(
        description(source.find(&headers(&[HEADER]), &from(other))),
        "client certificate header from an untrusted peer"
    );
    // An unknown peer is not trusted either.
    assert_eq!(
        description(source.find(&headers(&[HEADER]), &Extensions::new())),
        "client certificate header from an untrusted peer"
    );
    // Nor a malformed header from an untrusted peer: the peer is checked first.
    assert_eq!(
        description(source.find(&headers(&["garbage"]), &from(other))),
        "client certificate header from an untrusted peer"
    );
}

#[test]
fn listed_proxies_replace_the_default() {
    let proxy = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    let source = ClientCertificates::from_header("client-cert")
        .unwrap()
        .trusted_proxies([proxy]);
    assert!(source
        .find(&headers(&[HEADER]), &from(proxy))
        .unwrap()
        .is_some());
    assert!(source
        .find(&headers(&[HEADER]), &from(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        .is_err());
    let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
    let source = ClientCertificates::from_header("client-cert")
        .unwrap()
        .trusted_proxies([mapped]);
    assert!(source
        .find(&headers(&[HEADER]), &from(proxy))
        .unwrap()
        .is_some());
}

#[test]
fn a_custom_peer_function_is_used() {
    let source = ClientCertificates::from_header("client-cert")
        .unwrap()
        .peer_addr(|_| Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    assert!(source
        .find(&headers(&[HEADER]), &Extensions::new())
        .unwrap()
        .is_some());
    let source = ClientCertificates::from_header("client-cert")
        .unwrap()
        .peer_addr(|_| None);
    assert!(source
        .find(&headers(&[HEADER]), &from(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        .is_err());
}

#[test]
fn two_headers_or_a_malformed_one_are_bad_requests() {
    let source = ClientCertificates::from_header("client-cert").unwrap();
    let lo = from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(
        description(source.find(&headers(&[HEADER, HEADER]), &lo)),
        "more than one client certificate header"
    );
    assert_eq!(
        description(source.find(&headers(&["MAEC"]), &lo)),
        "malformed client certificate header"
    );
}

#[test]
fn the_connection_certificate_is_used_without_a_header() {
    let mut ext = from(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)));
    ext.insert(ClientCertificate::from_der(vec![0x30, 0x00]));
    for source in [
        ClientCertificates::from_connection(),
        ClientCertificates::from_header("client-cert").unwrap(),
    ] {
        let cert = source.find(&HeaderMap::new(), &ext).unwrap().unwrap();
        assert_eq!(cert.der(), [0x30, 0x00]);
    }
    // From a trusted proxy the header is the whole truth: the connection's certificate is
    // the proxy's own, never the client's, with or without a header.
    let mut ext = from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    ext.insert(ClientCertificate::from_der(vec![0x30, 0x00]));
    let source = ClientCertificates::from_header("client-cert").unwrap();
    let cert = source.find(&headers(&[HEADER]), &ext).unwrap().unwrap();
    assert_eq!(cert.der(), DER);
    assert!(source.find(&HeaderMap::new(), &ext).unwrap().is_none());
    // Without a header source the header is ignored, whoever sends it.
    let cert = ClientCertificates::from_connection()
        .find(&headers(&["garbage"]), &Extensions::new())
        .unwrap();
    assert!(cert.is_none());
}

#[test]
fn an_invalid_header_name_is_a_configuration_error() {
    let err = ClientCertificates::from_header("client cert").unwrap_err();
    assert!(err.to_string().contains("not a valid header name"), "{err}");
}

#[test]
fn debug_names_the_header_and_the_proxies() {
    let source = ClientCertificates::from_header("client-cert")
        .unwrap()
        .trusted_proxies([IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))]);
    let shown = format!("{source:?}");
    assert!(
        shown.contains("client-cert") && shown.contains("10.0.0.7"),
        "{shown}"
    );
    assert_eq!(
        source.header_name().map(|h| h.as_str()),
        Some("client-cert")
    );
    assert_eq!(ClientCertificates::from_connection().header_name(), None);
}
