//! SQLite keeps the audit trail in a database file of its own, `<database>-audit`, with its own
//! writer and readers.
//!
//! Why: in WAL mode a reader drops its whole page cache whenever its file had any commit since
//! its last read. Read records are stored every few milliseconds under load, so with the trail in
//! the clinical file every clinical read started from a cold cache (tens of `pread`s each).
//!
//! A change's record must commit with the change, and a commit spanning two WAL files is not
//! atomic, so changes' records are still written to the clinical file's trail tables, which now
//! only hold them until they move here: copied into the audit file (ignoring rows already there)
//! and committed, then deleted from the clinical file. Either step may be interrupted; the next
//! move repeats it, and a record is never in neither file. Trails of earlier versions, kept in
//! the clinical file, move over the same way. PostgreSQL keeps the trail in its own tables of the
//! one database, where a change's record commits with the change.

use diesel::prelude::*;

use super::audit::{AuditRow, EventRow, Touch, patient_pairs, record_of};
use super::schema::{audit_events, audit_patients, audit_patients_recent};
use super::{Backend, Conn, Store, StoreError, dispatch};

/// Changes' records moved per step: bounded, so carrying over a long trail never holds either
/// writer for long.
const MOVE_BATCH: i64 = 2000;
/// Characters of entity lists moved per step (at least one record): a record lists everything
/// its interaction touched (a purge batch, an export page), so a step bounded by records alone
/// held the lists of a whole `kyoyu export` or `kyoyu purge` in memory at once.
const MOVE_CHARS: i64 = 4 << 20;
/// Ids per `IN (…)` list, well within SQLite's bound-parameter limit.
const IDS_PER_STATEMENT: usize = 500;

/// The audit file of the clinical database at `path`.
pub(super) fn audit_path(path: &str) -> String {
    format!("{path}-audit")
}

impl Store {
    /// Stores records of reads (or refusals): on SQLite in the audit file, after looking up in
    /// the clinical file the patients the requests did not know.
    pub async fn record_audits(&self, mut records: Vec<AuditRow>) -> Result<(), StoreError> {
        let unknown = records
            .iter()
            .flat_map(|r| &r.entities)
            .any(|t| t.patient.is_none());
        if unknown && matches!(&*self.backend, Backend::Sqlite { .. }) {
            records = self
                .read(move |c| {
                    c.resolve_audit_patients(&mut records)?;
                    Ok::<_, StoreError>(records)
                })
                .await?;
        }
        self.audit_write(move |c| c.audit().insert_audits(&records))
            .await
    }

    /// Ends a one-off command's use of the store (`kyoyu purge`, `kyoyu export`): its audit
    /// records are in the clinical database, where a server would move them to the audit file
    /// within a second; this process does it before it ends, or, if it cannot, leaves them to
    /// the next server.
    pub async fn close_after_command(self) {
        if let Err(e) = self.move_audit_changes().await {
            tracing::warn!(error = %e, "audit records left for the server to move");
        }
        let _ = tokio::task::spawn_blocking(move || self.shutdown()).await;
    }

    /// SQLite: moves the records of changes committed so far from the clinical file to the
    /// audit file, in bounded steps. Returns how many moved; PostgreSQL has nothing to move.
    pub async fn move_audit_changes(&self) -> Result<usize, StoreError> {
        if !matches!(&*self.backend, Backend::Sqlite { .. }) {
            return Ok(0);
        }
        let mut moved = 0;
        loop {
            let (records, more) = self
                .read(|c| c.snapshot(|c| c.oldest_audit_records(MOVE_BATCH, MOVE_CHARS)))
                .await?;
            if records.is_empty() {
                return Ok(moved);
            }
            let records = self
                .audit_write(move |c| c.audit().insert_audits(&records).map(|()| records))
                .await?;
            // Only once the copy is committed may the clinical file's go.
            let step = records.len();
            self.write(None, move |c| c.delete_audit_records(&records))
                .await?;
            moved += step;
            if !more {
                return Ok(moved);
            }
        }
    }
}

impl Conn<'_> {
    /// The oldest records in this connection's trail tables, whole: every touched resource
    /// with its patient as stored, so storing them again needs no lookup. At most `limit`
    /// records whose entity lists hold at most `max_chars` characters together (but at least
    /// one record); with whether older records were left for a next call.
    pub(super) fn oldest_audit_records(
        &mut self,
        limit: i64,
        max_chars: i64,
    ) -> Result<(Vec<AuditRow>, bool), StoreError> {
        // The sizes first, so the lists themselves are read only as far as the bound.
        let sizes: Vec<i64> = dispatch!(self, |c, DB| audit_events::table
            .order(audit_events::id)
            .limit(limit)
            .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "CAST(COALESCE(LENGTH(entities), 0) AS BIGINT)"
            ))
            .load(c))?;
        let mut take = 0i64;
        let mut chars = 0i64;
        for size in &sizes {
            chars = chars.saturating_add(*size);
            if take > 0 && chars > max_chars {
                break;
            }
            take += 1;
        }
        let more = take < i64::try_from(sizes.len()).unwrap_or(i64::MAX) || take == limit;
        let rows: Vec<EventRow> = dispatch!(self, |c, DB| audit_events::table
            .order(audit_events::id)
            .limit(take)
            .select(EventRow::as_select())
            .load(c))?;
        let records = rows
            .into_iter()
            .map(|row| {
                let (mut record, entities) = record_of(row)?;
                record.entities = entities
                    .into_iter()
                    .map(|e| Touch {
                        res_type: e.res_type,
                        res_id: e.res_id,
                        patient: Some(e.patient_key),
                    })
                    .collect();
                Ok(record)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((records, more))
    }

    /// Deletes `records` (as read by [`oldest_audit_records`](Self::oldest_audit_records)) from
    /// this connection's trail tables, wherever they are indexed.
    pub(super) fn delete_audit_records(&mut self, records: &[AuditRow]) -> Result<(), StoreError> {
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            dispatch!(self, |c, DB| {
                diesel::delete(
                    audit_patients_recent::table
                        .filter(audit_patients_recent::event_id.eq_any(chunk)),
                )
                .execute(c)?;
                diesel::delete(audit_events::table.filter(audit_events::id.eq_any(chunk)))
                    .execute(c)?;
                Ok::<_, StoreError>(())
            })?;
        }
        // A trail of an earlier version has its patient index in the clinical file too.
        let indexed: bool = dispatch!(self, |c, DB| diesel::select(diesel::dsl::exists(
            audit_patients::table.select(audit_patients::event_id)
        ))
        .get_result(c))?;
        if indexed {
            let patients: Vec<Vec<Option<String>>> = records
                .iter()
                .map(|r| {
                    r.entities
                        .iter()
                        .map(|t| t.patient.clone().flatten())
                        .collect()
                })
                .collect();
            for (patient, event) in patient_pairs(records, &patients) {
                dispatch!(self, |c, DB| diesel::delete(
                    audit_patients::table
                        .filter(audit_patients::patient_key.eq(patient))
                        .filter(audit_patients::event_id.eq(event))
                )
                .execute(c))?;
            }
        }
        Ok(())
    }

    /// Looks up the patient of every touched resource whose patient the request did not know,
    /// so the records can be stored where `resources` is not at hand (the audit file).
    pub(super) fn resolve_audit_patients(
        &mut self,
        records: &mut [AuditRow],
    ) -> Result<(), StoreError> {
        let patients = self.patients_of(records)?;
        for (record, patients) in records.iter_mut().zip(patients) {
            for (touch, patient) in record.entities.iter_mut().zip(patients) {
                touch.patient = Some(patient);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::IndexRows;
    use crate::store::audit::event_id;
    use crate::store::test_db::test_stores;
    use crate::store::{AuditFilter, Method, NewVersion};

    fn touch(id: &str, patient: Option<&str>) -> Touch {
        Touch {
            res_type: "Observation".into(),
            res_id: id.into(),
            patient: Some(patient.map(String::from)),
        }
    }

    fn record(recorded: i64, entities: Vec<Touch>) -> AuditRow {
        AuditRow {
            id: event_id(recorded),
            recorded,
            action: "U".into(),
            interaction: "update".into(),
            outcome: "0".into(),
            detail: Some("detail".into()),
            role: "system".into(),
            agent_name: "test".into(),
            institution: Some("1234567890".into()),
            emergency: None,
            res_type: Some("Observation".into()),
            res_id: Some("a".into()),
            entities,
        }
    }

    /// Every event of the trail as the trail's readers see it, oldest first: (id, touched
    /// resources with patients), and the ids in each patient's history.
    type Seen = (
        Vec<(String, Vec<(String, Option<String>)>)>,
        Vec<String>,
        Vec<String>,
    );

    async fn trail(store: &Store) -> Seen {
        store.audit_read(seen).await.unwrap()
    }

    /// The trail as the clinical file's tables hold it.
    async fn clinical_trail(store: &Store) -> Seen {
        store.read(seen).await.unwrap()
    }

    fn seen(c: &mut Conn<'_>) -> Result<Seen, StoreError> {
        let all = AuditFilter {
            count: 1000,
            ..AuditFilter::default()
        };
        let (events, _) = c.audit_events(&all)?;
        let mut events: Vec<_> = events
            .into_iter()
            .map(|(r, e)| {
                let touched = e.into_iter().map(|e| (e.res_id, e.patient_key)).collect();
                (r.id, touched)
            })
            .collect();
        events.reverse();
        let mut of = |p: &str| -> Result<Vec<String>, StoreError> {
            let filter = AuditFilter {
                patients: Some(vec![p.into()]),
                ..all.clone()
            };
            let mut ids: Vec<String> = c
                .audit_events(&filter)?
                .0
                .into_iter()
                .map(|(r, _)| r.id)
                .collect();
            ids.sort();
            Ok(ids)
        };
        let (p1, p2) = (of("P1")?, of("P2")?);
        Ok((events, p1, p2))
    }

    /// Events in the clinical file's trail tables: all, with an entity list, and in each
    /// patient index.
    async fn left_in_clinical(store: &Store) -> (i64, i64, i64, i64) {
        store
            .read(|c| {
                dispatch!(c, |c, DB| {
                    Ok::<_, StoreError>((
                        audit_events::table.count().get_result(c)?,
                        audit_events::table
                            .filter(audit_events::entities.is_not_null())
                            .count()
                            .get_result(c)?,
                        audit_patients_recent::table.count().get_result(c)?,
                        audit_patients::table.count().get_result(c)?,
                    ))
                })
            })
            .await
            .unwrap()
    }

    fn records() -> Vec<AuditRow> {
        vec![
            record(1_000, vec![touch("a", Some("P1"))]),
            record(
                2_000,
                vec![
                    touch("b", Some("P1")),
                    touch("c", None),
                    touch("d", Some("P2")),
                ],
            ),
            record(3_000, Vec::new()),
            record(4_000, vec![touch("e", Some("P2"))]),
        ]
    }

    #[test]
    fn changes_records_move_whole_to_the_audit_file_and_an_interrupted_move_is_repeated() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let s = &t.store;
                // As a change's transaction writes them, and as an earlier version left them:
                // some already in the clinical file's patient index.
                let recs = records();
                let ids: Vec<String> = recs.iter().map(|r| r.id.clone()).collect();
                s.write(None, move |c| {
                    c.audit().insert_audits(&recs[..2])?;
                    c.audit().move_recent_audit_patients()?;
                    c.audit().insert_audits(&recs[2..])
                })
                .await
                .unwrap();
                let before = clinical_trail(s).await;
                if t.backend == "sqlite" {
                    assert_eq!(trail(s).await, (Vec::new(), Vec::new(), Vec::new()));
                }
                assert_eq!(before.0.len(), 4, "{}", t.backend);
                assert_eq!(
                    before.1,
                    vec![ids[0].clone(), ids[1].clone()],
                    "{}",
                    t.backend
                );
                assert_eq!(
                    before.2,
                    vec![ids[1].clone(), ids[3].clone()],
                    "{}",
                    t.backend
                );

                // Interrupted after the copy: the next move copies again and deletes.
                if t.backend == "sqlite" {
                    let (oldest, _) = s
                        .read(|c| c.oldest_audit_records(MOVE_BATCH, MOVE_CHARS))
                        .await
                        .unwrap();
                    s.audit_write(move |c| c.audit().insert_audits(&oldest))
                        .await
                        .unwrap();
                }
                let moved = s.move_audit_changes().await.unwrap();
                let again = s.move_audit_changes().await.unwrap();
                s.audit_write(|c| c.audit().move_recent_audit_patients())
                    .await
                    .unwrap();
                let after = trail(s).await;
                assert_eq!(after, before, "{}", t.backend);
                if t.backend == "sqlite" {
                    assert_eq!((moved, again), (4, 0));
                    assert_eq!(left_in_clinical(s).await, (0, 0, 0, 0));
                } else {
                    // One database: the trail is where the changes put it.
                    assert_eq!((moved, again), (0, 0));
                }
            });
        }
    }

    #[test]
    fn a_move_step_is_bounded_by_the_size_of_the_entity_lists_too() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let s = &t.store;
                let recs = records();
                s.write(None, move |c| c.audit().insert_audits(&recs))
                    .await
                    .unwrap();
                // Entities per record taken, and whether records were left.
                let oldest = |limit, chars| async move {
                    let (records, more) = s
                        .read(move |c| c.oldest_audit_records(limit, chars))
                        .await
                        .unwrap();
                    let sizes: Vec<usize> = records.iter().map(|r| r.entities.len()).collect();
                    (sizes, more)
                };
                let b = t.backend;
                // One record at least, however long its list; the next does not fit beside it.
                assert_eq!(oldest(10, 1).await, (vec![1], true), "{b}");
                assert_eq!(oldest(10, 1 << 20).await, (vec![1, 3, 0, 1], false), "{b}");
                assert_eq!(oldest(4, 1 << 20).await, (vec![1, 3, 0, 1], true), "{b}");
                assert_eq!(oldest(2, 1 << 20).await, (vec![1, 3], true), "{b}");
            });
        }
    }

    #[test]
    fn read_records_are_stored_with_the_patients_the_clinical_file_knows() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let s = &t.store;
                s.write(None, |c| {
                    c.insert_new(&NewVersion {
                        res_type: "Observation",
                        id: "stored",
                        content: "{}",
                        last_updated: 0,
                        method: Method::Post,
                        index: &IndexRows::default(),
                        patient_key: Some("P1"),
                        person_key: None,
                        institution: Some("1234567890"),
                        retention_class: None,
                        expires_at: None,
                        retention_group: None,
                        access_category: None,
                        hidden: None,
                        consent: &[],
                    })
                })
                .await
                .unwrap();
                let unknown = |id: &str| Touch {
                    res_type: "Observation".into(),
                    res_id: id.into(),
                    patient: None,
                };
                let read = record(5_000, vec![unknown("stored"), unknown("never-stored")]);
                let id = read.id.clone();
                s.record_audits(vec![read]).await.unwrap();
                let (events, p1, _) = trail(s).await;
                assert_eq!(
                    events,
                    vec![(
                        id.clone(),
                        vec![
                            ("stored".into(), Some("P1".into())),
                            ("never-stored".into(), None)
                        ]
                    )],
                    "{}",
                    t.backend
                );
                assert_eq!(p1, vec![id], "{}", t.backend);
                // Nothing of a read goes to the clinical file.
                if t.backend == "sqlite" {
                    assert_eq!(left_in_clinical(s).await, (0, 0, 0, 0));
                }
            });
        }
    }
}
