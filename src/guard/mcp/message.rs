//! A strict reading of one JSON-RPC message: only what the scope decision needs (`method`, and
//! `params.name` of a `tools/call`), and a refusal of every shape that another parser could
//! read differently.
//!
//! What is refused, and why:
//! * a batch (an array): MCP's streamable HTTP carries one message per `POST`, and a guard
//!   that decided on one member of a batch would let the others through;
//! * a repeated key in the message or in its `params`: serde's derived structs refuse some
//!   repeats and `serde_json::Value` keeps the last one, so two readers could see different
//!   methods or tools;
//! * a body that is not UTF-8 (JSON text is; serde_json does not check the strings it skips);
//! * anything but an object, invalid JSON, trailing bytes. (Values the decision does not read
//!   are skipped without recursion, however deep they nest: the MCP server reading the same
//!   bytes refuses what it cannot parse, and then no tool runs);
//! * a `method` that is not a string;
//! * a `tools/call` whose `params` is not an object with a string `name`: serde's derived
//!   structs also accept an array (`["admin_reset", {}]`), which would name a tool that this
//!   reading did not see.
//!
//! Keys and strings are compared after JSON unescaping (`"met\u0068od"` is `method`), as
//! every JSON parser reads them.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The JSON-RPC method that calls a tool.
pub(super) const TOOLS_CALL: &str = "tools/call";

/// What the scope decision reads from a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Message {
    /// `None` for a response or an error (they have no `method`).
    pub(super) method: Option<String>,
    /// The tool a `tools/call` names.
    pub(super) tool: Option<String>,
}

/// Read `body` as one JSON-RPC message. `Err` names what is wrong, for an
/// `invalid_request` description.
pub(super) fn parse(body: &[u8]) -> Result<Message, &'static str> {
    if std::str::from_utf8(body).is_err() {
        return Err("request body is not UTF-8");
    }
    let reason = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = de
        .deserialize_any(Top { reason: &reason })
        .and_then(|top| de.end().map(|()| top));
    let top = match read {
        Ok(top) => top,
        Err(_) => return Err(reason.get().unwrap_or("request body is not valid JSON")),
    };
    let Some(method) = top.method else {
        return Ok(Message {
            method: None,
            tool: None,
        });
    };
    let method = method.map_err(|()| "JSON-RPC method must be a string")?;
    let tool = if method == TOOLS_CALL {
        match top.params {
            Some(Params::Object { name: Some(name) }) => {
                Some(name.map_err(|()| "tools/call params.name must be a string")?)
            }
            Some(Params::Object { name: None }) => return Err("tools/call needs params.name"),
            Some(Params::Other) | None => return Err("tools/call params must be an object"),
        }
    } else {
        None
    };
    Ok(Message {
        method: Some(method),
        tool,
    })
}

/// A semantic refusal inside the parse: remember why, and stop.
fn refuse<E: de::Error>(reason: &Cell<Option<&'static str>>, why: &'static str) -> E {
    reason.set(Some(why));
    E::custom(why)
}

/// The message object. Fields: `Some(Ok(..))` present as a string, `Some(Err(()))` present
/// as something else.
struct Top<'r> {
    reason: &'r Cell<Option<&'static str>>,
}

struct TopFields {
    method: Option<Result<String, ()>>,
    params: Option<Params>,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = TopFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopFields, A::Error> {
        let mut seen = HashSet::new();
        let mut fields = TopFields {
            method: None,
            params: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "method" => fields.method = Some(map.next_value_seed(StrProbe)?),
                "params" => {
                    fields.params = Some(map.next_value_seed(ParamsProbe {
                        reason: self.reason,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if !seen.insert(key) {
                return Err(refuse(self.reason, "repeated key in the JSON-RPC message"));
            }
        }
        Ok(fields)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<TopFields, A::Error> {
        Err(refuse(self.reason, "JSON-RPC batches are not accepted"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopFields, E> {
        Err(refuse(self.reason, "a JSON-RPC message must be an object"))
    }
}

/// `params`: an object (with its `name`, if any) or something else.
enum Params {
    Object {
        /// `Some(Err(()))`: present, not a string.
        name: Option<Result<String, ()>>,
    },
    Other,
}

struct ParamsProbe<'r> {
    reason: &'r Cell<Option<&'static str>>,
}

impl<'de> DeserializeSeed<'de> for ParamsProbe<'_> {
    type Value = Params;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Params, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ParamsProbe<'_> {
    type Value = Params;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON-RPC params")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
        let mut seen = HashSet::new();
        let mut name = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "name" {
                name = Some(map.next_value_seed(StrProbe)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            if !seen.insert(key) {
                return Err(refuse(self.reason, "repeated key in JSON-RPC params"));
            }
        }
        Ok(Params::Object { name })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Params, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Params::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Params, E> {
        Ok(Params::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Params, E> {
        Ok(Params::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Params, E> {
        Ok(Params::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Params, E> {
        Ok(Params::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Params, E> {
        Ok(Params::Other)
    }

    fn visit_unit<E>(self) -> Result<Params, E> {
        Ok(Params::Other)
    }
}

/// A string value, or `Err(())` for any other JSON value (consumed).
struct StrProbe;

impl<'de> DeserializeSeed<'de> for StrProbe {
    type Value = Result<String, ()>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrProbe {
    type Value = Result<String, ()>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Ok(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Ok(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(()))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(()))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(()))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Message {
        parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn err(body: &str) -> &'static str {
        parse(body.as_bytes()).expect_err(body)
    }

    #[test]
    fn reads_method_and_tool() {
        let m = ok(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"name":1}}}"#,
        );
        assert_eq!(m.method.as_deref(), Some("tools/call"));
        assert_eq!(m.tool.as_deref(), Some("whoami"));
        let m = ok(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":["x"]}"#);
        assert_eq!((m.method.as_deref(), m.tool), (Some("tools/list"), None));
        let m = ok(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!((m.method, m.tool), (None, None));
    }

    #[test]
    fn unescapes_keys_and_values() {
        let m = ok(r#"{"met\u0068od":"tools\/call","params":{"n\u0061me":"admin\u005freset"}}"#);
        assert_eq!(m.tool.as_deref(), Some("admin_reset"));
    }

    #[test]
    fn refuses_what_two_readers_could_read_apart() {
        assert_eq!(
            err(r#"[{"method":"tools/list"}]"#),
            "JSON-RPC batches are not accepted"
        );
        for body in [
            r#"{"method":"tools/list","method":"tools/call"}"#,
            r#"{"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}"#,
            r#"{"id":1,"id":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","method":"ping"}"#,
            r#"{"method":"tools/call","met\u0068od":"ping"}"#,
        ] {
            assert_eq!(err(body), "repeated key in the JSON-RPC message", "{body}");
        }
        assert_eq!(
            err(r#"{"method":"tools/call","params":{"name":"a","name":"b"}}"#),
            "repeated key in JSON-RPC params"
        );
        assert_eq!(
            err(r#"{"method":"tools/call","params":["admin_reset",{}]}"#),
            "tools/call params must be an object"
        );
        assert_eq!(
            err(r#"{"method":"tools/call"}"#),
            "tools/call params must be an object"
        );
        assert_eq!(
            err(r#"{"method":"tools/call","params":{}}"#),
            "tools/call needs params.name"
        );
        assert_eq!(
            err(r#"{"method":"tools/call","params":{"name":["a"]}}"#),
            "tools/call params.name must be a string"
        );
        assert_eq!(err(r#"{"method":7}"#), "JSON-RPC method must be a string");
        assert_eq!(
            err(r#""tools/call""#),
            "a JSON-RPC message must be an object"
        );
        assert_eq!(err("null"), "a JSON-RPC message must be an object");
        for body in [
            "",
            "{",
            r#"{"method":"ping"} x"#,
            "\u{feff}{}",
            r#"{"method":"tools/call","params":{"name":"\ud800"}}"#,
        ] {
            assert_eq!(err(body), "request body is not valid JSON", "{body:?}");
        }
        // Skipped values are skipped without recursion: no depth is too deep.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(format!(r#"{{"params":{deep},"method":{deep}}}"#).as_bytes()).is_err());
        assert!(parse(format!(r#"{{"params":{deep},"method":"ping"}}"#).as_bytes()).is_ok());
    }
}
