//! Bulk Data `$export` over HTTP (issue #26): the asynchronous kick-off, polling, NDJSON
//! downloads, `_type` and `_since`, Patient and Group level, cancellation and retention — each
//! job seen only by its caller, each export within the caller's scope, and audited.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::hospitals::{EVERYONE, MEMBER_SYSTEM, Who};
use common::principals::{Principal, SignedIn};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const LOCAL: &str = "urn:kyoyu:test:lab";

type Srv = SignedIn<Who>;

/// Runs `test` on each backend with a fresh server whose exports go to a directory it is given.
fn both(retention_secs: f64, test: fn(&Srv, &std::path::Path)) {
    for backend in common::backends() {
        let exports = tempfile::tempdir().unwrap();
        let dir = exports.path().to_path_buf();
        let s = Srv::start(backend, &EVERYONE, move |a: &mut ConfigArgs| {
            a.validate_on_write = Some(false);
            a.export_dir = Some(dir);
            a.export_retention_secs = Some(retention_secs);
        });
        test(&s, exports.path());
    }
}

/// A raw answer: status, headers and body text.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

fn send(s: &Srv, who: Who, method: reqwest::Method, target: &str, prefer: bool) -> Answer {
    let url = if target.starts_with("http") {
        target.to_string()
    } else {
        s.srv.url(target)
    };
    let mut req = s.srv.client.request(method, url).bearer_auth(who.token());
    if prefer {
        req = req.header("prefer", "respond-async");
    }
    let r = req.send().unwrap();
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().unwrap(),
    }
}

fn get(s: &Srv, who: Who, target: &str) -> Answer {
    send(s, who, reqwest::Method::GET, target, false)
}

/// Kicks off an export, expecting 202; the status URL.
fn kick_off(s: &Srv, who: Who, path: &str) -> String {
    let answer = send(s, who, reqwest::Method::GET, path, true);
    assert_eq!(answer.status, 202, "{path}: {}", answer.text);
    answer
        .header("content-location")
        .expect("a Content-Location")
        .to_string()
}

/// Polls until the manifest is there.
fn manifest(s: &Srv, who: Who, status_url: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = get(s, who, status_url);
        match answer.status {
            200 => return answer.json(),
            202 => {
                assert!(answer.header("x-progress").is_some());
                assert!(started.elapsed() < Duration::from_secs(30), "never done");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("status {other}: {}", answer.text),
        }
    }
}

/// Downloads every file of the manifest: `Type/id` of each line, by type; every line is a
/// resource of its file's type and every count matches.
fn exported(s: &Srv, who: Who, manifest: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for output in manifest["output"].as_array().unwrap() {
        let t = output["type"].as_str().unwrap();
        let answer = get(s, who, output["url"].as_str().unwrap());
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("application/fhir+ndjson")
        );
        let lines: Vec<Value> = answer
            .text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one resource"))
            .collect();
        assert_eq!(output["count"], lines.len(), "{manifest}");
        let ids: BTreeSet<String> = lines
            .iter()
            .map(|r| {
                assert_eq!(r["resourceType"], t);
                format!("{t}/{}", r["id"].as_str().unwrap())
            })
            .collect();
        assert_eq!(ids.len(), lines.len(), "no resource twice");
        out.insert(t.to_string(), ids);
    }
    out
}

fn all(files: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    files.values().flatten().cloned().collect()
}

fn patient(s: &Srv, who: Who, member: &str) -> String {
    let body = json!({"resourceType": "Patient",
        "identifier": [{"system": MEMBER_SYSTEM, "value": member}]});
    format!("Patient/{}", s.create(who, &body))
}

fn observation(s: &Srv, who: Who, patient: &str) -> String {
    let body = json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": LOCAL, "code": "a"}]},
        "subject": {"reference": patient}});
    format!("Observation/{}", s.create(who, &body))
}

/// A's data: two patients with observations, and a practitioner outside any compartment.
struct Data {
    p1: String,
    p2: String,
    obs1: String,
    obs2: String,
    practitioner: String,
}

fn data(s: &Srv) -> Data {
    let p1 = patient(s, Who::HospitalA, "00012345:あいう:１８７:01");
    let p2 = patient(s, Who::HospitalA, "00012345:あいう:１８７:02");
    let obs1 = observation(s, Who::HospitalA, &p1);
    let obs2 = observation(s, Who::HospitalA, &p2);
    let body = json!({"resourceType": "Practitioner", "name": [{"family": "医師"}]});
    let practitioner = format!("Practitioner/{}", s.create(Who::HospitalA, &body));
    Data {
        p1,
        p2,
        obs1,
        obs2,
        practitioner,
    }
}

fn set(items: &[&String]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).clone()).collect()
}

#[test]
fn a_kick_off_without_respond_async_or_with_what_it_cannot_honour_is_400() {
    both(3600.0, |s, _| {
        let plain = send(s, Who::HospitalA, reqwest::Method::GET, "$export", false);
        assert_eq!(plain.status, 400, "{}", plain.text);
        assert!(plain.text.contains("respond-async"), "{}", plain.text);
        for path in [
            "$export?_outputFormat=text/csv",
            "$export?_type=Patient,Nonsense",
            "$export?_since=yesterday",
            "$export?_typeFilter=Observation%3Fcode%3Da",
            "$export?_elements=id",
            "Patient/$export?includeAssociatedData=LatestProvenanceResources",
        ] {
            let answer = send(s, Who::HospitalA, reqwest::Method::GET, path, true);
            assert_eq!(answer.status, 400, "{path}: {}", answer.text);
            assert_eq!(answer.json()["resourceType"], "OperationOutcome");
        }
        let missing = send(
            s,
            Who::HospitalA,
            reqwest::Method::GET,
            "Group/none/$export",
            true,
        );
        assert_eq!(missing.status, 404, "{}", missing.text);
    });
}

#[test]
fn a_system_export_runs_to_a_manifest_of_ndjson_files_of_what_the_caller_may_read() {
    both(3600.0, |s, _| {
        let d = data(s);
        let b_patient = patient(s, Who::HospitalB, "00012345:あいう:１８７:09");
        let status = kick_off(
            s,
            Who::HospitalA,
            "$export?_outputFormat=application/fhir%2Bndjson",
        );
        let m = manifest(s, Who::HospitalA, &status);
        assert!(m["transactionTime"].is_string(), "{m}");
        assert!(
            m["request"]
                .as_str()
                .unwrap()
                .ends_with("/$export?_outputFormat=application/fhir%2Bndjson"),
            "{m}"
        );
        assert_eq!(m["requiresAccessToken"], true);
        assert_eq!(m["error"], json!([]));
        let files = exported(s, Who::HospitalA, &m);
        assert_eq!(
            all(&files),
            set(&[&d.p1, &d.p2, &d.obs1, &d.obs2, &d.practitioner]),
            "{m}"
        );
        assert!(!all(&files).contains(&b_patient));

        // B sees neither A's job nor its files, and its own export holds none of A's data.
        let a_file = m["output"][0]["url"].as_str().unwrap();
        assert_eq!(get(s, Who::HospitalB, &status).status, 404);
        assert_eq!(get(s, Who::HospitalB, a_file).status, 404);
        let cancel = send(s, Who::HospitalB, reqwest::Method::DELETE, &status, false);
        assert_eq!(cancel.status, 404);
        assert_eq!(
            get(s, Who::HospitalA, a_file).status,
            200,
            "B's DELETE did nothing"
        );
        let theirs = kick_off(s, Who::HospitalB, "$export");
        let theirs = exported(s, Who::HospitalB, &manifest(s, Who::HospitalB, &theirs));
        // B's export is what B's searches find: its own patient and the directory data every
        // institution shares, none of A's patients' data.
        let theirs = all(&theirs);
        assert!(theirs.contains(&b_patient), "{theirs:?}");
        for a_data in [&d.p1, &d.p2, &d.obs1, &d.obs2] {
            assert!(!theirs.contains(a_data), "{a_data} in B's export");
            assert_eq!(s.get(Who::HospitalB, a_data).0, 404);
        }
        let (code, _) = s.get(Who::HospitalB, &d.practitioner);
        assert_eq!(theirs.contains(&d.practitioner), code == 200);
    });
}

#[test]
fn type_and_since_narrow_the_export() {
    both(3600.0, |s, _| {
        let d = data(s);
        let status = kick_off(s, Who::HospitalA, "$export?_type=Observation,Practitioner");
        let files = exported(s, Who::HospitalA, &manifest(s, Who::HospitalA, &status));
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["Observation", "Practitioner"]
        );
        assert_eq!(all(&files), set(&[&d.obs1, &d.obs2, &d.practitioner]));

        let (_, obs2) = s.get(Who::HospitalA, &d.obs2);
        let since = obs2["meta"]["lastUpdated"].as_str().unwrap().to_string();
        std::thread::sleep(Duration::from_millis(5));
        let later = observation(s, Who::HospitalA, &d.p1);
        let encoded: String = form_urlencoded::byte_serialize(since.as_bytes()).collect();
        let status = kick_off(s, Who::HospitalA, &format!("$export?_since={encoded}"));
        let files = exported(s, Who::HospitalA, &manifest(s, Who::HospitalA, &status));
        // Strictly after: the resource written at `since` itself is not exported again.
        assert_eq!(
            all(&files),
            set(&[&d.practitioner, &later]),
            "since {since}"
        );
    });
}

#[test]
fn patient_and_group_exports_hold_compartment_data_only() {
    both(3600.0, |s, _| {
        let d = data(s);
        let status = kick_off(s, Who::HospitalA, "Patient/$export");
        let files = exported(s, Who::HospitalA, &manifest(s, Who::HospitalA, &status));
        assert_eq!(all(&files), set(&[&d.p1, &d.p2, &d.obs1, &d.obs2]));

        let group = s.create(
            Who::HospitalA,
            &json!({"resourceType": "Group", "type": "person", "actual": true,
                    "member": [{"entity": {"reference": d.p1}}]}),
        );
        let status = kick_off(s, Who::HospitalA, &format!("Group/{group}/$export"));
        let files = exported(s, Who::HospitalA, &manifest(s, Who::HospitalA, &status));
        // The Group names its member: it is in the member's compartment, exported with it.
        let group_ref = format!("Group/{group}");
        assert_eq!(all(&files), set(&[&d.p1, &d.obs1, &group_ref]));
        // Another institution may not read the Group: to it, the Group does not exist.
        let theirs = send(
            s,
            Who::HospitalB,
            reqwest::Method::GET,
            &format!("Group/{group}/$export"),
            true,
        );
        assert_eq!(theirs.status, 404, "{}", theirs.text);
    });
}

#[test]
fn delete_cancels_a_job_and_removes_its_files() {
    both(3600.0, |s, dir| {
        data(s);
        let status = kick_off(s, Who::HospitalA, "$export");
        let m = manifest(s, Who::HospitalA, &status);
        let file = m["output"][0]["url"].as_str().unwrap().to_string();
        assert_eq!(job_dirs(dir).len(), 1);
        let cancel = send(s, Who::HospitalA, reqwest::Method::DELETE, &status, false);
        assert_eq!(cancel.status, 202, "{}", cancel.text);
        assert_eq!(get(s, Who::HospitalA, &status).status, 404);
        assert_eq!(get(s, Who::HospitalA, &file).status, 404);
        assert!(job_dirs(dir).is_empty());

        // A job cancelled while it may still run leaves nothing behind either.
        let status = kick_off(s, Who::HospitalA, "$export");
        let cancel = send(s, Who::HospitalA, reqwest::Method::DELETE, &status, false);
        assert_eq!(cancel.status, 202);
        assert_eq!(get(s, Who::HospitalA, &status).status, 404);
        wait_until(|| job_dirs(dir).is_empty());
    });
}

#[test]
fn files_are_removed_after_the_retention_time() {
    both(0.5, |s, dir| {
        data(s);
        let status = kick_off(s, Who::HospitalA, "$export");
        manifest(s, Who::HospitalA, &status);
        wait_until(|| job_dirs(dir).is_empty());
        assert_eq!(get(s, Who::HospitalA, &status).status, 404);
    });
}

#[test]
fn the_kick_off_and_every_exported_resource_are_audited() {
    both(3600.0, |s, _| {
        let d = data(s);
        let status = kick_off(s, Who::HospitalA, "Patient/$export");
        manifest(s, Who::HospitalA, &status);
        let (code, trail) = s.get(Who::Operator, "AuditEvent?_count=1000");
        assert_eq!(code, 200, "{trail}");
        let events: Vec<&Value> = trail["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|e| e["agent"][0]["who"]["display"] == Who::HospitalA.name().as_str())
            .filter(|e| e["subtype"][0]["code"] == "$export")
            .collect();
        let exported: BTreeSet<String> = events
            .iter()
            .flat_map(|e| e["entity"].as_array().into_iter().flatten())
            .filter_map(|e| e["what"]["reference"].as_str().map(str::to_string))
            .collect();
        for r in [&d.p1, &d.p2, &d.obs1, &d.obs2] {
            assert!(exported.contains(r), "{r} not in {exported:?}");
        }
        // The kick-off is an event of its own, before any page.
        assert!(events.len() >= 2, "{trail}");
    });
}

#[test]
fn the_capability_statement_declares_the_export_operations() {
    both(3600.0, |s, _| {
        let (_, statement) = s.get(Who::HospitalA, "metadata");
        assert_eq!(
            statement["instantiates"],
            json!(["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"])
        );
        let rest = &statement["rest"][0];
        let names = |ops: &Value| -> Vec<String> {
            ops.as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(names(&rest["operation"]).contains(&"export".to_string()));
        for t in ["Patient", "Group"] {
            let entry = rest["resource"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["type"] == t)
                .unwrap();
            assert!(
                names(&entry["operation"]).contains(&"export".to_string()),
                "{t}"
            );
        }
    });
}

fn job_dirs(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

fn wait_until(done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kyoyu_export_writes_every_stored_resource_and_records_the_operator_read() {
    both(3600.0, |s, _| {
        let d = data(s);
        let b_patient = patient(s, Who::HospitalB, "00012345:あいう:１８７:09");
        let out = tempfile::tempdir().unwrap();
        let run = |extra: &[&str]| {
            let done = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
                .arg("export")
                .arg("--out")
                .arg(out.path())
                // Pages of two: the keyset walk must join pages without loss or repeat.
                .args(["--page", "2", "--database-url", &s.srv.db.url])
                .args(extra)
                .output()
                .unwrap();
            assert!(done.status.success(), "{done:?}");
            String::from_utf8(done.stdout).unwrap()
        };
        let report = run(&["--patient"]);
        assert!(
            report.contains("exported 5 resources in 2 files"),
            "{report}"
        );
        let mut found = BTreeSet::new();
        for t in ["Patient", "Observation"] {
            let text = std::fs::read_to_string(out.path().join(format!("{t}.ndjson"))).unwrap();
            for line in text.lines() {
                let r: Value = serde_json::from_str(line).unwrap();
                found.insert(format!("{t}/{}", r["id"].as_str().unwrap()));
            }
        }
        assert_eq!(found, set(&[&d.p1, &d.p2, &d.obs1, &d.obs2, &b_patient]));
        assert!(!out.path().join("Practitioner.ndjson").exists());
        let refused = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
            .args([
                "export",
                "--type",
                "Nonsense",
                "--database-url",
                &s.srv.db.url,
            ])
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2), "{refused:?}");

        let (code, trail) = s.get(Who::Operator, "AuditEvent?_count=1000");
        assert_eq!(code, 200, "{trail}");
        let read: BTreeSet<String> = trail["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|e| e["agent"][0]["who"]["display"] == "kyoyu export")
            .flat_map(|e| e["entity"].as_array().into_iter().flatten())
            .filter_map(|e| e["what"]["reference"].as_str().map(str::to_string))
            .collect();
        assert_eq!(read, found, "{trail}");
    });
}
