//! One purge run: walk the rows whose expiry has passed in bounded batches (each its own
//! transaction, so requests keep flowing and an interrupted run leaves a consistent store),
//! keep those the "latest 3" rules still protect, remove the rest entirely, and audit it all.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Policy;
use crate::access::audit::{Action, AuditRecord};
use crate::store::{Conn, Expired, Store, StoreError};

/// How a run is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PurgeOptions {
    /// Rules are applied as of this instant (microseconds since the epoch).
    pub as_of: i64,
    /// Rows examined per transaction.
    pub batch: usize,
    /// Count, decide and report, but remove nothing.
    pub dry_run: bool,
    pub policy: Policy,
}

/// Per rule (retention class): what the run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RuleCounts {
    pub examined: u64,
    pub purged: u64,
    pub kept_by_latest: u64,
    /// Past their time but tagged LTS: kept, and their expiry cleared so they are counted once.
    pub kept_by_lts: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub run_id: i64,
    pub as_of: i64,
    pub dry_run: bool,
    pub rules: BTreeMap<String, RuleCounts>,
    /// Report-unit Bundles removed because their last member went.
    pub units_removed: u64,
}

impl PurgeReport {
    pub fn purged(&self) -> u64 {
        self.rules.values().map(|c| c.purged).sum::<u64>() + self.units_removed
    }

    pub fn examined(&self) -> u64 {
        self.rules.values().map(|c| c.examined).sum()
    }
}

/// Serialises purgers: with several servers on one PostgreSQL only one purges at a time.
const PURGE_LOCK: &str = "retention purge";

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
            c.start_purge_run(started_at, options.as_of, options.dry_run)
        })
        .await?;
    let mut report = PurgeReport {
        run_id,
        as_of: options.as_of,
        dry_run: options.dry_run,
        ..PurgeReport::default()
    };
    let mut cursor: Cursor = None;
    loop {
        let so_far = report.clone();
        let (next, batch_report, done) = store
            .write(None, move |c| batch(c, options, cursor, so_far))
            .await?;
        report = batch_report;
        cursor = next;
        progress(&report);
        if done {
            break;
        }
    }
    let counts = serde_json::to_string(&report).unwrap_or_default();
    let finished = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
    store
        .write(None, move |c| c.finish_purge_run(run_id, finished, &counts))
        .await?;
    Ok(report)
}

/// Where the walk goes on from: the last `(expires_at, rkey)` seen.
type Cursor = Option<(i64, i64)>;

/// One bounded batch in one transaction: returns the cursor to continue from, the updated
/// report, and whether the walk is complete.
fn batch(
    c: &mut Conn<'_>,
    options: PurgeOptions,
    cursor: Cursor,
    mut report: PurgeReport,
) -> Result<(Cursor, PurgeReport, bool), StoreError> {
    c.begin_purge_batch(PURGE_LOCK)?;
    let limit = i64::try_from(options.batch.max(1)).unwrap_or(i64::MAX);
    let rows = c.expired_batch(options.as_of, cursor, limit)?;
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
        let counts = report.rules.entry(rule.clone()).or_default();
        counts.examined += 1;
        if row.retention_class.as_deref() == Some("long-term") {
            counts.kept_by_lts += 1;
            if !options.dry_run {
                c.clear_expiry(row.rkey)?;
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
    if !options.dry_run && !doomed.is_empty() {
        report.units_removed += purge_rows(c, &doomed, report.run_id, now)?;
    }
    Ok((next, report, done))
}

/// The AuditEvent of one purged batch, in its transaction. The resources themselves are listed
/// in `purged_resources` (type, id, rule, time) under the run it names.
fn purge_event(run_id: i64, purged: usize, now: i64) -> AuditRecord {
    AuditRecord {
        id: crate::access::audit::event_id(now),
        recorded: now,
        action: Action::Delete.code(),
        interaction: "purge".into(),
        outcome: "0",
        detail: Some(format!(
            "purge run {run_id}: {purged} resources past retention"
        )),
        role: "operator".into(),
        agent_name: "retention purger".into(),
        institution: None,
        emergency: None,
        res_type: None,
        res_id: None,
        entities: Vec::new(),
    }
}

/// Whether a "latest 3" rule keeps a row past its time window.
fn protected(c: &mut Conn<'_>, row: &Expired, latest: i64) -> Result<bool, StoreError> {
    let kept = match row.retention_class.as_deref() {
        Some("lab") => c.newer_in_group(row)? < latest,
        Some("prescription") => c.newer_groups(row)? < latest,
        _ => return Ok(false),
    };
    c.cede();
    Ok(kept)
}

/// Removes the rows in bulk, drops them from their report units and documents, audits them, and removes the
/// units left without members (their Bundle too). Returns how many units went.
fn purge_rows(
    c: &mut Conn<'_>,
    rows: &[(Expired, String)],
    run_id: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (row, _) in rows {
        by_type
            .entry(row.res_type.as_str())
            .or_default()
            .push(row.res_id.as_str());
    }
    let mut units = Vec::new();
    for (res_type, ids) in &by_type {
        units.extend(c.take_members(res_type, ids)?);
        c.cede();
    }
    // A document goes with what was extracted from it.
    for (row, _) in rows.iter().filter(|(r, _)| r.res_type == "Bundle") {
        if let Some(doc) = c.document_by_bundle_id(&row.res_id)? {
            for m in c.document_members(&doc.document_key)? {
                if c.purge(&m.res_type, &m.res_id)? {
                    c.record_purged(run_id, &m.res_type, &m.res_id, "with-document", now)?;
                }
            }
            c.delete_document(&doc.document_key)?;
        }
    }
    let rkeys: Vec<i64> = rows.iter().map(|(r, _)| r.rkey).collect();
    c.insert_audit(&purge_event(run_id, rows.len(), now))?;
    c.purge_rkeys(&rkeys)?;
    let audit: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(r, rule)| (r.res_type.as_str(), r.res_id.as_str(), rule.as_str()))
        .collect();
    c.record_purged_many(run_id, &audit, now)?;
    c.cede();
    // A report unit whose last member expired goes with it: Bundle, then the unit row.
    let mut removed = 0;
    units.sort();
    units.dedup();
    for key in units {
        if !c.unit_members(&key)?.is_empty() {
            continue;
        }
        if let Some(u) = c.unit(&key)? {
            c.purge("Bundle", &u.bundle_id)?;
            c.record_purged(run_id, "Bundle", &u.bundle_id, "report-unit", now)?;
        }
        c.delete_unit(&key)?;
        removed += 1;
    }
    Ok(removed)
}

/// The background purger of `kyoyu serve`: a run every `every`, as of the injected clock's now.
/// Runs are batched transactions on the store's own threads, so request handling goes on.
pub fn spawn_purger(
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    every: std::time::Duration,
    batch: usize,
    policy: Policy,
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
                policy,
            };
            match run(&store, options, now, |_| {}).await {
                Ok(r) => tracing::info!(
                    run = r.run_id,
                    examined = r.examined(),
                    purged = r.purged(),
                    "retention purge"
                ),
                Err(e) => tracing::warn!(error = %e, "retention purge failed"),
            }
        }
    })
}
