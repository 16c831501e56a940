//! More single-defect tests: JP-CLINS invariants, slicing, bindings (with the real value-set
//! engine), base invariants, cardinality and types; each mutates one official example once and
//! asserts the exact issue (severity, code, FHIRPath location, rule source).

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use super::Engine;
use super::tests_support::{
    BUNDLE_FILE, OBS_FILE, PAT_FILE, bundle, ecs, errors, expect, expect_error, mutated,
    mutated_with, obs, packages, pat, remove, set, show,
};
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::model::BaseModel;
use crate::validation::valuesets::ValueSetEngine;

const BASE: &str = "http://hl7.org/fhir/StructureDefinition/";
pub(crate) const COND_FILE: &str = "Condition-Example-JP-Condition-eCS-01.json";
pub(crate) const ALG_FILE: &str = "AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json";
pub(crate) const MED_FILE: &str = "MedicationRequest-Example-JP-MedReq-PO-SID-28days.json";

fn cond() -> String {
    ecs("JP_Condition_eCS")
}

fn alg() -> String {
    ecs("JP_AllergyIntolerance_eCS")
}

fn med() -> String {
    ecs("JP_MedicationRequest_eCS")
}

fn dosage() -> String {
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_MedicationDosage_eCS".to_string()
}

/// The engine over the official packages with the real value-set engine as its binding check.
pub(crate) fn vs_engine() -> Option<&'static Engine> {
    // Before the cache: each test that skips prints its own line, not only the first.
    super::tests_support::data("")?;
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let set = packages()?;
            let model = BaseModel::load_embedded().unwrap();
            let check = Arc::new(ValueSetEngine::new(set.clone()));
            Some(Engine::new(set, model, check))
        })
        .as_ref()
}

pub(crate) fn mutated_vs(
    file: &str,
    profile: &str,
    mutate: impl FnOnce(&mut Value),
) -> Option<Vec<Issue>> {
    mutated_with(vs_engine()?, file, profile, mutate)
}

/// A warning is expected and no error at all.
fn expect_warning_only(
    issues: Option<Vec<Issue>>,
    code: IssueType,
    expression: &str,
    source: &str,
) {
    if let Some(issues) = issues {
        assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
        expect(&issues, IssueSeverity::Warning, code, expression, source);
    }
}

pub(crate) fn invariant(issues: Option<Vec<Issue>>, expression: &str, profile: &str, key: &str) {
    expect_error(
        issues,
        IssueType::Invariant,
        expression,
        &format!("{profile}#{key}"),
    );
}

fn push(v: &mut Value, item: Value) {
    v.as_array_mut().unwrap().push(item);
}

// --- JP_Patient_eCS invariants ---

#[test]
fn patient_local_id_system_of_the_wrong_kind_breaks_valid_system_local_patient_id() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        set(
            v,
            "/identifier/0/system",
            json!("urn:oid:1.2.392.100495.20.3.51.21318814790"),
        );
    });
    invariant(issues, "Patient", &pat(), "valid-system-local-patientID");
}

#[test]
fn patient_local_id_system_with_a_short_institution_number_breaks_valid_system_local_patient_id() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        set(
            v,
            "/identifier/0/system",
            json!("urn:oid:1.2.392.100495.20.3.51.1131881479"),
        );
    });
    invariant(issues, "Patient", &pat(), "valid-system-local-patientID");
}

#[test]
fn patient_without_an_insurance_member_id_breaks_valid_system_insurance_patient_identifier() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        v["identifier"].as_array_mut().unwrap().remove(1);
    });
    invariant(
        issues,
        "Patient",
        &pat(),
        "valid-system-insurance-patientIdentifier",
    );
}

#[test]
fn patient_with_two_insurance_member_ids_breaks_valid_system_insurance_patient_identifier() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        let second = v["identifier"][1].clone();
        push(&mut v["identifier"], second);
    });
    invariant(
        issues,
        "Patient",
        &pat(),
        "valid-system-insurance-patientIdentifier",
    );
}

#[test]
fn patient_insurance_member_id_in_the_wrong_format_breaks_valid_value_insurance_patient_identifier()
{
    let issues = mutated(PAT_FILE, &pat(), |v| {
        set(v, "/identifier/1/value", json!("12345:あいう:１８７:05"));
    });
    invariant(
        issues,
        "Patient",
        &pat(),
        "valid-value-insurance-patientIdentifier",
    );
}

#[test]
fn patient_active_as_a_string_is_a_type_error() {
    let issues = mutated(PAT_FILE, &pat(), |v| v["active"] = json!("true"));
    let src = format!("{}#Patient.active", pat());
    expect_error(issues, IssueType::Value, "Patient.active", &src);
}

#[test]
fn patient_gender_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(PAT_FILE, &pat(), |v| v["gender"] = json!("woman"));
    let src = format!("{}#Patient.gender", pat());
    expect_error(issues, IssueType::CodeInvalid, "Patient.gender", &src);
}

#[test]
fn patient_name_use_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(PAT_FILE, &pat(), |v| v["name"][0]["use"] = json!("legal"));
    let src = format!("{}#Patient.name.use", pat());
    expect_error(issues, IssueType::CodeInvalid, "Patient.name[0].use", &src);
}

// --- JP_Bundle_CLINS invariants ---

#[test]
fn bundle_without_a_resource_type_tag_breaks_bundle_meta_tag_resource_type_exists() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| remove(&mut v["meta"], "tag"));
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "bundle-meta-tag-resourceType-exists",
    );
}

#[test]
fn bundle_with_an_unknown_resource_type_tag_breaks_bundle_meta_tag_resource_type_valid() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(v, "/meta/tag/0/code", json!("Procedure"));
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "bundle-meta-tag-resourceType-valid",
    );
}

#[test]
fn bundle_tagged_condition_without_conditions_breaks_must_have_one_more_resources() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(v, "/meta/tag/0/code", json!("Condition"));
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "mustHaveOneMoreResources-with-designatedResourceType",
    );
}

#[test]
fn bundle_with_another_profile_in_meta_breaks_bundle_profile_is_jp_bundle_clins() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/meta/profile/0",
            json!("http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_Other|1"),
        );
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "bundle-profile-is-JP-Bundle-CLINS",
    );
}

#[test]
fn bundle_identifier_with_another_system_breaks_valid_system_bundle_identifier() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(v, "/identifier/system", json!("http://example.org/bundles"));
    });
    invariant(issues, "Bundle", &bundle(), "valid-system-bundleIdenfifier");
}

#[test]
fn bundle_identifier_with_a_year_out_of_range_breaks_valid_value_bundle_identifier() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/identifier/value",
            json!("1318814790^2019^0123-IDa-203949583949"),
        );
    });
    invariant(issues, "Bundle", &bundle(), "valid-value-bundleIdenfifier");
}

#[test]
fn bundle_entry_with_a_bad_institution_number_breaks_all_entries_needs_valid_institution_number() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/entry/1/resource/extension/0/valueIdentifier/value",
            json!("9318814790"),
        );
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "all-entries-needs-valid-institutionNumber",
    );
}

#[test]
fn bundle_entry_without_institution_number_breaks_all_entries_needs_extension() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        v["entry"][2]["resource"]["extension"]
            .as_array_mut()
            .unwrap()
            .remove(0);
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "all-entries-needs-extension-of-institutionNumber",
    );
}

#[test]
fn bundle_observation_without_department_breaks_observation_needs_extension_of_department() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        v["entry"][1]["resource"]["extension"]
            .as_array_mut()
            .unwrap()
            .remove(1);
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "observation-needs-extension-of-Department",
    );
}

#[test]
fn bundle_observation_whose_encounter_lacks_jp_encounter_breaks_observation_needs_contained() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/entry/1/resource/contained/0/meta/profile/0",
            json!("http://hl7.org/fhir/StructureDefinition/Encounter"),
        );
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "observation-needs-contained-of-Encounter",
    );
}

#[test]
fn bundle_starting_with_an_observation_breaks_first_bundle_entry_is_patient() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        v["entry"].as_array_mut().unwrap().swap(0, 1);
    });
    invariant(issues, "Bundle", &bundle(), "first-bundle-entry-is-Patient");
}

#[test]
fn bundle_patient_with_the_core_profile_breaks_patients_profile_is_jp_patient_ecs() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/entry/0/resource/meta/profile/0",
            json!("http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"),
        );
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "patients-profile-is-JP-Patient-eCS",
    );
}

#[test]
fn bundle_observation_with_a_versioned_profile_breaks_valid_entry_profile_observation() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        set(
            v,
            "/entry/1/resource/meta/profile/0",
            json!("http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS|1"),
        );
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "validEntryProfile-ObservationLabResult",
    );
}

#[test]
fn bundle_of_another_type_breaks_the_fixed_type() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| v["type"] = json!("document"));
    let src = format!("{}#Bundle.type", bundle());
    expect_error(issues, IssueType::Value, "Bundle.type", &src);
}

#[test]
fn bundle_with_duplicate_full_urls_breaks_bdl_7() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        let first = v["entry"][1]["fullUrl"].clone();
        v["entry"][2]["fullUrl"] = first;
    });
    invariant(issues, "Bundle", &bundle(), "bdl-7");
}

#[test]
fn bundle_collection_with_a_total_breaks_bdl_1() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| v["total"] = json!(5));
    invariant(issues, "Bundle", &bundle(), "bdl-1");
}

// --- JP_Observation_LabResult_eCS ---

#[test]
fn lab_observation_whose_jlac_code_belongs_to_another_item_breaks_the_item_value_set() {
    // The potassium result coded with the albumin item's JLAC10 code: a real code of the CLINS
    // code system, but not in the K item's value set.
    let issues = mutated_vs(OBS_FILE, &obs(), |v| {
        v["code"]["coding"][1]["code"] = json!("3A015000002329101");
    });
    let src = format!("{}#Observation.code.coding:coreLaboJLAC10/k.code", obs());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "Observation.code.coding[1].code",
        &src,
    );
}

#[test]
fn observation_status_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(OBS_FILE, &obs(), |v| v["status"] = json!("finalized"));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::CodeInvalid, "Observation.status", &src);
}

#[test]
fn a_code_missing_from_a_complete_package_code_system_is_an_error() {
    let issues = mutated_vs(OBS_FILE, &obs(), |v| {
        v["interpretation"] = json!([{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
            "code": "ZZZ"
        }]}]);
    });
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "Observation.interpretation[0].coding[0].code",
        "http://hl7.org/fhir/StructureDefinition/CodeableConcept#CodeableConcept.coding",
    );
}

#[test]
fn observation_interpretation_outside_its_extensible_value_set_is_a_warning() {
    // A code of a system the packages do not define: only the binding speaks.
    let issues = mutated_vs(OBS_FILE, &obs(), |v| {
        v["interpretation"] = json!([{"coding": [{
            "system": "http://example.org/local-interpretation",
            "code": "ZZZ"
        }]}]);
    });
    let src = format!("{}#Observation.interpretation", obs());
    expect_warning_only(
        issues,
        IssueType::CodeInvalid,
        "Observation.interpretation[0].coding[0].code",
        &src,
    );
}

#[test]
fn observation_component_repeating_the_code_with_a_value_breaks_obs_7() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let code = v["code"].clone();
        v["component"] = json!([{"code": code, "valueQuantity": {"value": 1, "unit": "mEq/L"}}]);
    });
    invariant(issues, "Observation", &obs(), "obs-7");
}

#[test]
fn observation_without_subject_misses_a_required_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| remove(v, "subject"));
    let src = format!("{}#Observation.subject", obs());
    expect_error(issues, IssueType::Required, "Observation.subject", &src);
}

#[test]
fn observation_without_code_misses_a_required_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| remove(v, "code"));
    let src = format!("{}#Observation.code", obs());
    expect_error(issues, IssueType::Required, "Observation.code", &src);
}

#[test]
fn observation_quantity_code_without_system_breaks_qty_3() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["valueQuantity"]["code"] = json!("mEq/L");
    });
    invariant(
        issues,
        "Observation.value.ofType(Quantity)",
        &format!("{BASE}Quantity"),
        "qty-3",
    );
}

#[test]
fn observation_contained_resource_with_its_own_contained_breaks_dom_2() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let inner = v["contained"][1].clone();
        v["contained"][0]["contained"] = json!([inner]);
    });
    invariant(issues, "Observation", &obs(), "dom-2");
}

#[test]
fn observation_contained_resource_with_a_version_id_breaks_dom_4() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["contained"][0]["meta"]["versionId"] = json!("1");
    });
    invariant(issues, "Observation", &obs(), "dom-4");
}

#[test]
fn observation_contained_resource_with_security_labels_breaks_dom_5() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["contained"][0]["meta"]["security"] = json!([{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R"
        }]);
    });
    invariant(issues, "Observation", &obs(), "dom-5");
}

#[test]
fn observation_reference_to_a_missing_contained_resource_breaks_ref_1() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["performer"][0]["reference"] = json!("#nowhere");
    });
    invariant(
        issues,
        "Observation.performer[0]",
        &format!("{BASE}Reference"),
        "ref-1",
    );
}

#[test]
fn observation_reference_as_a_string_is_a_structure_error() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["specimen"] = json!("Specimen/1");
    });
    let src = format!("{}#Observation.specimen", obs());
    expect_error(issues, IssueType::Structure, "Observation.specimen", &src);
}

#[test]
fn observation_institution_number_extension_twice_breaks_the_slice_maximum() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let ext = v["extension"][0].clone();
        push(&mut v["extension"], ext);
    });
    let src = format!("{}#Observation.extension:eCS_InstitutionNumber", obs());
    expect_error(issues, IssueType::Structure, "Observation.extension", &src);
}

#[test]
fn observation_lts_tag_twice_breaks_the_slice_maximum() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["meta"]["tag"] = json!([
            {"system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication", "code": "LTS"},
            {"system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication", "code": "LTS"}
        ]);
    });
    let src = format!("{}#Observation.meta.tag:lts", obs());
    expect_error(issues, IssueType::Structure, "Observation.meta.tag", &src);
}

// --- JP_Condition_eCS ---

#[test]
fn condition_abated_while_active_breaks_con_4() {
    let issues = mutated(COND_FILE, &cond(), |v| {
        v["abatementDateTime"] = json!("2020-05-01");
    });
    invariant(issues, "Condition", &cond(), "con-4");
}

#[test]
fn condition_entered_in_error_with_a_clinical_status_breaks_con_5() {
    let issues = mutated(COND_FILE, &cond(), |v| {
        set(
            v,
            "/verificationStatus/coding/0/code",
            json!("entered-in-error"),
        );
    });
    invariant(issues, "Condition", &cond(), "con-5");
}

#[test]
fn condition_clinical_status_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(COND_FILE, &cond(), |v| {
        set(v, "/clinicalStatus/coding/0/code", json!("ongoing"));
    });
    let src = format!("{}#Condition.clinicalStatus", cond());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "Condition.clinicalStatus.coding[0].code",
        &src,
    );
}

#[test]
fn condition_verification_status_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(COND_FILE, &cond(), |v| {
        set(v, "/verificationStatus/coding/0/code", json!("certain"));
    });
    let src = format!("{}#Condition.verificationStatus", cond());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "Condition.verificationStatus.coding[0].code",
        &src,
    );
}

#[test]
fn condition_without_subject_misses_a_required_element() {
    let issues = mutated(COND_FILE, &cond(), |v| remove(v, "subject"));
    let src = format!("{}#Condition.subject", cond());
    expect_error(issues, IssueType::Required, "Condition.subject", &src);
}

#[test]
fn condition_onset_as_a_number_is_a_type_error() {
    let issues = mutated(COND_FILE, &cond(), |v| v["onsetDateTime"] = json!(2020));
    let src = format!("{}#Condition.onset[x]:onsetDateTime", cond());
    expect_error(
        issues,
        IssueType::Value,
        "Condition.onset.ofType(dateTime)",
        &src,
    );
}

// --- JP_AllergyIntolerance_eCS ---

#[test]
fn allergy_without_clinical_status_breaks_ait_1() {
    let issues = mutated(ALG_FILE, &alg(), |v| remove(v, "clinicalStatus"));
    invariant(issues, "AllergyIntolerance", &alg(), "ait-1");
}

#[test]
fn allergy_entered_in_error_with_a_clinical_status_breaks_ait_2() {
    let issues = mutated(ALG_FILE, &alg(), |v| {
        v["verificationStatus"] = json!({"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            "code": "entered-in-error"
        }]});
    });
    invariant(issues, "AllergyIntolerance", &alg(), "ait-2");
}

#[test]
fn allergy_clinical_status_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(ALG_FILE, &alg(), |v| {
        set(v, "/clinicalStatus/coding/0/code", json!("ongoing"));
    });
    let src = format!("{}#AllergyIntolerance.clinicalStatus", alg());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "AllergyIntolerance.clinicalStatus.coding[0].code",
        &src,
    );
}

#[test]
fn allergy_type_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(ALG_FILE, &alg(), |v| v["type"] = json!("food"));
    let src = format!("{}#AllergyIntolerance.type", alg());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "AllergyIntolerance.type",
        &src,
    );
}

#[test]
fn allergy_criticality_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(ALG_FILE, &alg(), |v| v["criticality"] = json!("severe"));
    let src = format!("{}#AllergyIntolerance.criticality", alg());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "AllergyIntolerance.criticality",
        &src,
    );
}

#[test]
fn allergy_without_patient_misses_a_required_element() {
    let issues = mutated(ALG_FILE, &alg(), |v| remove(v, "patient"));
    let src = format!("{}#AllergyIntolerance.patient", alg());
    expect_error(
        issues,
        IssueType::Required,
        "AllergyIntolerance.patient",
        &src,
    );
}

#[test]
fn allergy_with_two_onsets_of_different_types_is_a_structure_error() {
    let issues = mutated(ALG_FILE, &alg(), |v| {
        v["onsetDateTime"] = json!("2020-01-01");
        v["onsetString"] = json!("childhood");
    });
    let src = format!("{}#AllergyIntolerance.onset[x]", alg());
    expect_error(
        issues,
        IssueType::Structure,
        "AllergyIntolerance.onset",
        &src,
    );
}

// --- JP_MedicationRequest_eCS ---

#[test]
fn medication_with_the_general_order_code_twice_breaks_needs_any_of_standard_code() {
    let issues = mutated(MED_FILE, &med(), |v| {
        let first = v["medicationCodeableConcept"]["coding"][0].clone();
        push(&mut v["medicationCodeableConcept"]["coding"], first);
    });
    invariant(
        issues,
        "MedicationRequest",
        &med(),
        "needs-anyOfStandardCode-medication",
    );
}

#[test]
fn medication_request_status_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(MED_FILE, &med(), |v| v["status"] = json!("done"));
    let src = format!("{}#MedicationRequest.status", med());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "MedicationRequest.status",
        &src,
    );
}

#[test]
fn medication_request_intent_outside_its_required_value_set_is_code_invalid() {
    let issues = mutated_vs(MED_FILE, &med(), |v| v["intent"] = json!("wish"));
    let src = format!("{}#MedicationRequest.intent", med());
    expect_error(
        issues,
        IssueType::CodeInvalid,
        "MedicationRequest.intent",
        &src,
    );
}

#[test]
fn medication_request_without_subject_misses_a_required_element() {
    let issues = mutated(MED_FILE, &med(), |v| remove(v, "subject"));
    let src = format!("{}#MedicationRequest.subject", med());
    expect_error(
        issues,
        IssueType::Required,
        "MedicationRequest.subject",
        &src,
    );
}

#[test]
fn timing_period_without_a_unit_breaks_tim_2() {
    let issues = mutated(MED_FILE, &med(), |v| {
        remove(
            &mut v["dosageInstruction"][0]["timing"]["repeat"],
            "periodUnit",
        );
    });
    invariant(
        issues,
        "MedicationRequest.dosageInstruction[0].timing.repeat",
        &dosage(),
        "tim-2",
    );
}

#[test]
fn timing_with_a_negative_period_breaks_tim_5() {
    let issues = mutated(MED_FILE, &med(), |v| {
        set(v, "/dosageInstruction/0/timing/repeat/period", json!(-1));
    });
    invariant(
        issues,
        "MedicationRequest.dosageInstruction[0].timing.repeat",
        &dosage(),
        "tim-5",
    );
}
