//! A `serde_json::Value` built as serde_json builds it, except that an object naming a key twice
//! is refused: serde_json keeps the last one silently, so `{"resourceType":"Patient",
//! "resourceType":"Bundle"}` would be whatever came last. Where the duplicate sits is collected
//! only while an error unwinds, so a clean body costs what serde_json's own `Value` costs.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// With serde_json's `arbitrary_precision`, a number reaches a visitor as a one-entry map under
/// this key, its text as the value.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What an error left behind: the key named twice, and the steps to it (innermost first).
#[derive(Debug, Default)]
pub struct Trail {
    pub duplicate: Option<String>,
    pub steps: Vec<Step>,
    /// The `resourceType` of the outermost object, when it was read before the error.
    pub root: Option<String>,
    /// Longest array accepted; reading stops at the first item past it, before the rest of a
    /// hostile array is built in memory.
    pub max_items: usize,
    /// Set when an array was longer than `max_items`.
    pub too_long: bool,
}

#[derive(Debug)]
pub enum Step {
    Key(String),
    Index(usize),
}

impl Trail {
    /// The location as FHIRPath: `Patient.contact[0].name`.
    pub fn path(&self) -> String {
        let mut out = self.root.clone().unwrap_or_default();
        for step in self.steps.iter().rev() {
            match step {
                Step::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Step::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Reads one JSON value from `de`, refusing duplicate keys; `trail` says where on error.
pub struct Strict<'t> {
    pub trail: &'t mut Trail,
    pub outermost: bool,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let seed = Strict {
                trail: &mut *self.trail,
                outermost: false,
            };
            match seq.next_element_seed(seed) {
                Ok(Some(_)) if items.len() == self.trail.max_items => {
                    self.trail.too_long = true;
                    return Err(de::Error::custom(format_args!(
                        "more than {} items in one array",
                        self.trail.max_items
                    )));
                }
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.trail.steps.push(Step::Index(items.len()));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if key == NUMBER_TOKEN && map.is_empty() {
                let text: String = access.next_value()?;
                return Number::from_str(&text)
                    .map(Value::Number)
                    .map_err(de::Error::custom);
            }
            let slot = match map.entry(key) {
                Entry::Vacant(slot) => slot,
                Entry::Occupied(taken) => {
                    let key = taken.key().clone();
                    self.trail.duplicate = Some(key.clone());
                    self.trail.steps.push(Step::Key(key.clone()));
                    self.note_root(&map);
                    return Err(de::Error::custom(format_args!("duplicate key \"{key}\"")));
                }
            };
            let seed = Strict {
                trail: &mut *self.trail,
                outermost: false,
            };
            match access.next_value_seed(seed) {
                Ok(value) => {
                    slot.insert(value);
                }
                Err(e) => {
                    let key = slot.key().clone();
                    self.trail.steps.push(Step::Key(key));
                    self.note_root(&map);
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(map))
    }
}

impl Strict<'_> {
    fn note_root(&mut self, map: &Map<String, Value>) {
        if self.outermost {
            self.trail.root = map
                .get("resourceType")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
    }
}
