//! A minimal DER reader for the three public-key structures we accept.

use super::algorithm::KeyKind;

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Read one TLV; return (tag, contents, rest).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), &'static str> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER")?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length");
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("truncated DER");
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], want: u8) -> Result<(&[u8], &[u8]), &'static str> {
    let (tag, body, rest) = tlv(input)?;
    if tag != want {
        return Err("unexpected DER structure");
    }
    Ok((body, rest))
}

/// A SubjectPublicKeyInfo: algorithm OID, curve OID if any, key bits.
type Spki<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8]);

fn spki(der: &[u8]) -> Result<Spki<'_>, &'static str> {
    let (seq, trailing) = expect(der, 0x30)?;
    if !trailing.is_empty() {
        return Err("trailing data after the key");
    }
    let (alg_id, rest) = expect(seq, 0x30)?;
    let (oid, params) = expect(alg_id, 0x06)?;
    let params = if params.is_empty() {
        None
    } else {
        let (tag, body, _) = tlv(params)?;
        (tag == 0x06).then_some(body)
    };
    let (bits, _) = expect(rest, 0x03)?;
    let (&unused, key) = bits.split_first().ok_or("empty key bits")?;
    if unused != 0 {
        return Err("key bit string has unused bits");
    }
    Ok((oid, params, key))
}

pub(crate) fn rsa_public_key(der: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let pkcs1 = match spki(der) {
        Ok((oid, _, key)) if oid == OID_RSA => key,
        Ok(_) => return Err("not an RSA key"),
        Err(_) => der,
    };
    let (seq, _) = expect(pkcs1, 0x30).map_err(|_| "not an RSA public key")?;
    let (n, rest) = expect(seq, 0x02)?;
    let (e, _) = expect(rest, 0x02)?;
    Ok((n, e))
}

pub(crate) fn ec_public_key(der: &[u8]) -> Result<(KeyKind, &[u8]), &'static str> {
    let (oid, params, key) = spki(der)?;
    if oid != OID_EC {
        return Err("not an EC key");
    }
    match params {
        Some(p) if p == OID_P256 => Ok((KeyKind::P256, key)),
        Some(p) if p == OID_P384 => Ok((KeyKind::P384, key)),
        _ => Err("unsupported curve: only P-256 and P-384 are supported"),
    }
}

pub(crate) fn ed25519_public_key(der: &[u8]) -> Result<&[u8], &'static str> {
    let (oid, _, key) = spki(der)?;
    if oid != OID_ED25519 {
        return Err("not an Ed25519 key");
    }
    if key.len() != 32 {
        return Err("an Ed25519 public key is 32 bytes");
    }
    Ok(key)
}
