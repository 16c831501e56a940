//! Extension contexts: each single-defect test uses an official extension (or a copy with
//! another context) where its definition's `context` does not allow it, and asserts the error
//! at the extension with the extension's URL as the rule; uses the context allows stay clean.

use serde_json::{Value, json};

use super::tests_support::{
    OBS_FILE, PAT_FILE, ecs, expect_error, mutated, mutated_with, obs, pat, show,
};
use super::tests_synthetic::{derived, element, engine_with, synthetic};
use crate::fhir::{Issue, IssueSeverity, IssueType};

const COND_FILE: &str = "Condition-Example-JP-Condition-eCS-01.json";
const MED_FILE: &str = "MedicationRequest-Example-JP-MedReq-PO-SID-28days.json";
const INSTITUTION: &str =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
const NAME_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const PERIOD_OF_USE: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_MedicationDosage_PeriodOfUse";
const METHOD_COMMENT: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_MedicationDosage_MethodComment";
const NULL_FLAVOR: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor";

fn out_of_context(issues: Option<Vec<Issue>>, expression: &str, url: &str) {
    expect_error(issues, IssueType::Structure, expression, url);
}

/// No error names `url` as its rule.
fn in_context(issues: Option<Vec<Issue>>, url: &str) {
    if let Some(issues) = issues {
        let wrong: Vec<&Issue> = issues
            .iter()
            .filter(|i| i.severity == IssueSeverity::Error && i.source.as_deref() == Some(url))
            .collect();
        assert!(wrong.is_empty(), "{}", show(&wrong));
    }
}

fn add_extension(v: &mut Value, pointer: &str, extension: Value) {
    let holder = v.pointer_mut(pointer).unwrap();
    match holder.get_mut("extension").and_then(Value::as_array_mut) {
        Some(list) => list.push(extension),
        None => holder["extension"] = json!([extension]),
    }
}

fn institution_number() -> Value {
    json!({"url": INSTITUTION, "valueIdentifier": {
        "system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no",
        "value": "1318814790"}})
}

#[test]
fn an_institution_number_on_a_condition_code_is_out_of_its_context() {
    // Its contexts are five resource types; Condition.code is a CodeableConcept.
    let issues = mutated(COND_FILE, &ecs("JP_Condition_eCS"), |v| {
        add_extension(v, "/code", institution_number());
    });
    out_of_context(issues, "Condition.code.extension[0]", INSTITUTION);
}

#[test]
fn an_institution_number_on_a_primitive_is_out_of_its_context() {
    // On `_birthDate` the holder is Patient.birthDate, a date, not the Patient.
    let issues = mutated(PAT_FILE, &pat(), |v| {
        v["_birthDate"] = json!({"extension": [institution_number()]});
    });
    out_of_context(issues, "Patient.birthDate.extension[0]", INSTITUTION);
}

#[test]
fn an_element_context_allows_a_primitive() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        v["_birthDate"] = json!({"extension": [{"url": NULL_FLAVOR, "valueCode": "UNK"}]});
    });
    in_context(issues, NULL_FLAVOR);
}

#[test]
fn a_name_representation_on_an_address_is_out_of_its_context() {
    // Context `HumanName`: allowed on Patient.name (a HumanName), not on Patient.address.
    let issues = mutated(PAT_FILE, &pat(), |v| {
        let representation = v["name"][0]["extension"][0].clone();
        add_extension(v, "/address/0", representation);
    });
    out_of_context(
        issues,
        "Patient.address[0].extension[0]",
        NAME_REPRESENTATION,
    );
}

#[test]
fn a_dosage_extension_on_the_request_itself_is_out_of_its_context() {
    let issues = mutated(MED_FILE, &ecs("JP_MedicationRequest_eCS"), |v| {
        let period = v["dosageInstruction"][0]["extension"][0].clone();
        assert_eq!(period["url"], PERIOD_OF_USE);
        add_extension(v, "", period);
    });
    // After the example's own extension (its institution number).
    out_of_context(issues, "MedicationRequest.extension[1]", PERIOD_OF_USE);
}

#[test]
fn a_path_context_rooted_in_a_datatype_allows_that_element_only() {
    // Context `Dosage.method`: MedicationRequest.dosageInstruction is a Dosage.
    let comment = json!({"url": METHOD_COMMENT, "valueString": "食後に"});
    let profile = ecs("JP_MedicationRequest_eCS");
    let on_method = mutated(MED_FILE, &profile, |v| {
        add_extension(v, "/dosageInstruction/0/method", comment.clone());
    });
    in_context(on_method, METHOD_COMMENT);
    let on_route = mutated(MED_FILE, &profile, |v| {
        add_extension(v, "/dosageInstruction/0/route", comment.clone());
    });
    out_of_context(
        on_route,
        "MedicationRequest.dosageInstruction[0].route.extension[0]",
        METHOD_COMMENT,
    );
}

#[test]
fn an_observation_extension_in_a_contained_resource_is_held_to_that_resource() {
    // The lab result's contained Encounter is the holder, not the Observation around it.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        add_extension(v, "/contained/0", institution_number());
    });
    out_of_context(issues, "Observation.contained[0].extension[0]", INSTITUTION);
}

/// A complex extension `Host` (allowed on Patient) and a simple one `Part` whose context is
/// `extension` (inside `Host`) or, for `fhirpath`, an expression nothing here evaluates.
fn nested_engine(part_context: Value) -> Option<super::Engine> {
    let host = derived(METHOD_COMMENT, "Host", |sd| {
        sd["context"] = json!([{"type": "element", "expression": "Patient"}]);
        element(sd, "Extension.extension")["max"] = json!("*");
        element(sd, "Extension.value[x]")["max"] = json!("0");
    });
    let part = derived(METHOD_COMMENT, "Part", |sd| {
        sd["context"] = json!([part_context]);
    });
    engine_with(&[host, part])
}

#[test]
fn an_extension_context_allows_the_extension_inside_its_host_only() {
    let Some(engine) = nested_engine(json!({"type": "extension", "expression": synthetic("Host")}))
    else {
        return;
    };
    let part = json!({"url": synthetic("Part"), "valueString": "x"});
    let inside = mutated_with(&engine, PAT_FILE, &pat(), |v| {
        add_extension(
            v,
            "",
            json!({"url": synthetic("Host"), "extension": [part.clone()]}),
        );
    });
    in_context(inside, &synthetic("Part"));
    let alone = mutated_with(&engine, PAT_FILE, &pat(), |v| {
        add_extension(v, "", part.clone());
    });
    out_of_context(alone, "Patient.extension[0]", &synthetic("Part"));
}

#[test]
fn a_fhirpath_context_is_not_checked() {
    let Some(engine) = nested_engine(json!({"type": "fhirpath", "expression": "Observation"}))
    else {
        return;
    };
    let issues = mutated_with(&engine, PAT_FILE, &pat(), |v| {
        add_extension(v, "", json!({"url": synthetic("Part"), "valueString": "x"}));
    });
    in_context(issues, &synthetic("Part"));
}
