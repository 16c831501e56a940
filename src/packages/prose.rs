//! The prose of a StructureDefinition, dropped when a package is loaded for validation: the
//! narrative and descriptions, and per element the definition, comment, requirements, aliases
//! and mappings. The walk compiles plans from the snapshot's structure (types, cardinality,
//! slicing, fixed and pattern values, bindings, constraint expressions) and never reads them;
//! they are most of a snapshot's text. ValueSets and CodeSystems are kept whole: the
//! terminology operations serve them as published.

use serde_json::{Map, Value};

/// What loading keeps of a StructureDefinition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// Everything, as published (installing, listing, generating the base model).
    #[default]
    Full,
    /// Without the prose, for a validator.
    Validation,
}

const TOP: &[&str] = &["text", "description", "purpose", "copyright", "mapping"];

const ELEMENT: &[&str] = &[
    "definition",
    "comment",
    "requirements",
    "alias",
    "mapping",
    "meaningWhenMissing",
    "orderMeaning",
    "isModifierReason",
];

/// `xpath` is the XML form of a constraint: a JSON server never evaluates it. The `human`
/// text stays, as the message a constraint would be reported with.
const CONSTRAINT: &[&str] = &["xpath"];

pub(super) fn drop_prose(sd: &mut Value) {
    without(sd, TOP);
    let Some(object) = sd.as_object_mut() else {
        return;
    };
    for part in ["snapshot", "differential"] {
        let elements = object
            .get_mut(part)
            .and_then(|p| p.get_mut("element"))
            .and_then(Value::as_array_mut);
        for element in elements.into_iter().flatten() {
            without(element, ELEMENT);
            let constraints = element.get_mut("constraint").and_then(Value::as_array_mut);
            for c in constraints.into_iter().flatten() {
                without(c, CONSTRAINT);
            }
        }
    }
}

/// `value` without the members `keys`, rebuilt at its new size: removing in place would keep
/// the map's capacity, and most of the saving with it.
fn without(value: &mut Value, keys: &[&str]) {
    let Value::Object(map) = value else { return };
    if !map.keys().any(|k| keys.contains(&k.as_str())) {
        return;
    }
    let kept = map.keys().filter(|k| !keys.contains(&k.as_str())).count();
    let mut rebuilt = Map::with_capacity(kept);
    rebuilt.extend(
        std::mem::take(map)
            .into_iter()
            .filter(|(k, _)| !keys.contains(&k.as_str())),
    );
    *map = rebuilt;
}
