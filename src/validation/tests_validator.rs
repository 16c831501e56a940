//! The validator over the official packages: what it records about the profiles an instance
//! declares, on top of the walk.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use super::binding_check::NoTerminology;
use super::walk::tests_support::{
    PACKAGES, assert_all_speak_japanese, data, errors, example, packages, read_json, show,
};
use super::{Validator, ValidatorOptions};
use crate::fhir::{Issue, IssueSeverity, IssueType};

const COND_FILE: &str = "Condition-Example-JP-Condition-eCS-01.json";
const COND: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS";

fn validator() -> Option<&'static Validator> {
    // Before the cache: each test that skips prints its own line, not only the first.
    crate::test_data::path_or_skip("")?;
    static V: OnceLock<Option<Validator>> = OnceLock::new();
    V.get_or_init(|| {
        Some(Validator::with_packages(packages()?, Arc::new(NoTerminology), false).unwrap())
    })
    .as_ref()
}

/// The issues of `file` with `mutate` applied; the unmutated original has no error.
fn checked(file: &str, mutate: impl FnOnce(&mut Value)) -> Option<Vec<Issue>> {
    let validator = validator()?;
    let mut v = example(file)?;
    let before = validator.validate(&v, None, None);
    assert!(errors(&before).is_empty(), "{}", show(&errors(&before)));
    mutate(&mut v);
    let issues = validator.validate(&v, None, None);
    assert_all_speak_japanese(&issues);
    Some(issues)
}

fn at<'a>(issues: &'a [Issue], severity: IssueSeverity, expression: &str) -> Vec<&'a Issue> {
    issues
        .iter()
        .filter(|i| i.severity == severity && i.expression == [expression])
        .collect()
}

#[test]
fn a_declared_version_that_is_loaded_is_recorded_as_information_only() {
    // The official example declares `|1`, the business version of JP_Condition_eCS (its
    // package is 1.5.2).
    let Some(issues) = checked(COND_FILE, |_| {}) else {
        return;
    };
    let info = at(
        &issues,
        IssueSeverity::Information,
        "Condition.meta.profile[0]",
    );
    assert_eq!(info.len(), 1, "{}", show(&info));
    assert_eq!(info[0].code, IssueType::Informational);
    assert_eq!(
        info[0].diagnostics,
        format!("validated against {COND} version 1, declared as version 1")
    );
    assert!(at(&issues, IssueSeverity::Warning, "Condition.meta.profile[0]").is_empty());
}

#[test]
fn a_declared_version_that_is_not_loaded_is_a_warning_and_the_loaded_one_is_used() {
    let issues = checked(COND_FILE, |v| {
        v["meta"]["profile"] = json!([format!("{COND}|1.5.2")]);
    });
    let Some(issues) = issues else { return };
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    let warnings = at(&issues, IssueSeverity::Warning, "Condition.meta.profile[0]");
    assert_eq!(warnings.len(), 1, "{}", show(&warnings));
    assert_eq!(warnings[0].code, IssueType::NotFound);
    assert!(warnings[0].diagnostics.contains("version 1.5.2"));
    let info = at(
        &issues,
        IssueSeverity::Information,
        "Condition.meta.profile[0]",
    );
    assert_eq!(
        info[0].diagnostics,
        format!(
            "validated against {COND} version 1, declared as version 1.5.2 (version 1.5.2 is not loaded)"
        )
    );
}

#[test]
fn the_loaded_profile_still_finds_the_defects_when_the_version_differs() {
    let issues = checked(COND_FILE, |v| {
        v["meta"]["profile"] = json!([format!("{COND}|2")]);
        v.as_object_mut().unwrap().remove("code");
    });
    let Some(issues) = issues else { return };
    assert!(
        errors(&issues)
            .iter()
            .any(|i| i.source.as_deref() == Some(&format!("{COND}#Condition.code"))),
        "{}",
        show(&errors(&issues))
    );
}

#[test]
fn a_release_with_a_label_is_the_release_declared() {
    let patient = json!({
        "resourceType": "Patient",
        "meta": {"profile": ["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient|1.1.2"]},
        "name": [{"text": "牧野 爛漫"}]
    });
    let Some(validator) = validator() else { return };
    let issues = validator.validate(&patient, None, None);
    let warnings = at(&issues, IssueSeverity::Warning, "Patient.meta.profile[0]");
    assert!(warnings.is_empty(), "{}", show(&warnings));
}

#[test]
fn a_partial_version_of_the_loaded_one_is_information_only() {
    // JP-Core profiles carry no version of their own: their package's (1.1.2-url) stands in.
    let patient = json!({
        "resourceType": "Patient",
        "meta": {"profile": ["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient|1.1"]},
        "name": [{"text": "牧野 爛漫"}]
    });
    let Some(validator) = validator() else { return };
    let issues = validator.validate(&patient, None, None);
    assert!(at(&issues, IssueSeverity::Warning, "Patient.meta.profile[0]").is_empty());
    let info = at(
        &issues,
        IssueSeverity::Information,
        "Patient.meta.profile[0]",
    );
    assert!(
        info.iter().any(|i| i.diagnostics.ends_with(
            "version 1.1.2-url, declared as version 1.1 (1.1 read as a partial version)"
        )),
        "{}",
        show(&info)
    );
}

#[test]
fn the_packages_loaded_for_validation_give_the_same_outcomes_as_the_full_ones() {
    let (Some(full), Some(dir)) = (validator(), data("examples/clins")) else {
        return;
    };
    let options = ValidatorOptions {
        packages: PACKAGES
            .iter()
            .map(|p| data(&format!("packages/{p}")).unwrap())
            .collect(),
        ..ValidatorOptions::default()
    };
    let lean = Validator::with_packages(
        Arc::clone(&Validator::load_contexts(&options).unwrap()[0].packages),
        Arc::new(NoTerminology),
        false,
    )
    .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 50);
    for f in files {
        let v = read_json(&f);
        assert_eq!(
            lean.validate(&v, None, None),
            full.validate(&v, None, None),
            "{}",
            f.display()
        );
    }
}
