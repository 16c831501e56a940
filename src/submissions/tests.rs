//! The service rules and the plan of a report unit, on constructed Bundles.

use serde_json::{Value, json};

use super::unit_plan::plan;
use crate::clins::classes::retention_class;
use crate::clins::systems::{
    BUNDLE_IDENTIFIER, INSURANCE_MEMBER_ID, PUBLIC_PAYER_ID, RESOURCE_IDENTIFIER, RESOURCE_TYPE_TAG,
};

const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
const P: &str = "urn:uuid:p";

fn unit(tag: &str, resources: Vec<Value>) -> Value {
    let mut entries = vec![json!({"fullUrl": P, "resource": {
        "resourceType": "Patient",
        "identifier": [{"system": INSURANCE_MEMBER_ID, "value": "00012345:a:1:01"}]
    }})];
    for (i, r) in resources.into_iter().enumerate() {
        entries.push(json!({"fullUrl": format!("urn:uuid:{i}"), "resource": r}));
    }
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": BUNDLE_IDENTIFIER, "value": "1318814790^2024^abc"},
        "meta": {"tag": [{"system": RESOURCE_TYPE_TAG, "code": tag}]},
        "entry": entries
    })
}

fn flag(code: &str) -> Value {
    json!({"tag": [{"system": FLAGS, "code": code}]})
}

fn obs(system: &str) -> Value {
    json!({"resourceType": "Observation", "subject": {"reference": P},
        "code": {"coding": [{"system": system, "code": "x"}]}})
}

const CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
const INFECTION: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS";

fn expressions(bundle: &Value) -> Vec<String> {
    plan(bundle)
        .unwrap_err()
        .iter()
        .map(|i| i.expression.first().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn resources_are_classified_for_retention() {
    let drug = json!({"resourceType": "AllergyIntolerance", "category": ["medication"]});
    let food = json!({"resourceType": "AllergyIntolerance", "category": ["food"]});
    let mut lts = json!({"resourceType": "Condition"});
    lts["meta"] = flag("LTS");
    let cases = [
        ("Observation", obs(CORE), "lab"),
        ("Observation", obs(INFECTION), "infection"),
        ("AllergyIntolerance", drug, "allergy-drug"),
        ("AllergyIntolerance", food, "allergy-other"),
        (
            "Condition",
            json!({"resourceType": "Condition"}),
            "condition",
        ),
        ("Condition", lts, "long-term"),
    ];
    for (t, r, class) in cases {
        assert_eq!(retention_class(t, &r).as_str(), class, "{r}");
    }
}

#[test]
fn a_valid_unit_plans_its_members_and_key() {
    let mut o = obs(CORE);
    o["identifier"] = json!([{"system": RESOURCE_IDENTIFIER, "value": "r1"}]);
    let p = plan(&unit("Observation", vec![o.clone(), o])).unwrap();
    assert_eq!(p.institution, "1318814790");
    assert_eq!(
        p.patient_identifier,
        format!("{INSURANCE_MEMBER_ID}|00012345:a:1:01")
    );
    assert_eq!(p.members.len(), 2);
    // A repeated identifier is told apart by order, with a warning.
    assert_eq!(p.members[0].member_identifier.as_deref(), Some("r1"));
    assert_eq!(p.members[1].member_identifier.as_deref(), Some("r1\u{1f}2"));
    assert_eq!(p.warnings.len(), 1);
    assert!(p.unit_key().ends_with("1318814790^2024^abc"));
}

#[test]
fn flags_are_refused_where_design_does_not_allow_them() {
    let mut lab = obs(CORE);
    lab["meta"] = flag("LTS");
    let mut infection = obs(INFECTION);
    infection["meta"] = flag("LTS");
    assert_eq!(
        expressions(&unit("Observation", vec![infection, lab])),
        ["Bundle.entry[2].resource.meta.tag[0]"]
    );
    let mut uninformed_obs = obs(INFECTION);
    uninformed_obs["meta"] = flag("UNINFORMED");
    assert_eq!(
        expressions(&unit("Observation", vec![uninformed_obs])),
        ["Bundle.entry[1].resource.meta.tag[0]"]
    );
    let mut cond = json!({"resourceType": "Condition", "subject": {"reference": P}});
    cond["meta"] = flag("UNDELIVERED");
    assert!(plan(&unit("Condition", vec![cond.clone()])).is_ok());
    cond["meta"] = flag("SECRET");
    assert_eq!(
        expressions(&unit("Condition", vec![cond])),
        ["Bundle.entry[1].resource.meta.tag[0]"]
    );
}

#[test]
fn the_patient_is_identified_by_exactly_one_member_identifier() {
    let mut none = unit("Observation", vec![obs(CORE)]);
    none["entry"][0]["resource"]["identifier"] = json!([]);
    assert_eq!(expressions(&none), ["Bundle.entry[0].resource.identifier"]);
    let mut two = unit("Observation", vec![obs(CORE)]);
    two["entry"][0]["resource"]["identifier"]
        .as_array_mut()
        .unwrap()
        .push(json!({"system": PUBLIC_PAYER_ID, "value": "12345678::1234567:"}));
    assert_eq!(expressions(&two), ["Bundle.entry[0].resource.identifier"]);
}

#[test]
fn structure_rules_name_the_element() {
    let mut not_collection = unit("Observation", vec![obs(CORE)]);
    not_collection["type"] = json!("document");
    assert_eq!(expressions(&not_collection), ["Bundle.type"]);
    let mut untagged = unit("Observation", vec![obs(CORE)]);
    untagged["meta"] = json!({});
    assert_eq!(expressions(&untagged), ["Bundle.meta.tag"]);
    let mut elsewhere = obs(CORE);
    elsewhere["subject"] = json!({"reference": "Patient/someone-else"});
    assert_eq!(
        expressions(&unit("Observation", vec![elsewhere])),
        ["Bundle.entry[1].resource.subject"]
    );
    assert_eq!(expressions(&unit("Observation", vec![])), ["Bundle.entry"]);
    // Other types are discarded with a warning, not refused.
    let p = plan(&unit(
        "Observation",
        vec![obs(CORE), json!({"resourceType": "Encounter"})],
    ))
    .unwrap();
    assert_eq!(p.members.len(), 1);
    assert_eq!(
        p.warnings[0].expression.first().map(String::as_str),
        Some("Bundle.entry[2].resource")
    );
}
