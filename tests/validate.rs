//! Validation over HTTP ($validate, and every write) and on the command line (`kyoyu validate`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{Backend, FHIR_JSON, Options, TestServer, first_issue};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");

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
        let r = srv.post("", &bundle);
        assert_eq!(r.status(), 422);
        assert_eq!(
            first_issue(&r.json().unwrap())["expression"][0],
            "Bundle.entry[1].resource.birthDate"
        );
        assert_eq!(srv.search("Patient")["total"], 0);
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
    let out = Command::new(BIN)
        .args([
            "validate",
            "--package-store",
            "/nonexistent",
            "--profiles",
            "/nonexistent",
        ])
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
    let out = Command::new(BIN)
        .args([
            "validate",
            "--package-store",
            "/nonexistent",
            "--profiles",
            "/nonexistent",
            "--format",
            "json",
        ])
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
    let mut cmd = Command::new(BIN);
    cmd.args([
        "validate",
        "--package-store",
        "/nonexistent",
        "--profiles",
        "/nonexistent",
        "--format",
        "json",
    ]);
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
