//! The purger's bulk steps on PostgreSQL, each one statement over array parameters. A purge
//! batch shares the machine with request handling, and under load every round trip waits to be
//! scheduled twice (server, then client); one statement per step instead of one per table and
//! chunk is what keeps a batch's wall time near its work.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use super::StoreError;

/// Opens a purge batch's transaction: one purger at a time (an advisory lock held to the end of
/// the transaction), and no sequential scans in it. Every statement of a batch reaches its rows
/// by key, but these statements are planned afresh with the batch's array in view, and on a
/// table without statistics (never analysed yet, or autovacuum off) PostgreSQL takes a
/// thousand-key `= ANY` to match most of the table and scans it whole: 80 ms a batch on a
/// million rows where the index takes 1 ms.
pub(super) fn begin_batch(c: &mut PgConnection, lock_key: &str) -> Result<(), StoreError> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock($1), set_config('enable_seqscan', 'off', true)",
    )
    .bind::<BigInt, _>(super::postgres::stable_hash(lock_key))
    .execute(c)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Deleted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct UnitKey {
    #[diesel(sql_type = Text)]
    unit_key: String,
}

/// Every version, index and consent row of the resources, then the resources; returns how many
/// resources went.
pub(super) fn purge_rkeys(c: &mut PgConnection, rkeys: &[i64]) -> Result<usize, StoreError> {
    if rkeys.is_empty() {
        return Ok(0);
    }
    let rows: Vec<Deleted> = diesel::sql_query(
        "WITH v AS (DELETE FROM resource_versions WHERE rkey = ANY($1)), \
              t AS (DELETE FROM search_token WHERE rkey = ANY($1)), \
              s AS (DELETE FROM search_string WHERE rkey = ANY($1)), \
              d AS (DELETE FROM search_date WHERE rkey = ANY($1)), \
              r AS (DELETE FROM search_reference WHERE rkey = ANY($1)), \
              c AS (DELETE FROM consents WHERE rkey = ANY($1)), \
              x AS (DELETE FROM resources WHERE rkey = ANY($1) RETURNING 1) \
         SELECT count(*) AS n FROM x",
    )
    .bind::<Array<BigInt>, _>(rkeys)
    .load(c)?;
    Ok(rows
        .first()
        .map_or(0, |r| usize::try_from(r.n).unwrap_or(0)))
}

/// Drops resources of one type from report units and documents; returns the units touched.
pub(super) fn take_members(
    c: &mut PgConnection,
    res_type: &str,
    ids: &[&str],
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<UnitKey> = diesel::sql_query(
        "WITH u AS (DELETE FROM report_unit_members WHERE res_type = $1 AND res_id = ANY($2) \
                    RETURNING unit_key), \
              d AS (DELETE FROM document_members WHERE res_type = $1 AND res_id = ANY($2)) \
         SELECT DISTINCT unit_key FROM u ORDER BY unit_key",
    )
    .bind::<Text, _>(res_type)
    .bind::<Array<Text>, _>(ids)
    .load(c)?;
    Ok(rows.into_iter().map(|r| r.unit_key).collect())
}

/// The purged-resource audit rows of a run: (type, id, rule) each.
pub(super) fn record_purged_many(
    c: &mut PgConnection,
    run_id: i64,
    rows: &[(&str, &str, &str)],
    at: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let types: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let rules: Vec<&str> = rows.iter().map(|r| r.2).collect();
    diesel::sql_query(
        "INSERT INTO purged_resources (run_id, res_type, res_id, rule, purged_at) \
         SELECT $1, t, i, r, $2 FROM unnest($3, $4, $5) AS x(t, i, r)",
    )
    .bind::<BigInt, _>(run_id)
    .bind::<BigInt, _>(at)
    .bind::<Array<Text>, _>(types)
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<Text>, _>(rules)
    .execute(c)?;
    Ok(())
}
