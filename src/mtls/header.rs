//! RFC 9440 `Client-Cert`: the certificate as a structured-field byte sequence,
//! `:<base64 of the DER>:` (RFC 8941 §3.3.5: standard alphabet, with padding).

use base64::Engine as _;

/// The largest certificate accepted from a header, in DER bytes. Real end-entity
/// certificates are 1-4 KiB; the cap bounds the work a header can ask for.
pub(crate) const MAX_DER: usize = 16 * 1024;

/// The DER bytes of a well-formed header value, or `None`. Strict: surrounding spaces only,
/// no parameters, canonical base64, a DER `SEQUENCE` of at most [`MAX_DER`] bytes.
pub(crate) fn parse(value: &[u8]) -> Option<Vec<u8>> {
    let value = value.trim_ascii();
    let inner = value.strip_prefix(b":")?.strip_suffix(b":")?;
    if inner.is_empty() || inner.len() > MAX_DER.div_ceil(3) * 4 {
        return None;
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(inner)
        .ok()?;
    // Every certificate is a DER SEQUENCE; anything else is not one.
    (der.first() == Some(&0x30) && der.len() <= MAX_DER).then_some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sequences_are_read_strictly() {
        assert_eq!(parse(b":MAEC:"), Some(vec![0x30, 0x01, 0x02]));
        assert_eq!(parse(b"  :MAEC:\t"), Some(vec![0x30, 0x01, 0x02]));
        for bad in [
            &b""[..],
            b"::",
            b":",
            b"MAEC",
            b":MAEC",
            b"MAEC:",
            b":MAEC:;a=1",
            b":MA EC:",
            b":MAF=:",   // non-zero trailing bits
            b":MAECAw:", // padding missing
            b":_-8A:",   // base64url alphabet
            b":AQID:",   // not a SEQUENCE
            b"\":MAEC:\"",
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    fn sequence(len: usize) -> Vec<u8> {
        let mut der = vec![0u8; len];
        der[0] = 0x30;
        der
    }

    #[test]
    fn the_size_cap_is_exact() {
        use base64::engine::general_purpose::STANDARD;
        // Certificates with long chains of extensions reach several KiB: 16 KiB are read.
        assert!(parse(format!(":{}:", STANDARD.encode(sequence(16 * 1024))).as_bytes()).is_some());
        let mut der = vec![0u8; MAX_DER];
        der[0] = 0x30;
        let at_cap = format!(":{}:", STANDARD.encode(&der));
        assert_eq!(parse(at_cap.as_bytes()).map(|d| d.len()), Some(MAX_DER));
        der.push(0);
        let over = format!(":{}:", STANDARD.encode(&der));
        assert_eq!(parse(over.as_bytes()), None);
    }
}
