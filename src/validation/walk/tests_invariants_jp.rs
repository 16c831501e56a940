//! Single-defect tests for the JP-CLINS invariants the other suites leave uncovered: the
//! referral Composition's section choice, the Condition rules of the 6-information bundle, the
//! institution-number extension's own value rule and the per-type entry profile rules. Where no
//! official example fits, the valid instance is built from official examples and proved clean
//! before its one defect is introduced.

use serde_json::{Value, json};

use super::tests_mutations::{ALG_FILE, COND_FILE, MED_FILE, invariant};
use super::tests_support::{
    BUNDLE_FILE, CLINS, bundle, ecs, engine, errors, example, expect, mutated, mutated_value_with,
    remove, set, show, validate,
};
use crate::fhir::{Issue, IssueSeverity, IssueType};

const REFERRAL_FILE: &str = "Bundle-Bundle-CLINS-Referral-Example-01.json";
const INSTITUTION_NUMBER: &str =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";

fn referral_composition() -> String {
    "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral".to_string()
}

fn referral() -> String {
    format!("{CLINS}JP_Bundle_eReferral")
}

/// `file`'s resource with its eCS profile stated without a version, as the bundle's
/// `validEntryProfile-*` rules require.
fn unversioned(file: &str) -> Option<Value> {
    let mut r = example(file)?;
    let p = r["meta"]["profile"][0].as_str().unwrap();
    let base = p.split('|').next().unwrap().to_string();
    r["meta"]["profile"][0] = json!(base);
    Some(r)
}

/// A JP_Bundle_CLINS of one kind: the official Observation bundle with its tag set to `kind`
/// and its Observations replaced by the official `file` example (unversioned profile).
fn clins_bundle(kind: &str, file: &str) -> Option<Value> {
    let mut b = example(BUNDLE_FILE)?;
    let r = unversioned(file)?;
    set(&mut b, "/meta/tag/0/code", json!(kind));
    let entries = b["entry"].as_array_mut().unwrap();
    entries.truncate(1);
    entries
        .push(json!({"fullUrl": "urn:uuid:6a31db8e-109d-4349-b0cf-095131c3307a", "resource": r}));
    Some(b)
}

/// `v` validated against `profile` (no error) and again after `mutate`.
fn mutated_built(
    v: Option<Value>,
    profile: &str,
    mutate: impl FnOnce(&mut Value),
) -> Option<Vec<Issue>> {
    Some(mutated_value_with(engine()?, v?, profile, mutate))
}

fn condition_bundle(mutate: impl FnOnce(&mut Value)) -> Option<Vec<Issue>> {
    let b = clins_bundle("Condition", COND_FILE);
    mutated_built(b, &bundle(), |v| mutate(&mut v["entry"][1]["resource"]))
}

// --- JP_Composition_eReferral ---

/// The referral example's Composition (entry[0]) with its sections changed, validated on its own
/// against JP_Composition_eReferral. Inside the Bundle a Composition failing that profile only
/// misses the `composition` entry slice (profile discriminator) and is then walked against the
/// base Composition, so its own invariants are never reported there. On its own, the two
/// organization entry slices (discriminated through `resolve()`) cannot see the Bundle's
/// Organizations: those two errors, and only those, precede the mutation.
fn referral_section_change(mutate: impl FnOnce(&mut Vec<Value>)) -> Option<Vec<Issue>> {
    let engine = engine()?;
    let profile = referral_composition();
    let mut comp = example(REFERRAL_FILE)?["entry"][0]["resource"].clone();
    let before = validate(engine, &comp, &profile);
    let errs = errors(&before);
    let unresolved = [
        "Composition.section[0].entry",
        "Composition.section[1].entry",
    ];
    assert!(
        errs.len() == 2
            && errs
                .iter()
                .all(|i| i.code == IssueType::Required
                    && unresolved.contains(&i.expression[0].as_str())),
        "original: {}",
        show(&errs)
    );
    mutate(comp["section"].as_array_mut().unwrap());
    Some(validate(engine, &comp, &profile))
}

#[test]
fn referral_composition_without_the_structured_section_breaks_check_exist_cda_or_composition() {
    let issues = referral_section_change(|sections| {
        sections.retain(|s| s["code"]["coding"][0]["code"] != "300");
    });
    invariant(
        issues,
        "Composition",
        &referral_composition(),
        "checkExist-CDASection-or-CompositionSection",
    );
}

#[test]
fn referral_composition_with_both_cda_and_structured_sections_breaks_check_exist_cda_or_composition()
 {
    let issues = referral_section_change(|sections| {
        let mut cda = sections[2].clone();
        cda["code"]["coding"][0]["code"] = json!("200");
        sections.push(cda);
    });
    invariant(
        issues,
        "Composition",
        &referral_composition(),
        "checkExist-CDASection-or-CompositionSection",
    );
}

#[test]
fn referral_bundle_whose_composition_breaks_its_profile_reports_the_invariant_and_the_slot() {
    // The same defect inside the Bundle: the Composition no longer fills its slot, and, no slot
    // claiming it, it answers for the profile it declares, so the reason is reported too.
    let issues = mutated(REFERRAL_FILE, &referral(), |v| {
        let sections = v["entry"][0]["resource"]["section"].as_array_mut().unwrap();
        sections.retain(|s| s["code"]["coding"][0]["code"] != "300");
    });
    let Some(issues) = issues else { return };
    let src = format!("{}#Bundle.entry:composition", referral());
    expect(
        &issues,
        IssueSeverity::Error,
        IssueType::Required,
        "Bundle.entry",
        &src,
    );
    let composition =
        "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral";
    expect(
        &issues,
        IssueSeverity::Error,
        IssueType::Invariant,
        "Bundle.entry[0].resource",
        &format!("{composition}#checkExist-CDASection-or-CompositionSection"),
    );
}

// --- JP_Bundle_CLINS: the Condition rules ---

#[test]
fn bundle_condition_whose_contained_encounter_lacks_jp_encounter_breaks_needs_contained_encounter()
{
    let issues = condition_bundle(|c| remove(&mut c["contained"][0], "meta"));
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "condition-needs-contained-of-Encounter",
    );
}

#[test]
fn bundle_condition_without_department_breaks_condition_needs_extension_of_department() {
    let issues = condition_bundle(|c| {
        c["extension"].as_array_mut().unwrap().remove(1);
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "condition-needs-extension-of-Department",
    );
}

#[test]
fn bundle_condition_with_an_onset_string_breaks_condition_needs_onset_date_time() {
    let issues = condition_bundle(|c| {
        remove(c, "onsetDateTime");
        c["onsetString"] = json!("2020年4月頃");
    });
    invariant(issues, "Bundle", &bundle(), "condition-needs-onsetDateTime");
}

#[test]
fn bundle_condition_with_a_versioned_profile_breaks_valid_entry_profile_condition() {
    let issues = condition_bundle(|c| {
        set(
            c,
            "/meta/profile/0",
            json!(format!("{}|1", ecs("JP_Condition_eCS"))),
        );
    });
    invariant(issues, "Bundle", &bundle(), "validEntryProfile-Condition");
}

// --- JP_Bundle_CLINS: the other entry profile rules ---

#[test]
fn bundle_allergy_with_a_versioned_profile_breaks_valid_entry_profile_allergy_intolerance() {
    let b = clins_bundle("AllergyIntolerance", ALG_FILE);
    let issues = mutated_built(b, &bundle(), |v| {
        let p = format!("{}|1", ecs("JP_AllergyIntolerance_eCS"));
        set(v, "/entry/1/resource/meta/profile/0", json!(p));
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "validEntryProfile-AllergyIntolerance",
    );
}

#[test]
fn bundle_medication_request_with_a_versioned_profile_breaks_valid_entry_profile_med_request() {
    // The CLINS tag names no MedicationRequest kind: the request rides in a Condition bundle.
    let b = clins_bundle("Condition", COND_FILE).and_then(|mut b| {
        let r = unversioned(MED_FILE)?;
        let entry =
            json!({"fullUrl": "urn:uuid:1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "resource": r});
        b["entry"].as_array_mut().unwrap().push(entry);
        Some(b)
    });
    let issues = mutated_built(b, &bundle(), |v| {
        let p = format!("{}|1", ecs("JP_MedicationRequest_eCS"));
        set(v, "/entry/2/resource/meta/profile/0", json!(p));
    });
    invariant(
        issues,
        "Bundle",
        &bundle(),
        "validEntryProfile-MedicationRequest",
    );
}

// --- JP_Bundle_eReferral ---

#[test]
fn referral_medication_request_with_a_versioned_profile_breaks_valid_entry_profile_med_request() {
    let b = example(REFERRAL_FILE).and_then(|mut b| {
        let mut r = unversioned(MED_FILE)?;
        // An entry of a document is reached from its Composition: this one through its patient.
        r["subject"]["reference"] = b["entry"][1]["fullUrl"].clone();
        let entry =
            json!({"fullUrl": "urn:uuid:1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "resource": r});
        b["entry"].as_array_mut().unwrap().push(entry);
        Some(b)
    });
    let issues = mutated_built(b, &referral(), |v| {
        let last = v["entry"].as_array().unwrap().len() - 1;
        let p = format!("{}|1", ecs("JP_MedicationRequest_eCS"));
        set(
            v,
            &format!("/entry/{last}/resource/meta/profile/0"),
            json!(p),
        );
    });
    invariant(
        issues,
        "Bundle",
        &referral(),
        "validEntryProfile-MedicationRequest",
    );
}

// --- JP_eCS_InstitutionNumber ---

#[test]
fn condition_institution_number_of_nine_digits_breaks_valid_value_institution_number_extension() {
    let issues = mutated(COND_FILE, &ecs("JP_Condition_eCS"), |v| {
        set(v, "/extension/0/valueIdentifier/value", json!("131881479"));
    });
    invariant(
        issues,
        "Condition.extension[0]",
        INSTITUTION_NUMBER,
        "valid-value-institutionNumberExtension",
    );
}

// --- Service rule numbers ---

#[test]
fn a_broken_numbered_invariant_names_its_service_rule_and_its_text() {
    let issues = condition_bundle(|c| {
        c["extension"].as_array_mut().unwrap().remove(1);
    })
    .unwrap();
    let issue = issues
        .iter()
        .find(|i| {
            i.source.as_deref()
                == Some(&format!(
                    "{}#condition-needs-extension-of-Department",
                    bundle()
                ))
        })
        .unwrap_or_else(|| panic!("{issues:?}"));
    let rule = issue.rule.as_ref().unwrap();
    assert_eq!(rule.number.as_deref(), Some("R9014C"));
    assert!(
        rule.display()
            .unwrap()
            .starts_with("Bundleに含まれるすべてのCondition"),
        "{rule:?}"
    );
    let json = crate::fhir::OperationOutcome::single(issue.clone()).to_json();
    let coding = &json["issue"][0]["details"]["coding"][0];
    assert_eq!(coding["system"], crate::fhir::service_rule::RULE_SYSTEM);
    assert_eq!(coding["code"], "R9014C");
    assert!(
        json["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .starts_with("constraint condition-needs-extension-of-Department failed"),
        "{json}"
    );
}

#[test]
fn an_invariant_without_a_number_has_no_rule_coding() {
    let issues = condition_bundle(|c| {
        set(
            c,
            "/meta/profile/0",
            json!(format!("{}|1", ecs("JP_Condition_eCS"))),
        );
    })
    .unwrap();
    let issue = issues
        .iter()
        .find(|i| i.source.as_deref() == Some(&format!("{}#validEntryProfile-Condition", bundle())))
        .unwrap_or_else(|| panic!("{issues:?}"));
    let rule = issue.rule.as_ref().unwrap();
    assert_eq!(rule.number, None);
    let json = crate::fhir::OperationOutcome::single(issue.clone()).to_json();
    assert!(
        json["issue"][0]["details"].get("coding").is_none(),
        "{json}"
    );
    assert_eq!(
        json["issue"][0]["details"]["text"],
        rule.text.as_deref().unwrap()
    );
}
