//! `kyoyu purge` against a server's database: the latest-3 rule ranks lab results by their CLINS
//! item (resolved through the loaded code system), a dry run removes nothing, and the audit names
//! what went. A referral's letter goes a week after receipt while what was extracted from it
//! stays, under its own rules, until the sender cancels or replaces the document.

use crate::common;

use std::process::Command;

use common::purge::purge;
use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

const BUNDLE: &str = "Bundle-Bundle-CLINS-Observations-Example-01.json";

fn example() -> Value {
    let text =
        std::fs::read_to_string(common::shared_data(&format!("examples/clins/{BUNDLE}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn later_albumin_results() -> Value {
    let mut unit = example();
    unit["identifier"]["value"] = json!("1318814790^2024^later-albumin");
    let entries = unit["entry"].as_array_mut().unwrap();
    let template = entries[1].clone();
    entries.truncate(1);
    for (i, year) in ["2022", "2023", "2024"].iter().enumerate() {
        let mut e = template.clone();
        e["fullUrl"] = json!(format!("urn:uuid:00000000-0000-0000-0000-00000000000{i}"));
        let r = &mut e["resource"];
        r["identifier"][0]["value"] = json!(format!("alb-{year}"));
        r["effectiveDateTime"] = json!(format!("{year}-07-05T11:19:41+09:00"));
        // Another albumin method: a different JLAC10 code of the same CLINS item (ALB).
        r["code"]["coding"][1]["code"] = json!("3A015000002329101");
        entries.push(e);
    }
    unit
}

fn the_latest_three_are_ranked_by_clins_item(backend: Backend) {
    common::require_shared_data();
    let srv = TestServer::start_with(
        backend,
        Options {
            configure: Box::new(|a| {
                common::with_jp_packages(a);
                a.purge_interval_secs = Some(0.0);
            }),
            ..Options::default()
        },
    );
    let db = srv.db.url.clone();
    assert_eq!(srv.post("Bundle", &example()).status(), 201);
    // Four results of four items, each the latest of its item: all stay.
    let r = purge(&db, &[]);
    assert_eq!(r["rules"]["lab"]["examined"], 4, "{r}");
    assert_eq!(r["rules"]["lab"]["kept_by_latest"], 4, "{r}");

    let later = later_albumin_results();
    assert_eq!(srv.post("Bundle", &later).status(), 201);
    let dry = purge(&db, &["--dry-run"]);
    assert_eq!(dry["rules"]["lab"]["purged"], 1, "{dry}");
    assert_eq!(dry["dry_run"], true);
    let r = purge(&db, &[]);
    assert_eq!(r["rules"]["lab"]["examined"], 7, "{r}");
    assert_eq!(r["rules"]["lab"]["purged"], 1, "{r}");
    // The 2021 albumin result went; its unit keeps its other three members.
    let all = srv.search("Observation?_count=100");
    assert_eq!(all["total"], 6, "{all}");
    let years: Vec<&str> = all["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["resource"]["code"]["coding"][1]["code"]
                .as_str()
                .unwrap_or("")
                .starts_with("3A015")
        })
        .filter_map(|e| e["resource"]["effectiveDateTime"].as_str())
        .collect();
    assert!(years.iter().all(|y| !y.starts_with("2021")), "{years:?}");
    // Idempotent.
    let again = purge(&db, &[]);
    assert_eq!(again["rules"]["lab"]["purged"], 0, "{again}");
}

#[test]
fn the_latest_three_are_ranked_by_clins_item_sqlite() {
    the_latest_three_are_ranked_by_clins_item(Backend::Sqlite);
}

#[test]
fn the_latest_three_are_ranked_by_clins_item_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    the_latest_three_are_ranked_by_clins_item(Backend::Postgres);
}

/// `receipt_days`: the server's `--retention-receipt-days`, `None` for the law's week.
/// `then_replace`: after the letter went, the sender posts a new version (else cancels it).
fn a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
    backend: Backend,
    receipt_days: Option<u32>,
    then_replace: bool,
) {
    use common::documents::{
        ADDRESSEE, DOC_ID, clinical_entries, extracted, patient_id, post_document, referral,
        referral_version_2,
    };
    common::require_shared_data();
    let srv = TestServer::start_with(
        backend,
        Options {
            configure: Box::new(move |a| {
                common::with_jp_packages(a);
                a.retention.retention_receipt_days = receipt_days;
            }),
            ..Options::default()
        },
    );
    let days = i64::from(receipt_days.unwrap_or(7));
    let db = srv.db.url.clone();
    let doc = referral();
    let stored = post_document(&srv, &doc, 201);
    let id = stored["id"].as_str().unwrap().to_string();
    let pid = patient_id(&srv, &doc);
    let contributed = extracted(&srv, &pid);
    assert!(!contributed.is_empty());
    let r = srv.post(
        &format!("Bundle/{id}/$receipt"),
        &json!({"resourceType": "Parameters",
            "parameter": [{"name": "institution", "valueString": ADDRESSEE}]}),
    );
    assert_eq!(r.status(), 200);
    let receipt: Value = r.json().unwrap();
    let received = receipt["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "received")
        .unwrap()["valueInstant"]
        .as_str()
        .unwrap()
        .to_string();
    let at = chrono::DateTime::parse_from_rfc3339(&received).unwrap();
    let as_of = |days: i64| (at + chrono::TimeDelta::days(days)).to_rfc3339();
    let purge_at = |t: String| {
        let out = Command::new(env!("CARGO_BIN_EXE_kyoyu"))
            .args([
                "purge",
                "--format",
                "json",
                "--as-of",
                &t,
                "--database-url",
                &db,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let early = purge_at(as_of(days - 1));
    assert!(early["rules"].get("referral").is_none(), "{early}");
    assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 200);
    let late = purge_at(as_of(days + 1));
    assert_eq!(late["rules"]["referral"]["purged"], 1, "{late}");
    assert_eq!(late["purged"], 1, "only the letter went: {late}");
    assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 404);
    // The conditions, allergies, labs and the prescription are the patient's record now.
    assert_eq!(extracted(&srv, &pid), contributed);
    let summary = srv.get(&format!("Patient/{pid}/$summary"));
    assert_eq!(summary.status(), 200);
    if then_replace {
        // The sender's new version registers the letter again and replaces its contribution.
        let v2 = referral_version_2();
        let again = post_document(&srv, &v2, 201);
        assert_eq!(again["id"], id.as_str());
        let now = extracted(&srv, &pid);
        assert_eq!(now.len(), clinical_entries(&v2));
        for (t, old) in contributed.iter().filter(|(t, _)| t == "Condition") {
            assert_eq!(srv.get(&format!("{t}/{old}")).status(), 404, "{t}/{old}");
            assert!(!now.contains(&(t.clone(), old.clone())));
        }
        assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 200);
    } else {
        // The sender's cancel withdraws what the expired letter contributed.
        let r = srv.delete(&format!("Bundle?document-identifier={DOC_ID}"));
        assert_eq!(r.status(), 200, "{:?}", r.text());
        assert!(extracted(&srv, &pid).is_empty());
        assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 404);
    }
}

#[test]
fn a_received_referral_goes_a_week_after_receipt_sqlite() {
    a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
        Backend::Sqlite,
        None,
        false,
    );
}

#[test]
fn a_new_version_replaces_what_an_expired_letter_contributed_sqlite() {
    a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
        Backend::Sqlite,
        None,
        true,
    );
}

#[test]
fn a_new_version_replaces_what_an_expired_letter_contributed_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
        Backend::Postgres,
        None,
        true,
    );
}

#[test]
fn a_received_referral_goes_a_week_after_receipt_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
        Backend::Postgres,
        None,
        false,
    );
}

#[test]
fn a_shortened_receipt_period_purges_the_referral_sooner() {
    a_received_referral_goes_days_after_receipt_and_what_was_extracted_stays(
        Backend::Sqlite,
        Some(2),
        false,
    );
}

#[test]
fn an_invalid_retention_setting_refuses_to_start() {
    for (flag, value) in [
        ("--retention-latest", "0"),
        ("--retention-years", "1000"),
        ("--retention-receipt-days", "40000"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kyoyu"))
            .args(["serve", flag, value, "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&flag[2..].replace('-', "_")), "{err}");
    }
}
