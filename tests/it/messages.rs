//! What operators read in an OperationOutcome: the service rule number of a broken JP-CLINS
//! rule as a `details.coding`, and the texts in Japanese when the client asks for them
//! (`Accept-Language`, `kyoyu validate --language ja`), English otherwise.

use crate::common;

use std::process::Command;

use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");
const RULE_SYSTEM: &str = "http://kyoyu.example/fhir/CodeSystem/clins-rule";
const BUNDLE: &str = "examples/clins/Bundle-Bundle-CLINS-Observations-Example-01.json";
const DEPARTMENT: &str =
    "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department";

fn jp_server(backend: Backend) -> TestServer {
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(common::with_jp_packages),
            ..Options::default()
        },
    )
}

/// The official Observation unit with its first result stripped of the department extension:
/// JP-CLINS rule R9014O (`observation-needs-extension-of-Department`).
fn unit_without_department() -> Value {
    let text = std::fs::read_to_string(common::shared_data(BUNDLE)).unwrap();
    let mut bundle: Value = serde_json::from_str(&text).unwrap();
    bundle["entry"][1]["resource"]["extension"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["url"] != DEPARTMENT);
    bundle
}

fn post(srv: &TestServer, body: &Value, language: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = srv
        .client
        .post(srv.url("Bundle"))
        .header("content-type", common::FHIR_JSON)
        .body(body.to_string());
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let r = request.send().unwrap();
    let status = r.status().as_u16();
    let content_language = r
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_string());
    (status, content_language, r.json().unwrap())
}

fn issue_with_rule<'a>(outcome: &'a Value, number: &str) -> &'a Value {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["details"]["coding"][0]["code"] == number)
        .unwrap_or_else(|| panic!("no issue with rule {number}: {outcome}"))
}

/// `diagnostics` in the language asked; `details.text` the rule's own words as JP-CLINS wrote
/// them, the same in every language.
fn assert_diagnostics_and_ig_text(issue: &Value, diagnostics: &str) {
    let said = issue["diagnostics"].as_str().unwrap();
    assert!(said.starts_with(diagnostics), "{issue}");
    let text = issue["details"]["text"].as_str().unwrap();
    assert!(text.starts_with("R9014O:"), "{issue}");
}

fn has_japanese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

backend_test!(a_refused_unit_names_the_service_rule_it_breaks, |srv| {
    common::require_shared_data();
    let srv = jp_server(srv.backend);
    let (status, language, outcome) = post(&srv, &unit_without_department(), None);
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(language, None, "English answers are not marked");
    let issue = issue_with_rule(&outcome, "R9014O");
    let coding = &issue["details"]["coding"][0];
    assert_eq!(coding["system"], RULE_SYSTEM);
    assert!(
        coding["display"].as_str().unwrap().contains("診療科拡張"),
        "{issue}"
    );
    assert_diagnostics_and_ig_text(
        issue,
        "constraint observation-needs-extension-of-Department failed",
    );
});

backend_test!(the_same_refusal_is_told_in_japanese_to_who_asks, |srv| {
    common::require_shared_data();
    let srv = jp_server(srv.backend);
    let unit = unit_without_department();
    let (status, language, outcome) = post(&srv, &unit, Some("ja,en;q=0.8"));
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(language.as_deref(), Some("ja"));
    let issue = issue_with_rule(&outcome, "R9014O");
    assert_diagnostics_and_ig_text(issue, "制約 observation-needs-extension-of-Department");
    // English stays the answer for other preferences.
    for other in ["en", "fr, de;q=0.5", "en,ja;q=0.5"] {
        let (status, language, outcome) = post(&srv, &unit, Some(other));
        assert_eq!(status, 422);
        assert_eq!(language, None, "{other}");
        let diagnostics = issue_with_rule(&outcome, "R9014O")["diagnostics"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            diagnostics.starts_with("constraint "),
            "{other}: {diagnostics}"
        );
    }
});

backend_test!(hand_checked_service_rules_carry_their_number, |srv| {
    common::require_shared_data();
    let text = std::fs::read_to_string(common::shared_data(BUNDLE)).unwrap();
    let mut unit: Value = serde_json::from_str(&text).unwrap();
    unit["entry"].as_array_mut().unwrap().swap(0, 1);
    let (status, _, outcome) = post(&srv, &unit, Some("ja"));
    assert_eq!(status, 422, "{outcome}");
    let issue = issue_with_rule(&outcome, "R0211");
    assert_eq!(issue["expression"][0], "Bundle.entry[0].resource");
    assert!(
        has_japanese(issue["diagnostics"].as_str().unwrap()),
        "{issue}"
    );
    let (_, _, outcome) = post(&srv, &unit, None);
    let issue = issue_with_rule(&outcome, "R0211");
    assert_eq!(
        issue["diagnostics"],
        "the first entry of a 6-information Bundle is the Patient"
    );
});

backend_test!(not_found_and_method_not_allowed_speak_japanese, |srv| {
    let get = |path: &str, language: Option<&str>| {
        let mut request = srv.client.get(srv.url(path));
        if let Some(language) = language {
            request = request.header("accept-language", language);
        }
        request.send().unwrap()
    };
    let r = get("Patient/nope", Some("ja"));
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-language"], "ja");
    let outcome: Value = r.json().unwrap();
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "Patient/nope は存在しません"
    );
    assert_eq!(
        outcome["issue"][0]["details"]["text"],
        "Patient/nope は存在しません"
    );
    let r = get("Patient/nope", None);
    assert!(r.headers().get("content-language").is_none());
    let outcome: Value = r.json().unwrap();
    assert_eq!(
        outcome["issue"][0]["diagnostics"],
        "Patient/nope is not known"
    );

    let r = srv
        .client
        .post(srv.url("Patient/1"))
        .header("accept-language", "ja-JP")
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
    let outcome: Value = r.json().unwrap();
    let text = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(text.contains("POST") && has_japanese(text), "{outcome}");

    // In XML too, the language is the one asked for.
    let r = srv
        .client
        .get(srv.url("Patient/nope?_format=xml"))
        .header("accept-language", "ja")
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-language"], "ja");
    let xml = r.text().unwrap();
    assert!(xml.contains("Patient/nope は存在しません"), "{xml}");
});

backend_test!(a_stored_note_is_told_in_the_language_asked, |srv| {
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", common::FHIR_JSON)
        .header("prefer", "return=OperationOutcome")
        .header("accept-language", "ja")
        .body(json!({"resourceType": "Patient"}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-language"], "ja");
    let outcome: Value = r.json().unwrap();
    let text = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        text.ends_with("をバージョン 1 として作成しました"),
        "{text}"
    );
});

#[test]
fn the_validate_command_speaks_the_language_asked() {
    common::require_shared_data();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unit.json");
    std::fs::write(&file, unit_without_department().to_string()).unwrap();
    let run = |language: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["validate", "--package-store", "/nonexistent"]);
        for p in common::JP_PACKAGES {
            cmd.arg("--package")
                .arg(common::shared_data(&format!("packages/{p}")));
        }
        let out = cmd.args(language).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let japanese = run(&["--language", "ja"]);
    assert!(
        japanese.contains("制約 observation-needs-extension-of-Department を満たしていません"),
        "{japanese}"
    );
    assert!(japanese.contains("[R9014O]"), "{japanese}");
    let english = run(&[]);
    assert!(
        english.contains("constraint observation-needs-extension-of-Department failed"),
        "{english}"
    );
    assert!(!english.contains("を満たしていません"), "{english}");
    let json = run(&["--language", "ja", "--format", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    let issues = report[0]["outcome"]["issue"].as_array().unwrap();
    assert!(
        issues
            .iter()
            .any(|i| i["details"]["coding"][0]["code"] == "R9014O"),
        "{json}"
    );
    let out = Command::new(BIN)
        .args(["validate", "--language", "de"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
