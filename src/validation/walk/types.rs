//! What the walk needs to know about FHIR types beyond a plan: the FHIRPath [`TypeModel`] view of
//! the embedded base model (so invariants navigate choices and backbone elements), and the
//! lexical rules of primitives (JSON kind, regex, integer ranges, calendar, narrative XHTML).

use foldhash::HashMap;
use foldhash::HashMapExt;

use regex::Regex;
use serde_json::Value;

use super::super::fhirpath::{ChildType, TypeCodes, TypeModel};
use crate::messages::values::{JsonKind, PrimitiveError};
use crate::model::{BaseModel, JsonType, TypeKind, schema::xsd_regex_to_ecma};

struct Info {
    types: Vec<String>,
    choice: bool,
    repeating: bool,
    definition: Option<String>,
}

/// The base model indexed the way FHIRPath navigation asks: parent type (or inline definition
/// path) → element name → types.
pub(crate) struct ModelTypes {
    map: HashMap<String, HashMap<String, Info>>,
}

impl TypeModel for ModelTypes {
    fn child_type(&self, parent_type: &str, element: &str) -> Option<ChildType<'_>> {
        let i = self.map.get(parent_type)?.get(element)?;
        Some(ChildType {
            types: TypeCodes::Owned(&i.types),
            choice: i.choice,
            repeating: i.repeating,
            definition: i.definition.as_deref(),
        })
    }
}

impl ModelTypes {
    pub fn new(model: &BaseModel) -> Self {
        let mut map: HashMap<String, HashMap<String, Info>> = HashMap::new();
        for def in model.types() {
            for e in def.elements.iter().skip(1) {
                if e.slice_name.is_some() {
                    continue;
                }
                let Some((parent, name)) = e.path.rsplit_once('.') else {
                    continue;
                };
                let (name, choice) = match name.strip_suffix("[x]") {
                    Some(n) => (n, true),
                    None => (name, false),
                };
                let mut types: Vec<String> =
                    e.types.iter().map(|t| t.fhir_type().to_string()).collect();
                let mut definition = None;
                if let Some(r) = &e.content_reference {
                    definition = Some(r.trim_start_matches('#').to_string());
                    types = vec!["BackboneElement".to_string()];
                } else if let [t] = e.types.as_slice()
                    && (t.code == "BackboneElement" || t.code == "Element")
                {
                    definition = Some(e.path.clone());
                }
                map.entry(parent.to_string()).or_default().insert(
                    name.to_string(),
                    Info {
                        types,
                        choice,
                        repeating: e.is_array(),
                        definition,
                    },
                );
            }
        }
        ModelTypes { map }
    }
}

/// The lexical rules of the primitive types, compiled once.
pub(crate) struct Primitives {
    rules: HashMap<String, (JsonType, Option<Regex>)>,
}

impl Primitives {
    pub fn new(model: &BaseModel) -> Self {
        let mut rules = HashMap::new();
        for t in model.types() {
            if t.kind != TypeKind::PrimitiveType {
                continue;
            }
            let json = t.json_type.unwrap_or(JsonType::String);
            // Numbers and booleans are checked by their JSON kind; xhtml by its own rules.
            let regex = match (&t.regex, json) {
                (Some(r), JsonType::String) if t.name != "xhtml" => xsd_regex_to_ecma(r)
                    .ok()
                    .and_then(|r| Regex::new(&format!("^(?:{r})$")).ok()),
                _ => None,
            };
            rules.insert(t.name.clone(), (json, regex));
        }
        Primitives { rules }
    }

    pub fn is_primitive(&self, ty: &str) -> bool {
        self.rules.contains_key(ty)
    }

    /// `Err(why)` when `value` is not a valid JSON form of primitive `ty`.
    pub fn check(&self, ty: &str, value: &Value) -> Result<(), PrimitiveError> {
        let Some((json, regex)) = self.rules.get(ty) else {
            return Ok(());
        };
        match (json, value) {
            (JsonType::Boolean, Value::Bool(_)) => Ok(()),
            (JsonType::Integer, Value::Number(n)) => match n.as_i64() {
                Some(i) if ty == "positiveInt" && i < 1 => Err(PrimitiveError::NotPositiveInt(i)),
                Some(i) if ty == "unsignedInt" && i < 0 => Err(PrimitiveError::NotUnsignedInt(i)),
                Some(i) if i32::try_from(i).is_err() => Err(PrimitiveError::IntegerOutOfRange(i)),
                Some(_) => Ok(()),
                None => Err(PrimitiveError::NotAnInteger(n.to_string())),
            },
            (JsonType::Number, Value::Number(_)) => Ok(()),
            (JsonType::String, Value::String(s)) if ty == "xhtml" => {
                super::narrative::check(s).map_err(PrimitiveError::Narrative)
            }
            (JsonType::String, Value::String(s)) => {
                if s.is_empty() {
                    return Err(PrimitiveError::Empty);
                }
                if s.trim().is_empty() {
                    return Err(PrimitiveError::OnlyWhitespace);
                }
                match regex {
                    Some(r) if !r.is_match(s) => Err(PrimitiveError::NoMatch {
                        value: s.clone(),
                        ty: ty.to_string(),
                    }),
                    _ => super::calendar::check(ty, s),
                }
            }
            _ => Err(PrimitiveError::WrongJsonKind {
                ty: ty.to_string(),
                json: json_name(*json),
                found: JsonKind::of(value),
            }),
        }
    }
}

fn json_name(j: JsonType) -> &'static str {
    match j {
        JsonType::Boolean => "boolean",
        JsonType::Integer => "integer number",
        JsonType::Number => "number",
        JsonType::String => "string",
    }
}
