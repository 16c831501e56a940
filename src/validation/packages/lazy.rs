//! A package resource's JSON, parsed the first time something reads it.
//!
//! The shipped packages hold about 3,000 conformance resources, and a validation run reads a few
//! dozen of them: building a `serde_json::Value` of every one was two thirds of a one-file
//! `kyoyu validate`. Loading now makes one pass that checks the JSON and reads only the fields
//! the index needs ([`Header`]); the tree is built on first use, and the file's bytes are freed
//! then.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::prose::{Detail, drop_prose};

/// The key `arbitrary_precision` gives a number read through `deserialize_any`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What loading reads of a resource without building its tree.
#[derive(Debug, Default)]
pub(super) struct Header {
    pub object: bool,
    pub resource_type: Option<String>,
    pub id: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
}

impl Header {
    /// Checks `bytes` are one JSON value (the same rules, depth limit included, as a full
    /// parse) and reads the top-level strings the index needs.
    pub fn read(bytes: &[u8]) -> Result<Header, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let header = de.deserialize_any(HeaderVisitor)?;
        de.end()?;
        Ok(header)
    }
}

enum Field {
    ResourceType,
    Id,
    Url,
    Version,
    Number,
    Other,
}

impl<'de> de::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "resourceType" => Field::ResourceType,
                    "id" => Field::Id,
                    "url" => Field::Url,
                    "version" => Field::Version,
                    NUMBER_TOKEN => Field::Number,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

/// A value read and dropped. Unlike `IgnoredAny`, it goes through `deserialize_any`, so strings
/// are checked as UTF-8 (lone surrogate escapes refused) and nesting counts against the depth
/// limit, exactly as when the tree is built: a file the header accepts always parses.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
        let mut header = Header {
            object: true,
            ..Header::default()
        };
        // As `Value` does, a repeated member keeps its last value.
        while let Some(field) = map.next_key::<Field>()? {
            let slot = match field {
                Field::ResourceType => &mut header.resource_type,
                Field::Id => &mut header.id,
                Field::Url => &mut header.url,
                Field::Version => &mut header.version,
                Field::Number => {
                    header.object = false;
                    map.next_value::<Skip>()?;
                    continue;
                }
                Field::Other => {
                    map.next_value::<Skip>()?;
                    continue;
                }
            };
            *slot = match map.next_value::<Value>()? {
                Value::String(s) => Some(s),
                _ => None,
            };
        }
        Ok(header)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Header, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Header::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Header, E> {
        Ok(Header::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Header, E> {
        Ok(Header::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Header, E> {
        Ok(Header::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Header, E> {
        Ok(Header::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Header, E> {
        Ok(Header::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Header, E> {
        Ok(Header::default())
    }
}

/// The JSON of one resource: its file's bytes until first read, then the tree.
pub struct LazyJson {
    parsed: OnceLock<Arc<Value>>,
    raw: Mutex<Option<Box<[u8]>>>,
    detail: Detail,
    structure_definition: bool,
}

impl LazyJson {
    /// Bytes [`Header::read`] accepted; `structure_definition` with [`Detail::Validation`]
    /// drops the prose when the tree is built.
    pub(super) fn unparsed(raw: Box<[u8]>, detail: Detail, structure_definition: bool) -> Self {
        LazyJson {
            parsed: OnceLock::new(),
            raw: Mutex::new(Some(raw)),
            detail,
            structure_definition,
        }
    }

    /// A tree already built.
    pub fn parsed(value: Value) -> Self {
        LazyJson {
            parsed: OnceLock::from(Arc::new(value)),
            raw: Mutex::new(None),
            detail: Detail::Full,
            structure_definition: false,
        }
    }

    pub fn value(&self) -> &Arc<Value> {
        self.parsed.get_or_init(|| {
            let raw = self
                .raw
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            // The bytes passed `Header::read`, which applies the full parser's rules (see
            // `Skip`), so this does not fail; `Null` is only the type's answer to "cannot".
            let mut value = raw
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                .unwrap_or(Value::Null);
            if self.detail == Detail::Validation && self.structure_definition {
                drop_prose(&mut value);
            }
            Arc::new(value)
        })
    }

    /// Whether both hold the same JSON: equal bytes answer without building either tree.
    pub fn same_as(&self, other: &LazyJson) -> bool {
        if self.parsed.get().is_none() && other.parsed.get().is_none() {
            let a = self.raw.lock().unwrap_or_else(PoisonError::into_inner);
            let b = other.raw.lock().unwrap_or_else(PoisonError::into_inner);
            if let (Some(a), Some(b)) = (a.as_deref(), b.as_deref())
                && a == b
            {
                return true;
            }
        }
        self.value() == other.value()
    }
}

impl PartialEq for LazyJson {
    fn eq(&self, other: &LazyJson) -> bool {
        self.same_as(other)
    }
}

impl fmt::Debug for LazyJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parsed.get() {
            Some(value) => value.fmt(f),
            None => f.write_str("<not yet parsed>"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_header_reads_the_index_fields_and_checks_the_rest() {
        let h = Header::read(
            br#"{"resourceType":"ValueSet","url":"http://x/v","id":"v","version":1,
                "compose":{"include":[{"concept":[{"code":"a","n":1.50}]}]},"url":"http://x/w"}"#,
        )
        .unwrap();
        assert!(h.object);
        assert_eq!(h.resource_type.as_deref(), Some("ValueSet"));
        assert_eq!(
            h.url.as_deref(),
            Some("http://x/w"),
            "the last of a repeated member"
        );
        assert_eq!(h.id.as_deref(), Some("v"));
        assert_eq!(h.version, None, "a number is not a version");
        assert!(Header::read(br#"{"a":[1,}"#).is_err());
        assert!(Header::read(br#"{"a":1} x"#).is_err());
        for not_object in [&b"[1]"[..], b"\"x\"", b"12.5", b"null", b"true"] {
            assert!(!Header::read(not_object).unwrap().object);
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        let nested = format!(r#"{{"a":{}{}}}"#, "[".repeat(130), "]".repeat(130));
        let cases: [&[u8]; 7] = [
            deep.as_bytes(),
            nested.as_bytes(),
            b"{\"a\":\"\xff\"}",
            br#"{"a":"\ud800"}"#,
            br#"{"a":"\ud83d\ude00"}"#,
            br#"{"a":1e999,"b":-0.0}"#,
            br#"{"a":01}"#,
        ];
        for case in cases {
            assert_eq!(
                Header::read(case).is_ok(),
                serde_json::from_slice::<Value>(case).is_ok(),
                "the header accepts what the full parse accepts: {}",
                String::from_utf8_lossy(case)
            );
        }
        assert!(
            Header::read(deep.as_bytes()).is_err(),
            "the depth limit holds"
        );
    }

    #[test]
    fn the_tree_is_built_once_and_the_bytes_freed() {
        let lazy = LazyJson::unparsed(
            br#"{"resourceType":"StructureDefinition","description":"prose","a":1}"#
                .to_vec()
                .into_boxed_slice(),
            Detail::Validation,
            true,
        );
        let first = Arc::clone(lazy.value());
        assert!(first.get("description").is_none(), "prose dropped");
        assert_eq!(first["a"], 1);
        assert!(Arc::ptr_eq(&first, lazy.value()));
        assert!(lazy.raw.lock().unwrap().is_none());
    }

    #[test]
    fn sameness_compares_bytes_then_trees() {
        let unparsed =
            |s: &str| LazyJson::unparsed(s.as_bytes().to_vec().into(), Detail::Full, false);
        assert!(unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{"a":1}"#)));
        assert!(unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{ "a" : 1 }"#)));
        assert!(!unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{"a":2}"#)));
        let a = unparsed(r#"{"a":1}"#);
        let b = unparsed(r#"{"a":1}"#);
        assert!(a.same_as(&b));
        assert!(a.parsed.get().is_none(), "equal bytes build no tree");
    }
}
