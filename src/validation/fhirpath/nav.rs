//! Walking FHIR JSON: child elements by name (choice types, `_x` primitive halves, arrays),
//! all children, the types of what is found, and type tests (`is`, `as`, `ofType`).
//!
//! With a [`TypeModel`] the types come from the definitions; without one (or where it does not
//! know the parent) they come from what the JSON shows: `resourceType`, the suffix of a choice
//! key (`valueQuantity`), JSON booleans and numbers.

use serde_json::{Map, Value};

use super::ast::TypeSpec;
use super::value::{Item, Node, Str};
use super::{ChildType, TypeModel};

/// FHIR primitive types: the lower-case spelling of a choice suffix (`valueDateTime`).
use crate::fhir::members::field;
use crate::model::PRIMITIVE_TYPES as PRIMITIVES;

/// Complex data types that can follow a choice element's name.
const COMPLEX: &[&str] = &[
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "CodeableConcept",
    "Coding",
    "ContactDetail",
    "ContactPoint",
    "Contributor",
    "Count",
    "DataRequirement",
    "Distance",
    "Dosage",
    "Duration",
    "Expression",
    "HumanName",
    "Identifier",
    "Meta",
    "Money",
    "ParameterDefinition",
    "Period",
    "Quantity",
    "Range",
    "Ratio",
    "Reference",
    "RelatedArtifact",
    "SampledData",
    "Signature",
    "Timing",
    "TriggerDefinition",
    "UsageContext",
];

/// Resources that are not DomainResources.
const PLAIN_RESOURCES: &[&str] = &["Bundle", "Binary", "Parameters", "Resource"];

/// The FHIR type named by a choice-key suffix (`Quantity`, `DateTime` → `dateTime`).
fn type_from_suffix(suffix: &str) -> Option<&'static str> {
    if let Some(t) = COMPLEX.iter().find(|t| **t == suffix) {
        return Some(t);
    }
    let mut cs = suffix.chars();
    let first = cs.next()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    let rest = cs.as_str();
    PRIMITIVES.iter().copied().find(|p| {
        p.len() == suffix.len()
            && p.as_bytes()[0] == first.to_ascii_lowercase() as u8
            && &p[1..] == rest
    })
}

/// Whether a choice-key suffix spells type code `t` (first letter capitalised).
fn suffix_is(suffix: &str, t: &str) -> bool {
    let (Some(a), Some(b)) = (suffix.chars().next(), t.chars().next()) else {
        return false;
    };
    suffix.len() == t.len() && a == b.to_ascii_uppercase() && suffix[1..] == t[1..]
}

/// The type JSON itself shows for a primitive value.
pub(crate) fn json_primitive_type(v: Option<&Value>) -> Option<&'static str> {
    match v? {
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("decimal"),
        _ => None,
    }
}

/// Looks `_name` up without allocating for ordinary element names.
fn get_underscored<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let mut buf = [0u8; 64];
    if name.len() < buf.len() {
        buf[0] = b'_';
        buf[1..=name.len()].copy_from_slice(name.as_bytes());
        if let Ok(key) = std::str::from_utf8(&buf[..=name.len()]) {
            return field(obj, key);
        }
    }
    obj.get(&format!("_{name}"))
}

/// The items a caller's focus value stands for (an array is its elements).
pub(crate) fn focus_items<'a>(focus: &'a Value, focus_type: Option<&str>) -> Vec<Item<'a>> {
    let ty = focus_type.map(|t| Str::from(t.to_string()));
    let mut out = Vec::new();
    let mut push = |v: &'a Value| {
        let mut n = resource_or(v, ty.clone(), None);
        if let Some(t) = n.ty.as_deref().filter(|t| t.contains('.')) {
            // An inline definition key: the model's key, the FHIR type is BackboneElement.
            n.def = Some(Str::from(t.to_string()));
            n.ty = Some(Str::Borrowed("BackboneElement"));
        }
        out.push(Item::Node(n));
    };
    match focus {
        Value::Array(vs) => vs.iter().for_each(&mut push),
        v => push(v),
    }
    out
}

/// A node whose type is its own `resourceType` when it is a resource.
fn resource_or<'a>(v: &'a Value, ty: Option<Str<'a>>, def: Option<Str<'a>>) -> Node<'a> {
    if let Some(rt) = crate::fhir::members::resource_type(v) {
        return Node {
            value: Some(v),
            ext: None,
            ty: Some(Str::Borrowed(rt)),
            def: None,
        };
    }
    Node {
        value: Some(v),
        ext: None,
        ty,
        def,
    }
}

pub(crate) fn resource_node(v: &Value) -> Item<'_> {
    Item::Node(resource_or(v, None, None))
}

/// Pushes the items of one element given its value half and `_x` half (either may be an
/// array, with `null` placeholders where one half is missing).
fn push_pair<'a>(
    value: Option<&'a Value>,
    ext: Option<&'a Value>,
    ty: Option<Str<'a>>,
    def: Option<Str<'a>>,
    out: &mut Vec<Item<'a>>,
) {
    let present = |v: Option<&'a Value>| v.filter(|v| !v.is_null());
    let make = |v: Option<&'a Value>, e: Option<&'a Value>| {
        let mut n = match v {
            Some(v) => resource_or(v, ty.clone(), def.clone()),
            None => Node {
                value: None,
                ext: None,
                ty: ty.clone(),
                def: def.clone(),
            },
        };
        n.ext = e;
        Item::Node(n)
    };
    match (present(value), present(ext)) {
        (None, None) => {}
        (Some(Value::Array(vs)), e) => {
            let es = e.and_then(Value::as_array);
            for (i, v) in vs.iter().enumerate() {
                let x = present(es.and_then(|es| es.get(i)));
                if let Some(v) = present(Some(v)) {
                    out.push(make(Some(v), x));
                } else if x.is_some() {
                    out.push(make(None, x));
                }
            }
            // Extensions for positions past the end of the value array.
            for x in es.map_or(&[][..], |es| es.get(vs.len()..).unwrap_or(&[])) {
                if !x.is_null() {
                    out.push(make(None, Some(x)));
                }
            }
        }
        (None, Some(Value::Array(es))) => {
            for x in es.iter().filter(|x| !x.is_null()) {
                out.push(make(None, Some(x)));
            }
        }
        (v, e) => out.push(make(v, e)),
    }
}

fn ct_type<'a>(ct: &ChildType<'a>, i: usize) -> (Option<Str<'a>>, Option<Str<'a>>) {
    (
        ct.types.get(i).map(Str::Borrowed),
        ct.definition.map(Str::Borrowed),
    )
}

/// Children named `name` (without `[x]`) of `node`.
pub(crate) fn child_items<'a>(
    node: &Node<'a>,
    name: &str,
    model: Option<&'a dyn TypeModel>,
    out: &mut Vec<Item<'a>>,
) {
    let Some(Value::Object(obj)) = node.value else {
        // A primitive's own children (`id`, `extension`) live in its `_x` half.
        if let Some(Value::Object(e)) = node.ext {
            let ty = match name {
                "extension" => Some(Str::Borrowed("Extension")),
                "id" => Some(Str::Borrowed("string")),
                _ => None,
            };
            push_pair(field(e, name), None, ty, None, out);
        }
        return;
    };
    if name == "resourceType" {
        return;
    }
    let ct = match (node.def_key(), model) {
        (Some(p), Some(m)) => m.child_type(p, name),
        _ => None,
    };
    match ct {
        Some(ct) if ct.choice => {
            for (k, v) in obj {
                let (key, is_ext) = match k.strip_prefix('_') {
                    Some(k) => (k, true),
                    None => (k.as_str(), false),
                };
                let Some(suffix) = key.strip_prefix(name) else {
                    continue;
                };
                // `_valueString` is picked up together with `valueString`, unless alone.
                if is_ext && field(obj, key).is_some() {
                    continue;
                }
                let Some(i) = ct.types.iter().position(|t| suffix_is(suffix, t)) else {
                    continue;
                };
                let (ty, def) = ct_type(&ct, i);
                if is_ext {
                    push_pair(None, Some(v), ty, def, out);
                } else {
                    push_pair(Some(v), get_underscored(obj, key), ty, def, out);
                }
            }
        }
        Some(ct) => {
            let (ty, def) = ct_type(&ct, 0);
            push_pair(field(obj, name), get_underscored(obj, name), ty, def, out);
        }
        None => {
            let (v, e) = (field(obj, name), get_underscored(obj, name));
            if v.is_some() || e.is_some() {
                push_pair(v, e, None, None, out);
                return;
            }
            for (k, v) in obj {
                let (key, is_ext) = match k.strip_prefix('_') {
                    Some(k) => (k, true),
                    None => (k.as_str(), false),
                };
                let Some(t) = key.strip_prefix(name).and_then(type_from_suffix) else {
                    continue;
                };
                if is_ext && field(obj, key).is_some() {
                    continue;
                }
                let ty = Some(Str::Borrowed(t));
                if is_ext {
                    push_pair(None, Some(v), ty, None, out);
                } else {
                    push_pair(Some(v), get_underscored(obj, key), ty, None, out);
                }
            }
        }
    }
}

/// Type (and definition key) of the element stored under JSON key `key` of `parent`.
fn key_type<'a>(
    parent: Option<&str>,
    key: &'a str,
    model: Option<&'a dyn TypeModel>,
) -> (Option<Str<'a>>, Option<Str<'a>>) {
    if let (Some(p), Some(m)) = (parent, model) {
        if let Some(ct) = m.child_type(p, key).filter(|ct| !ct.choice) {
            return ct_type(&ct, 0);
        }
        for (i, c) in key.char_indices().skip(1) {
            if !c.is_ascii_uppercase() {
                continue;
            }
            if let Some(ct) = m.child_type(p, &key[..i]).filter(|ct| ct.choice)
                && let Some(j) = ct.types.iter().position(|t| suffix_is(&key[i..], t))
            {
                return ct_type(&ct, j);
            }
        }
    }
    for (i, c) in key.char_indices().skip(1) {
        if c.is_ascii_uppercase()
            && let Some(t) = type_from_suffix(&key[i..])
        {
            return (Some(Str::Borrowed(t)), None);
        }
    }
    (None, None)
}

/// All child elements of `node`, in document order.
pub(crate) fn children<'a>(
    node: &Node<'a>,
    model: Option<&'a dyn TypeModel>,
    out: &mut Vec<Item<'a>>,
) {
    let Some(Value::Object(obj)) = node.value else {
        if let Some(Value::Object(e)) = node.ext {
            if let Some(id) = e.get("id") {
                push_pair(Some(id), None, Some(Str::Borrowed("string")), None, out);
            }
            if let Some(x) = e.get("extension") {
                push_pair(Some(x), None, Some(Str::Borrowed("Extension")), None, out);
            }
        }
        return;
    };
    let parent = node.def_key();
    for (k, v) in obj {
        if k == "resourceType" || k == "fhir_comments" {
            continue;
        }
        if let Some(base) = k.strip_prefix('_') {
            if !obj.contains_key(base) {
                let (ty, def) = key_type(parent, base, model);
                push_pair(None, Some(v), ty, def, out);
            }
            continue;
        }
        let (ty, def) = key_type(parent, k, model);
        push_pair(Some(v), get_underscored(obj, k), ty, def, out);
    }
}

/// System type a FHIR primitive maps to.
fn system_type(fhir: &str) -> Option<&'static str> {
    Some(match fhir {
        "boolean" => "Boolean",
        "integer" | "positiveInt" | "unsignedInt" => "Integer",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" | "instant" => "DateTime",
        "time" => "Time",
        "string" | "code" | "id" | "markdown" | "uri" | "url" | "canonical" | "oid" | "uuid"
        | "base64Binary" | "xhtml" => "String",
        _ => return None,
    })
}

/// Whether FHIR type `actual` is `wanted` or derives from it.
fn fhir_is(actual: &str, wanted: &str, is_resource: bool) -> bool {
    if actual == wanted {
        return true;
    }
    match wanted {
        "uri" => matches!(actual, "url" | "canonical" | "oid" | "uuid"),
        "string" => matches!(actual, "code" | "id" | "markdown"),
        "integer" => matches!(actual, "positiveInt" | "unsignedInt"),
        "Quantity" => matches!(
            actual,
            "Age" | "Count" | "Distance" | "Duration" | "SimpleQuantity" | "MoneyQuantity"
        ),
        "Resource" => is_resource,
        "DomainResource" => is_resource && !PLAIN_RESOURCES.contains(&actual),
        "Element" => !is_resource,
        _ => false,
    }
}

/// `item is spec`: the type or a type derived from it. Elements of the instance have FHIR
/// types and computed values System types, so `System.Boolean` never matches an element and
/// `FHIR.boolean` never a computed value; unqualified System names (`Boolean`) also accept the
/// FHIR primitives that map to them, as R4 invariants write them.
pub(crate) fn is_type(item: &Item<'_>, spec: &TypeSpec) -> bool {
    let ns = spec.namespace.as_deref();
    let name = &*spec.name;
    match item {
        Item::Node(n) => {
            let Some(actual) = n.fhir_type() else {
                return false;
            };
            let is_resource = n
                .value
                .is_some_and(|v| v.get("resourceType").is_some_and(Value::is_string));
            match ns {
                // An element of the instance has a FHIR type: FHIR.boolean is not
                // System.Boolean, though its value converts to one where an operator needs it.
                Some("System") => false,
                Some("FHIR") => fhir_is(actual, name, is_resource),
                // Unqualified, `Boolean` names the System type (FHIR has none of that name);
                // R4 writes it of FHIR elements (que-7: `answer is Boolean`) and the reference
                // validator accepts valid Questionnaires, so the primitive it maps to counts.
                _ => fhir_is(actual, name, is_resource) || system_type(actual) == Some(name),
            }
        }
        _ => ns != Some("FHIR") && item.type_name() == Some(name),
    }
}

/// Whether a name at the start of a path names the focus's own type (`Patient.name`).
pub(crate) fn names_type_of(item: &Item<'_>, name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && match item {
            Item::Node(n) => n.fhir_type() == Some(name),
            _ => false,
        }
}
