//! What the retention purger asks of the database, behind [`RetentionRepo`]
//! ([`Conn::retention`]): the rows whose expiry has passed (walked in expiry order through the
//! partial index, in bounded batches), how a candidate ranks in its "latest 3" group, their
//! removal, and the audit of runs and purged rows. Bookkeeping only: what a purged row held is
//! never read here.

use diesel::prelude::*;

use diesel::dsl::sql;
use diesel::sql_types::{BigInt, Bool};

use super::LockKey;
use super::schema::{
    document_members, purge_runs, purged_resources, report_unit_members, resources,
};
use super::{Conn, StoreError, dispatch};

/// Rows per statement in bulk operations: well under both backends' parameter limits.
const CHUNK: usize = 500;

/// The report units and documents that listed resources a purge took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    pub units: Vec<String>,
    pub documents: Vec<String>,
}

/// A row past its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Expired {
    pub rkey: i64,
    pub res_type: String,
    pub res_id: String,
    pub retention_class: Option<String>,
    pub patient_key: Option<String>,
    pub retention_group: Option<String>,
    /// Never NULL where it is loaded: `expires_at <= as_of` leaves out the rows without one.
    #[diesel(select_expression = resources::expires_at.assume_not_null())]
    pub expires_at: i64,
}

/// The record of a purge run as it starts; `finish_purge_run` fills in the rest.
#[derive(Insertable)]
#[diesel(table_name = purge_runs)]
struct NewPurgeRun<'a> {
    started_at: i64,
    as_of: i64,
    dry_run: bool,
    counts: &'a str,
}

/// The audit row of one purged resource.
#[derive(Insertable)]
#[diesel(table_name = purged_resources)]
struct NewPurged<'a> {
    run_id: i64,
    res_type: &'a str,
    res_id: &'a str,
    rule: &'a str,
    purged_at: i64,
}

/// The purger's view of the store: expired rows, their removal and the purge audit. Obtained
/// from a connection ([`Conn::retention`]) for the calls of one transaction.
pub struct RetentionRepo<'c> {
    conn: Conn<'c>,
}

impl Conn<'_> {
    /// The retention purger's queries on this connection.
    pub fn retention(&mut self) -> RetentionRepo<'_> {
        RetentionRepo {
            conn: self.reborrow(),
        }
    }
}

impl RetentionRepo<'_> {
    /// Begins a purge batch: on PostgreSQL, takes the purgers' lock ([`LockKey::Purge`]) for
    /// the rest of the transaction and rules out sequential scans in it (SQLite has one writer
    /// already, and plans the batch's key lists by index).
    pub fn begin_purge_batch(&mut self) -> Result<(), StoreError> {
        match &mut self.conn {
            Conn::Sqlite(_) => Ok(()),
            Conn::Pg(c) => super::retention_pg::begin_batch(c, LockKey::Purge),
        }
    }

    /// Up to `limit` rows with `expires_at <= as_of`, after the `(expires_at, rkey)` cursor.
    pub fn expired_batch(
        &mut self,
        as_of: i64,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<Expired>, StoreError> {
        let (e, r) = after.unwrap_or((i64::MIN, i64::MIN));
        Ok(dispatch!(&mut self.conn, |c, DB| resources::table
            .filter(resources::expires_at.le(as_of))
            // A row value, not `e < x OR (e = x AND r < y)`: PostgreSQL turns it into an index
            // bound on (expires_at, rkey) instead of a filter over every row at the cursor's instant.
            .filter(
                sql::<Bool>("(expires_at, rkey) > (")
                    .bind::<BigInt, _>(e)
                    .sql(", ")
                    .bind::<BigInt, _>(r)
                    .sql(")")
            )
            .order((resources::expires_at, resources::rkey))
            .limit(limit)
            .select(Expired::as_select())
            .load(c))?)
    }

    /// How many rows of the same patient, class and group rank after `row` (later expiry, or the
    /// same expiry and a later key): fewer than 3 means it is among the latest 3.
    pub fn newer_in_group(&mut self, row: &Expired) -> Result<i64, StoreError> {
        let (Some(patient), Some(class), Some(group)) =
            (&row.patient_key, &row.retention_class, &row.retention_group)
        else {
            return Ok(i64::MAX);
        };
        let (e, r) = (row.expires_at, row.rkey);
        let n: i64 = dispatch!(&mut self.conn, |c, DB| resources::table
            .filter(resources::patient_key.eq(patient))
            .filter(resources::retention_class.eq(class))
            .filter(resources::retention_group.eq(group))
            .filter(resources::deleted.eq(false))
            .filter(
                resources::expires_at
                    .gt(e)
                    .or(resources::expires_at.eq(e).and(resources::rkey.gt(r))),
            )
            .count()
            .get_result(c))?;
        Ok(n)
    }

    /// How many distinct groups (prescribing occasions) of the patient sort after `row`'s; the
    /// group begins with the day, so the text order is the date order.
    pub fn newer_groups(&mut self, row: &Expired) -> Result<i64, StoreError> {
        let (Some(patient), Some(class), Some(group)) =
            (&row.patient_key, &row.retention_class, &row.retention_group)
        else {
            return Ok(i64::MAX);
        };
        let groups: Vec<Option<String>> = dispatch!(&mut self.conn, |c, DB| resources::table
            .filter(resources::patient_key.eq(patient))
            .filter(resources::retention_class.eq(class))
            .filter(resources::retention_group.gt(group))
            .filter(resources::deleted.eq(false))
            .select(resources::retention_group)
            .distinct()
            .load(c))?;
        Ok(i64::try_from(groups.len()).unwrap_or(i64::MAX))
    }

    /// Takes a row out of the purger's view for good (LTS data past its time window).
    pub fn clear_expiry(&mut self, rkey: i64) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| diesel::update(
            resources::table.filter(resources::rkey.eq(rkey))
        )
        .set(resources::expires_at.eq(None::<i64>))
        .execute(c))?;
        Ok(())
    }

    /// Removes the given resources entirely, with what depends on them (see
    /// `Conn::purge_rkeys`).
    pub fn purge_rkeys(&mut self, rkeys: &[i64]) -> Result<usize, StoreError> {
        self.conn.purge_rkeys(rkeys)
    }

    /// Drops resources of one type from the report units and documents that list them; returns
    /// the units and the documents touched (the caller removes a unit left empty, and the row of
    /// an expired document left without members; a document stays until its own Bundle
    /// expires, but must not name what is gone).
    pub fn take_members(&mut self, res_type: &str, ids: &[&str]) -> Result<Taken, StoreError> {
        if let Conn::Pg(c) = &mut self.conn {
            return super::retention_pg::take_members(c, res_type, ids);
        }
        let mut taken = Taken::default();
        for chunk in ids.chunks(CHUNK) {
            let units: Vec<String> = dispatch!(&mut self.conn, |c, DB| report_unit_members::table
                .filter(report_unit_members::res_type.eq(res_type))
                .filter(report_unit_members::res_id.eq_any(chunk))
                .select(report_unit_members::unit_key)
                .load(c))?;
            let documents: Vec<String> =
                dispatch!(&mut self.conn, |c, DB| document_members::table
                    .filter(document_members::res_type.eq(res_type))
                    .filter(document_members::res_id.eq_any(chunk))
                    .select(document_members::document_key)
                    .load(c))?;
            dispatch!(&mut self.conn, |c, DB| {
                if !units.is_empty() {
                    diesel::delete(
                        report_unit_members::table
                            .filter(report_unit_members::res_type.eq(res_type))
                            .filter(report_unit_members::res_id.eq_any(chunk)),
                    )
                    .execute(c)?;
                }
                if !documents.is_empty() {
                    diesel::delete(
                        document_members::table
                            .filter(document_members::res_type.eq(res_type))
                            .filter(document_members::res_id.eq_any(chunk)),
                    )
                    .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            taken.units.extend(units);
            taken.documents.extend(documents);
        }
        taken.units.sort();
        taken.units.dedup();
        taken.documents.sort();
        taken.documents.dedup();
        Ok(taken)
    }

    /// Audit rows for purged resources: (type, id, rule).
    pub fn record_purged_many(
        &mut self,
        run_id: i64,
        rows: &[(&str, &str, &str)],
        at: i64,
    ) -> Result<(), StoreError> {
        if let Conn::Pg(c) = &mut self.conn {
            return super::retention_pg::record_purged_many(c, run_id, rows, at);
        }
        for chunk in rows.chunks(CHUNK) {
            let values: Vec<_> = chunk
                .iter()
                .map(|&(res_type, res_id, rule)| NewPurged {
                    run_id,
                    res_type,
                    res_id,
                    rule,
                    purged_at: at,
                })
                .collect();
            dispatch!(&mut self.conn, |c, DB| diesel::insert_into(
                purged_resources::table
            )
            .values(&values)
            .execute(c))?;
        }
        Ok(())
    }

    pub fn start_purge_run(
        &mut self,
        started_at: i64,
        as_of: i64,
        dry_run: bool,
    ) -> Result<i64, StoreError> {
        let id = dispatch!(&mut self.conn, |c, DB| diesel::insert_into(
            purge_runs::table
        )
        .values(NewPurgeRun {
            started_at,
            as_of,
            dry_run,
            counts: "{}",
        })
        .returning(purge_runs::id)
        .get_result(c))?;
        Ok(id)
    }

    pub fn finish_purge_run(
        &mut self,
        id: i64,
        finished_at: i64,
        counts: &str,
    ) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| diesel::update(
            purge_runs::table.filter(purge_runs::id.eq(id))
        )
        .set((
            purge_runs::finished_at.eq(Some(finished_at)),
            purge_runs::counts.eq(counts),
        ))
        .execute(c))?;
        Ok(())
    }

    pub fn record_purged(
        &mut self,
        run_id: i64,
        res_type: &str,
        res_id: &str,
        rule: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| diesel::insert_into(
            purged_resources::table
        )
        .values(NewPurged {
            run_id,
            res_type,
            res_id,
            rule,
            purged_at: at,
        })
        .execute(c))?;
        Ok(())
    }

    /// The purged rows a run recorded: (type, id, rule).
    pub fn purged_in_run(
        &mut self,
        run_id: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = dispatch!(&mut self.conn, |c, DB| purged_resources::table
            .filter(purged_resources::run_id.eq(run_id))
            .select((
                purged_resources::res_type,
                purged_resources::res_id,
                purged_resources::rule
            ))
            .order((purged_resources::res_type, purged_resources::res_id))
            .load(c))?;
        Ok(rows)
    }
}

impl Conn<'_> {
    /// The report units listing any of these resources of one type, without changing them (a
    /// dry run's view of what `take_members` would touch).
    pub(super) fn units_of(
        &mut self,
        res_type: &str,
        ids: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let found: Vec<String> = dispatch!(self, |c, DB| report_unit_members::table
                .filter(report_unit_members::res_type.eq(res_type))
                .filter(report_unit_members::res_id.eq_any(chunk))
                .select(report_unit_members::unit_key)
                .load(c))?;
            keys.extend(found);
        }
        Ok(keys)
    }

    /// Removes the given resources entirely: versions, index and consent rows, then the
    /// resources; on SQLite one prepared statement per table, on PostgreSQL one statement per
    /// 64 resources. The children go by set: this is the only place they go with their resource
    /// (PostgreSQL has no cascade for them, see migration 000008, and SQLite's finds nothing
    /// left).
    pub(super) fn purge_rkeys(&mut self, rkeys: &[i64]) -> Result<usize, StoreError> {
        match self {
            Conn::Pg(c) => super::retention_pg::purge_rkeys(c, rkeys),
            Conn::Sqlite(c) => {
                super::retention_sqlite::purge_rkeys(c, rkeys, std::thread::yield_now)
            }
        }
    }
}
