//! Structural errors in JSON, through the validator's front door: each defect gives one issue,
//! at the FHIRPath location of the element, that says what was expected and what was found.
//! (Duplicate keys never reach the walk: the JSON reader refuses them, naming the key's path;
//! see `fhir::json`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::packages::PackageSet;
use crate::validation::Validator;
use crate::validation::binding_check::NoTerminology;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        Validator::with_packages(
            Arc::new(PackageSet::default()),
            Arc::new(NoTerminology),
            false,
        )
        .unwrap()
    })
}

/// A valid Observation with a component of each value type the cases need.
fn observation() -> Value {
    json!({
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": {"value": 5.5, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
        "component": [
            {"code": {"text": "a"}, "valueString": "x"},
            {"code": {"text": "b"}, "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org", "code": "mg"}}
        ]
    })
}

fn errors(v: &Value) -> Vec<Issue> {
    validator()
        .validate(v, None, None)
        .into_iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .collect()
}

/// `mutate` makes exactly one error, at `at`, of type `code`, whose text contains `says`.
fn one_error(mutate: impl FnOnce(&mut Value), code: IssueType, at: &str, says: &str) {
    let mut v = observation();
    assert!(errors(&v).is_empty(), "{:#?}", errors(&v));
    mutate(&mut v);
    let found = errors(&v);
    assert_eq!(found.len(), 1, "expected one error at {at}: {found:#?}");
    let e = &found[0];
    assert_eq!(e.expression, [at], "{e:#?}");
    assert_eq!(e.code, code, "{e:#?}");
    assert!(
        e.diagnostics.contains(says),
        "{:?} lacks {says:?}",
        e.diagnostics
    );
}

#[test]
fn a_string_where_a_number_belongs() {
    one_error(
        |v| v["component"][1]["valueQuantity"]["value"] = json!("1"),
        IssueType::Value,
        "Observation.component[1].value.ofType(Quantity).value",
        "a decimal must be a JSON number, not a string",
    );
}

#[test]
fn a_number_where_a_string_belongs() {
    one_error(
        |v| v["code"]["text"] = json!(5),
        IssueType::Value,
        "Observation.code.text",
        "a string must be a JSON string, not a number",
    );
}

#[test]
fn an_object_where_an_array_belongs() {
    one_error(
        |v| v["code"]["coding"] = json!({"system": "http://loinc.org", "code": "x"}),
        IssueType::Structure,
        "Observation.code.coding",
        "this element repeats: it must be an array",
    );
}

#[test]
fn an_array_where_a_single_object_belongs() {
    one_error(
        |v| v["component"][1]["valueQuantity"] = json!([{"value": 1}]),
        IssueType::Structure,
        "Observation.component[1].value.ofType(Quantity)",
        "valueQuantity must be a single value, not an array",
    );
}

#[test]
fn an_object_where_a_primitive_belongs() {
    one_error(
        |v| v["status"] = json!({"value": "final"}),
        IssueType::Value,
        "Observation.status",
        "a code must be a JSON string, not an object",
    );
}

#[test]
fn a_primitive_where_an_object_belongs() {
    one_error(
        |v| v["code"] = json!("glucose"),
        IssueType::Structure,
        "Observation.code",
        "a CodeableConcept must be a JSON object, not a string",
    );
}

#[test]
fn an_array_inside_an_array() {
    one_error(
        |v| v["component"] = json!([[{"code": {"text": "a"}}]]),
        IssueType::Structure,
        "Observation.component[0]",
        "a BackboneElement must be a JSON object, not an array",
    );
}

#[test]
fn null_as_a_value() {
    one_error(
        |v| v["status"] = Value::Null,
        IssueType::Structure,
        "Observation.status",
        "null is not a value",
    );
    one_error(
        |v| v["component"][0]["valueString"] = Value::Null,
        IssueType::Structure,
        "Observation.component[0].value.ofType(string)",
        "null is not a value",
    );
    one_error(
        |v| v["code"]["coding"] = json!([null]),
        IssueType::Structure,
        "Observation.code.coding[0]",
        "null in an array",
    );
}

#[test]
fn empty_objects_arrays_and_strings() {
    one_error(
        |v| v["component"][1]["valueQuantity"] = json!({}),
        IssueType::Structure,
        "Observation.component[1].value.ofType(Quantity)",
        "an element must have a value or children (empty object)",
    );
    one_error(
        |v| v["component"] = json!([]),
        IssueType::Structure,
        "Observation.component",
        "an array must not be empty",
    );
    one_error(
        |v| v["code"]["text"] = json!(""),
        IssueType::Value,
        "Observation.code.text",
        "the value is empty",
    );
}

#[test]
fn an_unknown_element() {
    one_error(
        |v| v["component"][1]["foo"] = json!(1),
        IssueType::Structure,
        "Observation.component[1].foo",
        "unknown element foo",
    );
}

#[test]
fn a_choice_with_two_values() {
    one_error(
        |v| v["component"][1]["valueString"] = json!("x"),
        IssueType::Structure,
        "Observation.component[1].value",
        "value[x] appears with more than one type (valueQuantity, valueString)",
    );
}

#[test]
fn primitive_extension_halves_that_do_not_fit() {
    one_error(
        |v| v["_status"] = json!("x"),
        IssueType::Structure,
        "Observation.status",
        "the extension part (`_`) of a primitive must be a non-empty object",
    );
    one_error(
        |v| v["code"]["_text"] = json!({}),
        IssueType::Structure,
        "Observation.code.text",
        "the extension part (`_`) of a primitive must be a non-empty object",
    );
    one_error(
        |v| v["_status"] = json!([{"id": "a"}]),
        IssueType::Structure,
        "Observation.status",
        "_status must be a single value, not an array",
    );
    one_error(
        |v| {
            v["_code"] = json!({"extension": [{"url": "http://example.org/x", "valueString": "x"}]})
        },
        IssueType::Structure,
        "Observation.code",
        "_code: only a primitive element has a `_` part, and code is a CodeableConcept",
    );
    one_error(
        |v| {
            v["code"].as_object_mut().unwrap().remove("text");
            v["code"]["_text"] = json!({"id": "t"});
        },
        IssueType::Structure,
        "Observation.code.text",
        "a primitive element must have a value or extensions",
    );
    one_error(
        |v| {
            let ext = json!({"extension": [{"url": "http://example.org/x", "valueString": "x"}]});
            let name = json!({"family": "x", "given": ["a"], "_given": [null, ext]});
            v["contained"] = json!([{"resourceType": "Patient", "id": "p", "name": [name]}]);
            v["subject"] = json!({"reference": "#p"});
        },
        IssueType::Structure,
        "Observation.contained[0].name[0].given",
        "given and _given must be arrays of the same length, not 1 and 2",
    );
}

#[test]
fn resource_types_missing_or_unknown() {
    let mut v = observation();
    v.as_object_mut().unwrap().remove("resourceType");
    let found = errors(&v);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].expression, ["resourceType"]);
    assert!(found[0].diagnostics.contains("resourceType is missing"));
    v["resourceType"] = json!("Observasion");
    let found = errors(&v);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].expression, ["Observasion.resourceType"]);
    assert!(
        found[0]
            .diagnostics
            .contains("'Observasion' is not a FHIR R4 resource type")
    );
    one_error(
        |v| {
            v["contained"] = json!([{"id": "x"}]);
            v["subject"] = json!({"reference": "#x"});
        },
        IssueType::Structure,
        "Observation.contained[0]",
        "a resource must have a resourceType",
    );
}
