//! The claims of a validated token: registered claims parsed once, plus the raw JSON for your
//! own.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use crate::scope::ScopeIndex;

/// The claims of a validated access token.
///
/// Cheap to clone. The registered claims are parsed once during validation; your own claims
/// are read from the raw JSON with [`TokenClaims::deserialize`] or [`TokenClaims::get`].
///
/// `Debug` shows the issuer, subject, audience and times, never the token.
#[derive(Clone)]
pub struct TokenClaims {
    inner: Arc<Grant>,
}

/// Everything a validation produces, in one allocation that [`TokenClaims`] and
/// [`Scopes`](crate::Scopes) share: the registered claims, the claims JSON, and the index of
/// the granted scopes (which usually points into that JSON rather than copying it).
#[derive(Clone)]
pub(crate) struct Grant {
    pub(crate) registered: Registered,
    pub(crate) json: String,
    pub(crate) scopes: ScopeIndex,
}

impl TokenClaims {
    pub(crate) fn from_grant(inner: Arc<Grant>) -> Self {
        Self { inner }
    }

    pub(crate) fn grant(&self) -> &Arc<Grant> {
        &self.inner
    }

    /// `iss`: the issuer (always present after validation).
    pub fn issuer(&self) -> &str {
        self.text(&self.inner.registered.iss).unwrap_or_default()
    }

    fn text<'a>(&'a self, field: &'a Option<Text>) -> Option<&'a str> {
        field.as_ref().map(|t| t.get(&self.inner.json))
    }

    /// `sub`: the subject, if the token has one.
    pub fn subject(&self) -> Option<&str> {
        self.text(&self.inner.registered.sub)
    }

    /// `aud`: the audiences (always at least one after validation, unless the audience check
    /// was explicitly skipped).
    pub fn audience(&self) -> impl Iterator<Item = &str> {
        let json = &self.inner.json;
        let (one, many): (Option<&Text>, &[Text]) = match &self.inner.registered.aud {
            None => (None, &[]),
            Some(Aud::One(t)) => (Some(t), &[]),
            Some(Aud::Many(v)) => (None, v.as_slice()),
        };
        one.into_iter().chain(many).map(move |t| t.get(json))
    }

    /// `exp`, seconds since the Unix epoch.
    pub fn expires_at(&self) -> f64 {
        self.inner.registered.exp.unwrap_or_default()
    }

    /// `nbf`, seconds since the Unix epoch.
    pub fn not_before(&self) -> Option<f64> {
        self.inner.registered.nbf
    }

    /// `iat`, seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<f64> {
        self.inner.registered.iat
    }

    /// `jti`: the token's unique identifier.
    pub fn jwt_id(&self) -> Option<&str> {
        self.text(&self.inner.registered.jti)
    }

    /// `client_id` (RFC 9068), falling back to `azp` (OpenID Connect).
    pub fn client_id(&self) -> Option<&str> {
        self.text(&self.inner.registered.client_id)
            .or(self.text(&self.inner.registered.azp))
    }

    /// The whole claims set as JSON text.
    pub fn json(&self) -> &str {
        &self.inner.json
    }

    /// Deserialize the whole claims set into your own type.
    ///
    /// ```
    /// # use tower_bearer::testing::TestIssuer;
    /// #[derive(serde::Deserialize)]
    /// struct Mine { tenant: String }
    ///
    /// let issuer = TestIssuer::new();
    /// let token = issuer.token().claim("tenant", "acme").sign();
    /// let claims = issuer.validator().validate(&token)?.claims().clone();
    /// assert_eq!(claims.deserialize::<Mine>()?.tenant, "acme");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// If the claims do not fit `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ClaimsError> {
        serde_json::from_str(&self.inner.json).map_err(ClaimsError)
    }

    /// One claim by name, deserialized into `T`; `Ok(None)` when absent or `null`.
    ///
    /// # Errors
    /// If the claim does not fit `T`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ClaimsError> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.inner.json).map_err(ClaimsError)?;
        match map.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => T::deserialize(v).map(Some).map_err(ClaimsError),
        }
    }

    pub(crate) fn registered(&self) -> &Registered {
        &self.inner.registered
    }

    /// `cnf.jkt`: the RFC 7638 thumbprint of the key this token is bound to (RFC 9449 DPoP),
    /// if it is DPoP-bound. A request only passes with such a token when it carried a DPoP
    /// proof signed by that key.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.inner.registered.cnf.as_ref()?.jkt.as_deref()
    }
}

impl fmt::Debug for TokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClaims")
            .field("iss", &self.issuer())
            .field("sub", &self.subject())
            .field("aud", &self.audience().collect::<Vec<_>>())
            .field("exp", &self.expires_at())
            .finish_non_exhaustive()
    }
}

/// The claims do not fit the type they were read into.
#[derive(Debug, thiserror::Error)]
#[error("claims do not match the expected type: {0}")]
pub struct ClaimsError(#[source] serde_json::Error);

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
    pub(crate) cnf: Option<Cnf>,
}

/// The `cnf` (confirmation) claim, RFC 7800: the DPoP key thumbprint `jkt` (RFC 9449), and
/// whether any other confirmation method (an mTLS `x5t#S256`, a `jwk`, …) is present, which
/// this crate cannot check and therefore never accepts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cnf {
    pub(crate) jkt: Option<Box<str>>,
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
    fn rebase(&mut self, json: &str) -> bool {
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

/// The claims of an everyday access token, read without serde: a flat JSON object whose
/// registered members are plain strings (no escapes), arrays of them, or small non-negative
/// integers, and whose other members are any valid JSON without string escapes. `None` for
/// anything else, including every input that is not valid JSON; the caller then parses with
/// serde_json, which gives the answer (and the error) for those. Where this returns
/// `Some`, it is exactly what serde_json gives (a differential fuzz target checks this).
pub(crate) fn parse_fast(json: &str) -> Option<Registered> {
    let mut p = Scan {
        b: json.as_bytes(),
        i: 0,
    };
    let mut r = Registered::default();
    p.ws();
    p.eat(b'{')?;
    p.ws();
    if p.peek()? == b'}' {
        p.i += 1;
    } else {
        loop {
            let (start, len) = p.plain_string()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            let key = &p.b[start as usize..(start + len) as usize];
            match key {
                b"iss" => set(&mut r.iss, p.text()?)?,
                b"sub" => set(&mut r.sub, p.text()?)?,
                b"jti" => set(&mut r.jti, p.text()?)?,
                b"client_id" => set(&mut r.client_id, p.text()?)?,
                b"azp" => set(&mut r.azp, p.text()?)?,
                b"exp" => set(&mut r.exp, p.small_integer()?)?,
                b"nbf" => set(&mut r.nbf, p.small_integer()?)?,
                b"iat" => set(&mut r.iat, p.small_integer()?)?,
                b"aud" => {
                    let aud = match p.peek()? {
                        b'[' => Aud::Many(p.texts()?),
                        _ => Aud::One(p.text()?),
                    };
                    set(&mut r.aud, aud)?;
                }
                b"scope" | b"scp" => {
                    let v = match p.peek()? {
                        b'[' => StringOrList::List(p.texts()?),
                        _ => StringOrList::String(p.text()?),
                    };
                    set(
                        if key == b"scope" {
                            &mut r.scope
                        } else {
                            &mut r.scp
                        },
                        v,
                    )?;
                }
                // Rare, and checked for more than a string: serde reads these.
                b"cnf" => return None,
                _ => p.skip_value(0)?,
            }
            p.ws();
            match p.peek()? {
                b',' => {
                    p.i += 1;
                    p.ws();
                }
                b'}' => {
                    p.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    p.ws();
    (p.i == p.b.len()).then_some(r)
}

/// A registered member seen twice is serde's error to report.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Bytes that end a plain string: `"`, `\\` and the control characters.
const STRING_END: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The index of the first `"`, `\\` or control character in `b`. Member names and most
/// values are short and read byte by byte; past 16 bytes, eight at a time while none of the
/// three is among them.
fn string_end(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let ends = |c: &u8| STRING_END[usize::from(*c)];
    // Nonzero exactly when some byte of `x` is zero (or, for `below_space`, below 0x20).
    // Which bytes are flagged may be off, so a flagged word is rescanned byte by byte below.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let head = b.len().min(16);
    if let Some(i) = b[..head].iter().position(ends) {
        return Some(i);
    }
    let mut at = head;
    for chunk in b[head..].chunks_exact(8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_ne_bytes(word);
        let quote = zero(v ^ (ONES * u64::from(b'"')));
        let backslash = zero(v ^ (ONES * u64::from(b'\\')));
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
        if quote | backslash | below_space != 0 {
            break;
        }
        at += 8;
    }
    b[at..].iter().position(ends).map(|i| at + i)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// A string without escapes or control characters: its content's offset and length.
    fn plain_string(&mut self) -> Option<(u32, u32)> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.b.get(start..)?;
        let end = string_end(rest)?;
        if rest[end] != b'"' {
            return None;
        }
        self.i = start + end + 1;
        Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
    }

    fn text(&mut self) -> Option<Text> {
        let (start, len) = self.plain_string()?;
        Some(Text::Span(start, len))
    }

    /// `[ string, ... ]`, every item a plain string.
    fn texts(&mut self) -> Option<Vec<Text>> {
        self.eat(b'[')?;
        self.ws();
        let mut out = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(out);
        }
        loop {
            out.push(self.text()?);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// `0` or `[1-9][0-9]{0,14}`: exact in an `f64`, the way serde_json reads it.
    fn small_integer(&mut self) -> Option<f64> {
        let start = self.i;
        let digits = self
            .b
            .get(start..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 15 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        // A fraction or an exponent: serde's to read.
        if matches!(self.b.get(start + digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.i = start + digits;
        let mut v: u64 = 0;
        for &c in &self.b[start..start + digits] {
            v = v * 10 + u64::from(c - b'0');
        }
        Some(v as f64)
    }

    /// Any JSON value, checked for validity but not kept; strings must have no escapes,
    /// nesting is capped.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > 32 {
            return None;
        }
        match self.peek()? {
            b'"' => self.plain_string().map(|_| ()),
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.plain_string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..)?.starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// RFC 8259 `number`.
    fn number(&mut self) -> Option<()> {
        let digits = |s: &mut Self| {
            let n =
                s.b.get(s.i..)
                    .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
            s.i += n;
            n
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(())
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
                self.cnf.as_ref().map(|c| (c.jkt.clone(), c.other)),
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::string_end;

    fn naive(b: &[u8]) -> Option<usize> {
        b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    }

    #[test]
    fn string_end_finds_every_byte_at_every_position() {
        // Fillers next to the bytes looked for, so an off-by-one in the word test shows.
        for filler in [b'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xff] {
            for len in 0..48 {
                let plain = vec![filler; len];
                assert_eq!(string_end(&plain), naive(&plain), "{filler:#x} x {len}");
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut b = plain.clone();
                        b[at] = byte;
                        assert_eq!(string_end(&b), naive(&b), "{byte:#x} at {at} of {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn string_end_reports_the_first_of_several() {
        let mut b = vec![b'x'; 40];
        b[30] = b'"';
        b[20] = 0x01;
        b[25] = b'\\';
        assert_eq!(string_end(&b), Some(20));
        b[17] = b'\\';
        assert_eq!(string_end(&b), Some(17));
    }
}
