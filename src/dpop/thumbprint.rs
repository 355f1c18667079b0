//! RFC 7638 JWK thumbprints.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members of the key type,
/// in lexicographic order, without whitespace. `None` for an unsupported or incomplete key.
pub fn thumbprint(jwk: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let s = |name: &str| jwk.get(name)?.as_str();
    let members: Vec<(&str, &str)> = match s("kty")? {
        "RSA" => vec![("e", s("e")?), ("kty", "RSA"), ("n", s("n")?)],
        "EC" => vec![
            ("crv", s("crv")?),
            ("kty", "EC"),
            ("x", s("x")?),
            ("y", s("y")?),
        ],
        "OKP" => vec![("crv", s("crv")?), ("kty", "OKP"), ("x", s("x")?)],
        _ => return None,
    };
    let mut canonical = String::with_capacity(256);
    canonical.push('{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        // serde_json writes the string with exactly the escaping JSON requires.
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}
