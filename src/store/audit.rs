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

/// The id of an event recorded at `recorded` (µs): a UUIDv7 carrying that instant, so ids sort
/// in time order. The trail is stored clustered on them: new events land at the right edge of
/// one B-tree, and a time range is a key range. The microseconds within the millisecond go in
/// the 12 bits after the timestamp (RFC 9562's sub-millisecond precision), so two events of
/// one millisecond sort by time too, not at random.
pub fn event_id(recorded: i64) -> String {
    let micros = u64::try_from(recorded).unwrap_or(0);
    let sub_ms = (micros % 1000) as u16;
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[6..16]);
    // The builder keeps the low nibble of tail[0] and all of tail[1] as rand_a.
    tail[0] = (sub_ms >> 8) as u8;
    tail[1] = (sub_ms & 0xff) as u8;
    uuid::Builder::from_unix_timestamp_millis(micros / 1000, &tail)
        .into_uuid()
        .to_string()
}

/// The smallest event id an event recorded at or after `since` (µs) can have.
pub(super) fn first_event_id_since(since: i64) -> String {
    let millis = u64::try_from(since.div_euclid(1000)).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10])
        .into_uuid()
        .to_string()
}

/// One audit event as the trail stores it, its codes as text: the audit module makes it from
/// its typed record (`crate::audit::AuditRow`), and renders what is read back as it was
/// stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: String,
    pub recorded: i64,
    /// `AuditEvent.action`: `C`, `R`, `U`, `D`, `E`.
    pub action: String,
    /// The FHIR interaction or operation (`read`, `search-type`, `create`, `$receipt`…).
    pub interaction: String,
    /// `AuditEvent.outcome`: `0`, `4`, `8`.
    pub outcome: String,
    /// For failures: the status and issue count, never the message (it may quote content).
    pub detail: Option<String>,
    pub role: String,
    pub agent_name: String,
    pub institution: Option<String>,
    pub emergency: Option<Emergency>,
    /// The type (and id) the request addressed.
    pub res_type: Option<String>,
    pub res_id: Option<String>,
    /// Every resource read or written; empty in a row read back (see [`AuditEntity`]).
    pub entities: Vec<Touch>,
}

/// A resource an event touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub res_type: String,
    pub res_id: String,
    /// Its patient, when the request had the row at hand; `None`: looked up when stored.
    pub patient: Option<Option<String>>,
}

impl Touch {
    /// A resource known by name only.
    pub fn named(res_type: impl Into<String>, res_id: impl Into<String>) -> Self {
        Touch {
            res_type: res_type.into(),
            res_id: res_id.into(),
            patient: None,
        }
    }
}

/// A stored entity of an event, with the patient it concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntity {
    pub res_type: String,
    pub res_id: String,
    pub patient_key: Option<String>,
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

/// An `audit_events` row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub(super) struct EventRow {
    id: String,
    recorded: i64,
    action: String,
    interaction: String,
    outcome: String,
    detail: Option<String>,
    role: String,
    agent_name: String,
    institution: Option<String>,
    emergency: bool,
    emergency_reason: Option<String>,
    emergency_method: Option<String>,
    res_type: Option<String>,
    res_id: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    patient_key: Option<String>,
    entities: Option<String>,
}

/// An `audit_events` row as written: a record whose touched resources have their patients,
/// with its one touched resource inline or its several in a list.
#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEvent<'a> {
    id: &'a str,
    recorded: i64,
    action: &'a str,
    interaction: &'a str,
    outcome: &'a str,
    detail: Option<&'a str>,
    role: &'a str,
    agent_name: &'a str,
    institution: Option<&'a str>,
    emergency: bool,
    emergency_reason: Option<&'a str>,
    emergency_method: Option<&'a str>,
    res_type: Option<&'a str>,
    res_id: Option<&'a str>,
    entity_type: Option<&'a str>,
    entity_id: Option<&'a str>,
    patient_key: Option<&'a str>,
    entities: Option<&'a str>,
}

/// A stored event and the resources it touched.
pub(super) fn record_of(row: EventRow) -> Result<(AuditRow, Vec<AuditEntity>), StoreError> {
    let emergency = match (row.emergency, row.emergency_reason, row.emergency_method) {
        (true, reason, method) => Some(Emergency {
            reason: reason.unwrap_or_default(),
            method: method.unwrap_or_default(),
        }),
        _ => None,
    };
    let id = row.id;
    let entities = match (row.entity_type, row.entity_id, row.entities) {
        (Some(res_type), Some(res_id), _) => vec![AuditEntity {
            res_type,
            res_id,
            patient_key: row.patient_key,
        }],
        (_, _, Some(list)) => parse_entity_list(&list)
            .map_err(|e| StoreError::Corrupt(format!("audit event {id}: entities: {e}")))?,
        _ => Vec::new(),
    };
    let record = AuditRow {
        id,
        recorded: row.recorded,
        action: row.action,
        interaction: row.interaction,
        outcome: row.outcome,
        detail: row.detail,
        role: row.role,
        agent_name: row.agent_name,
        institution: row.institution,
        emergency,
        res_type: row.res_type,
        res_id: row.res_id,
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
fn entity_list(r: &AuditRow, patients: &[Option<String>]) -> Option<String> {
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
    r: &'a AuditRow,
    patients: &'a [Option<String>],
) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
    match (r.entities.as_slice(), patients) {
        ([one], [patient]) => (Some(&one.res_type), Some(&one.res_id), patient.as_deref()),
        _ => (None, None, None),
    }
}

/// The `audit_events` row of a record whose touched resources have `patients` and, when
/// several, are listed in `list`.
fn event_row<'a>(
    r: &'a AuditRow,
    patients: &'a [Option<String>],
    list: Option<&'a str>,
) -> NewEvent<'a> {
    let emergency = r.emergency.as_ref();
    let (entity_type, entity_id, patient_key) = inline_entity(r, patients);
    NewEvent {
        id: &r.id,
        recorded: r.recorded,
        action: &r.action,
        interaction: &r.interaction,
        outcome: &r.outcome,
        detail: r.detail.as_deref(),
        role: &r.role,
        agent_name: &r.agent_name,
        institution: r.institution.as_deref(),
        emergency: emergency.is_some(),
        emergency_reason: emergency.map(|e| e.reason.as_str()),
        emergency_method: emergency.map(|e| e.method.as_str()),
        res_type: r.res_type.as_deref(),
        res_id: r.res_id.as_deref(),
        entity_type,
        entity_id,
        patient_key,
        entities: list,
    }
}

/// The (patient, event) pairs of events: each event once per patient it touched.
pub(super) fn patient_pairs<'a>(
    records: &'a [AuditRow],
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

/// The audit trail's writes: events with what they touched, and (SQLite) the move of the
/// recent patient index. Obtained from a connection ([`Conn::audit`]): a change's record in
/// the change's transaction, reads' records on the audit file's writer.
pub struct AuditRepo<'c> {
    conn: Conn<'c>,
}

impl Conn<'_> {
    /// The audit trail's writes on this connection.
    pub fn audit(&mut self) -> AuditRepo<'_> {
        AuditRepo {
            conn: self.reborrow(),
        }
    }
}

impl AuditRepo<'_> {
    /// Records one event and what it touched.
    pub fn insert_audit(&mut self, r: &AuditRow) -> Result<(), StoreError> {
        self.insert_audits(std::slice::from_ref(r))
    }

    /// Records events and what they touched. PostgreSQL gets multi-row statements (a handful
    /// of round trips per batch, not two per read); SQLite, in-process, runs one small
    /// statement per row, which diesel keeps prepared: parsing a statement of hundreds of rows
    /// costs more than that.
    pub(super) fn insert_audits(&mut self, records: &[AuditRow]) -> Result<(), StoreError> {
        let patients = self.conn.patients_of(records)?;
        let lists: Vec<Option<String>> = records
            .iter()
            .zip(&patients)
            .map(|(r, p)| entity_list(r, p))
            .collect();
        let pairs = patient_pairs(records, &patients);
        match &mut self.conn {
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
        match &mut self.conn {
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
}

impl Conn<'_> {
    /// The patient of every resource every record touched, in the same shape: as the request
    /// knew it, else looked up.
    pub(super) fn patients_of(
        &mut self,
        records: &[AuditRow],
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
    ) -> Result<Option<(AuditRow, Vec<AuditEntity>)>, StoreError> {
        let rows: Vec<EventRow> = dispatch!(self, |c, DB| audit_events::table
            .filter(audit_events::id.eq(id))
            .select(EventRow::as_select())
            .load(c))?;
        rows.into_iter().next().map(record_of).transpose()
    }

    /// A page of events, newest first, and the total.
    #[allow(clippy::type_complexity)]
    pub(super) fn audit_events(
        &mut self,
        filter: &AuditFilter,
    ) -> Result<(Vec<(AuditRow, Vec<AuditEntity>)>, i64), StoreError> {
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
                .select(EventRow::as_select())
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
    use crate::store::test_db::test_stores;

    fn touch(id: &str, patient: &str) -> Touch {
        Touch {
            res_type: "Observation".into(),
            res_id: id.into(),
            patient: Some(Some(patient.into())),
        }
    }

    fn record(recorded: i64, entities: Vec<Touch>) -> AuditRow {
        AuditRow {
            id: event_id(recorded),
            recorded,
            action: "R".into(),
            interaction: "read".into(),
            outcome: "0".into(),
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

    #[test]
    fn event_ids_sort_by_their_instant_and_bound_time_ranges() {
        let t = 1_790_000_000_123_456;
        // t - 1 and t + 1 share t's millisecond: they must sort by their microseconds.
        let ids: Vec<String> = [t - 5_000, t - 1_000, t - 1, t, t + 1, t + 1_000]
            .iter()
            .map(|&at| event_id(at))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let floor = first_event_id_since(t);
        assert!(ids[2..].iter().all(|id| *id >= floor));
        assert!(ids[1] < floor && ids[0] < floor);
        for _ in 0..100 {
            assert!(event_id(t) < event_id(t + 1), "within one millisecond");
        }
        assert_ne!(event_id(t), event_id(t), "same instant, distinct ids");
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
                        c.audit().insert_audits(&records)?;
                        let before = (history(c, "P1"), history(c, "P2"));
                        let moved = c.audit().move_recent_audit_patients()?;
                        let after = (history(c, "P1"), history(c, "P2"));
                        let again = c.audit().move_recent_audit_patients()?;
                        // One event not yet moved beside moved ones.
                        c.audit().insert_audit(&later)?;
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
