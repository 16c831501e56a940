//! Terminology masters end to end: `kyoyu codesets import` into the database of a running
//! server, which picks the import up and validates with it; a malformed file imports nothing.

use crate::common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

use common::cli::BIN;
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
const PACKAGES: [&str; 3] = [
    "hl7.fhir.r4.core-4.0.1.tgz",
    "jp-core.r4-1.1.2-url.tgz",
    "jp-clins.r4-1.5.2-snap.tgz",
];
const MED_ERROR: &str = "MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json";
const MED_OK: &str = "MedicationRequest-Example-JP-MedReq-PO-SID-28days.json";
const MED_CODE: &str = "MedicationRequest.medication.ofType(CodeableConcept).coding[0].code";

fn clins_example(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{SHARED}/examples/clins/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn jp_server(backend: Backend) -> TestServer {
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(|a| {
                common::with_jp_packages(a);
                a.terminology_refresh_secs = Some(0.2);
            }),
            ..Options::default()
        },
    )
}

/// The official Condition example with one more coding, and where that coding's code is.
fn condition_with(system: &str, code: &str) -> (Value, String) {
    let mut c = clins_example("Condition-Example-JP-Condition-eCS-01.json");
    let codings = c["code"]["coding"].as_array_mut().unwrap();
    let at = format!("Condition.code.coding[{}].code", codings.len());
    codings.push(json!({"system": system, "code": code}));
    (c, at)
}

fn codesets(db: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("codesets")
        .args(args)
        .args(["--database-url", db])
        .output()
        .unwrap()
}

fn issues(outcome: &Value) -> Vec<Value> {
    outcome["issue"].as_array().cloned().unwrap_or_default()
}

fn errors_at(outcome: &Value, expression: &str) -> Vec<String> {
    issues(outcome)
        .iter()
        .filter(|i| i["severity"] == "error" && i["expression"][0] == expression)
        .map(|i| i["diagnostics"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn validate(srv: &TestServer, resource: &Value) -> Value {
    let r = srv.post(
        &format!("{}/$validate", resource["resourceType"].as_str().unwrap()),
        resource,
    );
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

/// Waits (up to 20 s) for the server to answer as `done` says: the import lands through the
/// server's poll of the import log.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn an_import_reaches_the_running_server_and_a_bad_file_imports_nothing(backend: Backend) {
    common::require_shared_data();
    let srv = jp_server(backend);
    let db = srv.db.url.clone();
    // The MEDIS exchange codes are not shipped (their licence leaves them to the operator).
    let exchange_code = "http://medis.or.jp/CodeSystem/master-disease-exCode";
    let (_, at) = condition_with(exchange_code, "");
    let with_exchange_code = |code: &str| validate(&srv, &condition_with(exchange_code, code).0);

    // Without the master the code cannot be checked beyond its syntax.
    let before = with_exchange_code("ZZZ9");
    assert!(errors_at(&before, &at).is_empty(), "{before}");

    // A malformed file (a row with a missing column) stops the whole run: the good file given
    // with it is not stored.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("receipt_masterB_disease_codes.csv");
    std::fs::write(&bad, "code,display\n0000999,未コード化傷病名\n8848176\n").unwrap();
    let exchange = format!("{SHARED}/terminology/disease/MEDIS_disease_exchange_code_v5.11.csv");
    let out = codesets(&db, &["import", &exchange, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("receipt_masterB_disease_codes.csv:3:"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let listed = codesets(&db, &["list"]);
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).trim().is_empty());

    let out = codesets(&db, &["import", &exchange]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 1 code systems (26725 concepts)"),
        "{stdout}"
    );

    // The server swaps the new index in: the unknown code is now an error, a listed one fine.
    eventually("the imported master to be used", || {
        !errors_at(&with_exchange_code("ZZZ9"), &at).is_empty()
    });
    let messages = errors_at(&with_exchange_code("ZZZ9"), &at).join(" | ");
    assert!(messages.contains("ZZZ9"), "{messages}");
    let ok = with_exchange_code("A006");
    assert!(errors_at(&ok, &at).is_empty(), "{ok}");

    let listed = String::from_utf8_lossy(&codesets(&db, &["list"]).stdout).into_owned();
    assert!(
        listed.contains("CodeSystem http://medis.or.jp/CodeSystem/master-disease-exCode"),
        "{listed}"
    );
    assert!(listed.contains("26725 concepts"), "{listed}");
}

/// The 一般名処方 master is shipped: the official error example is refused with no import, as a
/// resource and inside a referral, whose validation names the code in its entry.
fn the_shipped_generic_name_master_refuses_the_error_example(backend: Backend) {
    common::require_shared_data();
    let srv = jp_server(backend);
    let error_example = clins_example(MED_ERROR);
    let messages = errors_at(&validate(&srv, &error_example), MED_CODE).join(" | ");
    assert!(messages.contains("2124030F2ZZZ"), "{messages}");
    let ok = validate(&srv, &clins_example(MED_OK));
    assert!(issues(&ok).iter().all(|i| i["severity"] != "error"), "{ok}");
    let referral =
        common::documents::minimal_referral("1318814790^2024^med", vec![error_example.clone()]);
    let r = srv.post("Bundle", &referral);
    assert_eq!(r.status(), 422);
    let outcome: Value = r.json().unwrap();
    let in_entry = MED_CODE.replacen("MedicationRequest", "Bundle.entry[3].resource", 1);
    assert!(!errors_at(&outcome, &in_entry).is_empty(), "{outcome}");
}

#[test]
fn the_shipped_generic_name_master_refuses_the_error_example_sqlite() {
    the_shipped_generic_name_master_refuses_the_error_example(Backend::Sqlite);
}

#[test]
fn the_shipped_generic_name_master_refuses_the_error_example_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    the_shipped_generic_name_master_refuses_the_error_example(Backend::Postgres);
}

#[test]
fn an_import_reaches_the_running_server_and_a_bad_file_imports_nothing_sqlite() {
    an_import_reaches_the_running_server_and_a_bad_file_imports_nothing(Backend::Sqlite);
}

#[test]
fn an_import_reaches_the_running_server_and_a_bad_file_imports_nothing_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    an_import_reaches_the_running_server_and_a_bad_file_imports_nothing(Backend::Postgres);
}

/// Every official list imports in one run, and the validator uses J-FAGY and the disease
/// masters for codes nothing binds strictly.
fn every_official_list_imports_and_is_used(backend: Backend) {
    common::require_shared_data();
    let srv = jp_server(backend);
    let db = srv.db.url.clone();
    let out = codesets(&db, &["import", &format!("{SHARED}/terminology")]);
    assert!(out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&codesets(&db, &["list"]).stdout).into_owned();
    for (url, count) in [
        (
            "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease",
            "27437 concepts",
        ),
        (
            "http://medis.or.jp/CodeSystem/master-disease-exCode",
            "26725 concepts",
        ),
        (
            "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
            "concepts (fragment)",
        ),
        (
            "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS",
            "concepts (complete)",
        ),
    ] {
        let line = listed
            .lines()
            .find(|l| l.starts_with(&format!("CodeSystem {url}")))
            .unwrap_or_else(|| panic!("{url} not listed:\n{listed}"));
        assert!(line.contains(count), "{line}");
    }

    let allergy = clins_example("AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json");
    let at = "AllergyIntolerance.code.coding[0].code";
    let mut unknown = allergy.clone();
    unknown["code"]["coding"][0]["code"] = json!("J9FZ99999999");
    eventually("J-FAGY to be used", || {
        !errors_at(&validate(&srv, &unknown), at).is_empty()
    });
    assert!(
        errors_at(&validate(&srv, &allergy), at).is_empty(),
        "{}",
        validate(&srv, &allergy)
    );
    // A non-food code under the food system: the meta-code names the mistake.
    let mut crossed = allergy.clone();
    crossed["code"]["coding"][0]["code"] = json!("J9N000000001");
    let outcome = validate(&srv, &crossed);
    let messages = errors_at(&outcome, at).join(" | ");
    assert!(messages.contains("J9N"), "{outcome}");

    // A レセ電 coding beside the MEDIS one: the uncoded code is in the master, 1234567 is not.
    let receipt = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease";
    let (_, at) = condition_with(receipt, "");
    let with_receipt = |code: &str| validate(&srv, &condition_with(receipt, code).0);
    assert!(errors_at(&with_receipt("0000999"), &at).is_empty());
    let messages = errors_at(&with_receipt("1234567"), &at).join(" | ");
    assert!(
        messages.contains("1234567") && messages.contains("masterB-disease"),
        "{messages}"
    );
    let messages = errors_at(&with_receipt("123456"), &at).join(" | ");
    assert!(messages.contains("7 digits"), "{messages}");
}

#[test]
fn every_official_list_imports_and_is_used_sqlite() {
    every_official_list_imports_and_is_used(Backend::Sqlite);
}

#[test]
fn every_official_list_imports_and_is_used_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    every_official_list_imports_and_is_used(Backend::Postgres);
}

#[test]
fn with_every_official_list_the_official_examples_still_validate_and_the_error_example_fails() {
    common::require_shared_data();
    let mut cmd = common::cli::validate_without_store();
    for p in PACKAGES {
        cmd.arg("--package").arg(format!("{SHARED}/packages/{p}"));
    }
    let out = cmd
        .arg("--codeset")
        .arg(format!("{SHARED}/terminology"))
        .arg(format!("{SHARED}/examples/clins"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("validated 50 files: 1 with errors"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failing: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.contains(": 0 errors"))
        .collect();
    assert_eq!(failing.len(), 1, "{stdout}");
    assert!(failing[0].contains(MED_ERROR), "{stdout}");
    let error_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("error"))
        .collect();
    assert!(
        !error_lines.is_empty()
            && error_lines
                .iter()
                .all(|l| l.contains(MED_CODE) && l.contains("2124030F2ZZZ")),
        "{stdout}"
    );
}

const DOC_TYPES: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";

/// A Composition typed as the patient summary (ePCS, LOINC 56447-6 in the JP document-type
/// system), with `version` on its Coding when given.
fn patient_summary(version: Option<&str>) -> Value {
    let mut coding = json!({"system": DOC_TYPES, "code": "56447-6", "display": "患者サマリー"});
    if let Some(v) = version {
        coding["version"] = json!(v);
    }
    json!({
        "resourceType": "Composition",
        "status": "final",
        "type": {"coding": [coding]},
        "date": "2024-04-01T10:00:00+09:00",
        "author": [{"display": "author"}],
        "title": "患者サマリー"
    })
}

/// The checkup IG's code-system table carries doc-typecodes 1.5.0 (four codes, no patient
/// summary); JP-CLINS defines the same system at version 5.11 with 56447-6. The newer
/// definition wins whichever source it came from; a Coding naming 1.5.0 is judged by 1.5.0.
fn an_imported_older_code_system_does_not_shadow_the_package(backend: Backend) {
    common::require_shared_data();
    let srv = jp_server(backend);
    let at = "Composition.type.coding[0].code";
    assert!(errors_at(&validate(&srv, &patient_summary(None)), at).is_empty());

    let table = format!("{SHARED}/terminology/checkup/eCheckup_CodeSystems_v1.5.0.csv");
    let out = codesets(&srv.db.url, &["import", &table]);
    assert!(out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&codesets(&srv.db.url, &["list"]).stdout).into_owned();
    assert!(listed.contains(DOC_TYPES), "{listed}");
    // The import is in use once a code only the checkup table has is known.
    let mut checkup_only = patient_summary(None);
    checkup_only["type"]["coding"][0] = json!({
        "system": "http://jpfhir.jp/fhir/eCheckup/CodeSystem/report-organization-code",
        "code": "no-such-code"
    });
    eventually("the checkup table to be used", || {
        !errors_at(&validate(&srv, &checkup_only), at).is_empty()
    });

    let outcome = validate(&srv, &patient_summary(None));
    assert!(errors_at(&outcome, at).is_empty(), "{outcome}");
    let outcome = validate(&srv, &patient_summary(Some("5.11")));
    assert!(errors_at(&outcome, at).is_empty(), "{outcome}");
    let outcome = validate(&srv, &patient_summary(Some("1.5.0")));
    let messages = errors_at(&outcome, at).join(" | ");
    assert!(
        messages.contains("56447-6") && messages.contains("1.5.0"),
        "{outcome}"
    );
}

#[test]
fn an_imported_older_code_system_does_not_shadow_the_package_sqlite() {
    an_imported_older_code_system_does_not_shadow_the_package(Backend::Sqlite);
}

#[test]
fn an_imported_older_code_system_does_not_shadow_the_package_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    an_imported_older_code_system_does_not_shadow_the_package(Backend::Postgres);
}

/// With nothing imported, the lists shipped in codesets/ check J-FAGY and レセ電 disease codes.
fn shipped_lists_check_codes_with_no_import(backend: Backend) {
    common::require_shared_data();
    let srv = jp_server(backend);
    let listed = String::from_utf8_lossy(&codesets(&srv.db.url, &["list"]).stdout).into_owned();
    assert!(listed.trim().is_empty(), "{listed}");

    let allergy = clins_example("AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-01.json");
    let at = "AllergyIntolerance.code.coding[0].code";
    let outcome = validate(&srv, &allergy);
    assert!(errors_at(&outcome, at).is_empty(), "{outcome}");
    let mut unknown = allergy.clone();
    unknown["code"]["coding"][0]["code"] = json!("J9FZ99999999");
    let messages = errors_at(&validate(&srv, &unknown), at).join(" | ");
    assert!(
        messages.contains("J9FZ99999999") && messages.contains("JP_JfagyFoodAllergen_CS"),
        "{messages}"
    );

    let receipt = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease";
    let (_, at) = condition_with(receipt, "");
    let with_receipt = |code: &str| validate(&srv, &condition_with(receipt, code).0);
    let outcome = with_receipt("8848176");
    assert!(errors_at(&outcome, &at).is_empty(), "{outcome}");
    let messages = errors_at(&with_receipt("1234567"), &at).join(" | ");
    assert!(
        messages.contains("1234567") && messages.contains("masterB-disease"),
        "{messages}"
    );
}

#[test]
fn shipped_lists_check_codes_with_no_import_sqlite() {
    shipped_lists_check_codes_with_no_import(Backend::Sqlite);
}

#[test]
fn shipped_lists_check_codes_with_no_import_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    shipped_lists_check_codes_with_no_import(Backend::Postgres);
}
