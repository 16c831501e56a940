//! One verdict: every submission-rule case (the cases of the report-unit and document rule tests,
//! built on the official examples) gets the same errors from `POST [base]/Bundle`, from
//! `$validate` and from `kyoyu validate`, with the Japanese profiles loaded.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use common::documents::{
    MEMBER_ID, SHARED, checkup, discharge_summary, jp_server, referral, referral_with_discharge,
};
use common::{FHIR_JSON, TestServer};
use serde_json::{Value, json};

const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
const TAG: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
const SECTIONS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

fn read(name: &str) -> Value {
    let path = format!("{SHARED}/examples/clins/{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the tests need ../shared/data)"));
    serde_json::from_str(&text).unwrap()
}

fn unit() -> Value {
    read("Bundle-Bundle-CLINS-Observations-Example-01.json")
}

fn edited(mut v: Value, edit: impl FnOnce(&mut Value)) -> Value {
    edit(&mut v);
    v
}

fn flag(code: &str) -> Value {
    json!([{"system": FLAGS, "code": code}])
}

fn entries(v: &mut Value) -> &mut Vec<Value> {
    v["entry"].as_array_mut().unwrap()
}

fn sections(v: &mut Value) -> &mut Vec<Value> {
    v["entry"][0]["resource"]["section"].as_array_mut().unwrap()
}

fn section(code: &str) -> Value {
    json!({"title": code, "code": {"coding": [{"system": SECTIONS, "code": code}]}, "text": {
        "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})
}

/// The rule cases: each breaks one rule of the report-unit or document tests.
fn refused() -> Vec<(&'static str, Value)> {
    let u = unit;
    let r = referral;
    vec![
        (
            "unit-lts-on-lab",
            edited(u(), |b| {
                b["entry"][1]["resource"]["meta"]["tag"] = flag("LTS")
            }),
        ),
        (
            "unit-uninformed-on-lab",
            edited(u(), |b| {
                b["entry"][2]["resource"]["meta"]["tag"] = flag("UNINFORMED")
            }),
        ),
        (
            "unit-unknown-flag",
            edited(u(), |b| {
                b["entry"][1]["resource"]["meta"]["tag"] = flag("SECRET")
            }),
        ),
        (
            "unit-no-member-identifier",
            edited(u(), |b| b["entry"][0]["resource"]["identifier"] = json!([])),
        ),
        (
            "unit-two-member-identifiers",
            edited(u(), |b| {
                b["entry"][0]["resource"]["identifier"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({
                "system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID",
                "value": "12345678::1234567:"}));
            }),
        ),
        (
            "unit-not-a-collection",
            edited(u(), |b| b["type"] = json!("batch")),
        ),
        (
            "unit-untagged",
            edited(u(), |b| b["meta"]["tag"] = json!([])),
        ),
        (
            "unit-tag-names-another-type",
            edited(u(), |b| b["meta"]["tag"][0]["code"] = json!("Condition")),
        ),
        (
            "unit-tag-not-clinical",
            edited(u(), |b| {
                b["meta"]["tag"][0]["code"] = json!("MedicationRequest")
            }),
        ),
        (
            "unit-two-tags",
            edited(u(), |b| {
                b["meta"]["tag"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"system": TAG, "code": "Condition"}));
            }),
        ),
        (
            "unit-patient-not-first",
            edited(u(), |b| entries(b).swap(0, 1)),
        ),
        (
            "unit-second-patient",
            edited(u(), |b| {
                let mut p = b["entry"][0].clone();
                p["fullUrl"] = json!("urn:uuid:00000000-0000-4000-8000-00000000beef");
                entries(b).push(p);
            }),
        ),
        (
            "unit-subject-elsewhere",
            edited(u(), |b| {
                b["entry"][1]["resource"]["subject"]["reference"] = json!("Patient/someone-else");
            }),
        ),
        (
            "unit-no-clinical-entry",
            edited(u(), |b| entries(b).truncate(1)),
        ),
        (
            "unit-bad-bundle-id",
            edited(u(), |b| {
                b["identifier"]["value"] = json!("1318814790^2199^x")
            }),
        ),
        (
            "unit-no-bundle-id",
            edited(u(), |b| {
                b.as_object_mut().unwrap().remove("identifier");
            }),
        ),
        (
            "referral-without-addressee-section",
            edited(r(), |d| {
                sections(d).remove(1);
            }),
        ),
        (
            "referral-addressee-number-too-short",
            edited(r(), |d| {
                d["entry"][6]["resource"]["identifier"][0]["value"] = json!("13112345");
            }),
        ),
        (
            "referral-addressee-without-number",
            edited(r(), |d| {
                d["entry"][6]["resource"]
                    .as_object_mut()
                    .unwrap()
                    .remove("identifier");
            }),
        ),
        (
            "referral-cda-and-structured",
            edited(r(), |d| sections(d).push(section("200"))),
        ),
        (
            "referral-neither-cda-nor-structured",
            edited(r(), |d| {
                sections(d).remove(2);
            }),
        ),
        (
            "referral-composition-rules",
            edited(r(), |d| {
                let c = &mut d["entry"][0]["resource"];
                c["status"] = json!("preliminary");
                c.as_object_mut().unwrap().remove("extension");
                c["identifier"]["system"] = json!("http://example.org/ids");
                c["type"]["coding"][0]["code"] = json!("53576-5");
            }),
        ),
        (
            "referral-not-a-document",
            edited(r(), |d| d["type"] = json!("collection")),
        ),
        (
            "referral-extracted-condition-elsewhere",
            edited(r(), |d| {
                d["entry"][8]["resource"]["subject"]["reference"] = json!("urn:uuid:someone-else");
            }),
        ),
        (
            "referral-flag-on-an-allergy",
            edited(r(), |d| {
                d["entry"][13]["resource"]["meta"]["tag"] = flag("UNINFORMED");
            }),
        ),
        ("discharge-summary-alone", discharge_summary(&referral())),
        (
            "discharge-summary-unreferenced",
            edited(referral_with_discharge(), |d| {
                sections(d).pop();
            }),
        ),
        (
            "discharge-summary-of-another-patient",
            edited(referral_with_discharge(), |d| {
                let last = entries(d).len() - 1;
                let patient = &mut d["entry"][last]["resource"]["entry"][1]["resource"];
                for id in patient["identifier"].as_array_mut().unwrap() {
                    if id["system"] == MEMBER_ID {
                        id["value"] = json!("00012345:other:1:01");
                    }
                }
            }),
        ),
        (
            "checkup-both-attachment-forms",
            edited(checkup(), |d| {
                sections(d).push(section("01995"));
                sections(d).push(section("01920"));
            }),
        ),
    ]
}

/// Cases a submission accepts, some with warnings (DESIGN §4: stray types are discarded).
fn accepted() -> Vec<(&'static str, Value)> {
    vec![
        ("unit", unit()),
        (
            "unit-with-a-stray-encounter",
            edited(unit(), |b| {
                entries(b).push(
                    json!({"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000e1",
                "resource": read("Encounter-Example-JP-Encounter-eCS-01.json")}),
                );
            }),
        ),
        ("referral", referral()),
        ("referral-with-discharge-summary", referral_with_discharge()),
    ]
}

/// The errors of an OperationOutcome, comparable: (code, expression, diagnostics, source).
fn errors(outcome: &Value) -> Vec<(String, String, String, String)> {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    let field = |i: &Value, k: &str| i[k].as_str().unwrap_or_default().to_string();
    let mut found: Vec<_> = outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")))
        .map(|i| {
            let at: Vec<&str> = i["expression"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (
                field(i, "code"),
                at.join(","),
                field(i, "diagnostics"),
                field(i, "source"),
            )
        })
        .collect();
    found.sort();
    found
}

fn validate(srv: &TestServer, bundle: &Value) -> Value {
    let r = srv.post("Bundle/$validate", bundle);
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// `kyoyu validate --format json` over files named after the cases: outcome by case name.
fn command_line(cases: &[(&str, Value)]) -> BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bundle) in cases {
        std::fs::write(dir.path().join(format!("{name}.json")), bundle.to_string()).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyoyu"));
    cmd.args([
        "validate",
        "--format",
        "json",
        "--package-store",
        "/nonexistent",
        "--profiles",
        "/nonexistent",
    ]);
    for p in common::JP_PACKAGES {
        cmd.arg("--package").arg(format!("{SHARED}/packages/{p}"));
    }
    let out = cmd
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    list.into_iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let name = std::path::Path::new(file).file_stem().unwrap();
            (name.to_string_lossy().to_string(), r["outcome"].clone())
        })
        .collect()
}

backend_test!(
    every_submission_rule_gives_post_validate_and_the_command_line_the_same_errors,
    |srv| {
        let srv = jp_server(srv.backend);
        let refused = refused();
        let accepted = accepted();
        let cli = command_line(&[refused.as_slice(), accepted.as_slice()].concat());
        for (name, bundle) in &refused {
            let verdict = validate(&srv, bundle);
            let expected = errors(&verdict);
            assert!(
                !expected.is_empty(),
                "{name}: $validate found no error: {verdict}"
            );
            let r = srv.post("Bundle", bundle);
            assert_eq!(r.status(), 422, "{name}");
            let refusal: Value = r.json().unwrap();
            assert_eq!(
                errors(&refusal),
                expected,
                "{name}: POST and $validate differ"
            );
            assert_eq!(
                errors(&cli[*name]),
                expected,
                "{name}: kyoyu validate and $validate differ"
            );
        }
        for (name, bundle) in &accepted {
            let verdict = validate(&srv, bundle);
            assert_eq!(errors(&verdict), [], "{name}");
            assert_eq!(errors(&cli[*name]), [], "{name}");
            let r = srv
                .client
                .post(srv.url("Bundle"))
                .header("content-type", FHIR_JSON)
                .header("prefer", "return=OperationOutcome")
                .body(bundle.to_string())
                .send()
                .unwrap();
            assert!(r.status().is_success(), "{name}: {}", r.status());
        }
    }
);

backend_test!(validate_names_the_rules_that_need_the_store, |srv| {
    let srv = jp_server(srv.backend);
    let verdict = validate(&srv, &referral());
    let unchecked: Vec<&str> = verdict["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "information")
        .filter_map(|i| i["diagnostics"].as_str())
        .filter(|d| d.starts_with("not checked without the store"))
        .collect();
    assert!(
        unchecked.iter().any(|d| d.contains("newer version")),
        "{verdict}"
    );
    // And it stored nothing.
    assert_eq!(srv.search("Bundle")["total"], 0);
});
