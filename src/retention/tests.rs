//! The purge engine against real stores (SQLite, and PostgreSQL when the environment names
//! one): boundaries, the latest-3 rules, dry runs, report units going with their last member,
//! idempotence, the audit, and no row left behind by any purge.

use serde_json::Value;

use super::Policy;
use super::PurgeReport;
use super::purge::{PurgeOptions, run};
use crate::search::IndexRows;
use crate::search::{
    DateValue, NumberValue, QuantityRow, ReferenceValue, StringValue, TokenPairValue, TokenValue,
    UriValue,
};
use crate::store::test_db::{orphans, test_stores};
use crate::store::{Method, NewVersion, Store, SystemUse, UnitRow};

#[derive(Clone)]
pub(super) struct Row<'a> {
    pub res_type: &'a str,
    pub id: &'a str,
    pub class: &'a str,
    pub patient: &'a str,
    pub group: Option<&'a str>,
    pub expires_at: Option<i64>,
}

pub(super) async fn insert(store: &Store, rows: Vec<Row<'static>>) {
    store
        .write(None, move |c| {
            for r in &rows {
                // Index rows of every kind, so a purge that left any behind would show.
                let index = IndexRows {
                    tokens: vec![TokenValue {
                        param: "code",
                        system: None,
                        code: r.id.to_string(),
                    }],
                    strings: vec![StringValue {
                        param: "name",
                        normalized: r.id.to_string(),
                        exact: r.id.to_string(),
                    }],
                    dates: vec![DateValue {
                        param: "date",
                        start: 0,
                        end: 1,
                    }],
                    references: vec![ReferenceValue {
                        param: "subject",
                        target_type: "Patient".into(),
                        target_id: r.patient.into(),
                    }],
                    numbers: vec![NumberValue {
                        param: "probability",
                        value: 0.5,
                    }],
                    quantities: vec![QuantityRow {
                        param: "value-quantity",
                        system: None,
                        code: Some("mg".into()),
                        value: 1.0,
                        canonical: None,
                        component: None,
                    }],
                    uris: vec![UriValue {
                        param: "_profile",
                        uri: "http://example.org/p".into(),
                    }],
                    token_pairs: vec![TokenPairValue {
                        param: "code-value-concept",
                        system: None,
                        code: "a".into(),
                        value_system: None,
                        value_code: "b".into(),
                    }],
                };
                c.insert_new(&NewVersion {
                    access_category: None,
                    hidden: None,
                    consent: &[],
                    res_type: r.res_type,
                    id: r.id,
                    content: "{}",
                    last_updated: 0,
                    method: Method::Post,
                    index: &index,
                    patient_key: Some(r.patient),
                    person_key: None,
                    institution: Some("1318814790"),
                    retention_class: Some(r.class),
                    expires_at: r.expires_at,
                    retention_group: r.group,
                })?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await
        .unwrap();
}

async fn purge(store: &Store, as_of: i64, dry_run: bool) -> PurgeReport {
    purge_in_batches(store, as_of, dry_run, 2).await
}

pub(super) async fn purge_in_batches(
    store: &Store,
    as_of: i64,
    dry_run: bool,
    batch: usize,
) -> PurgeReport {
    let options = PurgeOptions {
        as_of,
        batch,
        dry_run,
        list: true,
        policy: Policy::default(),
    };
    let report = run(store, options, 0, |_| {}).await.unwrap();
    let left = store
        .read(|c| Ok::<_, crate::store::StoreError>(orphans(c)))
        .await
        .unwrap();
    assert_eq!(left, 0, "rows left behind by the purge as of {as_of}");
    report
}

pub(super) async fn exists(store: &Store, res_type: &'static str, id: &'static str) -> bool {
    store
        .read(move |c| c.system(SystemUse::Test).read_current(res_type, id))
        .await
        .unwrap()
        .is_some()
}

fn row(res_type: &'static str, id: &'static str, class: &'static str, e: i64) -> Row<'static> {
    Row {
        res_type,
        id,
        class,
        patient: "p1",
        group: None,
        expires_at: Some(e),
    }
}

pub(super) fn condition_member(id: &str) -> crate::store::Member {
    crate::store::Member {
        res_type: "Condition".into(),
        res_id: id.into(),
        member_identifier: None,
    }
}

pub(super) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_row_goes_at_its_expiry_not_a_second_before_and_is_audited() {
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            let e = 1_000_000_000_000;
            insert(&s, vec![row("Condition", "c1", "condition", e)]).await;
            let before = purge(&s, e - 1_000_000, false).await;
            assert_eq!(before.examined(), 0);
            assert!(exists(&s, "Condition", "c1").await);
            let at = purge(&s, e, false).await;
            assert_eq!(at.rules["condition"].purged, 1);
            assert!(!exists(&s, "Condition", "c1").await);
            let audit = s
                .read(move |c| c.retention().purged_in_run(at.run_id))
                .await
                .unwrap();
            assert_eq!(
                audit,
                [("Condition".into(), "c1".into(), "condition".into())]
            );
            // Idempotent: nothing left to do.
            assert_eq!(purge(&s, e, false).await.examined(), 0);
        });
    }
}

#[test]
fn a_batch_larger_than_one_statement_goes_whole() {
    // PostgreSQL removes a batch in statements of 64 resources: 150 take three.
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            let e = 1_000_000_000_000;
            let rows = (0..150)
                .map(|i| {
                    let id: &'static str = Box::leak(format!("c{i}").into_boxed_str());
                    row("Condition", id, "condition", e)
                })
                .chain([row("Condition", "kept", "condition", e + 1)])
                .collect();
            insert(&s, rows).await;
            let report = purge_in_batches(&s, e, false, 500).await;
            assert_eq!(report.rules["condition"].purged, 150);
            assert!(!exists(&s, "Condition", "c0").await);
            assert!(!exists(&s, "Condition", "c149").await);
            assert!(exists(&s, "Condition", "kept").await);
            let audit = s
                .read(move |c| c.retention().purged_in_run(report.run_id))
                .await
                .unwrap();
            assert_eq!(audit.len(), 150);
        });
    }
}

#[test]
fn the_latest_three_labs_of_an_item_stay_whatever_their_age() {
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            let lab = |id: &'static str, group: &'static str, e: i64| Row {
                group: Some(group),
                ..row("Observation", id, "lab", e)
            };
            insert(
                &s,
                vec![
                    lab("a1", "ALB", 10),
                    lab("a2", "ALB", 20),
                    lab("a3", "ALB", 30),
                    lab("a4", "ALB", 40),
                    lab("a5", "ALB", 50),
                    lab("k1", "K", 10),
                    // LTS data past its 5 years: counted once as kept, never purged.
                    row("Condition", "lts", "long-term", 10),
                ],
            )
            .await;
            let dry = purge(&s, 100, true).await;
            assert_eq!(dry.rules["lab"].purged, 2);
            assert!(exists(&s, "Observation", "a1").await);
            let r = purge(&s, 100, false).await;
            assert_eq!(r.rules["lab"].examined, 6);
            assert_eq!(r.rules["lab"].purged, 2);
            assert_eq!(r.rules["lab"].kept_by_latest, 4);
            for (id, kept) in [
                ("a1", false),
                ("a2", false),
                ("a3", true),
                ("a5", true),
                ("k1", true),
            ] {
                assert_eq!(exists(&s, "Observation", id).await, kept, "{id}");
            }
            assert!(exists(&s, "Condition", "lts").await);
            assert_eq!(r.rules["long-term"].kept_by_lts, 1);
            assert_eq!(dry.rules["long-term"].kept_by_lts, 1);
            assert!(!purge(&s, 200, false).await.rules.contains_key("long-term"));
        });
    }
}

#[test]
fn prescriptions_stay_from_the_latest_three_occasions() {
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            let rx = |id: &'static str, group: &'static str| Row {
                group: Some(group),
                ..row("MedicationRequest", id, "prescription", 10)
            };
            insert(
                &s,
                vec![
                    rx("old", "2024-01-01|A"),
                    rx("feb-1", "2024-02-01|A"),
                    rx("feb-2", "2024-02-01|A"),
                    rx("mar", "2024-03-01|B"),
                    rx("apr", "2024-04-01|A"),
                ],
            )
            .await;
            let r = purge(&s, 100, false).await;
            assert_eq!(r.rules["prescription"].purged, 1);
            assert_eq!(r.rules["prescription"].kept_by_latest, 4);
            assert!(!exists(&s, "MedicationRequest", "old").await);
            assert!(exists(&s, "MedicationRequest", "feb-2").await);
        });
    }
}

#[test]
fn a_report_unit_goes_with_its_last_member() {
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            insert(
                &s,
                vec![
                    row("Condition", "m1", "condition", 10),
                    row("Condition", "m2", "condition", 20),
                    Row {
                        expires_at: None,
                        ..row("Bundle", "b1", "report-unit", 0)
                    },
                ],
            )
            .await;
            s.write(None, |c| {
                let unit = UnitRow {
                    unit_key: "k".into(),
                    patient_identifier: "p".into(),
                    bundle_identifier: "b".into(),
                    institution: "1318814790".into(),
                    resource_type: "Condition".into(),
                    bundle_id: "b1".into(),
                    patient_id: "p1".into(),
                    registered_at: 0,
                    updated_at: 0,
                };
                c.units()
                    .put_unit(&unit, &[condition_member("m1"), condition_member("m2")])
            })
            .await
            .unwrap();
            let first = purge(&s, 15, false).await;
            assert_eq!((first.purged(), first.units_removed), (1, 0));
            assert!(exists(&s, "Bundle", "b1").await);
            let second = purge(&s, 25, false).await;
            assert_eq!(second.units_removed, 1);
            assert!(!exists(&s, "Bundle", "b1").await);
            assert!(
                s.read(|c| c.system(SystemUse::Test).unit("k"))
                    .await
                    .unwrap()
                    .is_none()
            );
            let json: Value = serde_json::to_value(&second).unwrap();
            assert_eq!(json["rules"]["condition"]["purged"], 1);
        });
    }
}

/// (id, class, patient, group, expires_at) of a generated row.
type ModelRow = (
    String,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<i64>,
);

/// Random stores and purge instants: after every purge, what remains is exactly what a direct
/// reading of the rules allows at that instant (nothing more, nothing less).
#[test]
fn purging_matches_a_reference_model_of_the_rules() {
    const CLASSES: [&str; 4] = ["condition", "lab", "prescription", "long-term"];
    const GROUPS: [&str; 3] = ["2024-01-01|A", "2024-02-01|A", "2024-03-01|B"];
    let mut seed: u64 = 0x5EED_1234_ABCD_0001;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for history in 0..12 {
        // In insertion (rkey) order.
        let mut model: Vec<ModelRow> = Vec::new();
        for i in 0..(20 + next(40)) {
            let class = CLASSES[next(4) as usize];
            let patient = ["p1", "p2"][next(2) as usize];
            let group = match class {
                "lab" => Some(["ALB", "K"][next(2) as usize]),
                "prescription" => Some(GROUPS[next(3) as usize]),
                _ => None,
            };
            let expires = Some(10 * next(20) as i64);
            model.push((format!("h{history}-{i}"), class, patient, group, expires));
        }
        let rows: Vec<Row<'static>> = model
            .iter()
            .map(|(id, class, patient, group, e)| Row {
                res_type: "Observation",
                id: Box::leak(id.clone().into_boxed_str()),
                class,
                patient,
                group: *group,
                expires_at: *e,
            })
            .collect();
        let instants: Vec<i64> = (0..4)
            .scan(0, |t, _| {
                *t += 10 * next(8) as i64;
                Some(*t)
            })
            .collect();
        for store in test_stores() {
            let rows = rows.clone();
            let instants = instants.clone();
            rt().block_on(async {
                let s = store.store.clone();
                insert(&s, rows).await;
                for t in instants {
                    purge(&s, t, false).await;
                    let allowed = |k: usize| {
                        let (_, class, patient, group, e) = &model[k];
                        let Some(e) = e else { return true };
                        if *e > t || *class == "long-term" {
                            return true;
                        }
                        let same = |j: usize| model[j].2 == *patient && model[j].1 == *class;
                        match *class {
                            "lab" => {
                                let newer = (0..model.len())
                                    .filter(|&j| same(j) && model[j].3 == *group)
                                    .filter(|&j| (model[j].4, j) > (Some(*e), k))
                                    .count();
                                newer < 3
                            }
                            "prescription" => {
                                let mut later: Vec<&str> = (0..model.len())
                                    .filter(|&j| same(j))
                                    .filter_map(|j| model[j].3)
                                    .filter(|g| Some(*g) > *group)
                                    .collect();
                                later.sort_unstable();
                                later.dedup();
                                later.len() < 3
                            }
                            _ => false,
                        }
                    };
                    for (k, (id, ..)) in model.iter().enumerate() {
                        let id: &'static str = Box::leak(id.clone().into_boxed_str());
                        assert_eq!(
                            exists(&s, "Observation", id).await,
                            allowed(k),
                            "{}: history {history}, t {t}, row {id}: {:?}",
                            store.backend,
                            model[k]
                        );
                    }
                }
            });
        }
    }
}

#[test]
fn a_member_purged_on_its_own_leaves_its_document() {
    use crate::store::{DocumentRow, DocumentStatus};
    for t in test_stores() {
        rt().block_on(async {
            let s = t.store.clone();
            let rows = [("x1", 10), ("x2", 1_000)]
                .map(|(id, e)| row("Condition", id, "condition", e))
                .into_iter()
                .chain([row("Bundle", "doc", "referral", 1_000)])
                .collect();
            insert(&s, rows).await;
            s.write(None, |c| {
                let doc = DocumentRow {
                    document_key: "d".into(),
                    kind: "referral".into(),
                    institution: "1318814790".into(),
                    document_identifier: "id".into(),
                    version: "1".into(),
                    status: DocumentStatus::Active,
                    bundle_identifier: "b".into(),
                    bundle_id: "doc".into(),
                    patient_identifier: "p".into(),
                    patient_id: "p1".into(),
                    recipient: None,
                    registered_at: 0,
                    updated_at: 0,
                    received_at: None,
                    received_by: None,
                };
                c.documents()
                    .put_document(&doc, &[condition_member("x1"), condition_member("x2")])
            })
            .await
            .unwrap();
            let r = purge(&s, 15, false).await;
            assert_eq!(r.rules["condition"].purged, 1);
            let left = s
                .read(|c| c.system(SystemUse::Test).document_members("d"))
                .await
                .unwrap();
            let ids: Vec<&str> = left.iter().map(|m| m.res_id.as_str()).collect();
            assert_eq!(ids, ["x2"]);
            assert!(exists(&s, "Bundle", "doc").await);
        });
    }
}
