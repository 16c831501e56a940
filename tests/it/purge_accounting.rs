//! Every purge is accounted for: `kyoyu purge --dry-run --list` names exactly what the real run
//! then removes, the JSON report gives instants in ISO 8601 and counts per rule, and the run's
//! AuditEvents, read by an operator through `GET AuditEvent`, name every removed resource with
//! the right count.

use crate::common;

use std::collections::BTreeSet;

use common::documents::{ADDRESSEE, referral_with_discharge};
use common::principals::{Principal, SignedIn};
use common::purge::purge;
use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

const HOSPITAL: &str = "1318814790"; // the referral's sender (its Bundle-ID)

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
    let dry = purge(&db, &["--list", "--dry-run", "--batch", "3"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["as_of"], "2099-12-31T15:00:00.000000Z", "{dry}");
    let predicted = listed(&dry);
    assert!(predicted.len() > 2, "{dry}");
    assert!(predicted.iter().any(|(t, i, _)| t == "Bundle" && *i == id));
    let real = purge(&db, &["--list", "--batch", "3"]);
    assert_eq!(listed(&real), predicted);
    assert_eq!(real["purged"], dry["purged"]);
    assert_eq!(real["purged"].as_u64().unwrap() as usize, predicted.len());
    assert_eq!(real["rules"], dry["rules"]);
    assert_eq!(real["units_removed"], dry["units_removed"]);
    for (t, i, _) in &predicted {
        assert_eq!(srv.get(&format!("{t}/{i}")).status(), 404, "{t}/{i}");
    }
    // The run left what the latest-3 rules keep, and nothing more to do.
    let again = purge(&db, &["--list"]);
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

#[derive(Debug, Clone, Copy)]
enum Who {
    Hospital,
    Operator,
}

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::Hospital => format!("role = \"system\"\ninstitution = \"{HOSPITAL}\""),
            Who::Operator => "role = \"operator\"".into(),
        }
    }
}

fn the_operator_reads_what_a_purge_removed(backend: Backend) {
    common::require_shared_data();
    let s = SignedIn::start(backend, &[Who::Hospital, Who::Operator], |a| {
        a.purge_interval_secs = Some(0.0)
    });
    let srv = &s.srv;
    let (status, body) = s.post(Who::Hospital, "Bundle", &referral_with_discharge());
    assert_eq!(status, 201, "{body}");
    let report = purge(&srv.db.url, &["--list", "--batch", "4"]);
    let removed: BTreeSet<String> = listed(&report)
        .into_iter()
        .map(|(t, i, _)| format!("{t}/{i}"))
        .collect();
    assert!(removed.len() > 4, "{report}");

    let (status, trail) = s.get(Who::Operator, "AuditEvent?_count=100");
    assert_eq!(status, 200);
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
    assert_eq!(s.get(Who::Operator, &format!("AuditEvent/{id}")).0, 200);
    assert_eq!(s.get(Who::Hospital, "AuditEvent").0, 403);
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
