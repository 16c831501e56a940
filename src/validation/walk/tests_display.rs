//! Displays through the walk with the real value-set engine: the official examples write
//! Japanese displays for HL7 codes (外来 for v3-ActCode AMB, "ambulatory"), which is
//! information; a display that is simply not the system's stays a warning.

use serde_json::json;

use super::tests_mutations::{mutated_vs, vs_engine};
use super::tests_support::{ecs, errors, example, expect, set, show, validate};
use crate::fhir::{IssueSeverity, IssueType};

const ENC_FILE: &str = "Encounter-Example-JP-Encounter-eCS-AMB-01.json";

fn enc() -> String {
    ecs("JP_Encounter_eCS")
}

#[test]
fn a_japanese_display_for_an_english_code_system_is_information() {
    let (Some(engine), Some(v)) = (vs_engine(), example(ENC_FILE)) else {
        return;
    };
    let issues = validate(engine, &v, &enc());
    assert!(errors(&issues).is_empty(), "{}", show(&errors(&issues)));
    let source = format!("{}#Encounter.class", enc());
    expect(
        &issues,
        IssueSeverity::Information,
        IssueType::Informational,
        "Encounter.class.display",
        &source,
    );
    let warned: Vec<_> = issues
        .iter()
        .filter(|i| {
            i.severity == IssueSeverity::Warning && i.expression == ["Encounter.class.display"]
        })
        .collect();
    assert!(warned.is_empty(), "{}", show(&warned));
}

#[test]
fn a_display_in_the_systems_language_that_is_not_its_own_stays_a_warning() {
    let issues = mutated_vs(ENC_FILE, &enc(), |v| {
        set(v, "/class/display", json!("outpatient"));
    });
    if let Some(issues) = issues {
        expect(
            &issues,
            IssueSeverity::Warning,
            IssueType::CodeInvalid,
            "Encounter.class.display",
            &format!("{}#Encounter.class", enc()),
        );
    }
}
