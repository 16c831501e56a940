//! Every purge is accounted for: `kyoyu purge --dry-run --list` names exactly what the real run
//! then removes, the JSON report gives instants in ISO 8601 and counts per rule, and the run's
//! AuditEvents, read by an operator through `GET AuditEvent`, name every removed resource with
//! the right count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::documents::{ADDRESSEE, referral_with_discharge};
use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

const AS_OF: &str = "2100-01-01T00:00:00+09:00";
const HOSPITAL: &str = "1318814790"; // the referral's sender (its Bundle-ID)

fn purge(db: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["purge", "--format", "json", "--list", "--as-of", AS_OF])
        .args(extra)
        .args(["--database-url", db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (type, id, rule) of a report's list.
fn listed(report: &Value) -> Vec<(String, String, String)> {
    report["list"]
        .as_array()
        .unwrap_or_else(|| panic!("no list: {report}"))
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_string();
            (s("type"), s("id"), s("rule"))
        })
        .collect()
}

fn a_dry_run_lists_exactly_what_the_real_run_removes(backend: Backend) {
    common::require_shared_data();
    let srv = TestServer::start_with(
        backend,
        Options {
            configure: Box::new(|a| a.purge_interval_secs = Some(0.0)),
            ..Options::default()
        },
    );
    let doc = referral_with_discharge();
    let r = srv.post("Bundle", &doc);
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = srv.post(
        &format!("Bundle/{id}/$receipt"),
        &json!({"resourceType": "Parameters",
            "parameter": [{"name": "institution", "valueString": ADDRESSEE}]}),
    );
    assert_eq!(r.status(), 200);
    let db = srv.db.url.clone();
    let dry = purge(&db, &["--dry-run", "--batch", "3"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["as_of"], "2099-12-31T15:00:00.000000Z", "{dry}");
    let predicted = listed(&dry);
    assert!(predicted.len() > 2, "{dry}");
    assert!(predicted.iter().any(|(t, i, _)| t == "Bundle" && *i == id));
    let real = purge(&db, &["--batch", "3"]);
    assert_eq!(listed(&real), predicted);
    assert_eq!(real["purged"], dry["purged"]);
    assert_eq!(real["purged"].as_u64().unwrap() as usize, predicted.len());
    assert_eq!(real["rules"], dry["rules"]);
    assert_eq!(real["units_removed"], dry["units_removed"]);
    for (t, i, _) in &predicted {
        assert_eq!(srv.get(&format!("{t}/{i}")).status(), 404, "{t}/{i}");
    }
    // The run left what the latest-3 rules keep, and nothing more to do.
    let again = purge(&db, &[]);
    assert_eq!(again["purged"], 0, "{again}");
}

#[test]
fn a_dry_run_lists_exactly_what_the_real_run_removes_sqlite() {
    a_dry_run_lists_exactly_what_the_real_run_removes(Backend::Sqlite);
}

#[test]
fn a_dry_run_lists_exactly_what_the_real_run_removes_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    a_dry_run_lists_exactly_what_the_real_run_removes(Backend::Postgres);
}

fn principals() -> String {
    format!(
        "[[principal]]\nname = \"hospital\"\ntoken = \"hospital-token-0123456789abcdef0123\"\n\
         role = \"system\"\ninstitution = \"{HOSPITAL}\"\n\n\
         [[principal]]\nname = \"operator\"\ntoken = \"operator-token-0123456789abcdef0123\"\n\
         role = \"operator\"\n"
    )
}

fn the_operator_reads_what_a_purge_removed(backend: Backend) {
    common::require_shared_data();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("principals.toml");
    std::fs::write(&file, principals()).unwrap();
    let srv = TestServer::start_with(
        backend,
        Options {
            configure: Box::new(move |a| {
                a.principals = Some(file);
                a.purge_interval_secs = Some(0.0);
            }),
            ..Options::default()
        },
    );
    let as_who = |who: &str, method: reqwest::Method, path: &str| {
        srv.client
            .request(method, srv.url(path))
            .bearer_auth(format!("{who}-token-0123456789abcdef0123"))
    };
    let r = as_who("hospital", reqwest::Method::POST, "Bundle")
        .header("Content-Type", "application/fhir+json")
        .body(referral_with_discharge().to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let report = purge(&srv.db.url, &["--batch", "4"]);
    let removed: BTreeSet<String> = listed(&report)
        .into_iter()
        .map(|(t, i, _)| format!("{t}/{i}"))
        .collect();
    assert!(removed.len() > 4, "{report}");

    let r = as_who("operator", reqwest::Method::GET, "AuditEvent?_count=100")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let trail: Value = r.json().unwrap();
    let purges: Vec<&Value> = trail["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|e| e["subtype"][0]["code"] == "purge")
        .collect();
    assert!(!purges.is_empty(), "{trail}");
    let mut named = BTreeSet::new();
    for event in &purges {
        assert_eq!(event["action"], "D");
        let what: Vec<String> = event["entity"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["role"]["code"] != "1") // the patients concerned
            .map(|e| e["what"]["reference"].as_str().unwrap().to_string())
            .collect();
        let desc = event["outcomeDesc"].as_str().unwrap();
        assert!(
            desc.contains(&format!(": {} resources removed", what.len())),
            "{desc}"
        );
        named.extend(what);
    }
    assert_eq!(named, removed);
    // One event per batch of four walked rows.
    assert!(
        purges.len() >= removed.len().div_ceil(4).min(2),
        "{}",
        purges.len()
    );
    // Each event is read by id too; the institution that sent the data does not read the trail.
    let id = purges[0]["id"].as_str().unwrap();
    let one = as_who(
        "operator",
        reqwest::Method::GET,
        &format!("AuditEvent/{id}"),
    )
    .send()
    .unwrap();
    assert_eq!(one.status(), 200);
    let hospital = as_who("hospital", reqwest::Method::GET, "AuditEvent")
        .send()
        .unwrap();
    assert_eq!(hospital.status(), 403);
}

#[test]
fn the_operator_reads_what_a_purge_removed_sqlite() {
    the_operator_reads_what_a_purge_removed(Backend::Sqlite);
}

#[test]
fn the_operator_reads_what_a_purge_removed_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    the_operator_reads_what_a_purge_removed(Backend::Postgres);
}
