//! Sender-constrained tokens (RFC 7800 `cnf`): DPoP's `cnf.jkt` (RFC 9449 §6.1) and mutual
//! TLS's `cnf.x5t#S256` (RFC 8705 §3.1).

use crate::claims::registered::Cnf;
use crate::error::TokenError;
use crate::mtls::ClientCertificate;

/// What a request presents besides its token to prove that its sender holds what the token
/// is bound to.
#[derive(Clone, Copy, Default)]
pub(crate) struct Presented<'a> {
    /// The RFC 7638 thumbprint of the key whose DPoP proof came with the token (already
    /// verified); `None` for a token in the `Bearer` scheme.
    pub(crate) dpop: Option<&'a str>,
    /// The client certificate of the request's TLS connection (or of a trusted proxy's
    /// header), if the layer looks for one.
    pub(crate) cert: Option<&'a ClientCertificate>,
}

impl Presented<'_> {
    /// A plain bearer token and nothing else.
    pub(crate) const NOTHING: Presented<'static> = Presented {
        dpop: None,
        cert: None,
    };
}

/// A token bound to a key passes only with a proof by that key, and a token bound to a
/// certificate only with that certificate; a DPoP proof only comes with a key-bound token;
/// confirmation methods this crate cannot check (`jwk`, `x5t`…) are never satisfied.
///
/// A certificate without a bound token is fine: mutual TLS also authenticates clients that
/// hold unbound tokens.
#[inline]
pub(crate) fn check(cnf: Option<&Cnf>, presented: Presented<'_>) -> Result<(), TokenError> {
    let Some(c) = cnf else {
        return match presented.dpop {
            None => Ok(()),
            Some(_) => Err(TokenError::NotDpopBound),
        };
    };
    if c.other || (c.jkt.is_none() && c.x5t_s256.is_none()) {
        return Err(TokenError::BoundToken);
    }
    // Thumbprints are public; plain comparisons leak nothing.
    match (c.jkt.as_deref(), presented.dpop) {
        (None, None) => {}
        (None, Some(_)) => return Err(TokenError::NotDpopBound),
        (Some(_), None) => return Err(TokenError::BoundToken),
        (Some(jkt), Some(proof)) if jkt != proof => return Err(TokenError::DpopKeyMismatch),
        (Some(_), Some(_)) => {}
    }
    match (c.x5t_s256.as_deref(), presented.cert) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(TokenError::CertificateRequired),
        (Some(x5t), Some(cert)) if x5t != cert.thumbprint() => Err(TokenError::CertificateMismatch),
        (Some(_), Some(_)) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cnf(jkt: Option<&str>, x5t: Option<&str>, other: bool) -> Cnf {
        Cnf {
            jkt: jkt.map(Into::into),
            x5t_s256: x5t.map(Into::into),
            other,
        }
    }

    #[test]
    fn every_combination() {
        let cert = ClientCertificate::from_der(vec![0x30, 0x00]);
        let other_cert = ClientCertificate::from_der(vec![0x30, 0x01, 0x00]);
        let x5t = cert.thumbprint().to_owned();
        let x5t = Some(x5t.as_str());
        let p = |dpop, cert| Presented { dpop, cert };
        use TokenError::*;
        let cases: &[(Option<Cnf>, Presented<'_>, Result<(), TokenError>)] = &[
            (None, p(None, None), Ok(())),
            (None, p(None, Some(&cert)), Ok(())),
            (None, p(Some("k"), None), Err(NotDpopBound)),
            (Some(cnf(None, None, false)), p(None, None), Err(BoundToken)),
            (
                Some(cnf(Some("k"), None, true)),
                p(Some("k"), None),
                Err(BoundToken),
            ),
            (
                Some(cnf(None, x5t, true)),
                p(None, Some(&cert)),
                Err(BoundToken),
            ),
            (
                Some(cnf(Some("k"), None, false)),
                p(None, None),
                Err(BoundToken),
            ),
            (
                Some(cnf(Some("k"), None, false)),
                p(Some("j"), None),
                Err(DpopKeyMismatch),
            ),
            (
                Some(cnf(Some("k"), None, false)),
                p(Some("k"), None),
                Ok(()),
            ),
            (
                Some(cnf(Some("k"), None, false)),
                p(Some("k"), Some(&cert)),
                Ok(()),
            ),
            (
                Some(cnf(None, x5t, false)),
                p(None, None),
                Err(CertificateRequired),
            ),
            (
                Some(cnf(None, x5t, false)),
                p(None, Some(&other_cert)),
                Err(CertificateMismatch),
            ),
            (Some(cnf(None, x5t, false)), p(None, Some(&cert)), Ok(())),
            (
                Some(cnf(None, x5t, false)),
                p(Some("k"), Some(&cert)),
                Err(NotDpopBound),
            ),
            // Bound both ways: both must be proven.
            (
                Some(cnf(Some("k"), x5t, false)),
                p(Some("k"), Some(&cert)),
                Ok(()),
            ),
            (
                Some(cnf(Some("k"), x5t, false)),
                p(Some("k"), None),
                Err(CertificateRequired),
            ),
            (
                Some(cnf(Some("k"), x5t, false)),
                p(None, Some(&cert)),
                Err(BoundToken),
            ),
            (
                Some(cnf(Some("k"), x5t, false)),
                p(Some("j"), Some(&cert)),
                Err(DpopKeyMismatch),
            ),
        ];
        for (i, (c, presented, expected)) in cases.iter().enumerate() {
            assert_eq!(&check(c.as_ref(), *presented), expected, "case {i}");
        }
    }
}
