//! Findings told in Japanese throughout with the real value-set engine: a narrative refused by
//! the XHTML rules and a code refused by its code system's syntax say nothing in English to a
//! client that asked for Japanese, and keep their English words for everyone else.

use serde_json::json;

use super::tests_mutations::vs_engine;
use super::tests_support::validate;
use crate::fhir::Issue;
use crate::messages::Language;
use crate::messages::tests::english_sentence;

/// The issues at `expression`, each in English and in Japanese.
fn told(issues: &[Issue], expression: &str) -> Vec<(String, String)> {
    issues
        .iter()
        .filter(|i| i.expression.iter().any(|e| e == expression))
        .map(|i| (i.text(Language::English), i.text(Language::Japanese)))
        .collect()
}

#[track_caller]
fn japanese_throughout(said: &[(String, String)], english: &str, japanese: &str) {
    assert_eq!(said.len(), 1, "{said:?}");
    let (en, ja) = &said[0];
    assert!(en.contains(english), "{en}");
    assert!(ja.contains(japanese), "{ja}");
    assert_eq!(english_sentence(ja), None, "English left in {ja}");
}

#[test]
fn a_narrative_and_a_code_syntax_finding_are_japanese_throughout() {
    let Some(engine) = vs_engine() else { return };
    let observation = json!({
        "resourceType": "Observation",
        "status": "final",
        "text": {"status": "generated",
            "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">山田</p></div>"},
        "code": {"coding": [{"system": "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
            "code": "3A01500000232910X"}]},
        "performer": [{"identifier": {
            "system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no",
            "value": "4811234567"}}]
    });
    let profile = "http://hl7.org/fhir/StructureDefinition/Observation";
    let issues = validate(engine, &observation, profile);
    japanese_throughout(
        &told(&issues, "Observation.text.div"),
        "has the event attribute 'onclick'",
        "<p> にイベント属性 'onclick' があります: ナラティブにスクリプトは使えません",
    );
    japanese_throughout(
        &told(&issues, "Observation.code.coding[0].code"),
        "JLAC10 code 3A01500000232910X: the result field (characters 16–17) must be 2 digits",
        "JLAC10 コード 3A01500000232910X: 結果識別（16〜17 文字目）は数字 2 桁でなければなりませんが、\"0X\" です",
    );
    japanese_throughout(
        &told(&issues, "Observation.performer[0].identifier.value"),
        "institution number 4811234567: the prefecture (characters 1–2) must be 01–47",
        "医療機関番号 4811234567: 都道府県番号（1〜2 文字目）は 01〜47 でなければなりませんが、\"48\" です",
    );
}
