//! The audit trail's rows: one `audit_events` row per request, one `audit_entities` row per
//! resource it touched with that resource's patient, resolved from `resources` at insert time
//! (inside the recorded change's transaction, so the patient is the one of the version written).

use diesel::prelude::*;

use super::schema::{audit_entities, audit_events};
use super::search_sql::Sql;
use super::{Conn, StoreError, dispatch};

/// Rows per multi-row statement, well within both engines' bound-parameter limits.
const EVENTS_PER_STATEMENT: usize = 500;
const ENTITIES_PER_STATEMENT: usize = 2000;
use crate::access::Emergency;
use crate::access::audit::{AuditEntity, AuditRecord};

/// Which events a search returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events that touched one of these patients (a patient's own history).
    pub patients: Option<Vec<String>>,
    pub since: Option<i64>,
    pub count: i64,
    pub offset: i64,
}

type EventRow = (
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
        )
    };
}

fn static_code(s: &str, codes: &[&'static str]) -> &'static str {
    codes.iter().find(|c| **c == s).copied().unwrap_or("")
}

fn record_of(row: EventRow) -> AuditRecord {
    let emergency = match (row.9, row.10, row.11) {
        (true, reason, method) => Some(Emergency {
            reason: reason.unwrap_or_default(),
            method: method.unwrap_or_default(),
        }),
        _ => None,
    };
    AuditRecord {
        id: row.0,
        recorded: row.1,
        action: static_code(&row.2, &["C", "R", "U", "D", "E"]),
        interaction: row.3,
        outcome: static_code(&row.4, &["0", "4", "8"]),
        detail: row.5,
        role: row.6,
        agent_name: row.7,
        institution: row.8,
        emergency,
        res_type: row.12,
        res_id: row.13,
        entities: Vec::new(),
    }
}

impl Conn<'_> {
    /// Records one event and its entities.
    pub fn insert_audit(&mut self, r: &AuditRecord) -> Result<(), StoreError> {
        self.insert_audits(std::slice::from_ref(r))
    }

    /// Records events and their entities with a few multi-row statements: a batch of read
    /// records costs a handful of round trips, not two per read.
    pub fn insert_audits(&mut self, records: &[AuditRecord]) -> Result<(), StoreError> {
        for chunk in records.chunks(EVENTS_PER_STATEMENT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|r| {
                    let emergency = r.emergency.as_ref();
                    (
                        audit_events::id.eq(&r.id),
                        audit_events::recorded.eq(r.recorded),
                        audit_events::action.eq(r.action),
                        audit_events::interaction.eq(&r.interaction),
                        audit_events::outcome.eq(r.outcome),
                        audit_events::detail.eq(r.detail.as_deref()),
                        audit_events::role.eq(&r.role),
                        audit_events::agent_name.eq(&r.agent_name),
                        audit_events::institution.eq(r.institution.as_deref()),
                        audit_events::emergency.eq(emergency.is_some()),
                        audit_events::emergency_reason.eq(emergency.map(|e| e.reason.as_str())),
                        audit_events::emergency_method.eq(emergency.map(|e| e.method.as_str())),
                        audit_events::res_type.eq(r.res_type.as_deref()),
                        audit_events::res_id.eq(r.res_id.as_deref()),
                    )
                })
                .collect();
            dispatch!(self, |c, DB| diesel::insert_into(audit_events::table)
                .values(&rows)
                .execute(c))?;
        }
        let entities: Vec<(&str, i64, &str, &str)> = records
            .iter()
            .flat_map(|r| {
                r.entities
                    .iter()
                    .enumerate()
                    .map(|(seq, (t, id))| (r.id.as_str(), seq as i64, t.as_str(), id.as_str()))
            })
            .collect();
        for chunk in entities.chunks(ENTITIES_PER_STATEMENT) {
            self.insert_entities(chunk)?;
        }
        Ok(())
    }

    /// Entity rows with each resource's patient looked up in the same statement.
    fn insert_entities(&mut self, rows: &[(&str, i64, &str, &str)]) -> Result<(), StoreError> {
        let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
        sql.push("WITH v (event_id, seq, res_type, res_id) AS (VALUES ");
        for (i, (event, seq, t, id)) in rows.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind_text(*event);
            sql.push(", CAST(");
            sql.bind_int(*seq);
            sql.push(" AS INTEGER), ");
            sql.bind_text(*t);
            sql.push(", ");
            sql.bind_text(*id);
            sql.push(")");
        }
        sql.push(
            ") INSERT INTO audit_entities (event_id, seq, res_type, res_id, patient_key) \
             SELECT v.event_id, v.seq, v.res_type, v.res_id, r.patient_key FROM v \
             LEFT JOIN resources r ON r.res_type = v.res_type AND r.res_id = v.res_id",
        );
        self.execute_sql(sql)
    }

    /// One event with its entities.
    pub fn audit_event(
        &mut self,
        id: &str,
    ) -> Result<Option<(AuditRecord, Vec<AuditEntity>)>, StoreError> {
        let rows: Vec<EventRow> = dispatch!(self, |c, DB| audit_events::table
            .filter(audit_events::id.eq(id))
            .select(event_columns!())
            .load(c))?;
        match rows.into_iter().next() {
            None => Ok(None),
            Some(row) => {
                let record = record_of(row);
                let entities = self.audit_entities_of(&record.id)?;
                Ok(Some((record, entities)))
            }
        }
    }

    /// A page of events, newest first, and the total.
    #[allow(clippy::type_complexity)]
    pub fn audit_events(
        &mut self,
        filter: &AuditFilter,
    ) -> Result<(Vec<(AuditRecord, Vec<AuditEntity>)>, i64), StoreError> {
        let (total, rows) = dispatch!(self, |c, DB| {
            let filtered = || {
                let mut q = audit_events::table.into_boxed::<DB>();
                if let Some(since) = filter.since {
                    q = q.filter(audit_events::recorded.ge(since));
                }
                if let Some(patients) = &filter.patients {
                    q = q.filter(
                        audit_events::id.eq_any(
                            audit_entities::table
                                .filter(audit_entities::patient_key.eq_any(patients.clone()))
                                .select(audit_entities::event_id),
                        ),
                    );
                }
                q
            };
            let total: i64 = filtered().count().get_result(c)?;
            let rows: Vec<EventRow> = filtered()
                .order((audit_events::recorded.desc(), audit_events::id.desc()))
                .limit(filter.count)
                .offset(filter.offset)
                .select(event_columns!())
                .load(c)?;
            Ok::<_, StoreError>((total, rows))
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let record = record_of(row);
            let entities = self.audit_entities_of(&record.id)?;
            out.push((record, entities));
        }
        Ok((out, total))
    }

    fn audit_entities_of(&mut self, id: &str) -> Result<Vec<AuditEntity>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> =
            dispatch!(self, |c, DB| audit_entities::table
                .filter(audit_entities::event_id.eq(id))
                .order(audit_entities::seq)
                .select((
                    audit_entities::res_type,
                    audit_entities::res_id,
                    audit_entities::patient_key
                ))
                .load(c))?;
        Ok(rows
            .into_iter()
            .map(|(res_type, res_id, patient_key)| AuditEntity {
                res_type,
                res_id,
                patient_key,
            })
            .collect())
    }
}
