//! `_summary` and `_elements`: the part of a resource a client asked to see, marked SUBSETTED
//! when something was left out. Spec: <https://hl7.org/fhir/R4/search.html#summary> and
//! <https://hl7.org/fhir/R4/search.html#elements.> Applied to what the access scope already let
//! through, so it can only ever show less. Elements are chosen at the top level of the resource:
//! an element kept is kept whole.

use serde_json::{Map, Value, json};

use crate::messages::requests::SearchReason;
use crate::model::BaseModel;

/// A reduced view of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subset {
    /// `_summary=true`: the elements the base definition marks as summary elements.
    Summary,
    /// `_summary=text`: the narrative, `id`, `meta` and the mandatory elements.
    Text,
    /// `_summary=data`: everything but the narrative.
    Data,
    /// `_elements=a,b`: those elements, with `id`, `meta` and the mandatory ones, which the spec
    /// asks servers to return whether requested or not.
    Elements(Vec<String>),
}

/// What a `_summary` or `_elements` value asks for, as a search or read reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryRequest {
    /// `_summary=count`: the total only (searches).
    Count,
    /// `_summary=false`: the whole resource, as without the parameter.
    Whole,
    Subset(Subset),
}

/// Reads a `_summary` value; `Err` carries the reason for the OperationOutcome.
pub fn summary(value: &str) -> Result<SummaryRequest, SearchReason> {
    Ok(match value {
        "true" => SummaryRequest::Subset(Subset::Summary),
        "text" => SummaryRequest::Subset(Subset::Text),
        "data" => SummaryRequest::Subset(Subset::Data),
        "count" => SummaryRequest::Count,
        "false" => SummaryRequest::Whole,
        _ => return Err(SearchReason::SummaryValue),
    })
}

/// Reads an `_elements` value: comma-separated element names (`name,birthDate`; a choice
/// element by its name without type, `value`).
pub fn elements(value: &str) -> Result<Subset, SearchReason> {
    let mut names = Vec::new();
    for name in value.split(',') {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SearchReason::ElementName(name.to_string()));
        }
        names.push(name.to_string());
    }
    Ok(Subset::Elements(names))
}

const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// The stored JSON text reduced to `subset`; the text unchanged when nothing was left out or it
/// does not parse (it was written by this server, so it always does).
pub fn apply_text(content: &str, subset: &Subset) -> String {
    let Ok(mut resource) = serde_json::from_str::<Value>(content) else {
        return content.to_string();
    };
    if apply(&mut resource, subset) {
        resource.to_string()
    } else {
        content.to_string()
    }
}

/// Reduces `resource` to `subset` and tags it SUBSETTED; whether anything was left out.
pub fn apply(resource: &mut Value, subset: &Subset) -> bool {
    let model = BaseModel::load_embedded().ok();
    let Some(obj) = resource.as_object_mut() else {
        return false;
    };
    let res_type = obj
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let before = obj.len();
    obj.retain(|key, _| keep(model, &res_type, key, subset));
    if obj.len() == before {
        return false;
    }
    tag_subsetted(obj);
    true
}

/// Whether the top-level JSON property `key` stays in the view.
fn keep(model: Option<&BaseModel>, res_type: &str, key: &str, subset: &Subset) -> bool {
    // `_birthDate` carries the extensions of `birthDate` and goes with it.
    let name = key.strip_prefix('_').unwrap_or(key);
    if matches!(name, "resourceType" | "id" | "meta") {
        return true;
    }
    let def = model.and_then(|m| m.element(&format!("{res_type}.{name}")));
    let mandatory = def.is_some_and(|d| d.min > 0);
    match subset {
        Subset::Data => name != "text",
        Subset::Text => name == "text" || mandatory,
        Subset::Summary => def.is_some_and(|d| d.is_summary) || mandatory,
        Subset::Elements(wanted) => {
            // A choice element is asked for by its name without type: `value` keeps
            // `valueQuantity`.
            let element_name = def.map(|d| d.name().trim_end_matches("[x]"));
            mandatory
                || wanted
                    .iter()
                    .any(|w| w == name || element_name == Some(w.as_str()))
        }
    }
}

fn tag_subsetted(obj: &mut Map<String, Value>) {
    let tag = json!({"system": SUBSETTED_SYSTEM, "code": "SUBSETTED"});
    let meta = obj.entry("meta").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let tags = meta.entry("tag").or_insert_with(|| json!([]));
    match tags.as_array_mut() {
        Some(list) => {
            let present = list
                .iter()
                .any(|t| t["system"] == SUBSETTED_SYSTEM && t["code"] == "SUBSETTED");
            if !present {
                list.push(tag);
            }
        }
        None => *tags = json!([tag]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn observation() -> Value {
        json!({
            "resourceType": "Observation",
            "id": "o1",
            "meta": {"versionId": "1"},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
            "status": "final",
            "category": [{"text": "laboratory"}],
            "code": {"text": "glucose"},
            "subject": {"reference": "Patient/p1"},
            "valueQuantity": {"value": 5.1, "unit": "mmol/L"},
            "_status": {"extension": []},
            "note": [{"text": "fasting"}],
            "specimen": {"reference": "Specimen/s1"}
        })
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    fn tagged(v: &Value) -> bool {
        v["meta"]["tag"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["code"] == "SUBSETTED"))
    }

    #[test]
    fn summary_keeps_the_summary_elements_of_the_base_definition() {
        let mut o = observation();
        assert!(apply(&mut o, &Subset::Summary));
        assert_eq!(
            keys(&o),
            // Observation.category and .note are no summary elements in R4.
            [
                "_status",
                "code",
                "id",
                "meta",
                "resourceType",
                "status",
                "subject",
                "valueQuantity"
            ]
        );
        assert!(tagged(&o));
        assert_eq!(o["meta"]["versionId"], "1");
    }

    #[test]
    fn text_keeps_the_narrative_and_the_mandatory_elements() {
        let mut o = observation();
        assert!(apply(&mut o, &Subset::Text));
        assert_eq!(
            keys(&o),
            [
                "_status",
                "code",
                "id",
                "meta",
                "resourceType",
                "status",
                "text"
            ]
        );
    }

    #[test]
    fn data_leaves_out_the_narrative_only() {
        let mut o = observation();
        assert!(apply(&mut o, &Subset::Data));
        assert!(o.get("text").is_none());
        assert!(o.get("note").is_some());
        assert!(tagged(&o));
        // Nothing left out: no tag.
        let mut bare = json!({"resourceType": "Basic", "id": "b", "code": {"text": "x"}});
        assert!(!apply(&mut bare, &Subset::Data));
        assert!(bare.get("meta").is_none());
    }

    #[test]
    fn elements_keep_what_was_asked_with_id_meta_and_mandatory_elements() {
        let mut o = observation();
        let subset = elements("value,note").unwrap();
        assert!(apply(&mut o, &subset));
        assert_eq!(
            keys(&o),
            [
                "_status",
                "code",
                "id",
                "meta",
                "note",
                "resourceType",
                "status",
                "valueQuantity"
            ]
        );
        let tags = o["meta"]["tag"].as_array().unwrap().len();
        assert!(!apply(&mut o, &subset), "nothing more to leave out");
        assert_eq!(o["meta"]["tag"].as_array().unwrap().len(), tags);
        assert!(elements("name,").is_err());
        assert!(elements("Patient.name").is_err());
    }

    #[test]
    fn summary_values() {
        assert_eq!(summary("count"), Ok(SummaryRequest::Count));
        assert_eq!(summary("false"), Ok(SummaryRequest::Whole));
        assert_eq!(summary("data"), Ok(SummaryRequest::Subset(Subset::Data)));
        assert!(summary("all").is_err());
    }
}
