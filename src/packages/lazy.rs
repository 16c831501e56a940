//! A package resource's JSON, parsed the first time something reads it.
//!
//! The shipped packages hold about 3,000 conformance resources, and a validation run reads a few
//! dozen of them: building a `serde_json::Value` of every one was two thirds of a one-file
//! `kyoyu validate`. Loading now makes one pass that checks the JSON's syntax and reads only the
//! fields the index needs ([`Header`]); the tree is built on first use, and the file's bytes are
//! freed then.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    /// Checks `bytes` are one JSON value in UTF-8 and reads the top-level strings the index
    /// needs. The members skipped are checked for syntax only (`IgnoredAny` does not count
    /// nesting nor decode escapes): a file nested deeper than the full parser allows, or with a
    /// lone surrogate escape, passes here and fails when first read (see [`LazyJson::value`]).
    pub fn read(bytes: &[u8]) -> Result<Header, HeaderError> {
        std::str::from_utf8(bytes)?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let header = de.deserialize_any(HeaderVisitor)?;
        de.end()?;
        Ok(header)
    }
}

/// Why [`Header::read`] refused a file.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("not UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
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
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
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
        while seq.next_element::<IgnoredAny>()?.is_some() {}
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
    /// `package#version/file`, for the one failure [`Header::read`] cannot rule out.
    label: Box<str>,
    parsed: OnceLock<Arc<Value>>,
    raw: Mutex<Option<Box<[u8]>>>,
    detail: Detail,
    structure_definition: bool,
}

impl LazyJson {
    /// Bytes [`Header::read`] accepted; `structure_definition` with [`Detail::Validation`]
    /// drops the prose when the tree is built.
    pub(super) fn unparsed(
        label: String,
        raw: Box<[u8]>,
        detail: Detail,
        structure_definition: bool,
    ) -> Self {
        LazyJson {
            label: label.into(),
            parsed: OnceLock::new(),
            raw: Mutex::new(Some(raw)),
            detail,
            structure_definition,
        }
    }

    /// A tree already built.
    pub fn parsed(value: Value) -> Self {
        LazyJson {
            label: Box::from(""),
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
            let parsed = raw.map(|bytes| serde_json::from_slice::<Value>(&bytes));
            let mut value = match parsed {
                Some(Ok(value)) => value,
                Some(Err(error)) => {
                    // Only nesting beyond serde_json's limit or a lone surrogate escape gets
                    // here; the resource then reads as `null`, which no check takes for a
                    // definition.
                    tracing::warn!(resource = %self.label, %error, "package resource unreadable");
                    Value::Null
                }
                None => Value::Null,
            };
            if self.detail == Detail::Validation && self.structure_definition {
                drop_prose(&mut value);
            }
            Arc::new(value)
        })
    }

    /// Whether both hold the same JSON: equal bytes answer without building either tree.
    pub fn same_as(&self, other: &LazyJson) -> bool {
        // Clones of a resource share one cell: locking its mutex twice would deadlock.
        if std::ptr::eq(self, other) {
            return true;
        }
        if self.parsed.get().is_none() && other.parsed.get().is_none() {
            // Locked in address order, so two threads comparing the same pair cannot deadlock.
            let (first, second) = if std::ptr::from_ref(self) < std::ptr::from_ref(other) {
                (self, other)
            } else {
                (other, self)
            };
            let a = first.raw.lock().unwrap_or_else(PoisonError::into_inner);
            let b = second.raw.lock().unwrap_or_else(PoisonError::into_inner);
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
        assert!(Header::read(b"{\"a\":\"\xff\"}").is_err(), "not UTF-8");
        let deep = "[".repeat(200) + &"]".repeat(200);
        for (case, full_parse) in [
            (deep.as_bytes(), false),
            (br#"{"a":"\ud800"}"#, false),
            (br#"{"a":"\ud83d\ude00"}"#, true),
            (br#"{"a":1e999,"b":-0.0}"#, true),
        ] {
            assert!(Header::read(case).is_ok());
            assert_eq!(serde_json::from_slice::<Value>(case).is_ok(), full_parse);
        }
        assert!(Header::read(br#"{"a":01}"#).is_err());
    }

    #[test]
    fn the_tree_is_built_once_and_the_bytes_freed() {
        let lazy = LazyJson::unparsed(
            "p#1/sd.json".into(),
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
    fn what_the_header_let_through_and_the_parser_refuses_reads_as_null() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let lazy = LazyJson::unparsed(
            "p#1/deep.json".into(),
            deep.into_bytes().into(),
            Detail::Full,
            false,
        );
        assert_eq!(**lazy.value(), Value::Null);
    }

    #[test]
    fn sameness_compares_bytes_then_trees() {
        let unparsed = |s: &str| {
            LazyJson::unparsed(
                "p#1/x.json".into(),
                s.as_bytes().into(),
                Detail::Full,
                false,
            )
        };
        assert!(unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{"a":1}"#)));
        assert!(unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{ "a" : 1 }"#)));
        assert!(!unparsed(r#"{"a":1}"#).same_as(&unparsed(r#"{"a":2}"#)));
        let a = unparsed(r#"{"a":1}"#);
        let b = unparsed(r#"{"a":1}"#);
        assert!(a.same_as(&b));
        assert!(a.parsed.get().is_none(), "equal bytes build no tree");
        assert!(
            a.same_as(&a),
            "a cell is the same as itself, without locking twice"
        );
        assert!(a.parsed.get().is_none());
    }
}
