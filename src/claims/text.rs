//! String claims without copies: positions in the claims JSON.

use std::fmt;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

/// A string claim without a copy: where it sits in the claims JSON when it had no escapes
/// (most do), or its own text otherwise.
#[derive(Clone)]
pub(crate) enum Text {
    /// Address and length of a string borrowed from the parsed input, before [`Text::rebase`].
    At(usize, u32),
    /// Offset and length in the claims JSON.
    Span(u32, u32),
    Owned(Box<str>),
}

impl Text {
    pub(crate) fn rebase(&mut self, json: &str) -> bool {
        if let Text::At(addr, len) = *self {
            let start = addr.wrapping_sub(json.as_ptr() as usize);
            let end = start.saturating_add(len as usize);
            if json.get(start..end).is_none() || end > u32::MAX as usize {
                return false;
            }
            *self = Text::Span(start as u32, len);
        }
        true
    }

    pub(crate) fn get<'a>(&'a self, json: &'a str) -> &'a str {
        match self {
            Text::Span(start, len) => json
                .get(*start as usize..(*start + *len) as usize)
                .unwrap_or_default(),
            Text::Owned(s) => s,
            Text::At(..) => "",
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text, E> {
                match u32::try_from(v.len()) {
                    Ok(len) => Ok(Text::At(v.as_ptr() as usize, len)),
                    Err(_) => Err(E::custom("string too long")),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Owned(v.into()))
            }
        }
        d.deserialize_str(V)
    }
}

/// `aud`: one string or an array of strings; anything else is an error.
#[derive(Clone)]
pub(crate) enum Aud {
    One(Text),
    Many(Vec<Text>),
}

impl Aud {
    pub(crate) fn iter<'a>(&'a self, json: &'a str) -> impl Iterator<Item = &'a str> {
        let (one, many): (Option<&Text>, &[Text]) = match self {
            Aud::One(t) => (Some(t), &[]),
            Aud::Many(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many).map(move |t| t.get(json))
    }
}

impl<'de> Deserialize<'de> for Aud {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Aud;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Aud, E> {
                Text::deserialize(de::value::BorrowedStrDeserializer::new(v)).map(Aud::One)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Aud, E> {
                Ok(Aud::One(Text::Owned(v.into())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Aud, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = seq.next_element::<Text>()? {
                    out.push(t);
                }
                Ok(Aud::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scope claim: one delimited string, or an array of strings. Array members that are not
/// strings are dropped (they can never match a scope). Like the other string claims, the
/// strings are positions in the claims JSON unless they had escapes.
#[derive(Clone)]
pub(crate) enum StringOrList {
    String(Text),
    List(Vec<Text>),
}

impl StringOrList {
    /// Whether every string sits in the claims JSON (no escapes), after [`Registered::rebase`].
    pub(crate) fn in_json(&self) -> bool {
        let span = |t: &Text| matches!(t, Text::Span(..));
        match self {
            StringOrList::String(t) => span(t),
            StringOrList::List(v) => v.iter().all(span),
        }
    }
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Item(Option<Text>);
        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct IV;
                impl<'de> Visitor<'de> for IV {
                    type Value = Item;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("any JSON value")
                    }
                    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Item, E> {
                        Text::deserialize(de::value::BorrowedStrDeserializer::new(v))
                            .map(|t| Item(Some(t)))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                        Ok(Item(Some(Text::Owned(v.into()))))
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
                        Ok(Item(None))
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
                        Ok(Item(None))
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
                        Ok(Item(None))
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
                        Ok(Item(None))
                    }
                    fn visit_unit<E>(self) -> Result<Item, E> {
                        Ok(Item(None))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Item, A::Error> {
                        while s.next_element::<IgnoredAny>()?.is_some() {}
                        Ok(Item(None))
                    }
                    fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Item, A::Error> {
                        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                        Ok(Item(None))
                    }
                }
                d.deserialize_any(IV)
            }
        }

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<StringOrList, E> {
                Text::deserialize(de::value::BorrowedStrDeserializer::new(v))
                    .map(StringOrList::String)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOrList, E> {
                Ok(StringOrList::String(Text::Owned(v.into())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringOrList, A::Error> {
                let mut out = Vec::new();
                while let Some(Item(s)) = seq.next_element::<Item>()? {
                    out.extend(s);
                }
                Ok(StringOrList::List(out))
            }
        }
        d.deserialize_any(V)
    }
}
