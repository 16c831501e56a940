//! Contained resources against the profiles they declare: single-defect tests on the lab
//! result example, whose contained Practitioner declares JP_Practitioner, checked against the
//! base Observation (JP_Observation_LabResult_eCS slices `contained` by profile itself).

use serde_json::{Value, json};

use super::tests_support::{OBS_FILE, expect, expect_error, mutated};
use crate::fhir::{IssueSeverity, IssueType};

const JP_PRACTITIONER: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner";
const OBSERVATION: &str = "http://hl7.org/fhir/StructureDefinition/Observation";

fn medical_registration(number: &str) -> Value {
    json!({
        "identifier": {
            "system": "http://jpfhir.jp/fhir/core/mhlw/IdSystem/medicalRegistrationNumber",
            "value": number
        },
        "code": {"coding": [{
            "system": "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicalLicenseCertificate_CS",
            "code": "medical-registration"
        }]}
    })
}

#[test]
fn a_contained_resource_is_held_to_its_declared_profile() {
    // Two medical registration numbers: the base Practitioner allows any number of
    // qualifications, JP_Practitioner's slice at most one.
    let issues = mutated(OBS_FILE, OBSERVATION, |v| {
        v["contained"][1]["qualification"] = json!([
            medical_registration("123456"),
            medical_registration("654321")
        ]);
    });
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.contained[1].qualification",
        &format!("{JP_PRACTITIONER}#Practitioner.qualification:medicalRegistrationNumber"),
    );
}

#[test]
fn a_contained_resource_declaring_an_unknown_profile_is_a_warning() {
    let issues = mutated(OBS_FILE, OBSERVATION, |v| {
        v["contained"][1]["meta"]["profile"] =
            json!(["http://example.org/fhir/StructureDefinition/not-loaded"]);
    });
    if let Some(issues) = issues {
        expect(
            &issues,
            IssueSeverity::Warning,
            IssueType::NotSupported,
            "Observation.contained[1].meta.profile[0]",
            &format!("{OBSERVATION}#Observation.contained"),
        );
    }
}

#[test]
fn a_contained_resource_declaring_a_profile_of_another_type_is_an_error() {
    let patient = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
    let issues = mutated(OBS_FILE, OBSERVATION, |v| {
        v["contained"][1]["meta"]["profile"] = json!([patient]);
    });
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.contained[1]",
        &format!("{patient}#Patient"),
    );
}

#[test]
fn a_declared_version_that_is_not_loaded_falls_back_to_the_loaded_profile() {
    let issues = mutated(OBS_FILE, OBSERVATION, |v| {
        v["contained"][1]["meta"]["profile"] = json!([format!("{JP_PRACTITIONER}|9.9")]);
        v["contained"][1]["qualification"] = json!([
            medical_registration("123456"),
            medical_registration("654321")
        ]);
    });
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.contained[1].qualification",
        &format!("{JP_PRACTITIONER}#Practitioner.qualification:medicalRegistrationNumber"),
    );
}
