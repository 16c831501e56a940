//! Entries of a Bundle judged by the IG release their own `meta.profile` pins (issue #23), over
//! the shipped IG contexts (JP-CLINS 1.5.2 and 1.10.0). The two releases disagree on
//! JP_Condition_eCS: 1.10.0 requires the display of `clinicalStatus` and `verificationStatus`
//! codings, 1.5.2 does not; 1.5.2 requires a display on every `code.coding`, 1.10.0 only on the
//! codings of its slices.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::walk::tests_support::{assert_all_speak_japanese, errors, example, show};
use super::{Validator, ValidatorOptions};
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::messages::requests::not_reported;

const COND: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS";
const BUNDLE: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
const CONDITION_FILE: &str = "Condition-Example-JP-Condition-eCS-01.json";

fn load() -> Validator {
    let options = ValidatorOptions {
        profiles: Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/profiles"
        ))),
        ..ValidatorOptions::default()
    };
    Validator::load(&options).unwrap()
}

/// The validator over the shipped profiles folder, as a server started with no flag has it.
fn shipped() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(load)
}

/// The official Condition example (sound under both releases) declaring `pin`, then `mutate`d.
fn condition(pin: Option<&str>, mutate: fn(&mut Value)) -> Value {
    let mut c = example(CONDITION_FILE).unwrap();
    c["meta"]["profile"] = json!([match pin {
        Some(v) => format!("{COND}|{v}"),
        None => COND.to_string(),
    }]);
    mutate(&mut c);
    c
}

/// Sound under 1.5.2, refused by 1.10.0.
fn statuses_without_display(c: &mut Value) {
    for status in ["clinicalStatus", "verificationStatus"] {
        let coding = c[status]["coding"][0].as_object_mut().unwrap();
        coding.remove("display");
    }
}

/// Sound under 1.10.0, refused by 1.5.2.
fn local_coding_without_display(c: &mut Value) {
    let codings = c["code"]["coding"].as_array_mut().unwrap();
    codings.push(json!({"system": "http://example.org/CodeSystem/local-disease", "code": "X1"}));
}

/// A 6-information report unit of conditions declaring JP_Bundle_CLINS at `version`: the
/// official example's Patient first, then `conditions`.
fn report_unit(version: &str, conditions: Vec<Value>) -> Value {
    let mut bundle = example("Bundle-Bundle-CLINS-Observations-Example-01.json").unwrap();
    bundle["meta"]["tag"][0]["code"] = json!("Condition");
    bundle["meta"]["profile"] = json!([format!("{BUNDLE}|{version}")]);
    let patient = bundle["entry"][0].clone();
    let mut entries = vec![patient];
    for (i, mut c) in conditions.into_iter().enumerate() {
        c["id"] = json!(format!("condition-{i}"));
        entries.push(json!({
            "fullUrl": format!("urn:uuid:2f7a3c1e-5b8d-4e6f-9a0b-{i:012}"),
            "resource": c,
        }));
    }
    bundle["entry"] = Value::Array(entries);
    bundle
}

/// The same entries in a transaction: a Bundle checked against its base definition only.
fn transaction(conditions: Vec<Value>) -> Value {
    let mut bundle = report_unit("1.10.0", conditions);
    let object = bundle.as_object_mut().unwrap();
    object.remove("meta");
    object.insert("type".into(), json!("transaction"));
    for e in bundle["entry"].as_array_mut().unwrap() {
        e["request"] = json!({"method": "POST", "url": e["resource"]["resourceType"]});
    }
    bundle
}

fn validate(v: &Value) -> Vec<Issue> {
    let issues = shipped().validate(v, None, None);
    assert_all_speak_japanese(&issues);
    issues
}

fn all(issues: &[Issue]) -> String {
    show(&issues.iter().collect::<Vec<_>>())
}

/// The texts of the information issues at `at` that name the release used.
fn judged_at(issues: &[Issue], at: &str) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.severity == IssueSeverity::Information && i.expression == [at])
        .filter(|i| i.diagnostics.starts_with("validated against "))
        .map(|i| i.diagnostics.clone())
        .collect()
}

fn errors_at<'a>(issues: &'a [Issue], at: &str) -> Vec<&'a Issue> {
    errors(issues)
        .into_iter()
        .filter(|i| i.expression == [at])
        .collect()
}

const STATUS_DISPLAYS: [&str; 2] = [
    "Bundle.entry[1].resource.clinicalStatus.coding[0].display",
    "Bundle.entry[1].resource.verificationStatus.coding[0].display",
];
const ENTRY_PROFILE: &str = "Bundle.entry[1].resource.meta.profile[0]";

#[test]
fn an_entry_pinned_to_1_5_2_is_judged_by_1_5_2_inside_a_1_10_0_bundle() {
    // The control: pinned to the Bundle's own release, 1.10.0 refuses it (the slice it
    // belongs to with it).
    let same = validate(&report_unit(
        "1.10.0",
        vec![condition(Some("1.10.0"), statuses_without_display)],
    ));
    for at in STATUS_DISPLAYS {
        assert_eq!(errors_at(&same, at).len(), 1, "{at}: {}", all(&same));
    }
    let issues = validate(&report_unit(
        "1.10.0",
        vec![condition(Some("1.5.2"), statuses_without_display)],
    ));
    // 1.5.2 judges the entry: nothing is missing, and the Bundle's closed slicing by profile
    // takes 1.5.2's verdict.
    assert!(errors(&issues).is_empty(), "{}", all(&issues));
    let entry = judged_at(&issues, ENTRY_PROFILE);
    assert_eq!(entry.len(), 1, "{}", all(&issues));
    assert!(
        entry[0].starts_with(&format!(
            "validated against JP-CLINS 1.5.2: {COND} version 1"
        )),
        "{}",
        entry[0]
    );
    let bundle = judged_at(&issues, "Bundle.meta.profile[0]");
    assert_eq!(bundle.len(), 1);
    assert!(bundle[0].contains("JP-CLINS 1.10.0"), "{}", bundle[0]);
}

#[test]
fn an_entry_pinned_to_1_10_0_is_judged_by_1_10_0_inside_a_1_5_2_bundle() {
    // 1.5.2's JP_Bundle_CLINS refuses any version on a Condition's profile (its
    // validEntryProfile-Condition compares with `=` where 1.10.0 has `!=`): a Bundle rule,
    // and the Bundle's release keeps it, once.
    let bundle_rule = format!("{BUNDLE}#validEntryProfile-Condition");
    let only_the_bundle_rule = |issues: &[Issue]| {
        let errors = errors(issues);
        assert_eq!(errors.len(), 1, "{}", all(issues));
        assert_eq!(errors[0].source.as_deref(), Some(bundle_rule.as_str()));
        assert_eq!(errors[0].expression, ["Bundle"]);
    };
    let same = validate(&report_unit(
        "1.5.2",
        vec![condition(Some("1.5.2"), local_coding_without_display)],
    ));
    let at = "Bundle.entry[1].resource.code.coding[1].display";
    assert_eq!(errors_at(&same, at).len(), 1, "{}", all(&same));
    // The display 1.5.2 requires is not 1.10.0's rule.
    let issues = validate(&report_unit(
        "1.5.2",
        vec![condition(Some("1.10.0"), local_coding_without_display)],
    ));
    only_the_bundle_rule(&issues);
    let entry = judged_at(&issues, ENTRY_PROFILE);
    assert_eq!(
        entry,
        [format!(
            "validated against JP-CLINS 1.10.0: {COND} version 1.10.0"
        )]
    );
    assert!(judged_at(&issues, "Bundle.meta.profile[0]")[0].contains("JP-CLINS 1.5.2"));
    // The displays 1.10.0 requires are, each reported once.
    let issues = validate(&report_unit(
        "1.5.2",
        vec![condition(Some("1.10.0"), statuses_without_display)],
    ));
    for at in STATUS_DISPLAYS {
        assert_eq!(errors_at(&issues, at).len(), 1, "{at}: {}", all(&issues));
    }
}

#[test]
fn an_unversioned_entry_stays_with_the_bundles_release() {
    // On its own, an unversioned profile is judged by the newest release, which refuses it.
    let alone = validate(&condition(None, statuses_without_display));
    assert!(!errors(&alone).is_empty(), "{}", all(&alone));
    let issues = validate(&report_unit(
        "1.5.2",
        vec![condition(None, statuses_without_display)],
    ));
    assert!(errors(&issues).is_empty(), "{}", all(&issues));
    assert!(judged_at(&issues, ENTRY_PROFILE).is_empty());
    let issues = validate(&report_unit(
        "1.10.0",
        vec![condition(None, statuses_without_display)],
    ));
    for at in STATUS_DISPLAYS {
        assert_eq!(errors_at(&issues, at).len(), 1, "{at}: {}", all(&issues));
    }
    assert!(judged_at(&issues, ENTRY_PROFILE).is_empty());
}

#[test]
fn the_bundles_own_rules_still_judge_a_pinned_entry_once() {
    let issues = validate(&report_unit(
        "1.10.0",
        vec![condition(Some("1.5.2"), |c| {
            local_coding_without_display(c);
            c.as_object_mut().unwrap().remove("onsetDateTime");
            c["asserter"] = json!({"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"});
        })],
    ));
    let from = |source: &str| -> Vec<&Issue> {
        errors(&issues)
            .into_iter()
            .filter(|i| i.source.as_deref() == Some(source))
            .collect()
    };
    // An invariant of the Bundle profile (R9013C, 1.10.0's text).
    let onset = from(&format!("{BUNDLE}#condition-needs-onsetDateTime"));
    assert_eq!(onset.len(), 1, "{}", all(&issues));
    assert!(onset[0].diagnostics.contains("onset"), "{}", show(&onset));
    // The closed slicing of its entries, by 1.5.2's verdict on the entry.
    let slicing = from(&format!("{BUNDLE}#Bundle.entry"));
    assert_eq!(slicing.len(), 1, "{}", all(&issues));
    assert_eq!(slicing[0].expression, ["Bundle.entry[1]"]);
    // A reference between entries that finds none: located in the entry, raised by the Bundle.
    let at = "Bundle.entry[1].resource.asserter.reference";
    let unresolved = errors_at(&issues, at);
    assert_eq!(unresolved.len(), 1, "{}", all(&issues));
    assert_eq!(unresolved[0].code, IssueType::NotFound);
    // The entry's own rule, 1.5.2's, once.
    let display = errors_at(&issues, "Bundle.entry[1].resource.code.coding[1].display");
    assert_eq!(display.len(), 1, "{}", all(&issues));
    assert_eq!(
        display[0].source.as_deref(),
        Some(format!("{COND}#Condition.code.coding.display").as_str())
    );
    assert_eq!(errors(&issues).len(), 4, "{}", all(&issues));
    assert_eq!(judged_at(&issues, ENTRY_PROFILE).len(), 1);
}

#[test]
fn an_unprofiled_bundle_leaves_a_pinned_entry_to_its_release() {
    let issues = validate(&transaction(vec![condition(
        Some("1.5.2"),
        statuses_without_display,
    )]));
    assert!(errors(&issues).is_empty(), "{}", all(&issues));
    let entry = judged_at(&issues, ENTRY_PROFILE);
    assert_eq!(entry.len(), 1, "{}", all(&issues));
    assert!(entry[0].contains("JP-CLINS 1.5.2"), "{}", entry[0]);
    let issues = validate(&transaction(vec![condition(
        Some("1.10.0"),
        local_coding_without_display,
    )]));
    assert!(errors(&issues).is_empty(), "{}", all(&issues));
}

#[test]
fn pinned_entries_count_against_the_issue_limit() {
    let max = 3;
    let validator = load().with_max_issues(max);
    let conditions = (0..40)
        .map(|_| condition(Some("1.5.2"), local_coding_without_display))
        .collect();
    let issues = validator.validate(&report_unit("1.10.0", conditions), None, None);
    assert_eq!(issues.len(), max + 1, "{}", all(&issues));
    let last = &issues[max];
    assert_eq!(last.code, IssueType::TooCosty);
    let (count, stopped) = not_reported(&last.diagnostics).unwrap();
    assert!(stopped, "{}", last.diagnostics);
    // The walk of the Bundle and the checks of its entries share one limit (ten times the
    // number reported); past it come only the issues naming the releases of the last entry
    // checked and of the Bundle.
    assert!(count + max <= max * 10 + 2, "{}", last.diagnostics);
}
