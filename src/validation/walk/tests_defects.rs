//! Single-defect tests: one mutation of an official example each, asserting the exact issue
//! (severity, code, FHIRPath location, rule source) and that the original has no error.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use super::Engine;
use super::tests_support::{
    BUNDLE_FILE, ECS, OBS_FILE, PAT_FILE, bundle, ecs, engine, errors, example, expect,
    expect_error, mutated, obs, packages, pat, remove, set, show, validate,
};
use crate::fhir::{IssueSeverity, IssueType};
use crate::model::BaseModel;
use crate::validation::binding_check::{BindingCheck, CodeCheck, CodedValue, Membership};

#[test]
fn missing_required_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| remove(v, "status"));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::Required, "Observation.status", &src);
}

#[test]
fn too_many_occurrences() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let first = v["category"][0].clone();
        v["category"].as_array_mut().unwrap().push(first);
    });
    let src = format!("{}#Observation.category", obs());
    expect_error(issues, IssueType::Structure, "Observation.category", &src);
}

#[test]
fn wrong_json_type_for_a_code() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["status"] = json!(1));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::Value, "Observation.status", &src);
}

#[test]
fn unknown_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["foo"] = json!("bar"));
    let src = format!("{}#Observation", obs());
    expect_error(issues, IssueType::Structure, "Observation.foo", &src);
}

#[test]
fn choice_type_not_allowed() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        remove(v, "valueQuantity");
        v["valueBoolean"] = json!(true);
    });
    let src = format!("{}#Observation.value[x]", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.valueBoolean",
        &src,
    );
}

#[test]
fn empty_object() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["valueQuantity"] = json!({}));
    let src = format!("{}#ele-1", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.value.ofType(Quantity)",
        &src,
    );
}

#[test]
fn empty_array() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["note"] = json!([]));
    let src = format!("{}#Observation.note", obs());
    expect_error(issues, IssueType::Structure, "Observation.note", &src);
}

#[test]
fn empty_string() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["language"] = json!(""));
    let src = format!("{}#Observation.language", obs());
    expect_error(issues, IssueType::Value, "Observation.language", &src);
}

#[test]
fn null_in_array() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["performer"].as_array_mut().unwrap().push(Value::Null);
    });
    let src = format!("{}#Observation.performer", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.performer[1]",
        &src,
    );
}

#[test]
fn array_for_a_single_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["status"] = json!(["final"]));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::Structure, "Observation.status", &src);
}

#[test]
fn single_value_for_a_repeating_element() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let first = v["performer"][0].clone();
        v["performer"] = first;
    });
    let src = format!("{}#Observation.performer", obs());
    expect_error(issues, IssueType::Structure, "Observation.performer", &src);
}

#[test]
fn bad_date() {
    let issues = mutated(PAT_FILE, &pat(), |v| v["birthDate"] = json!("1930-6-28"));
    let src = format!("{}#Patient.birthDate", pat());
    expect_error(issues, IssueType::Value, "Patient.birthDate", &src);
}

#[test]
fn bad_date_time() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["effectiveDateTime"] = json!("2021-07-05T25:19:41+09:00");
    });
    let src = format!("{}#Observation.effective[x]", obs());
    expect_error(
        issues,
        IssueType::Value,
        "Observation.effective.ofType(dateTime)",
        &src,
    );
}

#[test]
fn instant_without_time() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["issued"] = json!("2021-07-05"));
    let src = format!("{}#Observation.issued", obs());
    expect_error(issues, IssueType::Value, "Observation.issued", &src);
}

#[test]
fn decimal_as_string() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        set(v, "/valueQuantity/value", json!("3.5"));
    });
    let src = "http://hl7.org/fhir/StructureDefinition/Quantity#Quantity.value";
    expect_error(
        issues,
        IssueType::Value,
        "Observation.value.ofType(Quantity).value",
        src,
    );
}

#[test]
fn integer_as_string() {
    let issues = mutated(PAT_FILE, &pat(), |v| set(v, "/telecom/0/rank", json!("1")));
    let src = format!("{}#Patient.telecom.rank", pat());
    expect_error(issues, IssueType::Value, "Patient.telecom[0].rank", &src);
}

#[test]
fn invalid_id() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["id"] = json!("not an id!"));
    let src = format!("{}#Observation.id", obs());
    expect_error(issues, IssueType::Value, "Observation.id", &src);
}

#[test]
fn code_with_leading_space() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["status"] = json!(" final"));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::Value, "Observation.status", &src);
}

#[test]
fn uri_with_space() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        set(v, "/identifier/0/system", json!("http://example.org/a b"));
    });
    let src = format!("{}#Observation.identifier.system", obs());
    expect_error(
        issues,
        IssueType::Value,
        "Observation.identifier[0].system",
        &src,
    );
}

#[test]
fn fixed_value_mismatch_in_a_slice() {
    // Matches slice unCoded by system and display; its code is fixed.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["code"]["coding"].as_array_mut().unwrap().push(json!({
            "system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_Uncoded_CS",
            "code": "12345",
            "display": "未標準化コード項目(JLAC)"
        }));
    });
    let src = format!("{}#Observation.code.coding:unCoded.code", obs());
    expect_error(
        issues,
        IssueType::Value,
        "Observation.code.coding[3].code",
        &src,
    );
}

#[test]
fn pattern_mismatch_in_a_slice() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["meta"]["tag"] = json!([{"system": "http://example.org/other", "code": "LTS"}]);
    });
    let src = format!("{}#Observation.meta.tag:lts.system", obs());
    expect_error(
        issues,
        IssueType::Value,
        "Observation.meta.tag[0].system",
        &src,
    );
}

#[test]
fn closed_slicing_violation() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["meta"]["tag"] = json!([{"system": "http://example.org/other", "code": "XYZ"}]);
    });
    let src = format!("{}#Observation.meta.tag", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.meta.tag[0]",
        &src,
    );
}

#[test]
fn value_discriminator_on_this_slice_minimum() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        set(v, "/category/0/coding/0/code", json!("vital-signs"));
    });
    let src = format!("{}#Observation.category:laboratory", obs());
    expect_error(issues, IssueType::Required, "Observation.category", &src);
}

#[test]
fn value_discriminator_on_system_slice_rules() {
    // identifier:resourceIdentifier (by system) is at most 1.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        let first = v["identifier"][0].clone();
        v["identifier"].as_array_mut().unwrap().push(first);
    });
    let src = format!("{}#Observation.identifier:resourceIdentifier", obs());
    expect_error(issues, IssueType::Structure, "Observation.identifier", &src);
}

#[test]
fn type_discriminator_picks_the_value_slice() {
    // value[x]:valueString slice: the type discriminator sends it there; a number is no string.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        remove(v, "valueQuantity");
        v["valueString"] = json!(12);
    });
    let src = format!("{}#Observation.value[x]:valueString", obs());
    expect_error(
        issues,
        IssueType::Value,
        "Observation.value.ofType(string)",
        &src,
    );
}

#[test]
fn per_slice_minimum_in_a_bundle() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        v["entry"].as_array_mut().unwrap().remove(0);
    });
    let src = format!("{}#Bundle.entry:patient", bundle());
    expect_error(issues, IssueType::Required, "Bundle.entry", &src);
}

#[test]
fn ordered_slices_in_a_bundle() {
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        let entries = v["entry"].as_array_mut().unwrap();
        let patient = entries.remove(0);
        entries.push(patient);
    });
    let src = format!("{}#Bundle.entry", bundle());
    expect_error(issues, IssueType::Structure, "Bundle.entry[4]", &src);
}

#[test]
fn profile_discriminator_rejects_a_nonconforming_entry() {
    // An Observation without the institution-number extension fits no entry slice (closed).
    let issues = mutated(BUNDLE_FILE, &bundle(), |v| {
        remove(&mut v["entry"][1]["resource"], "extension");
    });
    let src = format!("{}#Bundle.entry", bundle());
    expect_error(issues, IssueType::Structure, "Bundle.entry[1]", &src);
}

#[test]
fn target_profile_mismatch_inside_a_bundle() {
    // The entry no longer fits its slice's profile (closed); no slot claiming it, it answers
    // for the profile it declares, which rejects a subject that resolves to an Observation.
    let Some(issues) = mutated(BUNDLE_FILE, &bundle(), |v| {
        let other = v["entry"][2]["fullUrl"].clone();
        v["entry"][1]["resource"]["subject"] = json!({ "reference": other });
    }) else {
        return;
    };
    let src = format!("{}#Bundle.entry", bundle());
    expect(
        &issues,
        IssueSeverity::Error,
        IssueType::Structure,
        "Bundle.entry[1]",
        &src,
    );
    expect(
        &issues,
        IssueSeverity::Error,
        IssueType::Structure,
        "Bundle.entry[1].resource.subject.reference",
        "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS#Observation.subject",
    );
}

#[test]
fn target_profile_mismatch_of_a_contained_target() {
    // The performer points at the contained Encounter, which no performer targetProfile allows.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["performer"] = json!([{"reference": "#Example-Contained-JP-Encounter-AMB"}]);
    });
    let src = format!("{}#Observation.performer", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.performer[0].reference",
        &src,
    );
}

#[test]
fn unknown_extension_is_a_warning() {
    let Some(issues) = mutated(OBS_FILE, &obs(), |v| {
        v["extension"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": "http://example.org/unknown", "valueString": "x"}));
    }) else {
        return;
    };
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    let src = format!("{}#Observation.extension", obs());
    expect(
        &issues,
        IssueSeverity::Warning,
        IssueType::Structure,
        "Observation.extension[2]",
        &src,
    );
}

#[test]
fn unknown_modifier_extension_is_an_error() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["modifierExtension"] = json!([{"url": "http://example.org/mod", "valueBoolean": true}]);
    });
    let src = format!("{}#Observation.modifierExtension", obs());
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.modifierExtension[0]",
        &src,
    );
}

#[test]
fn known_extension_is_checked_against_its_definition() {
    // JP_eCS_InstitutionNumber carries an Identifier, not a string.
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["extension"][0] = json!({
            "url": "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber",
            "valueString": "1318814790"
        });
    });
    let src = "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber#Extension.value[x]";
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.extension[0].valueString",
        src,
    );
}

#[test]
fn primitive_extension_sibling_is_walked() {
    let Some(issues) = mutated(OBS_FILE, &obs(), |v| {
        v["_status"] = json!({"extension": [{"url": "http://example.org/x", "valueString": "a"}]});
    }) else {
        return;
    };
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    let src = "http://hl7.org/fhir/StructureDefinition/code#code.extension";
    expect(
        &issues,
        IssueSeverity::Warning,
        IssueType::Structure,
        "Observation.status.extension[0]",
        src,
    );
}

#[test]
fn empty_primitive_extension_sibling() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["_status"] = json!({}));
    let src = format!("{}#Observation.status", obs());
    expect_error(issues, IssueType::Structure, "Observation.status", &src);
}

#[test]
fn jp_clins_invariant() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["extension"].as_array_mut().unwrap().remove(0);
    });
    let src = format!("{}#resource-needs-extension-of-institutionNumber", obs());
    expect_error(issues, IssueType::Invariant, "Observation", &src);
}

#[test]
fn jp_clins_patient_invariant() {
    let issues = mutated(PAT_FILE, &pat(), |v| {
        set(v, "/name/0/text", json!("牧野　爛漫"))
    });
    let src = format!("{}#kanjiName-kanaName-donot-contain-ZenkakuKuuhaku", pat());
    expect_error(issues, IssueType::Invariant, "Patient", &src);
}

#[test]
fn base_invariant_obs_6() {
    let issues = mutated(OBS_FILE, &obs(), |v| {
        v["dataAbsentReason"] = json!({"text": "not measured"});
    });
    let src = format!("{}#obs-6", obs());
    expect_error(issues, IssueType::Invariant, "Observation", &src);
}

#[test]
fn unreferenced_contained_resource_dom_3() {
    let issues = mutated(OBS_FILE, &obs(), |v| remove(v, "encounter"));
    let src = format!("{}#dom-3", obs());
    expect_error(issues, IssueType::Invariant, "Observation", &src);
}

#[test]
fn contained_resource_is_walked() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["contained"][0]["foo"] = json!(1));
    // The contained Encounter declares JP_Encounter: its walk is against that profile.
    let src = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Encounter#Encounter";
    expect_error(
        issues,
        IssueType::Structure,
        "Observation.contained[0].foo",
        src,
    );
}

#[test]
fn wrong_resource_type_for_the_profile() {
    let issues = mutated(OBS_FILE, &obs(), |v| v["resourceType"] = json!("Condition"));
    let src = format!("{}#Observation", obs());
    expect_error(issues, IssueType::Structure, "Condition", &src);
}

/// Answers for the MHLW general-order-code value set as the master would; unknown otherwise.
struct GeneralOrderMaster;

impl BindingCheck for GeneralOrderMaster {
    fn check(&self, value_set: &str, value: CodedValue<'_>) -> CodeCheck {
        let membership =
            if value_set == "http://jpfhir.jp/fhir/core/ValueSet/JP_MedicationCodeCommon_VS" {
                if value.code == "1124030F2ZZZ" {
                    Membership::Member
                } else {
                    Membership::NotMember
                }
            } else {
                Membership::Unknown(format!("value set {value_set} is not loaded"))
            };
        CodeCheck { membership }
    }
}

fn master_engine() -> Option<&'static Engine> {
    // Before the cache: each test that skips prints its own line, not only the first.
    crate::test_data::path_or_skip("")?;
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let model = BaseModel::load_embedded().unwrap();
            Some(Engine::new(
                packages()?,
                model,
                Arc::new(GeneralOrderMaster),
            ))
        })
        .as_ref()
}

const GENERAL_NAME_CODE: &str =
    "MedicationRequest.medication.ofType(CodeableConcept).coding[0].code";

fn general_name_source() -> String {
    format!(
        "{ECS}JP_MedicationRequest_eCS#MedicationRequest.medication[x].coding:codingGeneralName.code"
    )
}

#[test]
fn error_example_without_the_master_is_a_warning_on_the_code() {
    let (Some(engine), Some(v)) = (
        engine(),
        example("MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json"),
    ) else {
        return;
    };
    let issues = validate(engine, &v, &format!("{ECS}JP_MedicationRequest_eCS"));
    expect(
        &issues,
        IssueSeverity::Warning,
        IssueType::NotSupported,
        GENERAL_NAME_CODE,
        &general_name_source(),
    );
}

#[test]
fn error_example_with_the_master_is_a_required_binding_error() {
    let (Some(engine), Some(bad), Some(good)) = (
        master_engine(),
        example("MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json"),
        example("MedicationRequest-Example-JP-MedReq-PO-SID-28days.json"),
    ) else {
        return;
    };
    let profile = format!("{ECS}JP_MedicationRequest_eCS");
    let ok = validate(engine, &good, &profile);
    assert!(errors(&ok).is_empty(), "{}", show(&errors(&ok)));
    let issues = validate(engine, &bad, &profile);
    let errs = errors(&issues);
    assert_eq!(errs.len(), 1, "{}", show(&errs));
    expect(
        &issues,
        IssueSeverity::Error,
        IssueType::CodeInvalid,
        GENERAL_NAME_CODE,
        &general_name_source(),
    );
}

#[test]
fn old_medis_oids_are_judged_as_their_urls() {
    // DESIGN §7: the old OIDs of 病名管理番号 and 病名交換用コード are aliases of the URLs the
    // profile fixes, so such codings fill the slices (medisRecordNo is required).
    let profile = ecs("JP_Condition_eCS");
    let file = "Condition-Example-JP-Condition-eCS-01.json";
    let aliased = |v: &mut Value| {
        v["code"]["coding"][0]["system"] = json!("urn:oid:1.2.392.200119.4.101.2");
        v["code"]["coding"].as_array_mut().unwrap().push(json!({
            "system": "urn:oid:1.2.392.200119.4.101.6", "code": "A006", "display": "結節性肝硬変"
        }));
    };
    let issues = mutated(file, &profile, aliased).expect("../shared/data is required");
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    // The exchange-code OID is judged by its slice's rules: the slice requires a display.
    let issues = mutated(file, &profile, |v| {
        aliased(v);
        v["code"]["coding"][1]
            .as_object_mut()
            .unwrap()
            .remove("display");
    });
    let src = format!("{profile}#Condition.code.coding:medisExchange.display");
    expect_error(
        issues,
        IssueType::Required,
        "Condition.code.coding[1].display",
        &src,
    );
}
