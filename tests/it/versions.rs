//! The shipped IG packages and version dispatch: a server started with no package flag judges
//! the official examples by the IG release their `meta.profile` names, the newest when it names
//! none, or the deployment's default; the outcome says which release it used.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{Backend, Options, SHARED, TestServer, with_shipped_profiles};
use kyoyu::packages::{KEPT_TYPES, read_files};
use kyoyu::validation::dispatch::redeclare_profiles;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");
const LOCAL_CODE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
const ERROR_EXAMPLE: &str = "MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json";
const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
const CONDITION: &str = "Condition-Example-JP-Condition-eCS-cc2-Referral01.json";

fn example(name: &str) -> Value {
    let path = format!("{SHARED}/examples/clins/{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the tests need ../shared/data)"));
    serde_json::from_str(&text).unwrap()
}

fn shipped_server(backend: Backend, configure: fn(&mut kyoyu::config::ConfigArgs)) -> TestServer {
    common::require_shared_data();
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(move |a| {
                with_shipped_profiles(a);
                configure(a);
            }),
            ..Options::default()
        },
    )
}

fn redeclared(mut v: Value, version: &str) -> Value {
    redeclare_profiles(&mut v, version);
    v
}

fn issues<'a>(outcome: &'a Value, severity: &str) -> Vec<&'a Value> {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == severity)
        .collect()
}

fn validate(srv: &TestServer, resource: &Value) -> Value {
    let path = format!("{}/$validate", resource["resourceType"].as_str().unwrap());
    let r = srv.post(&path, resource);
    assert_eq!(r.status(), 200, "{path}");
    r.json().unwrap()
}

/// The information issue naming the IG release, e.g. "validated against JP-CLINS 1.10.0: …".
fn release_used(outcome: &Value) -> String {
    let infos = issues(outcome, "information");
    let used: Vec<&str> = infos
        .iter()
        .filter_map(|i| i["diagnostics"].as_str())
        .filter(|d| d.starts_with("validated against "))
        .collect();
    assert!(!used.is_empty(), "no release named: {outcome}");
    used[0].to_string()
}

/// The 6-information example with the eGFR result's local code taken out: R6021 (1.10.0 and on)
/// requires one on every lab result, 1.5.2 does not.
fn egfr_without_local_code() -> Value {
    let mut bundle = example("Bundle-Bundle-CLINS-Observations-Example-01.json");
    let egfr = bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["code"]["coding"][0]["display"] == "eGFR")
        .expect("the example has an eGFR result");
    egfr["code"]["coding"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["system"] != LOCAL_CODE);
    assert!(!egfr["code"]["coding"].as_array().unwrap().is_empty());
    bundle
}

/// The example instances inside the shipped checkup IG 1.5.0 package.
fn checkup_samples() -> Vec<(String, Value)> {
    let tgz =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/jp-eCheckupReport.r4-1.5.0-snap.tgz");
    read_files(&tgz)
        .unwrap()
        .into_iter()
        .filter(|(name, _)| !name.starts_with('.') && name != "package.json")
        .map(|(name, bytes)| (name, serde_json::from_slice::<Value>(&bytes).unwrap()))
        .filter(|(_, v)| !KEPT_TYPES.contains(&v["resourceType"].as_str().unwrap_or_default()))
        .collect()
}

backend_test!(the_official_examples_pass_on_the_default_set_up, |srv| {
    let srv = shipped_server(srv.backend, |_| {});
    // The 6-information and referral examples declare `|1`: JP-CLINS 1.5.2 judges them.
    for name in [
        "Bundle-Bundle-CLINS-Observations-Example-01.json",
        "Bundle-Bundle-CLINS-Referral-Example-01.json",
    ] {
        let bundle = example(name);
        let outcome = validate(&srv, &bundle);
        assert_eq!(issues(&outcome, "error"), Vec::<&Value>::new(), "{name}");
        assert!(
            release_used(&outcome).contains("JP-CLINS 1.5.2"),
            "{outcome}"
        );
        let r = srv.post("Bundle", &bundle);
        assert!(r.status().is_success(), "{name}: {}", r.text().unwrap());
    }
    let samples = checkup_samples();
    assert_eq!(samples.len(), 17);
    for (name, sample) in &samples {
        let outcome = validate(&srv, sample);
        assert_eq!(issues(&outcome, "error"), Vec::<&Value>::new(), "{name}");
        assert!(
            release_used(&outcome).contains("eCheckupReport 1.5.0"),
            "{name}: {outcome}"
        );
    }
    // The eGFR result without a local code: accepted under 1.5.2, refused under 1.10.0 (R6021).
    let bundle = egfr_without_local_code();
    let r = srv.post("Bundle", &bundle);
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let r = srv.post("Bundle", &redeclared(bundle, "1.10.0"));
    assert_eq!(r.status(), 422);
    let refusal: Value = r.json().unwrap();
    let errors = issues(&refusal, "error");
    assert!(
        errors.iter().any(|i| {
            let d = i["diagnostics"].as_str().unwrap_or_default();
            d.contains("R6021") || d.contains("needs-localCode-observation-laboresult")
        }),
        "{refusal}"
    );
    assert!(
        release_used(&refusal).contains("JP-CLINS 1.10.0"),
        "{refusal}"
    );
    // LTS on a lab result: the hand-coded rule under 1.5.2; under 1.10.0 the package's R6031
    // invariant, reported once.
    let mut lts = example("Bundle-Bundle-CLINS-Observations-Example-01.json");
    lts["entry"][1]["resource"]["meta"]["tag"] =
        serde_json::json!([{"system": FLAGS, "code": "LTS"}]);
    for (version, rule) in [
        ("1", "LTS (long-term storage)"),
        ("1.10.0", "check-LTS-MemberOf-infectionLabo"),
    ] {
        let outcome = validate(&srv, &redeclared(lts.clone(), version));
        let about_lts: Vec<&str> = issues(&outcome, "error")
            .into_iter()
            .filter_map(|i| i["diagnostics"].as_str())
            .filter(|d| d.contains("LTS"))
            .collect();
        assert_eq!(about_lts.len(), 1, "|{version}: {outcome}");
        assert!(about_lts[0].contains(rule), "|{version}: {about_lts:?}");
    }
});

#[test]
fn the_version_in_meta_profile_picks_the_ig_release() {
    let srv = shipped_server(Backend::Sqlite, |_| {});
    // Written for 1.5.2; 1.10.0 requires the display of clinicalStatus and verificationStatus.
    let condition = example(CONDITION);
    let url = condition["meta"]["profile"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!url.contains('|'));
    let judged = |declared: &str| {
        let mut c = condition.clone();
        c["meta"]["profile"] = serde_json::json!([declared]);
        validate(&srv, &c)
    };
    // No version: the newest release that defines the profile.
    let outcome = judged(&url);
    assert!(
        release_used(&outcome).contains("JP-CLINS 1.10.0"),
        "{outcome}"
    );
    assert_eq!(issues(&outcome, "error").len(), 2, "{outcome}");
    for (version, release, errors) in [
        ("1.10.0", "JP-CLINS 1.10.0", 2),
        ("1.10", "JP-CLINS 1.10.0", 2),
        ("1.5.2", "JP-CLINS 1.5.2", 0),
        // JP-CLINS 1.5.2's profiles carry version "1".
        ("1", "JP-CLINS 1.5.2", 0),
    ] {
        let outcome = judged(&format!("{url}|{version}"));
        assert!(
            release_used(&outcome).contains(release),
            "|{version}: {outcome}"
        );
        assert_eq!(
            issues(&outcome, "error").len(),
            errors,
            "|{version}: {outcome}"
        );
    }
    // A version no shipped package has: judged by the newest, and said so with what there is.
    let outcome = judged(&format!("{url}|1.7.0"));
    let warning = issues(&outcome, "warning")
        .into_iter()
        .filter_map(|i| i["diagnostics"].as_str())
        .find(|d| d.contains("version 1.7.0"))
        .unwrap_or_else(|| panic!("no warning about 1.7.0: {outcome}"))
        .to_string();
    assert!(warning.contains("1.10.0 (JP-CLINS 1.10.0)"), "{warning}");
    assert!(warning.contains("1 (JP-CLINS 1.5.2)"), "{warning}");
    assert!(
        release_used(&outcome).contains("JP-CLINS 1.10.0"),
        "{outcome}"
    );
}

#[test]
fn a_deployment_default_judges_profiles_without_a_version() {
    let srv = shipped_server(Backend::Sqlite, |a| {
        a.validation.ig_versions = vec!["jp-clins=1.5.2".into()];
    });
    let outcome = validate(&srv, &example(CONDITION));
    assert!(
        release_used(&outcome).contains("JP-CLINS 1.5.2"),
        "{outcome}"
    );
    assert_eq!(issues(&outcome, "error"), Vec::<&Value>::new());
    // A declared version still wins over the default.
    let outcome = validate(&srv, &redeclared(example(CONDITION), "1.10.0"));
    assert!(
        release_used(&outcome).contains("JP-CLINS 1.10.0"),
        "{outcome}"
    );
    assert_eq!(issues(&outcome, "error").len(), 2, "{outcome}");
}

/// `kyoyu validate` over the 50 official examples from the repository root, no flag: only the
/// ErrorExample and the two that declare no version and break a 1.10.0 rule fail; with the
/// deployment default jp-clins=1.5.2 only the ErrorExample does. A default naming a release that is not loaded is a usage error.
#[test]
fn the_command_line_loads_the_shipped_profiles_with_no_flag() {
    common::require_shared_data();
    let run = |extra: &[&str]| {
        let out = Command::new(BIN)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "validate",
                "--format",
                "json",
                "--package-store",
                "/nonexistent",
            ])
            .args(extra)
            .arg(format!("{SHARED}/examples/clins"))
            .output()
            .unwrap();
        let failed: Vec<(String, Vec<String>)> = serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
            .into_iter()
            .filter(|f| !issues(&f["outcome"], "error").is_empty())
            .map(|f| {
                let file = f["file"].as_str().unwrap().to_string();
                let at = issues(&f["outcome"], "error")
                    .iter()
                    .map(|i| i["expression"][0].as_str().unwrap_or_default().to_string())
                    .collect();
                (file.rsplit('/').next().unwrap().to_string(), at)
            })
            .collect();
        (out.status.code(), failed)
    };
    // The ErrorExample is refused for its intended defect, a general-name medication code
    // missing from the shipped MHLW list, under either release.
    let error_example = |failed: &[(String, Vec<String>)]| {
        let (_, at) = failed
            .iter()
            .find(|(f, _)| f == ERROR_EXAMPLE)
            .unwrap_or_else(|| panic!("the ErrorExample passed: {failed:?}"));
        assert!(
            at.iter()
                .all(|a| a.starts_with("MedicationRequest.medication")),
            "{at:?}"
        );
    };
    let (code, failed) = run(&[]);
    assert_eq!(code, Some(1));
    error_example(&failed);
    let names: Vec<&str> = failed.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        names,
        [
            "AllergyIntolerance-Example-JP-Allergy-eCS-02.json",
            "Condition-Example-JP-Condition-eCS-cc2-Referral01.json",
            ERROR_EXAMPLE
        ]
    );
    let (code, failed) = run(&["--ig-version", "jp-clins=1.5.2"]);
    error_example(&failed);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(code, Some(1));
    let out = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "validate",
            "--ig-version",
            "jp-clins=9.9",
            "--package-store",
            "/nonexistent",
        ])
        .arg(format!("{SHARED}/examples/clins/{CONDITION}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jp-clins=9.9") && err.contains("jp-clins=1.10.0"),
        "{err}"
    );
}
