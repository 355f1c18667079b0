//! Public test vectors at the signature-check level: Wycheproof's JSON Web Signature file and
//! the signature primitives for every algorithm we verify. The vectors are read from
//! `../shared/vectors/wycheproof` (beside the repository) when that folder exists; the
//! repository ships no copy. Each run prints how many vectors ran, passed and were skipped.
//!
//! Where our verdict differs from a vector's label, the vector is listed in `OVERRULED` with
//! the reason (our stricter rules, or a label that contradicts the file itself); any other
//! disagreement fails the test.

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use tower_bearer::{Algorithm, Key};

/// Vectors whose label we overrule: (file, tcId, reason). Any other disagreement fails.
const OVERRULED: &[(&str, u64, &str)] = &[
    ("json_web_signature", 346, "RFC 7520 Figure 20 is a PS384 signature, but the group's key is published with alg PS256: a key verifies only its own algorithm (RFC 8725 §3.1), so we reject"),
    ("json_web_signature", 350, "the same Figure 20 PS384 signature under the PS256 key (with key_ops): rejected for the same reason"),
    ("json_web_signature", 367, "labelled invalid (padding), but the JWS in the file is byte-identical to #357, which the file labels valid: the padding is not there, so we accept it as #357"),
    ("json_web_signature", 370, "labelled invalid (padding in payload), but byte-identical to #357 (valid): we accept it as #357"),
    ("json_web_signature", 372, "labelled valid, but its header contains '?', which base64url does not allow (RFC 7515 §2): we reject"),
    ("json_web_signature", 373, "labelled valid, but its payload contains '?', which base64url does not allow (RFC 7515 §2): we reject"),
];

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors/wycheproof");
    d.is_dir().then_some(d)
}

fn load(name: &str) -> Option<Value> {
    let path = dir()?.join(name);
    Some(serde_json::from_str(&std::fs::read_to_string(path).ok()?).unwrap())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[derive(Default)]
struct Tally {
    ran: usize,
    passed: usize,
    skipped: usize,
    overruled: usize,
    failures: Vec<String>,
}

impl Tally {
    /// `ours`: did we accept? `expected`: "valid" | "invalid" | "acceptable".
    fn record(&mut self, file: &str, id: u64, expected: &str, ours: bool, comment: &str) {
        self.ran += 1;
        let agree = match expected {
            "valid" => ours,
            "invalid" => !ours,
            _ => true,
        };
        if agree {
            self.passed += 1;
        } else if let Some((_, _, why)) = OVERRULED.iter().find(|(f, t, _)| *f == file && *t == id)
        {
            println!("  overruled {file} #{id} ({comment}): {why}");
            self.overruled += 1;
        } else {
            self.failures.push(format!(
                "{file} #{id} ({comment}): expected {expected}, we {}",
                if ours { "accepted" } else { "rejected" }
            ));
        }
    }

    fn finish(self, what: &str) {
        println!(
            "{what}: {} ran, {} agreed, {} overruled (listed), {} skipped",
            self.ran, self.passed, self.overruled, self.skipped
        );
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
        assert!(self.ran > 0, "{what}: no vector ran");
    }
}

/// Our verdict on a compact JWS for one key: canonical base64url segments, a JSON-object
/// header naming exactly the key's algorithm, no `crit`, and a verifying signature. Header
/// members such as `jwk` or `jku` are never used.
fn our_verdict(key: &Key, jws: &str) -> bool {
    let parts: Vec<&str> = jws.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return false;
    };
    let (Ok(header), Ok(_), Ok(sig)) = (
        URL_SAFE_NO_PAD.decode(h),
        URL_SAFE_NO_PAD.decode(p),
        URL_SAFE_NO_PAD.decode(s),
    ) else {
        return false;
    };
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header) else {
        return false;
    };
    if header.contains_key("crit") {
        return false;
    }
    if header.get("alg").and_then(Value::as_str) != Some(key.algorithm().as_str()) {
        return false;
    }
    key.verify_signature(format!("{h}.{p}").as_bytes(), &sig)
}

#[test]
fn wycheproof_json_web_signature() {
    let Some(doc) = load("json_web_signature_test.json") else {
        println!("skipping: ../shared/vectors/wycheproof not present");
        return;
    };
    let mut tally = Tally::default();
    for group in doc["testGroups"].as_array().unwrap() {
        // The public half; for symmetric keys the secret itself.
        let mut jwk = group.get("public").unwrap_or(&group["private"]).clone();
        if let Some(obj) = jwk.as_object_mut() {
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                obj.remove(private);
            }
        }
        let tests = group["tests"].as_array().unwrap();
        let key = match Key::jwk(&jwk.to_string()) {
            Ok(k) => k,
            Err(e) => {
                println!(
                    "  group {:?}: key not usable here ({e}), {} vectors skipped",
                    group["comment"],
                    tests.len()
                );
                tally.skipped += tests.len();
                continue;
            }
        };
        for t in tests {
            let Some(jws) = t["jws"].as_str() else {
                // JSON serialization: not an access-token format.
                tally.skipped += 1;
                continue;
            };
            tally.record(
                "json_web_signature",
                t["tcId"].as_u64().unwrap(),
                t["result"].as_str().unwrap(),
                our_verdict(&key, jws),
                t["comment"].as_str().unwrap_or(""),
            );
        }
    }
    tally.finish("Wycheproof JWS");
}

fn primitive(file: &str, load_key: impl Fn(&[u8]) -> Result<Key, tower_bearer::ConfigError>) {
    let Some(doc) = load(file) else {
        println!("skipping {file}: ../shared/vectors/wycheproof not present");
        return;
    };
    let mut tally = Tally::default();
    for group in doc["testGroups"].as_array().unwrap() {
        let tests = group["tests"].as_array().unwrap();
        let der = hex(group["publicKeyDer"].as_str().unwrap());
        let key = match load_key(&der) {
            Ok(k) => k,
            Err(_) => {
                // Refused at configuration time (invalid point, wrong size…): no token is
                // ever checked against it. Valid signatures under it are skipped, not failed.
                tally.skipped += tests.len();
                continue;
            }
        };
        for t in tests {
            let ours = key.verify_signature(
                &hex(t["msg"].as_str().unwrap()),
                &hex(t["sig"].as_str().unwrap()),
            );
            tally.record(
                file,
                t["tcId"].as_u64().unwrap(),
                t["result"].as_str().unwrap(),
                ours,
                t["comment"].as_str().unwrap_or(""),
            );
        }
    }
    tally.finish(file);
}

#[test]
fn wycheproof_rs256() {
    primitive("rsa_signature_2048_sha256_test.json", |der| {
        Key::rsa_der(der, Algorithm::RS256)
    });
}

#[test]
fn wycheproof_ps256() {
    primitive("rsa_pss_2048_sha256_mgf1_32_test.json", |der| {
        Key::rsa_der(der, Algorithm::PS256)
    });
}

#[test]
fn wycheproof_es256() {
    primitive("ecdsa_secp256r1_sha256_p1363_test.json", |der| {
        Key::ec_der(der)
    });
}

#[test]
fn wycheproof_es384() {
    primitive("ecdsa_secp384r1_sha384_p1363_test.json", |der| {
        Key::ec_der(der)
    });
}

#[test]
fn wycheproof_ed25519() {
    primitive("ed25519_test.json", |der| Key::ed_der(der));
}

/// RFC 7520 §4.2 (Figure 20) is a PS384 signature; Wycheproof publishes its key with
/// `alg: PS256`, which we refuse to stretch. Configured for PS384, the key verifies it.
#[test]
fn rfc7520_figure20_with_the_key_configured_for_ps384() {
    let Some(doc) = load("json_web_signature_test.json") else {
        println!("skipping: ../shared/vectors/wycheproof not present");
        return;
    };
    let group = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            g["tests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tcId"] == 346)
        })
        .expect("the group of RFC 7520 Figure 20");
    let mut jwk = group["public"].clone();
    jwk.as_object_mut().unwrap().remove("alg");
    let key = Key::jwk(&jwk.to_string())
        .unwrap()
        .with_algorithm(Algorithm::PS384)
        .unwrap();
    let jws = group["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tcId"] == 346)
        .unwrap()["jws"]
        .as_str()
        .unwrap();
    assert!(our_verdict(&key, jws));
}
