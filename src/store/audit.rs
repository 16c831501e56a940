//! The audit trail's rows: one `audit_events` row per request, with the resources it touched,
//! each with its patient resolved from `resources` at insert time (inside the recorded change's
//! transaction, so the patient is the one of the version written). One touched resource (most
//! reads) has columns of its own; several are kept as one JSON list (see the migration
//! `audit_entities_inline`), and a patient index names every event that touched a patient.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use super::schema::{audit_events, audit_patients, audit_patients_recent, resources};
use super::{Conn, StoreError, dispatch};
use crate::access::Emergency;
use crate::audit::{AuditEntity, AuditRecord, Touch, first_event_id_since};

/// Rows (or looked-up ids) per multi-row statement, well within both engines' bound-parameter
/// limits.
const EVENTS_PER_STATEMENT: usize = 500;
const PAIRS_PER_STATEMENT: usize = 2000;
const LOOKUPS_PER_STATEMENT: usize = 2000;
/// SQLite rows inserted between two yields of the writer's core (see `Conn::cede`): a batch of
/// a few thousand records otherwise holds the core for milliseconds while readers wait on it.
const CEDE_EVERY: usize = 64;

/// After the `i`-th row of a SQLite batch: every [`CEDE_EVERY`] rows, yields the core.
fn cede_after(i: usize) {
    if i % CEDE_EVERY == CEDE_EVERY - 1 {
        std::thread::yield_now();
    }
}

/// Which events a search returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events that touched one of these patients (a patient's own history).
    pub patients: Option<Vec<String>>,
    pub since: Option<i64>,
    pub count: i64,
    pub offset: i64,
}

pub(super) type EventRow = (
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

macro_rules! event_columns {
    () => {
        (
            audit_events::id,
            audit_events::recorded,
            audit_events::action,
            audit_events::interaction,
            audit_events::outcome,
            audit_events::detail,
            audit_events::role,
            audit_events::agent_name,
            audit_events::institution,
            audit_events::emergency,
            audit_events::emergency_reason,
            audit_events::emergency_method,
            audit_events::res_type,
            audit_events::res_id,
            audit_events::entity_type,
            audit_events::entity_id,
            audit_events::patient_key,
            audit_events::entities,
        )
    };
}

pub(super) use event_columns;

fn static_code(s: &str, codes: &[&'static str]) -> &'static str {
    codes.iter().find(|c| **c == s).copied().unwrap_or("")
}

/// A stored event and the resources it touched.
pub(super) fn record_of(row: EventRow) -> Result<(AuditRecord, Vec<AuditEntity>), StoreError> {
    let (id, recorded, action, interaction, outcome, detail, role, agent_name, institution) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    let emergency = match (row.9, row.10, row.11) {
        (true, reason, method) => Some(Emergency {
            reason: reason.unwrap_or_default(),
            method: method.unwrap_or_default(),
        }),
        _ => None,
    };
    let entities = match (row.14, row.15, row.17) {
        (Some(res_type), Some(res_id), _) => vec![AuditEntity {
            res_type,
            res_id,
            patient_key: row.16,
        }],
        (_, _, Some(list)) => parse_entity_list(&list)
            .map_err(|e| StoreError::Corrupt(format!("audit event {id}: entities: {e}")))?,
        _ => Vec::new(),
    };
    let record = AuditRecord {
        id,
        recorded,
        action: static_code(&action, &["C", "R", "U", "D", "E"]),
        interaction,
        outcome: static_code(&outcome, &["0", "4", "8"]),
        detail,
        role,
        agent_name,
        institution,
        emergency,
        res_type: row.12,
        res_id: row.13,
        entities: Vec::new(),
    };
    Ok((record, entities))
}

/// An event's touched resources as its row lists them: `[[type, id, patient], …]`.
pub(super) fn parse_entity_list(list: &str) -> Result<Vec<AuditEntity>, serde_json::Error> {
    let rows: Vec<(String, String, Option<String>)> = serde_json::from_str(list)?;
    Ok(rows
        .into_iter()
        .map(|(res_type, res_id, patient_key)| AuditEntity {
            res_type,
            res_id,
            patient_key,
        })
        .collect())
}

/// The list an event's row keeps when it touched several resources (see [`parse_entity_list`]).
fn entity_list(r: &AuditRecord, patients: &[Option<String>]) -> Option<String> {
    use serde_json::Value;
    if r.entities.len() < 2 {
        return None;
    }
    let text = |s: &str| Value::String(s.to_string());
    let rows = r
        .entities
        .iter()
        .zip(patients)
        .map(|(t, p)| {
            Value::Array(vec![
                text(&t.res_type),
                text(&t.res_id),
                p.as_deref().map_or(Value::Null, text),
            ])
        })
        .collect();
    Some(Value::Array(rows).to_string())
}

/// The resource an event's own row names: its only one.
fn inline_entity<'a>(
    r: &'a AuditRecord,
    patients: &'a [Option<String>],
) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
    match (r.entities.as_slice(), patients) {
        ([one], [patient]) => (Some(&one.res_type), Some(&one.res_id), patient.as_deref()),
        _ => (None, None, None),
    }
}

/// The `audit_events` values of a record whose touched resources have `patients` and, when
/// several, are listed in `list`.
#[allow(clippy::type_complexity)]
fn event_row<'a>(
    r: &'a AuditRecord,
    patients: &'a [Option<String>],
    list: Option<&'a str>,
) -> (
    diesel::dsl::Eq<audit_events::id, &'a str>,
    diesel::dsl::Eq<audit_events::recorded, i64>,
    diesel::dsl::Eq<audit_events::action, &'static str>,
    diesel::dsl::Eq<audit_events::interaction, &'a str>,
    diesel::dsl::Eq<audit_events::outcome, &'static str>,
    diesel::dsl::Eq<audit_events::detail, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::role, &'a str>,
    diesel::dsl::Eq<audit_events::agent_name, &'a str>,
    diesel::dsl::Eq<audit_events::institution, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::emergency, bool>,
    diesel::dsl::Eq<audit_events::emergency_reason, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::emergency_method, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::res_type, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::res_id, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::entity_type, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::entity_id, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::patient_key, Option<&'a str>>,
    diesel::dsl::Eq<audit_events::entities, Option<&'a str>>,
) {
    let emergency = r.emergency.as_ref();
    let (entity_type, entity_id, patient) = inline_entity(r, patients);
    (
        audit_events::id.eq(r.id.as_str()),
        audit_events::recorded.eq(r.recorded),
        audit_events::action.eq(r.action),
        audit_events::interaction.eq(r.interaction.as_str()),
        audit_events::outcome.eq(r.outcome),
        audit_events::detail.eq(r.detail.as_deref()),
        audit_events::role.eq(r.role.as_str()),
        audit_events::agent_name.eq(r.agent_name.as_str()),
        audit_events::institution.eq(r.institution.as_deref()),
        audit_events::emergency.eq(emergency.is_some()),
        audit_events::emergency_reason.eq(emergency.map(|e| e.reason.as_str())),
        audit_events::emergency_method.eq(emergency.map(|e| e.method.as_str())),
        audit_events::res_type.eq(r.res_type.as_deref()),
        audit_events::res_id.eq(r.res_id.as_deref()),
        audit_events::entity_type.eq(entity_type),
        audit_events::entity_id.eq(entity_id),
        audit_events::patient_key.eq(patient),
        audit_events::entities.eq(list),
    )
}

/// The (patient, event) pairs of events: each event once per patient it touched.
pub(super) fn patient_pairs<'a>(
    records: &'a [AuditRecord],
    patients: &'a [Vec<Option<String>>],
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = Vec::with_capacity(records.len());
    for (r, p) in records.iter().zip(patients) {
        let first = pairs.len();
        for patient in p.iter().flatten() {
            if !pairs[first..].iter().any(|(seen, _)| seen == patient) {
                pairs.push((patient.as_str(), r.id.as_str()));
            }
        }
    }
    pairs
}

impl Conn<'_> {
    /// Records one event and what it touched.
    pub fn insert_audit(&mut self, r: &AuditRecord) -> Result<(), StoreError> {
        self.insert_audits(std::slice::from_ref(r))
    }

    /// Records events and what they touched. PostgreSQL gets multi-row statements (a handful
    /// of round trips per batch, not two per read); SQLite, in-process, runs one small
    /// statement per row, which diesel keeps prepared: parsing a statement of hundreds of rows
    /// costs more than that.
    pub fn insert_audits(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let patients = self.patients_of(records)?;
        let lists: Vec<Option<String>> = records
            .iter()
            .zip(&patients)
            .map(|(r, p)| entity_list(r, p))
            .collect();
        let pairs = patient_pairs(records, &patients);
        match self {
            Conn::Sqlite(c) => {
                let c: &mut diesel::sqlite::SqliteConnection = c;
                // Or ignore: a change's record moved to the audit file is copied again if the
                // move was interrupted before the clinical file's copy was deleted.
                for (i, ((r, p), list)) in records.iter().zip(&patients).zip(&lists).enumerate() {
                    diesel::insert_or_ignore_into(audit_events::table)
                        .values(event_row(r, p, list.as_deref()))
                        .execute(c)?;
                    cede_after(i);
                }
                for (i, (patient, event)) in pairs.into_iter().enumerate() {
                    diesel::insert_into(audit_patients_recent::table)
                        .values((
                            audit_patients_recent::patient_key.eq(patient),
                            audit_patients_recent::event_id.eq(event),
                        ))
                        .execute(c)?;
                    cede_after(i);
                }
            }
            Conn::Pg(c) => {
                let c: &mut diesel::pg::PgConnection = c;
                let rows: Vec<_> = records
                    .iter()
                    .zip(&patients)
                    .zip(&lists)
                    .map(|((r, p), list)| event_row(r, p, list.as_deref()))
                    .collect();
                for chunk in rows.chunks(EVENTS_PER_STATEMENT) {
                    diesel::insert_into(audit_events::table)
                        .values(chunk)
                        .execute(c)?;
                }
                // PostgreSQL writes an index page to disk at its checkpoints, not at every
                // commit, so moving the pairs in batches would gain nothing there and cost a
                // second insert and a delete: they go to the patient index at once.
                let direct: Vec<_> = pairs
                    .into_iter()
                    .map(|(patient, event)| {
                        (
                            audit_patients::patient_key.eq(patient),
                            audit_patients::event_id.eq(event),
                        )
                    })
                    .collect();
                for chunk in direct.chunks(PAIRS_PER_STATEMENT) {
                    diesel::insert_into(audit_patients::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
            }
        }
        Ok(())
    }

    /// SQLite: moves the recently recorded (patient, event) pairs into `audit_patients`, sorted
    /// by patient so that each patient's leaf is written once per move, not once per commit.
    /// Returns how many moved.
    pub fn move_recent_audit_patients(&mut self) -> Result<usize, StoreError> {
        match self {
            // One writer: nothing is appended between the copy and the delete.
            Conn::Sqlite(c) => {
                let c: &mut diesel::sqlite::SqliteConnection = c;
                // An empty delete still writes a page: an idle server would commit (and fsync)
                // every second for nothing.
                let pending: bool = diesel::select(diesel::dsl::exists(
                    audit_patients_recent::table.select(audit_patients_recent::seq),
                ))
                .get_result(c)?;
                if !pending {
                    return Ok(0);
                }
                let moved = diesel::sql_query(
                    "INSERT OR IGNORE INTO audit_patients (patient_key, event_id) \
                     SELECT patient_key, event_id FROM audit_patients_recent ORDER BY 1, 2",
                )
                .execute(c)?;
                diesel::delete(audit_patients_recent::table).execute(c)?;
                Ok(moved)
            }
            // PostgreSQL inserts into the patient index directly (see `insert_audits`).
            Conn::Pg(_) => Ok(0),
        }
    }

    /// The patient of every resource every record touched, in the same shape: as the request
    /// knew it, else looked up.
    pub(super) fn patients_of(
        &mut self,
        records: &[AuditRecord],
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let unknown: Vec<&Touch> = records
            .iter()
            .flat_map(|r| &r.entities)
            .filter(|t| t.patient.is_none())
            .collect();
        let mut looked_up: HashMap<(String, String), Option<String>> = HashMap::new();
        match self {
            // In-process, one prepared lookup per resource.
            Conn::Sqlite(c) => {
                let c: &mut diesel::sqlite::SqliteConnection = c;
                for t in unknown {
                    let key = (t.res_type.clone(), t.res_id.clone());
                    if looked_up.contains_key(&key) {
                        continue;
                    }
                    // No `.first()`: SQLite re-prepares a statement whose bound LIMIT is
                    // bound again, and (type, id) is unique anyway.
                    let patient = resources::table
                        .filter(resources::res_type.eq(&t.res_type))
                        .filter(resources::res_id.eq(&t.res_id))
                        .select(resources::patient_key)
                        .load::<Option<String>>(c)?
                        .into_iter()
                        .next()
                        .flatten();
                    looked_up.insert(key, patient);
                }
            }
            // Over the network, a few statements for the whole batch: per type, so the
            // (res_type, res_id) key serves them.
            Conn::Pg(c) => {
                let c: &mut diesel::pg::PgConnection = c;
                let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                for t in &unknown {
                    by_type.entry(&t.res_type).or_default().push(&t.res_id);
                }
                for (res_type, mut ids) in by_type {
                    ids.sort_unstable();
                    ids.dedup();
                    for chunk in ids.chunks(LOOKUPS_PER_STATEMENT) {
                        let rows: Vec<(String, Option<String>)> = resources::table
                            .filter(resources::res_type.eq(res_type))
                            .filter(resources::res_id.eq_any(chunk))
                            .select((resources::res_id, resources::patient_key))
                            .load(c)?;
                        looked_up.extend(
                            rows.into_iter()
                                .map(|(id, p)| ((res_type.to_string(), id), p)),
                        );
                    }
                }
            }
        }
        Ok(records
            .iter()
            .map(|r| {
                r.entities
                    .iter()
                    .map(|t| match &t.patient {
                        Some(known) => known.clone(),
                        None => looked_up
                            .get(&(t.res_type.clone(), t.res_id.clone()))
                            .cloned()
                            .flatten(),
                    })
                    .collect()
            })
            .collect())
    }

    /// One event with its entities.
    pub(super) fn audit_event(
        &mut self,
        id: &str,
    ) -> Result<Option<(AuditRecord, Vec<AuditEntity>)>, StoreError> {
        let rows: Vec<EventRow> = dispatch!(self, |c, DB| audit_events::table
            .filter(audit_events::id.eq(id))
            .select(event_columns!())
            .load(c))?;
        rows.into_iter().next().map(record_of).transpose()
    }

    /// A page of events, newest first, and the total.
    #[allow(clippy::type_complexity)]
    pub(super) fn audit_events(
        &mut self,
        filter: &AuditFilter,
    ) -> Result<(Vec<(AuditRecord, Vec<AuditEntity>)>, i64), StoreError> {
        let (total, rows) = dispatch!(self, |c, DB| {
            let filtered = || {
                let mut q = audit_events::table.into_boxed::<DB>();
                if let Some(since) = filter.since {
                    // The key range first (ids carry the instant to the millisecond), then the
                    // exact bound.
                    q = q
                        .filter(audit_events::id.ge(first_event_id_since(since)))
                        .filter(audit_events::recorded.ge(since));
                }
                if let Some(patients) = &filter.patients {
                    // An event's patients are in one of the two tables (see the migration
                    // `audit_patient_batches`); a move commits them from one to the other.
                    // One IN over both, not an OR of two: PostgreSQL plans an OR of IN
                    // subqueries as a filter over the whole trail.
                    q = q.filter(
                        audit_events::id.eq_any(
                            audit_patients::table
                                .filter(audit_patients::patient_key.eq_any(patients.clone()))
                                .select(audit_patients::event_id)
                                .union_all(
                                    audit_patients_recent::table
                                        .filter(
                                            audit_patients_recent::patient_key
                                                .eq_any(patients.clone()),
                                        )
                                        .select(audit_patients_recent::event_id),
                                ),
                        ),
                    );
                }
                q
            };
            let total: i64 = filtered().count().get_result(c)?;
            let rows: Vec<EventRow> = filtered()
                .order(audit_events::id.desc())
                .limit(filter.count)
                .offset(filter.offset)
                .select(event_columns!())
                .load(c)?;
            Ok::<_, StoreError>((total, rows))
        })?;
        let out = rows.into_iter().map(record_of).collect::<Result<_, _>>()?;
        Ok((out, total))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::audit::{Action, event_id};
    use crate::store::test_db::test_stores;

    fn touch(id: &str, patient: &str) -> Touch {
        Touch {
            res_type: "Observation".into(),
            res_id: id.into(),
            patient: Some(Some(patient.into())),
        }
    }

    fn record(recorded: i64, entities: Vec<Touch>) -> AuditRecord {
        AuditRecord {
            id: event_id(recorded),
            recorded,
            action: Action::Read.code(),
            interaction: "read".into(),
            outcome: "0",
            detail: None,
            role: "system".into(),
            agent_name: "test".into(),
            institution: Some("1234567890".into()),
            emergency: None,
            res_type: None,
            res_id: None,
            entities,
        }
    }

    /// The events of `patient`'s history, oldest first, and the total the search reported.
    fn history(c: &mut Conn<'_>, patient: &str) -> (Vec<String>, i64) {
        let filter = AuditFilter {
            patients: Some(vec![patient.into()]),
            count: 100,
            ..AuditFilter::default()
        };
        let (events, total) = c.audit_events(&filter).unwrap();
        let mut ids: Vec<String> = events.into_iter().map(|(r, _)| r.id).collect();
        ids.reverse();
        (ids, total)
    }

    #[test]
    fn a_patients_history_finds_each_event_once_before_and_after_its_patients_move() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let records = vec![
                    record(1_000, vec![touch("a", "P1")]),
                    // Two resources of one patient, one of another: each patient once.
                    record(
                        2_000,
                        vec![touch("b", "P1"), touch("c", "P1"), touch("d", "P2")],
                    ),
                    record(3_000, vec![touch("e", "P2")]),
                ];
                let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
                let later = record(4_000, vec![touch("f", "P1")]);
                let later_id = later.id.clone();
                let seen = t
                    .store
                    .write(None, move |c| {
                        c.insert_audits(&records)?;
                        let before = (history(c, "P1"), history(c, "P2"));
                        let moved = c.move_recent_audit_patients()?;
                        let after = (history(c, "P1"), history(c, "P2"));
                        let again = c.move_recent_audit_patients()?;
                        // One event not yet moved beside moved ones.
                        c.insert_audit(&later)?;
                        let mixed = history(c, "P1");
                        Ok::<_, StoreError>((before, moved, after, again, mixed))
                    })
                    .await
                    .unwrap();
                let (before, moved, after, again, mixed) = seen;
                let p1 = (vec![ids[0].clone(), ids[1].clone()], 2);
                let p2 = (vec![ids[1].clone(), ids[2].clone()], 2);
                assert_eq!(before, (p1.clone(), p2.clone()), "{}", t.backend);
                let expect_moved = if t.backend == "sqlite" { 4 } else { 0 };
                assert_eq!(moved, expect_moved, "{}", t.backend);
                assert_eq!(after, (p1.clone(), p2), "{}", t.backend);
                assert_eq!(again, 0, "{}", t.backend);
                let mut with_later = p1.0;
                with_later.push(later_id);
                assert_eq!(mixed, (with_later, 3), "{}", t.backend);
            });
        }
    }
}
