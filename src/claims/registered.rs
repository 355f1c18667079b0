//! The registered claims (and the scope claims), as parsed during validation.

use std::fmt;

use serde::de::{self, IgnoredAny, Visitor};
use serde::Deserialize;

use super::text::{Aud, StringOrList, Text};

/// The registered claims and the scope claims, as parsed during validation. Unknown members
/// are ignored; a duplicated member is an error (serde's derive refuses duplicates).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct Registered {
    #[serde(default)]
    pub(crate) iss: Option<Text>,
    #[serde(default)]
    pub(crate) sub: Option<Text>,
    #[serde(default)]
    pub(crate) aud: Option<Aud>,
    #[serde(default)]
    pub(crate) exp: Option<f64>,
    #[serde(default)]
    pub(crate) nbf: Option<f64>,
    #[serde(default)]
    pub(crate) iat: Option<f64>,
    #[serde(default)]
    pub(crate) jti: Option<Text>,
    #[serde(default)]
    pub(crate) client_id: Option<Text>,
    #[serde(default)]
    pub(crate) azp: Option<Text>,
    #[serde(default)]
    pub(crate) scope: Option<StringOrList>,
    #[serde(default)]
    pub(crate) scp: Option<StringOrList>,
    #[serde(default)]
    // Boxed: rare, and the claims are moved a few times on every validation.
    pub(crate) cnf: Option<Box<Cnf>>,
}

/// The `cnf` (confirmation) claim, RFC 7800: the DPoP key thumbprint `jkt` (RFC 9449), the
/// client certificate thumbprint `x5t#S256` (RFC 8705), and whether any other confirmation
/// method (a `jwk`, …) is present, which this crate cannot check and therefore never accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cnf {
    pub(crate) jkt: Option<Box<str>>,
    pub(crate) x5t_s256: Option<Box<str>>,
    pub(crate) other: bool,
}

impl<'de> Deserialize<'de> for Cnf {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cnf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a cnf object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Cnf, A::Error> {
                let mut cnf = Cnf::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "jkt" {
                        if cnf.jkt.is_some() {
                            return Err(de::Error::duplicate_field("jkt"));
                        }
                        let v: std::borrow::Cow<'de, str> = map.next_value()?;
                        cnf.jkt = Some(v.into());
                    } else if key == "x5t#S256" {
                        if cnf.x5t_s256.is_some() {
                            return Err(de::Error::duplicate_field("x5t#S256"));
                        }
                        let v: std::borrow::Cow<'de, str> = map.next_value()?;
                        cnf.x5t_s256 = Some(v.into());
                    } else {
                        let _: IgnoredAny = map.next_value()?;
                        cnf.other = true;
                    }
                }
                Ok(cnf)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether the JSON object `json` names a top-level member twice (after unescaping), for
/// the claims the fast path declined. Anything that is not a JSON object counts as yes.
pub(crate) fn has_duplicate_member(json: &str) -> bool {
    struct Names;
    impl<'de> de::Visitor<'de> for Names {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if !seen.insert(name) {
                    return Ok(true);
                }
                map.next_value::<de::IgnoredAny>()?;
            }
            Ok(false)
        }
    }
    let mut d = serde_json::Deserializer::from_str(json);
    de::Deserializer::deserialize_map(&mut d, Names).unwrap_or(true)
}

impl Registered {
    /// Turn the addresses of borrowed strings into offsets into `json`, the text they were
    /// parsed from. `false` if one does not lie inside it (which parsing `json` cannot cause).
    pub(crate) fn rebase(&mut self, json: &str) -> bool {
        let texts = [
            &mut self.iss,
            &mut self.sub,
            &mut self.jti,
            &mut self.client_id,
            &mut self.azp,
        ];
        let mut ok = texts.into_iter().flatten().all(|t| t.rebase(json));
        match &mut self.aud {
            Some(Aud::One(t)) => ok &= t.rebase(json),
            Some(Aud::Many(v)) => ok &= v.iter_mut().all(|t| t.rebase(json)),
            None => {}
        }
        for claim in [&mut self.scope, &mut self.scp].into_iter().flatten() {
            match claim {
                StringOrList::String(t) => ok &= t.rebase(json),
                StringOrList::List(v) => ok &= v.iter_mut().all(|t| t.rebase(json)),
            }
        }
        ok
    }
}

impl Registered {
    /// Every field as text, strings resolved against `json`: equal snapshots, equal claims.
    pub(crate) fn snapshot(&self, json: &str) -> String {
        let t = |t: &Option<Text>| t.as_ref().map(|t| t.get(json).to_owned());
        let list = |v: &Option<StringOrList>| {
            v.as_ref().map(|v| match v {
                StringOrList::String(t) => vec![t.get(json).to_owned()],
                StringOrList::List(items) => {
                    let mut out = vec!["[".to_owned()];
                    out.extend(items.iter().map(|t| t.get(json).to_owned()));
                    out
                }
            })
        };
        let aud = self.aud.as_ref().map(|a| match a {
            Aud::One(t) => vec![t.get(json).to_owned()],
            Aud::Many(v) => {
                let mut out = vec!["[".to_owned()];
                out.extend(v.iter().map(|t| t.get(json).to_owned()));
                out
            }
        });
        format!(
            "{:?}",
            (
                (
                    t(&self.iss),
                    t(&self.sub),
                    t(&self.jti),
                    t(&self.client_id),
                    t(&self.azp)
                ),
                aud,
                (
                    self.exp.map(f64::to_bits),
                    self.nbf.map(f64::to_bits),
                    self.iat.map(f64::to_bits)
                ),
                (list(&self.scope), list(&self.scp)),
                self.cnf
                    .as_ref()
                    .map(|c| (c.jkt.clone(), c.x5t_s256.clone(), c.other)),
            )
        )
    }
}
