//! Validation over HTTP ($validate, and every write) and on the command line (`kyoyu validate`).

use crate::common;

use std::process::Command;

use common::{Backend, FHIR_JSON, Options, TestServer, first_issue};
use serde_json::{Value, json};

use common::cli::BIN;

/// A transaction refused with 422, its first issue at `at`, and no `stored_type` stored.
fn refused_whole(srv: &TestServer, transaction: &Value, at: &str, stored_type: &str) {
    let r = srv.post("", transaction);
    assert_eq!(r.status(), 422);
    assert_eq!(first_issue(&r.json().unwrap())["expression"][0], at);
    assert_eq!(srv.search(stored_type)["total"], 0);
}

fn bad_patient() -> Value {
    json!({"resourceType": "Patient", "birthDate": "1970-13-45"})
}

backend_test!(
    validate_answers_200_with_the_issues_and_stores_nothing,
    |srv| {
        let r = srv.post("Patient/$validate", &bad_patient());
        assert_eq!(r.status(), 200);
        let outcome: Value = r.json().unwrap();
        let issue = first_issue(&outcome);
        assert_eq!(issue["severity"], "error");
        assert_eq!(issue["expression"][0], "Patient.birthDate");
        // The Parameters form, at system level.
        let params = json!({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": common::example("patient.json")}]});
        let outcome: Value = srv.post("$validate", &params).json().unwrap();
        assert!(
            outcome["issue"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["severity"] != "error"),
            "{outcome}"
        );
        // Type level with a resource of another type.
        let outcome: Value = srv
            .post("Observation/$validate", &common::example("patient.json"))
            .json()
            .unwrap();
        assert_eq!(first_issue(&outcome)["severity"], "error");
        assert_eq!(srv.search("Patient")["total"], 0);
    }
);

backend_test!(
    a_write_with_validation_errors_is_rejected_whole_with_422,
    |srv| {
        let r = srv.post("Patient", &bad_patient());
        assert_eq!(r.status(), 422);
        assert_eq!(
            first_issue(&r.json().unwrap())["expression"][0],
            "Patient.birthDate"
        );
        let r = srv.put(
            "Patient/p1",
            &json!({"resourceType": "Patient", "id": "p1", "gender": 3}),
        );
        assert_eq!(r.status(), 422);
        // In a transaction the location names the entry.
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:b", "resource": bad_patient(), "request": {"method": "POST", "url": "Patient"}}
        ]});
        refused_whole(
            &srv,
            &bundle,
            "Bundle.entry[1].resource.birthDate",
            "Patient",
        );
    }
);

backend_test!(an_unknown_profile_is_a_warning_not_a_refusal, |srv| {
    let mut patient = common::example("patient.json");
    patient["meta"] =
        json!({"profile": ["http://example.org/fhir/StructureDefinition/not-loaded|2.0"]});
    let outcome: Value = srv.post("Patient/$validate", &patient).json().unwrap();
    let issue = first_issue(&outcome);
    assert_eq!(issue["severity"], "warning");
    assert_eq!(issue["expression"][0], "Patient.meta.profile[0]");
    assert_eq!(srv.post("Patient", &patient).status(), 201);
});

#[test]
fn validation_on_write_can_be_switched_off() {
    let srv = TestServer::start_with(
        Backend::Sqlite,
        Options {
            configure: Box::new(|a| a.validate_on_write = Some(false)),
            ..Default::default()
        },
    );
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .body(bad_patient().to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[test]
fn the_validate_command_exits_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, common::example("patient.json").to_string()).unwrap();
    let out = common::cli::validate_without_store()
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, bad_patient().to_string()).unwrap();
    let out = common::cli::validate_without_store()
        .args(["--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.as_array().unwrap().len(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("validated 2 files: 1 with errors"));
    let out = Command::new(BIN).args(["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args([
            "validate",
            "--profiles",
            "/nonexistent",
            "--package",
            "/nonexistent.tgz",
        ])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_official_jp_clins_examples_validate_and_the_error_example_fails_from_the_command_line() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
    common::require_shared_data();
    let packages = [
        "hl7.fhir.r4.core-4.0.1.tgz",
        "jp-core.r4-1.1.2-url.tgz",
        "jp-clins.r4-1.5.2-snap.tgz",
    ];
    let mut cmd = common::cli::validate_without_store();
    cmd.args(["--format", "json"]);
    for p in packages {
        cmd.arg("--package").arg(format!("{shared}/packages/{p}"));
    }
    let out = cmd
        .arg(format!("{shared}/examples/clins"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = report.as_array().unwrap();
    assert_eq!(files.len(), 50);
    // The one intentional error (a generic-name code not in the 一般名処方マスタ) is found with
    // the master shipped in codesets/, no import needed.
    for f in files {
        let errors: Vec<&Value> = f["outcome"]["issue"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["severity"] == "error")
            .collect();
        if f["file"].as_str().unwrap().contains("ErrorExample") {
            assert!(
                !errors.is_empty()
                    && errors
                        .iter()
                        .all(|e| e.to_string().contains("2124030F2ZZZ")),
                "{}: {errors:?}",
                f["file"]
            );
        } else {
            assert!(errors.is_empty(), "{}: {errors:?}", f["file"]);
        }
    }
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_validation_benchmark_reports_clean_bundles() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
    common::require_shared_data();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "bench",
        "validate",
        "--iterations",
        "3",
        "--duration-secs",
        "0.2",
    ])
    .arg("--bundle")
    .arg(format!(
        "{shared}/examples/clins/Bundle-Bundle-CLINS-Observations-Example-01.json"
    ));
    for p in [
        "hl7.fhir.r4.core-4.0.1.tgz",
        "jp-core.r4-1.1.2-url.tgz",
        "jp-clins.r4-1.5.2-snap.tgz",
    ] {
        cmd.arg("--package").arg(format!("{shared}/packages/{p}"));
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("bundle: Patient + 20 Observations"))
        .unwrap();
    assert!(
        line.trim_end().ends_with(" 0"),
        "the grown bundle must stay valid: {line}"
    );
    assert!(text.contains("bundles/s"));
}

/// The issues of `outcome` with `severity` located at `at`, their texts joined.
fn issues_at(outcome: &Value, severity: &str, at: &str) -> String {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == severity && i["expression"][0] == at)
        .map(|i| i["diagnostics"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

backend_test!(narrative_rules_name_the_div_and_the_status, |srv| {
    let mut patient = common::example("patient.json");
    patient["text"] = json!({"status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>山田<script>alert(1)</script></p></div>"});
    let outcome: Value = srv.post("Patient/$validate", &patient).json().unwrap();
    let found = issues_at(&outcome, "error", "Patient.text.div");
    assert!(found.contains("<script> is not allowed"), "{outcome}");
    patient["text"] = json!({"status": "drafted",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>山田&#160;太郎</p></div>"});
    let outcome: Value = srv.post("Patient/$validate", &patient).json().unwrap();
    assert!(
        issues_at(&outcome, "error", "Patient.text.div").is_empty(),
        "{outcome}"
    );
    assert!(
        issues_at(&outcome, "error", "Patient.text.status").contains("drafted"),
        "{outcome}"
    );
    assert_eq!(srv.post("Patient", &patient).status(), 422);
});

backend_test!(
    bundle_validate_resolves_document_and_urn_references_inside_the_bundle,
    |srv| {
        let uuid = |n: u32| format!("urn:uuid:9b2c0c1e-0000-4000-8000-{n:012}");
        let document = json!({"resourceType": "Bundle", "type": "document",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": uuid(99)},
        "timestamp": "2024-04-01T10:00:00+09:00",
        "entry": [
            {"fullUrl": uuid(1), "resource": {"resourceType": "Composition", "status": "final",
                "type": {"text": "referral"}, "date": "2024-04-01", "title": "referral",
                "subject": {"reference": uuid(2)}, "author": [{"reference": "Practitioner/elsewhere"}]}},
            {"fullUrl": uuid(2), "resource": {"resourceType": "Patient",
                "generalPractitioner": [{"reference": uuid(3)}]}},
            {"fullUrl": "Organization/1", "resource": {"resourceType": "Organization", "id": "1"}}
        ]});
        let r = srv.post("Bundle/$validate", &document);
        assert_eq!(r.status(), 200);
        let outcome: Value = r.json().unwrap();
        for (at, text) in [
            (
                "Bundle.entry[0].resource.author[0].reference",
                "is not in the document",
            ),
            (
                "Bundle.entry[1].resource.generalPractitioner[0].reference",
                "resolves to no entry of the Bundle",
            ),
            ("Bundle.entry[2].fullUrl", "is not absolute"),
            ("Bundle.entry[2]", "is not reached from the Composition"),
        ] {
            assert!(
                issues_at(&outcome, "error", at).contains(text),
                "{at}: {text}\n{outcome}"
            );
        }
        // A transaction whose urn: reference finds no entry is refused and stores nothing.
        let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": uuid(4), "resource": {"resourceType": "Observation", "status": "final",
                "code": {"text": "K"}, "subject": {"reference": uuid(5)}},
             "request": {"method": "POST", "url": "Observation"}}]});
        let at = "Bundle.entry[0].resource.subject.reference";
        refused_whole(&srv, &transaction, at, "Observation");
    }
);

backend_test!(
    a_literal_reference_to_a_type_the_element_does_not_allow_is_refused,
    |srv| {
        let obs = |subject: &str| {
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
                   "subject": {"reference": subject}})
        };
        let r = srv.post("Observation", &obs("Practitioner/123"));
        assert_eq!(r.status(), 422);
        let outcome: Value = r.json().unwrap();
        let text = issues_at(&outcome, "error", "Observation.subject.reference");
        assert!(
            text.contains("Patient, Group, Device, Location"),
            "{outcome}"
        );
        let r = srv.post("Observation", &obs("http://example.org/fhir/Patient/1"));
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    }
);

backend_test!(
    a_questionnaire_response_is_checked_against_its_contained_questionnaire,
    |srv| {
        let qr = |answer: Value| {
            json!({"resourceType": "QuestionnaireResponse", "status": "completed",
                   "questionnaire": "#q",
                   "contained": [{"resourceType": "Questionnaire", "id": "q", "status": "active",
                                  "item": [{"linkId": "age", "type": "integer", "required": true}]}],
                   "item": [{"linkId": "age", "answer": [answer]}]})
        };
        let outcome: Value = srv
            .post(
                "QuestionnaireResponse/$validate",
                &qr(json!({"valueString": "forty"})),
            )
            .json()
            .unwrap();
        let at = "QuestionnaireResponse.item[0].answer[0].valueString";
        assert!(
            issues_at(&outcome, "error", at).contains("valueInteger"),
            "{outcome}"
        );
        let r = srv.post("QuestionnaireResponse", &qr(json!({"valueInteger": 40})));
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    }
);

const SMOKING: &str = "http://kyoyu.test/Questionnaire/smoking";

/// A Questionnaire stored on the server: one required boolean question.
fn smoking_questionnaire(version: &str) -> Value {
    json!({"resourceType": "Questionnaire", "url": SMOKING, "version": version,
           "status": "active",
           "item": [{"linkId": "smoker", "type": "boolean", "required": true, "text": "smoker"}]})
}

fn smoking_response(canonical: &str, answer: Value) -> Value {
    json!({"resourceType": "QuestionnaireResponse", "questionnaire": canonical,
           "status": "completed",
           "item": [{"linkId": "smoker", "text": "smoker", "answer": [answer]}]})
}

fn errors(outcome: &Value) -> Vec<&Value> {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "error")
        .collect()
}

backend_test!(
    a_response_is_checked_against_the_questionnaire_the_server_holds,
    |srv| {
        let wrong = |canonical: &str| smoking_response(canonical, json!({"valueString": "yes"}));
        let validate = |body: &Value| -> Value {
            let r = srv.post("QuestionnaireResponse/$validate", body);
            assert_eq!(r.status(), 200);
            r.json().unwrap()
        };
        let not_found = |outcome: &Value| {
            assert!(errors(outcome).is_empty(), "{outcome}");
            let text = issues_at(outcome, "warning", "QuestionnaireResponse.questionnaire");
            assert!(text.contains("could not be found"), "{outcome}");
        };
        let answer_at = "QuestionnaireResponse.item[0].answer[0].valueString";
        // Nothing stored yet: the Questionnaire is unknown, which only warns.
        not_found(&validate(&wrong(SMOKING)));
        let stored = srv.create(&smoking_questionnaire("1"));
        // Stored: the answer of the wrong type is found, on $validate and on POST.
        let outcome = validate(&wrong(SMOKING));
        assert!(
            issues_at(&outcome, "error", answer_at).contains("valueBoolean"),
            "{outcome}"
        );
        let r = srv.post("QuestionnaireResponse", &wrong(SMOKING));
        assert_eq!(r.status(), 422);
        assert_eq!(first_issue(&r.json().unwrap())["expression"][0], answer_at);
        let right = smoking_response(SMOKING, json!({"valueBoolean": false}));
        let r = srv.post("QuestionnaireResponse", &right);
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        // A pinned version is that version or unknown.
        assert_eq!(errors(&validate(&wrong(&format!("{SMOKING}|1")))).len(), 1);
        not_found(&validate(&wrong(&format!("{SMOKING}|2"))));
        // In a Bundle's entry too.
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": wrong(SMOKING), "request": {"method": "POST", "url": "QuestionnaireResponse"}}]});
        let outcome: Value = srv.post("Bundle/$validate", &batch).json().unwrap();
        let at = "Bundle.entry[0].resource.item[0].answer[0].valueString";
        assert!(!issues_at(&outcome, "error", at).is_empty(), "{outcome}");
        // Deleted, it is unknown again.
        let id = stored["id"].as_str().unwrap();
        assert!(
            srv.delete(&format!("Questionnaire/{id}"))
                .status()
                .is_success()
        );
        not_found(&validate(&wrong(SMOKING)));
    }
);
