//! Certificate-bound access tokens (RFC 8705 §3): a token whose `cnf` claim names a client
//! certificate (`x5t#S256`, the base64url SHA-256 thumbprint of its DER encoding) passes only
//! on a request that comes with that certificate.
//!
//! The layer learns the certificate in one of two ways, set with
//! [`BearerLayer::client_certificates`](crate::BearerLayer::client_certificates):
//!
//! * **From the TLS connection.** Your server terminates TLS itself (rustls, for example) and
//!   puts the peer's certificate into every request of that connection as a
//!   [`ClientCertificate`] extension. [`ClientCertificates::from_connection`].
//! * **From a proxy's header.** A TLS-terminating proxy forwards the certificate in a header,
//!   RFC 9440's `Client-Cert: :<base64 DER>:`. Certificates are public: anyone can send
//!   anyone's. The header is therefore believed only when the request's connection comes
//!   from a proxy you list ([`ClientCertificates::trusted_proxies`], default: loopback); from
//!   any other peer a request carrying it is refused with `400 invalid_request`. The peer
//!   address is read from the request's extensions ([`PeerAddr`], or your own function for
//!   axum's `ConnectInfo`). Make the proxy strip the header from what clients send.
//!
//! | request | bound token (`cnf.x5t#S256`) | unbound token |
//! |---|---|---|
//! | the certificate named by the token | passes | passes |
//! | another certificate, or none | `401 invalid_token` | passes |
//! | the header from an untrusted peer, or a malformed header | `400 invalid_request` | `400 invalid_request` |
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr, SocketAddr};
//! use axum::{extract::ConnectInfo, routing::get, Router};
//! use tower_bearer::mtls::ClientCertificates;
//! use tower_bearer::BearerLayer;
//! # fn main() -> Result<(), tower_bearer::ConfigError> {
//! # let validator = tower_bearer::testing::TestIssuer::new().validator();
//!
//! // Behind a proxy at 10.0.0.7 that forwards `Client-Cert`; axum's `ConnectInfo` tells
//! // the peer (serve with `into_make_service_with_connect_info::<SocketAddr>()`).
//! let certificates = ClientCertificates::from_header("client-cert")?
//!     .trusted_proxies([IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))])
//!     .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
//! let app: Router = Router::new()
//!     .route("/accounts", get(|| async { "[]" }))
//!     .layer(BearerLayer::new(validator).client_certificates(certificates));
//! # let _ = app; Ok(()) }
//! ```

pub(crate) mod header;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Extensions, HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use crate::error::ConfigError;
use crate::reject::{Reason, Rejection};

/// The certificate a client presented on its TLS connection, as DER bytes.
///
/// Insert one into each request's extensions when your server terminates TLS (the same value,
/// cloned, for every request of a connection: the thumbprint is computed once). Cheap to
/// clone. `Debug` shows the thumbprint, never the certificate.
#[derive(Clone)]
pub struct ClientCertificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Bytes,
    thumbprint: OnceLock<String>,
}

impl ClientCertificate {
    /// The certificate as the TLS library hands it out (DER, the end-entity certificate).
    pub fn from_der(der: impl Into<Bytes>) -> Self {
        Self {
            inner: Arc::new(Inner {
                der: der.into(),
                thumbprint: OnceLock::new(),
            }),
        }
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The RFC 8705 thumbprint: base64url (no padding) of the SHA-256 of the DER bytes, the
    /// value a bound token carries in `cnf.x5t#S256`.
    pub fn thumbprint(&self) -> &str {
        self.inner.thumbprint.get_or_init(|| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&self.inner.der))
        })
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint())
            .finish()
    }
}

/// The address of the peer a request's connection comes from, as a request extension: what
/// [`ClientCertificates`] reads by default to decide whether a certificate header comes from
/// a trusted proxy. Insert it per connection in a plain hyper server; with axum, read its
/// `ConnectInfo` instead ([`ClientCertificates::peer_addr`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

type PeerFn = Arc<dyn Fn(&Extensions) -> Option<IpAddr> + Send + Sync>;

/// Where the layer finds the client certificate for certificate-bound tokens; see the
/// [module documentation](self).
#[derive(Clone)]
#[must_use]
pub struct ClientCertificates {
    header: Option<HeaderName>,
    trusted: Vec<IpAddr>,
    peer: PeerFn,
}

impl fmt::Debug for ClientCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificates")
            .field("header", &self.header)
            .field("trusted_proxies", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl ClientCertificates {
    /// Only the [`ClientCertificate`] extension your TLS server puts into each request.
    pub fn from_connection() -> Self {
        Self {
            header: None,
            trusted: vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            peer: Arc::new(|ext: &Extensions| ext.get::<PeerAddr>().map(|p| p.0.ip())),
        }
    }

    /// Also the RFC 9440 header `name` (`client-cert`), believed only from the trusted
    /// proxies (default: `127.0.0.1` and `::1`).
    ///
    /// From a trusted proxy, the header is the whole truth: without it the client presented
    /// no certificate (the proxy's own certificate on the connection is not the client's).
    /// From any other peer the connection's own certificate counts, and the header is a
    /// `400`.
    ///
    /// The default trusts every process on this host: behind a proxy on the same host that
    /// forwards `Client-Cert` from clients unchanged, anyone could present anyone's
    /// certificate. Make the proxy strip the header from what clients send, and list the
    /// proxy's own address with [`trusted_proxies`](Self::trusted_proxies) when other
    /// processes on the host are not to be trusted.
    pub fn from_header(name: impl AsRef<str>) -> Result<Self, ConfigError> {
        let name = HeaderName::from_bytes(name.as_ref().as_bytes()).map_err(|_| {
            ConfigError::Invalid(
                format!(
                    "client certificate header {:?} is not a valid header name",
                    name.as_ref()
                )
                .into(),
            )
        })?;
        Ok(Self {
            header: Some(name),
            ..Self::from_connection()
        })
    }

    /// The peers whose certificate header is believed, replacing the default (loopback).
    /// IPv4-mapped IPv6 addresses count as their IPv4 address.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        self.trusted = proxies.into_iter().map(|ip| ip.to_canonical()).collect();
        self
    }

    /// How the peer address is read from a request's extensions (default: [`PeerAddr`]).
    /// A request whose peer is unknown is treated as coming from an untrusted peer.
    pub fn peer_addr<F>(mut self, peer: F) -> Self
    where
        F: Fn(&Extensions) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Arc::new(peer);
        self
    }

    /// The header this source reads, if any (for `Vary`).
    pub(crate) fn header_name(&self) -> Option<&HeaderName> {
        self.header.as_ref()
    }

    /// The certificate the request comes with, or the `400` for a header that must not be
    /// believed or cannot be read.
    pub(crate) fn find(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Option<ClientCertificate>, Rejection> {
        let Some(name) = &self.header else {
            return Ok(extensions.get::<ClientCertificate>().cloned());
        };
        let trusted = || {
            (self.peer)(extensions)
                .map(|ip| self.trusted.contains(&ip.to_canonical()))
                .unwrap_or(false)
        };
        let mut values = headers.get_all(name).iter();
        let Some(value) = values.next() else {
            // A trusted proxy that sends no header had no certificate from the client; the
            // connection's certificate, if any, is the proxy's own.
            return Ok(if trusted() {
                None
            } else {
                extensions.get::<ClientCertificate>().cloned()
            });
        };
        if !trusted() {
            return Err(Reason::CertificateHeaderUntrusted.into());
        }
        if values.next().is_some() {
            return Err(Reason::TwoCertificateHeaders.into());
        }
        header::parse(value.as_bytes())
            .map(|der| Some(ClientCertificate::from_der(der)))
            .ok_or_else(|| Reason::MalformedCertificateHeader.into())
    }
}

#[cfg(test)]
mod tests;
