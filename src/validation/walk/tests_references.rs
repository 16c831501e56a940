//! Reference target types: the type a literal reference names and `Reference.type`, checked
//! against the element's `targetProfile`s whether or not the target is in the instance.

use serde_json::{Value, json};

use super::tests_support::{OBS_FILE, engine, errors, mutated, obs, show, validate};
use crate::fhir::{Issue, IssueSeverity, IssueType};

const BASE_OBS: &str = "http://hl7.org/fhir/StructureDefinition/Observation";

/// A minimal valid core Observation with `subject` set to `subject`.
fn core_obs(subject: Value) -> Option<Vec<Issue>> {
    let engine = engine()?;
    let mut v = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"}
    });
    let before = validate(engine, &v, BASE_OBS);
    assert!(errors(&before).is_empty(), "{}", show(&errors(&before)));
    v["subject"] = subject;
    Some(validate(engine, &v, BASE_OBS))
}

/// The one error at `at`, whose text must hold each of `words`.
fn one_error_at(issues: Option<Vec<Issue>>, at: &str, words: &[&str]) {
    let Some(issues) = issues else { return };
    let errs = errors(&issues);
    assert_eq!(errs.len(), 1, "{}", show(&errs));
    assert_eq!(errs[0].expression, [at], "{}", show(&errs));
    assert_eq!(errs[0].code, IssueType::Structure);
    for w in words {
        assert!(errs[0].diagnostics.contains(w), "{w}: {}", show(&errs));
    }
}

fn no_error(issues: Option<Vec<Issue>>) {
    if let Some(issues) = issues {
        assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    }
}

#[test]
fn a_literal_reference_to_a_type_the_element_does_not_allow_is_an_error() {
    one_error_at(
        core_obs(json!({"reference": "Practitioner/123"})),
        "Observation.subject.reference",
        &[
            "Observation.subject",
            "Practitioner",
            "Patient, Group, Device, Location",
        ],
    );
}

#[test]
fn allowed_literal_types_pass_as_relative_absolute_versioned_or_conditional() {
    for r in [
        "Patient/123",
        "Group/g1",
        "http://example.org/fhir/Patient/1",
        "http://example.org/fhir/Location/1/_history/2",
        "Patient?identifier=http://example.org|1",
    ] {
        no_error(core_obs(json!({ "reference": r })));
    }
}

#[test]
fn an_absolute_url_is_judged_by_the_type_it_ends_with() {
    one_error_at(
        core_obs(json!({"reference": "http://example.org/fhir/Practitioner/1"})),
        "Observation.subject.reference",
        &["Practitioner"],
    );
    one_error_at(
        core_obs(json!({"reference": "Medication/m1/_history/3"})),
        "Observation.subject.reference",
        &["Medication"],
    );
}

#[test]
fn urn_uuid_local_and_unparsed_references_name_no_type() {
    for r in [
        "urn:uuid:9d2b4c55-1b4a-4b7e-9f0a-6c1d2e3f4a5b",
        "urn:oid:1.2.3",
        "http://example.org/some/canonical",
    ] {
        no_error(core_obs(json!({ "reference": r })));
    }
}

#[test]
fn a_declared_type_must_agree_with_the_literal_reference() {
    one_error_at(
        core_obs(json!({"reference": "Patient/1", "type": "Group"})),
        "Observation.subject.type",
        &["Group", "Patient"],
    );
    no_error(core_obs(
        json!({"reference": "Patient/1", "type": "http://hl7.org/fhir/StructureDefinition/Patient"}),
    ));
}

#[test]
fn a_logical_reference_is_checked_by_its_declared_type_only() {
    let identifier = json!({"system": "http://example.org/mrn", "value": "1"});
    one_error_at(
        core_obs(json!({"identifier": identifier, "type": "Practitioner"})),
        "Observation.subject.type",
        &["Practitioner", "Patient, Group, Device, Location"],
    );
    no_error(core_obs(
        json!({"identifier": identifier, "type": "Patient"}),
    ));
    no_error(core_obs(json!({ "identifier": identifier })));
}

#[test]
fn a_declared_type_that_is_no_resource_type_is_a_warning() {
    // Extensible binding; the checkup IG's samples write `specimen`.
    let Some(issues) = core_obs(json!({"reference": "Patient/1", "type": "Patientx"})) else {
        return;
    };
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    assert!(
        issues.iter().any(|i| i.severity == IssueSeverity::Warning
            && i.code == IssueType::CodeInvalid
            && i.expression == ["Observation.subject.type"]),
        "{}",
        show(&issues.iter().collect::<Vec<_>>())
    );
}

#[test]
fn a_jp_target_profile_restricts_the_literal_type_by_its_base_type() {
    // JP_Observation_LabResult_eCS.subject targets JP_Patient only: a Group is refused here
    // though the core Observation allows it.
    one_error_at(
        mutated(OBS_FILE, &obs(), |v| {
            v["subject"] = json!({"reference": "Group/1"});
        }),
        "Observation.subject.reference",
        &["Group", "must be one of Patient"],
    );
    no_error(mutated(OBS_FILE, &obs(), |v| {
        v["subject"] = json!({"reference": "Patient/1"});
    }));
}
