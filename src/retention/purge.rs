//! One purge run: walk the rows whose expiry has passed in bounded batches (each its own
//! transaction, so requests keep flowing and an interrupted run leaves a consistent store),
//! keep those the "latest 3" rules still protect, remove the rest entirely, and audit it all.
//!
//! A dry run takes the same walk and the same decisions, and predicts what the removals would
//! take along (report units left without members), so its report is what the real run's would
//! be. The decisions do not depend on what a run removed before: a row is protected when it
//! ranks among the latest 3 of its group, and removing rows that do not never changes which do.

use std::collections::{BTreeMap, BTreeSet};

use super::Policy;
use super::report::{PurgeReport, Purged, REPORT_UNIT_RULE};
use crate::audit::{Action, AuditRecord, Interaction, Outcome, Touch};
use crate::clins::classes::RetentionClass;
use crate::store::{Conn, DocumentStatus, Expired, Store, StoreError, SystemUse};

/// How a run is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PurgeOptions {
    /// Rules are applied as of this instant (microseconds since the epoch).
    pub as_of: i64,
    /// Rows examined per transaction.
    pub batch: usize,
    /// Count, decide and report, but remove nothing.
    pub dry_run: bool,
    /// List every removed resource in the report.
    pub list: bool,
    pub policy: Policy,
}

/// A run's state between batches: the report so far and, in a dry run, how many members of
/// each report unit it would have removed.
#[derive(Debug, Clone, Default)]
struct Walk {
    report: PurgeReport,
    doomed_members: BTreeMap<String, u64>,
}

/// Runs a purge to the end; `progress` is called after every batch with the report so far.
pub async fn run(
    store: &Store,
    options: PurgeOptions,
    started_at: i64,
    mut progress: impl FnMut(&PurgeReport),
) -> Result<PurgeReport, StoreError> {
    let _hold = store.hold_checkpoints();
    let run_id = store
        .write(None, move |c| {
            c.retention()
                .start_purge_run(started_at, options.as_of, options.dry_run)
        })
        .await?;
    let mut walk = Walk {
        report: PurgeReport {
            run_id,
            as_of: options.as_of,
            dry_run: options.dry_run,
            list: options.list.then(Vec::new),
            ..PurgeReport::default()
        },
        doomed_members: BTreeMap::new(),
    };
    let mut cursor: Cursor = None;
    loop {
        let (next, after, done) = store
            .write(None, move |c| batch(c, options, cursor, walk))
            .await?;
        walk = after;
        cursor = next;
        progress(&walk.report);
        if done {
            break;
        }
    }
    if options.dry_run && !walk.doomed_members.is_empty() {
        walk = store.read(move |c| units_left_empty(c, walk)).await?;
    }
    let mut report = walk.report;
    if let Some(list) = &mut report.list {
        list.sort();
    }
    let counts = serde_json::to_string(&report.counts()).unwrap_or_default();
    let finished = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
    store
        .write(None, move |c| {
            c.retention().finish_purge_run(run_id, finished, &counts)
        })
        .await?;
    Ok(report)
}

/// Where the walk goes on from: the last `(expires_at, rkey)` seen.
type Cursor = Option<(i64, i64)>;

/// One bounded batch in one transaction: returns the cursor to continue from, the updated
/// state, and whether the walk is complete.
fn batch(
    c: &mut Conn<'_>,
    options: PurgeOptions,
    cursor: Cursor,
    mut walk: Walk,
) -> Result<(Cursor, Walk, bool), StoreError> {
    c.retention().begin_purge_batch()?;
    let limit = i64::try_from(options.batch.max(1)).unwrap_or(i64::MAX);
    let rows = c.retention().expired_batch(options.as_of, cursor, limit)?;
    c.cede();
    let done = rows.len() < options.batch.max(1);
    let next = rows.last().map(|r| (r.expires_at, r.rkey)).or(cursor);
    let now = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
    let latest = i64::try_from(options.policy.latest).unwrap_or(i64::MAX);
    let mut doomed: Vec<(Expired, String)> = Vec::new();
    for row in rows {
        let rule = row
            .retention_class
            .clone()
            .unwrap_or_else(|| "unclassified".into());
        let counts = walk.report.rules.entry(rule.clone()).or_default();
        counts.examined += 1;
        if class_of(&row) == Some(RetentionClass::LongTerm) {
            counts.kept_by_lts += 1;
            if !options.dry_run {
                c.retention().clear_expiry(row.rkey)?;
            }
            continue;
        }
        if protected(c, &row, latest)? {
            counts.kept_by_latest += 1;
            continue;
        }
        counts.purged += 1;
        doomed.push((row, rule));
    }
    if doomed.is_empty() {
        return Ok((next, walk, done));
    }
    let removed = if options.dry_run {
        for (res_type, ids) in by_type(&doomed) {
            for key in c.system(SystemUse::Purge).units_of(res_type, &ids)? {
                *walk.doomed_members.entry(key).or_default() += 1;
            }
            c.cede();
        }
        doomed.iter().map(|(r, rule)| purged(r, rule)).collect()
    } else {
        purge_rows(c, &doomed, walk.report.run_id, now)?
    };
    for p in &removed {
        walk.report.removed(&p.res_type, &p.id, &p.rule);
    }
    Ok((next, walk, done))
}

/// A dry run's last step: the report units all of whose members it would have removed, whose
/// Bundles the real run removes with the last of them.
fn units_left_empty(c: &mut Conn<'_>, mut walk: Walk) -> Result<Walk, StoreError> {
    for (key, doomed) in std::mem::take(&mut walk.doomed_members) {
        let members =
            u64::try_from(c.system(SystemUse::Purge).unit_members(&key)?.len()).unwrap_or(u64::MAX);
        if members > doomed {
            continue;
        }
        if let Some(u) = c.system(SystemUse::Purge).unit(&key)? {
            walk.report
                .removed("Bundle", &u.bundle_id, REPORT_UNIT_RULE);
        }
    }
    Ok(walk)
}

fn purged(row: &Expired, rule: &str) -> Purged {
    Purged {
        res_type: row.res_type.clone(),
        id: row.res_id.clone(),
        rule: rule.to_string(),
    }
}

fn by_type(rows: &[(Expired, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (row, _) in rows {
        by_type
            .entry(row.res_type.as_str())
            .or_default()
            .push(row.res_id.as_str());
    }
    by_type
}

/// The AuditEvent of one purged batch, in its transaction: every resource it removed, with
/// its patient, and the count per rule. The run's `purged_resources` rows say the same for
/// `kyoyu purge` and the run's record.
fn purge_event(run_id: i64, removed: &[(Purged, Option<String>)], now: i64) -> AuditRecord {
    let listed: Vec<Purged> = removed.iter().map(|(p, _)| p.clone()).collect();
    AuditRecord {
        id: crate::audit::event_id(now),
        recorded: now,
        action: Action::Delete,
        interaction: Interaction::Purge,
        outcome: Outcome::Success,
        detail: Some(format!(
            "purge run {run_id}: {} resources removed past retention ({})",
            removed.len(),
            PurgeReport::summary(&listed)
        )),
        role: "operator".into(),
        agent_name: "retention purger".into(),
        institution: None,
        emergency: None,
        res_type: None,
        res_id: None,
        entities: removed
            .iter()
            .map(|(p, patient)| Touch {
                res_type: p.res_type.clone(),
                res_id: p.id.clone(),
                patient: Some(patient.clone()),
            })
            .collect(),
    }
}

/// The retention class of an expired row; `None` for a row without one, or with a text no
/// class has (it falls under no rule of its own, as before the classes were typed).
fn class_of(row: &Expired) -> Option<RetentionClass> {
    row.retention_class
        .as_deref()
        .and_then(RetentionClass::parse)
}

/// Whether a "latest 3" rule keeps a row past its time window.
fn protected(c: &mut Conn<'_>, row: &Expired, latest: i64) -> Result<bool, StoreError> {
    let kept = match class_of(row) {
        Some(RetentionClass::Lab) => c.retention().newer_in_group(row)? < latest,
        Some(RetentionClass::Prescription) => c.retention().newer_groups(row)? < latest,
        _ => return Ok(false),
    };
    c.cede();
    Ok(kept)
}

/// Removes the rows in bulk, drops them from their report units and documents, removes the
/// units left without members (their Bundle too), and audits it all. A document whose Bundle
/// goes keeps what was extracted from it: that is the patient's record, under its own rules
/// (DESIGN §8); the document's row stays, expired, while it still lists any of it. Returns what
/// went.
fn purge_rows(
    c: &mut Conn<'_>,
    rows: &[(Expired, String)],
    run_id: i64,
    now: i64,
) -> Result<Vec<Purged>, StoreError> {
    let mut units = Vec::new();
    let mut documents = BTreeSet::new();
    for (res_type, ids) in by_type(rows) {
        let taken = c.retention().take_members(res_type, &ids)?;
        units.extend(taken.units);
        documents.extend(taken.documents);
        c.cede();
    }
    let mut letters = BTreeSet::new();
    for (row, _) in rows.iter().filter(|(r, _)| r.res_type == "Bundle") {
        if let Some(doc) = c
            .system(SystemUse::Purge)
            .document_by_bundle_id(&row.res_id)?
        {
            letters.insert(doc.document_key.clone());
            documents.insert(doc.document_key);
        }
    }
    for key in documents {
        let Some(doc) = c.system(SystemUse::Purge).document(&key)? else {
            continue;
        };
        let letter_gone = letters.contains(&key) || doc.status == DocumentStatus::Expired;
        if !letter_gone {
            continue;
        }
        if c.system(SystemUse::Purge)
            .document_members(&key)?
            .is_empty()
        {
            c.documents().delete_document(&key)?;
        } else if doc.status != DocumentStatus::Expired {
            c.documents()
                .set_document_status(&key, DocumentStatus::Expired)?;
        }
    }
    let rkeys: Vec<i64> = rows.iter().map(|(r, _)| r.rkey).collect();
    c.retention().purge_rkeys(&rkeys)?;
    let audit: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(r, rule)| (r.res_type.as_str(), r.res_id.as_str(), rule.as_str()))
        .collect();
    c.retention().record_purged_many(run_id, &audit, now)?;
    c.cede();
    let mut removed: Vec<(Purged, Option<String>)> = rows
        .iter()
        .map(|(r, rule)| (purged(r, rule), r.patient_key.clone()))
        .collect();
    // A report unit whose last member expired goes with it: Bundle, then the unit row.
    units.sort();
    units.dedup();
    for key in units {
        if !c.system(SystemUse::Purge).unit_members(&key)?.is_empty() {
            continue;
        }
        if let Some(u) = c.system(SystemUse::Purge).unit(&key)?
            && c.purge("Bundle", &u.bundle_id)?.is_some()
        {
            c.retention()
                .record_purged(run_id, "Bundle", &u.bundle_id, REPORT_UNIT_RULE, now)?;
            removed.push((
                Purged {
                    res_type: "Bundle".into(),
                    id: u.bundle_id.clone(),
                    rule: REPORT_UNIT_RULE.into(),
                },
                Some(u.patient_id.clone()),
            ));
        }
        c.units().delete_unit(&key)?;
    }
    c.audit()
        .insert_audit(&purge_event(run_id, &removed, now).into())?;
    Ok(removed.into_iter().map(|(p, _)| p).collect())
}

/// The background purger of `kyoyu serve`: a run every `every`, as of the injected clock's now.
/// Runs are batched transactions on the store's own threads, so request handling goes on.
pub fn spawn_purger(
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    every: std::time::Duration,
    batch: usize,
    policy: Policy,
    counters: crate::metrics::PurgeCounters,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = clock.now_micros();
            let options = PurgeOptions {
                as_of: now,
                batch,
                dry_run: false,
                list: false,
                policy,
            };
            let removed = match run(&store, options, now, |_| {}).await {
                Ok(r) => {
                    tracing::info!(
                        run = r.run_id,
                        examined = r.examined(),
                        purged = r.purged(),
                        "retention purge"
                    );
                    Some(r.purged())
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention purge failed");
                    None
                }
            };
            counters.finished(removed, clock.now_micros().div_euclid(1_000_000));
        }
    })
}
