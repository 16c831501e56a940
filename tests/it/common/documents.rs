//! Document fixtures and helpers for the CLINS document tests: the official referral, a
//! discharge summary attached to it, a checkup report, a minimal referral carrying given
//! entries, and the searches the tests repeat.

use std::sync::Arc;

use kyoyu::clock::FixedClock;
use serde_json::{Value, json};

use super::{Backend, Options, TestServer};

pub use super::SHARED;
pub const ADDRESSEE: &str = "1311234567";
/// The referral's sender (section 920), not its addressee.
pub const SENDER: &str = "1319876543";
pub const DOC_ID: &str = "1311234567-2021-12345678";
pub const MEMBER_ID: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
/// The categories a patient's viewing consent is given by (kyoyu's own CodeSystem).
pub const CONSENT_CATEGORY: &str = "urn:kyoyu:CodeSystem:consent-category";
/// The identifier system of insurer numbers (保険者番号).
pub const INSURER_SYSTEM: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber";
pub const RESOURCE_ID: &str = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
pub const CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
pub const VERSION: &str =
    "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";

pub fn referral() -> Value {
    let path = format!("{SHARED}/examples/clins/Bundle-Bundle-CLINS-Referral-Example-01.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn jp_server(backend: Backend) -> TestServer {
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(super::with_jp_packages),
            ..Options::default()
        },
    )
}

pub fn clocked_server(backend: Backend) -> (TestServer, Arc<FixedClock>) {
    // 2026-04-01T00:00:00Z
    let clock = Arc::new(FixedClock::at_micros(1_775_001_600_000_000));
    let srv = TestServer::start_with(
        backend,
        Options {
            clock: Some(clock.clone()),
            ..Options::default()
        },
    );
    (srv, clock)
}

pub fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

pub fn inbox(srv: &TestServer, institution: &str) -> Vec<String> {
    super::ids(&srv.search(&format!("Bundle?recipient={institution}")))
}

pub fn post_document(srv: &TestServer, doc: &Value, status: u16) -> Value {
    let r = srv.post("Bundle", doc);
    let got = r.status().as_u16();
    let body: Value = r.json().unwrap();
    assert_eq!(got, status, "{body}");
    body
}

pub fn patient_id(srv: &TestServer, doc: &Value) -> String {
    let member = doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .and_then(|p| {
            p["identifier"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["system"] == MEMBER_ID)
        })
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    let found = srv.search(&format!(
        "Patient?identifier={}",
        enc(&format!("{MEMBER_ID}|{member}"))
    ));
    assert_eq!(found["total"], 1, "{found}");
    found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The patient's stored resources of each extracted type.
pub fn extracted(srv: &TestServer, pid: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for t in [
        "Condition",
        "AllergyIntolerance",
        "Observation",
        "MedicationRequest",
    ] {
        for id in super::ids(&srv.search(&format!("{t}?patient={pid}&_count=100"))) {
            found.push((t.to_string(), id));
        }
    }
    found
}

/// What the document should have extracted: its (and its attachments') Conditions,
/// AllergyIntolerances, CLINS-coded lab Observations and MedicationRequests.
pub fn clinical_entries(doc: &Value) -> usize {
    doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .map(|r| match r["resourceType"].as_str().unwrap() {
            "Condition" | "AllergyIntolerance" | "MedicationRequest" => 1,
            "Observation" => r["code"]["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["system"].as_str())
                .any(|s| s.ends_with("_CoreLabo_CS") || s.ends_with("_InfectionLabo_CS"))
                as usize,
            "Bundle" => clinical_entries(r),
            _ => 0,
        })
        .sum()
}

pub fn set_version(doc: &mut Value, version: &str) {
    doc["entry"][0]["resource"]["extension"] = json!([{"url": VERSION, "valueString": version}]);
}

/// The official referral at version 2.0, without attachments and with new identifiers for its
/// conditions: a new version that replaces part of what version 1 contributed.
pub fn referral_version_2() -> Value {
    let mut v2 = referral();
    set_version(&mut v2, "2.0");
    for e in v2["entry"].as_array_mut().unwrap() {
        if e["resource"]["resourceType"] == "Condition" {
            let old = e["resource"]["identifier"][0]["value"].as_str().unwrap();
            e["resource"]["identifier"][0]["value"] = json!(format!("{old}-v2"));
        }
    }
    v2
}

/// A discharge summary of the referral's patient with a condition, a prescription and a lab
/// result (base R4 valid).
pub fn discharge_summary(referral: &Value) -> Value {
    let patient = referral["entry"][1]["resource"].clone();
    let pat = "urn:uuid:7f1d7f68-0000-4000-8000-000000000001";
    let entry = |n: u32, r: Value| json!({"fullUrl": format!("urn:uuid:7f1d7f68-0000-4000-8000-00000000000{n}"), "resource": r});
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary"]},
        "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": "1319876543^2024^dis-1"},
        "timestamp": "2024-05-01T10:00:00+09:00",
        "entry": [
            entry(9, json!({"resourceType": "Composition", "status": "final",
                "extension": [{"url": VERSION, "valueString": "1"}],
                "identifier": {"system": RESOURCE_ID, "value": "1319876543^2024^dis-1"},
                "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": "18842-5"}]},
                "subject": {"reference": pat}, "date": "2024-05-01T10:00:00+09:00",
                "author": [{"display": "退院時サマリー作成者"}], "title": "退院時サマリー",
                "section": [{"title": "退院時診断", "code": {"text": "344"},
                    "entry": [{"reference": "urn:uuid:7f1d7f68-0000-4000-8000-000000000002"}]}]})),
            entry(1, patient),
            entry(2, json!({"resourceType": "Condition", "subject": {"reference": pat},
                "identifier": [{"system": RESOURCE_ID, "value": "dis-c1"}], "code": {"text": "肺炎"}})),
            entry(3, json!({"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
                "identifier": [{"system": RESOURCE_ID, "value": "dis-rx1"}],
                "medicationCodeableConcept": {"text": "アモキシシリン"}, "subject": {"reference": pat},
                "authoredOn": "2024-04-30"})),
            entry(4, json!({"resourceType": "Observation", "status": "final",
                "identifier": [{"system": RESOURCE_ID, "value": "dis-o1"}],
                "code": {"coding": [{"system": CORE, "code": "ALB"}]}, "subject": {"reference": pat},
                "effectiveDateTime": "2024-04-29", "valueQuantity": {"value": 4.1, "unit": "g/dL"}})),
        ]
    })
}

/// The official referral with a discharge summary attached (section 210, entry bundleData).
pub fn referral_with_discharge() -> Value {
    let mut doc = referral();
    let summary = discharge_summary(&doc);
    let url = "urn:uuid:7f1d7f68-0000-4000-8000-0000000000aa";
    doc["entry"]
        .as_array_mut()
        .unwrap()
        .push(json!({"fullUrl": url, "resource": summary}));
    doc["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .push(json!({"title": "添付情報",
            "code": {"coding": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/document-section", "code": "210"}]},
            "entry": [{"reference": url}]}));
    doc
}

pub fn checkup() -> Value {
    let pat = "urn:uuid:0b5e7a34-0000-4000-8000-000000000001";
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral"]},
        "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": "1311234567^2024^ck-1"},
        "timestamp": "2024-06-10T09:00:00+09:00",
        "entry": [
            {"fullUrl": "urn:uuid:0b5e7a34-0000-4000-8000-000000000002", "resource": {
                "resourceType": "Composition", "status": "final",
                "extension": [{"url": VERSION, "valueString": "1.0"}],
                "identifier": {"system": RESOURCE_ID, "value": "1311234567^2024^ck-1"},
                "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": "53576-5"}]},
                "subject": {"reference": pat}, "date": "2024-06-10T09:00:00+09:00",
                "author": [{"display": "健診機関"}], "title": "健康診断結果報告書",
                "section": [{"title": "健診結果", "code": {"text": "01011"},
                    "entry": [{"reference": "urn:uuid:0b5e7a34-0000-4000-8000-000000000003"}]}]}},
            {"fullUrl": pat, "resource": {"resourceType": "Patient",
                "identifier": [{"system": MEMBER_ID, "value": "06123456:記号:番号:01"}]}},
            {"fullUrl": "urn:uuid:0b5e7a34-0000-4000-8000-000000000003", "resource": {
                "resourceType": "Observation", "status": "final", "code": {"text": "身長"},
                "subject": {"reference": pat}, "valueQuantity": {"value": 170.1, "unit": "cm"}}}
        ]
    })
}

/// A small referral (base R4 valid) from institution 1318814790 to 1311234567 whose structured
/// section lists `entries` (resources about `urn:uuid:…-0001`, the Patient), for tests that need
/// extracted resources of their own.
pub fn minimal_referral(document_id: &str, entries: Vec<Value>) -> Value {
    let pat = "urn:uuid:5d6c1a52-0000-4000-8000-000000000001";
    let url = |i: usize| format!("urn:uuid:5d6c1a52-0000-4000-8000-1{i:011}");
    let refs: Vec<Value> = (0..entries.len())
        .map(|i| json!({"reference": url(i)}))
        .collect();
    let mut all = vec![
        json!({"fullUrl": "urn:uuid:5d6c1a52-0000-4000-8000-000000000002", "resource": {
        "resourceType": "Composition", "status": "final",
        "extension": [{"url": VERSION, "valueString": "1"}],
        "identifier": {"system": RESOURCE_ID, "value": document_id},
        "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": "57133-1"}]},
        "subject": {"reference": pat}, "date": "2024-05-01T10:00:00+09:00",
        "author": [{"display": "紹介元医師"}], "title": "診療情報提供書",
        "section": [
            {"title": "紹介先情報", "code": {"coding": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/document-section", "code": "910"}]},
                "entry": [{"reference": "urn:uuid:5d6c1a52-0000-4000-8000-000000000003"}]},
            {"title": "構造情報", "code": {"coding": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/document-section", "code": "300"}]},
                "entry": refs}
        ]}}),
        json!({"fullUrl": pat, "resource": {"resourceType": "Patient",
            "identifier": [{"system": MEMBER_ID, "value": "00012345:記号:番号:01"}]}}),
        json!({"fullUrl": "urn:uuid:5d6c1a52-0000-4000-8000-000000000003", "resource": {
            "resourceType": "Organization",
            "identifier": [{"system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no", "value": ADDRESSEE}]}}),
    ];
    for (i, mut r) in entries.into_iter().enumerate() {
        let field = if r["resourceType"] == "AllergyIntolerance" {
            "patient"
        } else {
            "subject"
        };
        r[field] = json!({"reference": pat});
        all.push(json!({"fullUrl": url(i), "resource": r}));
    }
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral"]},
        "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": format!("1318814790^2024^{}", document_id.len())},
        "timestamp": "2024-05-01T10:00:00+09:00",
        "entry": all
    })
}
