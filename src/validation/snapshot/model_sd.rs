//! A base type of the embedded model as a StructureDefinition with a snapshot, so a profile can
//! be generated over it when the R4 core package is not loaded. The model keeps what
//! validation reads (paths, cardinality, types, values, bindings, constraints, slicing) and no
//! prose; a snapshot generated over it has the same gaps.

use serde_json::{Map, Value, json};

use crate::model::{ElementDef, TypeDef, TypedValue, upper_first};

const FHIR_TYPE_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

/// The StructureDefinition of `def`, its snapshot rebuilt from the model's elements.
pub fn structure_definition_of(def: &TypeDef) -> Value {
    let elements: Vec<Value> = def.elements.iter().map(element_json).collect();
    let mut sd = json!({
        "resourceType": "StructureDefinition",
        "url": def.url,
        "name": def.name,
        "type": def.name,
        "derivation": "specialization",
        "snapshot": {"element": elements},
    });
    if let Some(base) = &def.base {
        sd["baseDefinition"] = json!(format!("http://hl7.org/fhir/StructureDefinition/{base}"));
    }
    sd
}

fn element_json(e: &ElementDef) -> Value {
    let mut o = Map::new();
    o.insert(
        "id".into(),
        json!(e.id.clone().unwrap_or_else(|| e.path.clone())),
    );
    o.insert("path".into(), json!(e.path));
    if let Some(s) = &e.slice_name {
        o.insert("sliceName".into(), json!(s));
    }
    o.insert("min".into(), json!(e.min));
    o.insert("max".into(), json!(e.max));
    if !e.types.is_empty() {
        let types: Vec<Value> = e
            .types
            .iter()
            .map(|t| {
                let mut o = Map::new();
                if let Some(fhir_type) = t.fhir_type.as_ref().filter(|_| t.is_system()) {
                    o.insert(
                        "extension".into(),
                        json!([{"url": FHIR_TYPE_EXTENSION, "valueUrl": fhir_type}]),
                    );
                }
                o.insert("code".into(), json!(t.code));
                if !t.profile.is_empty() {
                    o.insert("profile".into(), json!(t.profile));
                }
                if !t.target_profile.is_empty() {
                    o.insert("targetProfile".into(), json!(t.target_profile));
                }
                Value::Object(o)
            })
            .collect();
        o.insert("type".into(), Value::Array(types));
    }
    if let Some(c) = &e.content_reference {
        o.insert("contentReference".into(), json!(c));
    }
    let typed = [
        ("fixed", &e.fixed),
        ("pattern", &e.pattern),
        ("minValue", &e.min_value),
        ("maxValue", &e.max_value),
    ];
    for (prefix, value) in typed {
        if let Some(TypedValue { type_code, value }) = value {
            o.insert(format!("{prefix}{}", upper_first(type_code)), value.clone());
        }
    }
    if let Some(m) = e.max_length {
        o.insert("maxLength".into(), json!(m));
    }
    if !e.condition.is_empty() {
        o.insert("condition".into(), json!(e.condition));
    }
    let to_json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    if !e.constraints.is_empty() {
        o.insert(
            "constraint".into(),
            to_json(serde_json::to_value(&e.constraints)),
        );
    }
    if let Some(b) = &e.binding {
        o.insert("binding".into(), to_json(serde_json::to_value(b)));
    }
    if let Some(s) = &e.slicing {
        o.insert("slicing".into(), to_json(serde_json::to_value(s)));
    }
    if e.is_modifier {
        o.insert("isModifier".into(), json!(true));
    }
    if e.is_summary {
        o.insert("isSummary".into(), json!(true));
    }
    Value::Object(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::BaseModel;
    use crate::model::generate::element_from_snapshot;

    #[test]
    fn every_model_element_reads_back_as_itself() {
        let model = BaseModel::load_embedded().unwrap();
        for def in model.types() {
            let sd = structure_definition_of(def);
            let back: Vec<ElementDef> = sd["snapshot"]["element"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| element_from_snapshot(e).unwrap())
                .map(|mut e| {
                    // The model stores an id only where it differs from the path.
                    if e.id.as_deref() == Some(e.path.as_str()) {
                        e.id = None;
                    }
                    e
                })
                .collect();
            assert_eq!(back, def.elements, "{}", def.name);
        }
    }
}
