//! The purge against a reference model over generated histories: resources written directly
//! (report units) or extracted from referrals, checkup reports that extract nothing, receipts
//! that bring a letter's end forward, cancellations, new versions of documents (of a letter that
//! expired: registered again) and re-posts that undo a cancel, and purges at increasing instants. After every
//! purge the store holds exactly what the model allows (nothing past its time, nothing within it
//! lost), a dry run just before predicted every removal, and document rows are in the state the
//! model says.

use std::collections::BTreeMap;

use super::report::{Purged, REPORT_UNIT_RULE};
use super::tests::{Row, exists, insert, purge_in_batches, rt};
use crate::store::{DocumentRow, DocumentStatus, Member, Store, SystemUse, UnitRow};

const CLASSES: [&str; 4] = ["condition", "lab", "prescription", "long-term"];
const GROUPS: [&str; 4] = [
    "2024-01-01|A",
    "2024-02-01|A",
    "2024-02-01|B",
    "2024-03-01|B",
];
/// How long after a receipt the letter goes, in the model's time units.
const AFTER_RECEIPT: i64 = 70;

/// A resource of the model, in insertion (rkey) order.
#[derive(Debug, Clone)]
struct Res {
    res_type: &'static str,
    id: &'static str,
    class: &'static str,
    patient: &'static str,
    group: Option<&'static str>,
    expires: Option<i64>,
    alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocState {
    Active,
    Expired,
    Cancelled,
    Gone,
}

#[derive(Debug, Clone)]
struct Doc {
    /// `referral` (extracts, is received) or `checkup` (neither).
    kind: &'static str,
    key: String,
    bundle: usize,
    members: Vec<usize>,
    state: DocState,
}

#[derive(Debug, Clone)]
struct Unit {
    bundle: usize,
    members: Vec<usize>,
    gone: bool,
}

struct Gen(u64);

impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default)]
struct Model {
    res: Vec<Res>,
    docs: Vec<Doc>,
    units: Vec<Unit>,
}

impl Model {
    fn resource(&mut self, g: &mut Gen, h: usize, t: i64) -> usize {
        let class = CLASSES[g.next(4) as usize];
        let group = match class {
            "lab" => Some(["ALB", "K"][g.next(2) as usize]),
            "prescription" => Some(GROUPS[g.next(4) as usize]),
            _ => None,
        };
        let id: &'static str = Box::leak(format!("h{h}-r{}", self.res.len()).into_boxed_str());
        self.res.push(Res {
            res_type: ["Condition", "Observation", "MedicationRequest", "Condition"]
                [CLASSES.iter().position(|c| *c == class).unwrap_or(0)],
            id,
            class,
            // Patients of their own: histories share a store, and must not rank with each other.
            patient: Box::leak(format!("h{h}-p{}", g.next(2)).into_boxed_str()),
            group,
            expires: Some(t + 10 * g.next(25) as i64),
            alive: true,
        });
        self.res.len() - 1
    }

    fn bundle(&mut self, h: usize, class: &'static str, expires: Option<i64>) -> usize {
        let id: &'static str = Box::leak(format!("h{h}-b{}", self.res.len()).into_boxed_str());
        self.res.push(Res {
            res_type: "Bundle",
            id,
            class,
            patient: "p1",
            group: None,
            expires,
            alive: true,
        });
        self.res.len() - 1
    }

    fn alive_members(&self, members: &[usize]) -> Vec<usize> {
        members
            .iter()
            .copied()
            .filter(|&m| self.res[m].alive)
            .collect()
    }

    /// What the rules keep of the alive resources at `t`, and so what a purge at `t` removes.
    fn doomed(&self, t: i64) -> Vec<usize> {
        let alive: Vec<usize> = (0..self.res.len()).filter(|&k| self.res[k].alive).collect();
        alive
            .iter()
            .copied()
            .filter(|&k| {
                let r = &self.res[k];
                let Some(e) = r.expires else { return false };
                if e > t || r.class == "long-term" {
                    return false;
                }
                let same =
                    |j: usize| self.res[j].patient == r.patient && self.res[j].class == r.class;
                match r.class {
                    "lab" => {
                        let newer = alive
                            .iter()
                            .filter(|&&j| same(j) && self.res[j].group == r.group)
                            .filter(|&&j| (self.res[j].expires, j) > (Some(e), k))
                            .count();
                        newer >= 3
                    }
                    "prescription" => {
                        let mut later: Vec<&str> = alive
                            .iter()
                            .filter(|&&j| same(j))
                            .filter_map(|&j| self.res[j].group)
                            .filter(|g| Some(*g) > r.group)
                            .collect();
                        later.sort_unstable();
                        later.dedup();
                        later.len() >= 3
                    }
                    _ => true,
                }
            })
            .collect()
    }

    /// Applies a purge at `t`; returns what it removed, as the report lists it.
    fn purge(&mut self, t: i64) -> Vec<Purged> {
        let mut removed: Vec<Purged> = Vec::new();
        for k in self.doomed(t) {
            self.res[k].alive = false;
            removed.push(Purged {
                res_type: self.res[k].res_type.into(),
                id: self.res[k].id.into(),
                rule: self.res[k].class.into(),
            });
        }
        for u in 0..self.units.len() {
            let unit = &self.units[u];
            if !unit.gone && self.alive_members(&unit.members).is_empty() {
                let b = unit.bundle;
                self.res[b].alive = false;
                self.units[u].gone = true;
                removed.push(Purged {
                    res_type: "Bundle".into(),
                    id: self.res[b].id.into(),
                    rule: REPORT_UNIT_RULE.into(),
                });
            }
        }
        for d in 0..self.docs.len() {
            let doc = &self.docs[d];
            let letter_gone = !self.res[doc.bundle].alive;
            let contributes = !self.alive_members(&doc.members).is_empty();
            let state = match doc.state {
                DocState::Active | DocState::Expired if letter_gone && !contributes => {
                    DocState::Gone
                }
                DocState::Active if letter_gone => DocState::Expired,
                s => s,
            };
            self.docs[d].state = state;
        }
        removed.sort();
        removed
    }
}

fn row(r: &Res) -> Row<'static> {
    Row {
        res_type: r.res_type,
        id: r.id,
        class: r.class,
        patient: r.patient,
        group: r.group,
        expires_at: r.expires,
    }
}

fn member(r: &Res) -> Member {
    Member {
        res_type: r.res_type.into(),
        res_id: r.id.into(),
        member_identifier: Some(r.id.into()),
    }
}

fn document_row(doc: &Doc, bundle: &Res) -> DocumentRow {
    DocumentRow {
        document_key: doc.key.clone(),
        kind: doc.kind.into(),
        institution: "1318814790".into(),
        document_identifier: doc.key.clone(),
        version: "1".into(),
        status: DocumentStatus::Active,
        bundle_identifier: doc.key.clone(),
        bundle_id: bundle.id.into(),
        patient_identifier: "p".into(),
        patient_id: "p1".into(),
        recipient: None,
        registered_at: 0,
        updated_at: 0,
        received_at: None,
        received_by: None,
    }
}

/// What the histories did, for the size the test reports.
#[derive(Debug, Default)]
struct Tally {
    steps: usize,
    purges: usize,
    units: usize,
    referrals: usize,
    checkups: usize,
    receipts: usize,
    cancels: usize,
    new_versions: usize,
    undone_cancels: usize,
}

/// One generated history on a store, the model kept alongside, counted into `n`.
async fn history(s: &Store, h: usize, g: &mut Gen, label: &str, n: &mut Tally) {
    // The cancels' services: the open caller at the instant 0.
    let svc = crate::interactions::Services::for_tests(s.clone(), 0);
    let mut m = Model::default();
    let mut t = 0;
    let steps = 8 + g.next(8) as usize;
    n.steps += steps + 1;
    for step in 0..=steps {
        let choice = if step == steps { 9 } else { g.next(10) };
        match choice {
            0..=1 => {
                let members: Vec<usize> = (0..1 + g.next(3)).map(|_| m.resource(g, h, t)).collect();
                n.units += 1;
                let bundle = m.bundle(h, "report-unit", None);
                m.units.push(Unit {
                    bundle,
                    members: members.clone(),
                    gone: false,
                });
                let rows = members
                    .iter()
                    .chain([&bundle])
                    .map(|&k| row(&m.res[k]))
                    .collect();
                insert(s, rows).await;
                let list: Vec<Member> = members.iter().map(|&k| member(&m.res[k])).collect();
                let id = m.res[bundle].id;
                let unit = UnitRow {
                    unit_key: id.into(),
                    patient_identifier: "p".into(),
                    bundle_identifier: id.into(),
                    institution: "1318814790".into(),
                    resource_type: "Condition".into(),
                    bundle_id: id.into(),
                    patient_id: "p1".into(),
                    registered_at: 0,
                    updated_at: 0,
                };
                s.write(None, move |c| c.units().put_unit(&unit, &list))
                    .await
                    .unwrap();
            }
            2..=3 => {
                let kind = if g.next(4) == 0 {
                    n.checkups += 1;
                    "checkup"
                } else {
                    n.referrals += 1;
                    "referral"
                };
                let members: Vec<usize> = match kind {
                    "referral" => (0..1 + g.next(4)).map(|_| m.resource(g, h, t)).collect(),
                    _ => Vec::new(),
                };
                let bundle = m.bundle(h, kind, Some(t + 10 * g.next(20) as i64));
                m.docs.push(Doc {
                    kind,
                    key: format!("h{h}-d{}", m.docs.len()),
                    bundle,
                    members: members.clone(),
                    state: DocState::Active,
                });
                let rows = members
                    .iter()
                    .chain([&bundle])
                    .map(|&k| row(&m.res[k]))
                    .collect();
                insert(s, rows).await;
                let list: Vec<Member> = members.iter().map(|&k| member(&m.res[k])).collect();
                let doc = document_row(&m.docs[m.docs.len() - 1], &m.res[bundle]);
                s.write(None, move |c| c.documents().put_document(&doc, &list))
                    .await
                    .unwrap();
            }
            4..=6 if !m.docs.is_empty() => {
                let d = g.next(m.docs.len() as u64) as usize;
                match (g.next(3), m.docs[d].state) {
                    (0, DocState::Active) if m.docs[d].kind == "referral" => {
                        // The addressee's receipt: the letter goes soon after, its extracts not.
                        n.receipts += 1;
                        let b = m.docs[d].bundle;
                        let at = m.res[b]
                            .expires
                            .map_or(t + AFTER_RECEIPT, |e| e.min(t + AFTER_RECEIPT));
                        m.res[b].expires = Some(at);
                        let id = m.res[b].id;
                        s.write(None, move |c| c.documents().expire_by("Bundle", id, at))
                            .await
                            .unwrap();
                    }
                    (1, DocState::Active | DocState::Expired) => {
                        n.cancels += 1;
                        for k in m.docs[d].members.clone() {
                            m.res[k].alive = false;
                        }
                        let b = m.docs[d].bundle;
                        m.res[b].alive = false;
                        m.docs[d].members.clear();
                        m.docs[d].state = DocState::Cancelled;
                        let key = m.docs[d].key.clone();
                        // Through the write kernel, as a request cancels.
                        svc.write_tx(svc.session(), None, None, move |tx| {
                            crate::submissions::documents::cancel_in_tx(tx, &key)
                        })
                        .await
                        .unwrap();
                    }
                    (2, DocState::Active | DocState::Expired | DocState::Cancelled) => {
                        if m.docs[d].state == DocState::Cancelled {
                            n.undone_cancels += 1;
                        } else {
                            n.new_versions += 1;
                        }
                        replace(s, &mut m, g, h, d, t).await;
                    }
                    _ => {}
                }
            }
            _ => {
                t += if step == steps {
                    1_000
                } else {
                    10 * g.next(8) as i64
                };
                n.purges += 1;
                let expected = m.purge(t);
                let batch = 1 + g.next(4) as usize;
                let dry = purge_in_batches(s, t, true, batch).await;
                let real = purge_in_batches(s, t, false, batch).await;
                let at = format!("{label}, step {step}, purge at {t}");
                assert_eq!(
                    dry.list.as_deref(),
                    Some(expected.as_slice()),
                    "dry run, {at}"
                );
                assert_eq!(real.list.as_deref(), Some(expected.as_slice()), "{at}");
                assert_eq!(dry.rules, real.rules, "{at}");
                assert_eq!(
                    (dry.purged, dry.units_removed),
                    (real.purged, real.units_removed),
                    "{at}"
                );
                let audit = s
                    .read(move |c| c.retention().purged_in_run(real.run_id))
                    .await
                    .unwrap();
                assert_eq!(audit.len(), expected.len(), "{at}");
                check_store(s, &m, &at).await;
            }
        }
    }
}

/// A new version of document `d`: some of what it contributed is kept, the rest dropped, new
/// entries added; a letter that had expired, or a document that was cancelled (a re-post undoes
/// the cancel), is registered again under its Bundle id.
async fn replace(s: &Store, m: &mut Model, g: &mut Gen, h: usize, d: usize, t: i64) {
    let old = m.alive_members(&m.docs[d].members);
    let kept: Vec<usize> = old.iter().copied().filter(|_| g.next(2) == 0).collect();
    let dropped: Vec<usize> = old.iter().copied().filter(|k| !kept.contains(k)).collect();
    for &k in &dropped {
        m.res[k].alive = false;
    }
    let kind = m.docs[d].kind;
    let added: Vec<usize> = match kind {
        "referral" => (0..g.next(3)).map(|_| m.resource(g, h, t)).collect(),
        _ => Vec::new(),
    };
    let mut rows: Vec<Row<'static>> = added.iter().map(|&k| row(&m.res[k])).collect();
    if matches!(m.docs[d].state, DocState::Expired | DocState::Cancelled) {
        let id = m.res[m.docs[d].bundle].id;
        let fresh = m.bundle(h, kind, Some(t + 10 * g.next(20) as i64));
        m.res[fresh].id = id;
        m.docs[d].bundle = fresh;
        rows.push(row(&m.res[fresh]));
    }
    m.docs[d].members = kept.iter().chain(&added).copied().collect();
    m.docs[d].state = DocState::Active;
    let gone: Vec<(&'static str, &'static str)> = dropped
        .iter()
        .map(|&k| (m.res[k].res_type, m.res[k].id))
        .collect();
    let list: Vec<Member> = m.docs[d]
        .members
        .iter()
        .map(|&k| member(&m.res[k]))
        .collect();
    let doc = document_row(&m.docs[d], &m.res[m.docs[d].bundle]);
    insert(s, rows).await;
    s.write(None, move |c| {
        for (t, id) in gone {
            c.purge(t, id)?;
        }
        c.documents().put_document(&doc, &list)
    })
    .await
    .unwrap();
}

async fn check_store(s: &Store, m: &Model, at: &str) {
    let mut by_id: BTreeMap<(&str, &str), bool> = BTreeMap::new();
    for r in &m.res {
        // A re-registered letter shares its id with the expired one: alive if either is.
        *by_id.entry((r.res_type, r.id)).or_default() |= r.alive;
    }
    for ((t, id), alive) in by_id {
        assert_eq!(exists(s, t, id).await, alive, "{at}: {t}/{id}");
    }
    for doc in &m.docs {
        let key = doc.key.clone();
        let stored = s
            .read(move |c| c.system(SystemUse::Test).document(&key))
            .await
            .unwrap();
        let expected = match doc.state {
            DocState::Active => Some(DocumentStatus::Active),
            DocState::Expired => Some(DocumentStatus::Expired),
            DocState::Cancelled => Some(DocumentStatus::Cancelled),
            DocState::Gone => None,
        };
        assert_eq!(
            stored.map(|d| d.status),
            expected,
            "{at}: document {}",
            doc.key
        );
    }
}

/// How many histories each backend replays; each prints its size with `--nocapture`.
const HISTORIES: usize = 60;

#[test]
fn histories_with_documents_match_a_reference_model() {
    for t in crate::store::test_db::test_stores() {
        let mut g = Gen(0x5EED_D0C5_0000_0001);
        let mut n = Tally::default();
        for h in 0..HISTORIES {
            let label = format!("{} history {h}", t.backend);
            rt().block_on(history(&t.store, h, &mut g, &label, &mut n));
        }
        println!(
            "{}: {HISTORIES} histories, {} steps, {} purges checked against the model \
             ({} report units, {} referrals, {} checkup reports, {} receipts, {} cancels, \
             {} new versions, {} cancels undone)",
            t.backend,
            n.steps,
            n.purges,
            n.units,
            n.referrals,
            n.checkups,
            n.receipts,
            n.cancels,
            n.new_versions,
            n.undone_cancels,
        );
        assert!(
            n.checkups > 0
                && n.receipts > 0
                && n.cancels > 0
                && n.new_versions > 0
                && n.undone_cancels > 0,
            "the histories no longer exercise every document path: {n:?}"
        );
    }
}
