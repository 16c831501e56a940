//! The document rules and plans, on the official referral example and constructed documents.

use serde_json::{Value, json};

use super::InstitutionNumber;
use super::apply::compare_versions;
use super::rules::{VERSION_EXTENSION, plan};
use crate::clins::kinds::Kind;
use crate::clins::systems::{
    BUNDLE_IDENTIFIER, INSTITUTION_SYSTEM, INSURANCE_MEMBER_ID, RESOURCE_IDENTIFIER,
};

const REFERRAL: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral";
const DISCHARGE: &str =
    "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary";
const CHECKUP: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral";
const SECTIONS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
const CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";

fn official_referral() -> Option<Value> {
    let path =
        crate::test_data::path("examples/clins/Bundle-Bundle-CLINS-Referral-Example-01.json");
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn section(code: &str, refs: &[&str]) -> Value {
    json!({
        "code": {"coding": [{"system": SECTIONS, "code": code}]},
        "entry": refs.iter().map(|r| json!({"reference": r})).collect::<Vec<_>>()
    })
}

/// A minimal document of `profile` with Composition type `doc_type`, its sections, and more
/// entries after the Composition and Patient (`urn:uuid:pat`).
fn document(
    profile: &str,
    doc_type: &str,
    sections: Vec<Value>,
    more: Vec<(&str, Value)>,
) -> Value {
    let mut entries = vec![
        json!({"fullUrl": "urn:uuid:comp", "resource": {
            "resourceType": "Composition",
            "extension": [{"url": VERSION_EXTENSION, "valueString": "1"}],
            "identifier": {"system": RESOURCE_IDENTIFIER, "value": "1318814790^2024^doc-1"},
            "status": "final",
            "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": doc_type}]},
            "subject": {"reference": "urn:uuid:pat"},
            "date": "2024-05-01T10:00:00+09:00",
            "title": "t",
            "author": [{"reference": "urn:uuid:from"}],
            "section": sections
        }}),
        json!({"fullUrl": "urn:uuid:pat", "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": INSURANCE_MEMBER_ID, "value": "00012345:a:1:01"}]
        }}),
    ];
    for (url, r) in more {
        entries.push(json!({"fullUrl": url, "resource": r}));
    }
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": [profile]},
        "type": "document",
        "identifier": {"system": BUNDLE_IDENTIFIER, "value": "1318814790^2024^doc-1"},
        "timestamp": "2024-05-01T10:00:00+09:00",
        "entry": entries
    })
}

fn addressee(number: &str) -> Value {
    json!({"resourceType": "Organization", "identifier": [
        {"system": INSTITUTION_SYSTEM, "value": number}]})
}

fn condition(id: &str) -> Value {
    json!({"resourceType": "Condition", "subject": {"reference": "urn:uuid:pat"},
        "identifier": [{"system": RESOURCE_IDENTIFIER, "value": id}], "code": {"text": id}})
}

fn referral(extra: Vec<(&str, Value)>, extra_sections: Vec<Value>) -> Value {
    let mut sections = vec![
        section("910", &["urn:uuid:to"]),
        section("300", &["urn:uuid:c1"]),
    ];
    sections.extend(extra_sections);
    let mut more = vec![
        ("urn:uuid:to", addressee("1311234567")),
        ("urn:uuid:c1", condition("c1")),
    ];
    more.extend(extra);
    document(REFERRAL, "57133-1", sections, more)
}

fn expressions(bundle: &Value) -> Vec<String> {
    plan(bundle)
        .unwrap_err()
        .iter()
        .map(|i| i.expression.first().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn the_official_referral_names_its_addressee_and_extracts_its_clinical_entries() {
    let Some(bundle) = official_referral() else {
        crate::test_data::missing("a readable official referral");
    };
    let p = plan(&bundle).unwrap();
    assert_eq!(p.kind, Kind::Referral);
    assert_eq!(p.recipient.as_deref(), Some("1311234567"));
    assert_eq!(p.document_identifier, "1311234567-2021-12345678");
    assert_eq!(p.version, "1.0");
    assert_eq!(p.institution, "1318814790");
    // 5 Conditions and 3 AllergyIntolerances; the physical-finding Observation is no lab result.
    let types: Vec<&str> = p.members.iter().map(|m| m.res_type.as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "Condition").count(), 5);
    assert_eq!(
        types.iter().filter(|t| **t == "AllergyIntolerance").count(),
        3
    );
    assert_eq!(p.members.len(), 8);
    assert!(p.index_values.iter().any(|(n, _)| *n == "recipient"));
}

#[test]
fn a_referral_without_section_910_is_refused_naming_the_section() {
    let mut bundle = referral(vec![], vec![]);
    bundle["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    assert_eq!(expressions(&bundle), ["Bundle.entry[0].resource.section"]);
    let issues = plan(&bundle).unwrap_err();
    assert!(issues[0].diagnostics.contains("910"), "{issues:?}");
    assert_eq!(issues[0].source.as_deref(), Some(REFERRAL));
}

#[test]
fn the_addressee_needs_one_valid_institution_number() {
    let mut bundle = referral(vec![], vec![]);
    bundle["entry"][2]["resource"] = addressee("13112345");
    assert_eq!(
        expressions(&bundle),
        ["Bundle.entry[2].resource.identifier[0].value"]
    );
    bundle["entry"][2]["resource"] = json!({"resourceType": "Organization"});
    assert_eq!(
        expressions(&bundle),
        ["Bundle.entry[2].resource.identifier"]
    );
    bundle["entry"][2]["resource"] = json!({"resourceType": "Practitioner"});
    assert_eq!(
        expressions(&bundle),
        ["Bundle.entry[0].resource.section[0].entry"]
    );
}

#[test]
fn a_referral_takes_exactly_one_of_cda_or_structured_content() {
    let both = referral(vec![], vec![section("200", &[])]);
    assert_eq!(expressions(&both), ["Bundle.entry[0].resource.section"]);
    let mut neither = referral(vec![], vec![]);
    neither["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    assert_eq!(expressions(&neither), ["Bundle.entry[0].resource.section"]);
}

#[test]
fn a_standalone_discharge_summary_is_refused_with_an_explanation() {
    let bundle = document(DISCHARGE, "18842-5", vec![], vec![]);
    let issues = plan(&bundle).unwrap_err();
    assert_eq!(issues[0].expression, ["Bundle.meta.profile"]);
    assert!(issues[0].diagnostics.contains("attached to a referral"));
    assert!(issues[0].diagnostics.contains("210"));
}

fn discharge(patient_member: &str) -> Value {
    let mut d = document(
        DISCHARGE,
        "18842-5",
        vec![],
        vec![
            ("urn:uuid:d-c", condition("c1")),
            (
                "urn:uuid:d-m",
                json!({"resourceType": "MedicationRequest",
                "subject": {"reference": "urn:uuid:pat"},
                "identifier": [{"system": RESOURCE_IDENTIFIER, "value": "rx1"}]}),
            ),
            (
                "urn:uuid:d-o",
                json!({"resourceType": "Observation",
                "subject": {"reference": "urn:uuid:pat"},
                "code": {"coding": [{"system": CORE, "code": "ALB"}]}}),
            ),
            (
                "urn:uuid:d-x",
                json!({"resourceType": "Observation",
                "subject": {"reference": "urn:uuid:pat"}, "code": {"text": "腹部所見"}}),
            ),
        ],
    );
    d["entry"][1]["resource"]["identifier"][0]["value"] = json!(patient_member);
    d["entry"][0]["resource"]["identifier"]["value"] = json!("1318814790^2024^dis-1");
    d
}

#[test]
fn an_attached_discharge_summary_is_extracted_with_its_referral() {
    let bundle = referral(
        vec![("urn:uuid:dis", discharge("00012345:a:1:01"))],
        vec![section("210", &["urn:uuid:dis"])],
    );
    let p = plan(&bundle).unwrap();
    let types: Vec<&str> = p.members.iter().map(|m| m.res_type.as_str()).collect();
    assert_eq!(
        types,
        ["Condition", "Condition", "MedicationRequest", "Observation"]
    );
    // The same condition in referral and summary: two copies, told apart by order.
    assert_eq!(p.members[0].member_identifier.as_deref(), Some("c1"));
    assert_eq!(p.members[1].member_identifier.as_deref(), Some("c1\u{1f}2"));
    assert_eq!(p.members[2].retention_class.as_str(), "prescription");
    assert_eq!(p.members[3].retention_class.as_str(), "lab");
    assert_eq!(p.patient_full_urls.len(), 2);
}

#[test]
fn an_attached_discharge_summary_must_be_referenced_and_about_the_same_patient() {
    let unreferenced = referral(vec![("urn:uuid:dis", discharge("00012345:a:1:01"))], vec![]);
    assert_eq!(expressions(&unreferenced), ["Bundle.entry[4]"]);
    let other = referral(
        vec![("urn:uuid:dis", discharge("00012345:b:2:01"))],
        vec![section("210", &["urn:uuid:dis"])],
    );
    assert_eq!(
        expressions(&other),
        ["Bundle.entry[4].resource.entry[0].resource.subject"]
    );
}

#[test]
fn common_document_rules_name_the_element() {
    let mut bundle = referral(vec![], vec![]);
    let c = &mut bundle["entry"][0]["resource"];
    c["status"] = json!("entered-in-error");
    c["extension"] = json!([]);
    c["identifier"] = json!({"value": "x"});
    c["type"]["coding"][0]["code"] = json!("53576-5");
    bundle["type"] = json!("collection");
    let mut found = expressions(&bundle);
    found.sort();
    assert_eq!(
        found,
        [
            "Bundle.entry[0].resource.extension",
            "Bundle.entry[0].resource.identifier",
            "Bundle.entry[0].resource.status",
            "Bundle.entry[0].resource.type",
            "Bundle.type",
        ]
    );
}

#[test]
fn extracted_entries_follow_the_flag_rules_and_the_patient() {
    let mut rx =
        json!({"resourceType": "MedicationRequest", "subject": {"reference": "urn:uuid:other"}});
    let bundle = referral(vec![("urn:uuid:rx", rx.clone())], vec![]);
    assert_eq!(expressions(&bundle), ["Bundle.entry[4].resource.subject"]);
    rx["subject"]["reference"] = json!("urn:uuid:pat");
    rx["meta"] = json!({"tag": [{"system": crate::clins::systems::FLAG_SYSTEM, "code": "LTS"}]});
    let bundle = referral(vec![("urn:uuid:rx", rx)], vec![]);
    assert_eq!(
        expressions(&bundle),
        ["Bundle.entry[4].resource.meta.tag[0]"]
    );
}

#[test]
fn a_checkup_report_is_planned_without_extraction() {
    let bundle = document(
        CHECKUP,
        "53576-5",
        vec![],
        vec![("urn:uuid:c1", condition("c1"))],
    );
    let p = plan(&bundle).unwrap();
    assert_eq!(p.kind, Kind::Checkup);
    assert!(p.members.is_empty());
    assert!(p.recipient.is_none());
    let both = document(
        CHECKUP,
        "53576-5",
        vec![section("01995", &[]), section("01920", &[])],
        vec![],
    );
    assert_eq!(expressions(&both), ["Bundle.entry[0].resource.section[1]"]);
}

#[test]
fn versions_compare_by_number() {
    use std::cmp::Ordering::*;
    assert_eq!(compare_versions("1.10", "1.9"), Greater);
    assert_eq!(compare_versions("2", "2.0"), Less);
    assert_eq!(compare_versions("1.0", "1.0"), Equal);
    assert_eq!(compare_versions("b", "a"), Greater);
}

#[test]
fn institution_numbers_are_checked_where_they_enter() {
    assert!(InstitutionNumber::parse("1311234567").is_ok());
    assert!(InstitutionNumber::parse("131123456").is_err());
    assert!(InstitutionNumber::parse("13112345６7").is_err());
}
