//! The purger's bulk steps on PostgreSQL, each a statement over array parameters, so a batch
//! costs a few round trips rather than one per table and row: under load every round trip waits
//! to be scheduled twice (server, then client).

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use super::{LockKey, StoreError};

/// Opens a purge batch's transaction: one purger at a time (an advisory lock held to the end of
/// the transaction), and no sequential scans in it. Every statement of a batch reaches its rows
/// by key, but these statements are planned afresh with the batch's array in view, and on a
/// table without statistics (never analysed yet, or autovacuum off) PostgreSQL takes a
/// thousand-key `= ANY` to match most of the table and scans it whole: 80 ms a batch on a
/// million rows where the index takes 1 ms. Prepared statements get a generic plan: one plan
/// for any list of keys, made once per connection (see [`PurgeRkeys`]).
pub(super) fn begin_batch(c: &mut PgConnection, lock_key: LockKey<'_>) -> Result<(), StoreError> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock($1), set_config('enable_seqscan', 'off', true), \
                set_config('plan_cache_mode', 'force_generic_plan', true)",
    )
    .bind::<BigInt, _>(super::postgres::stable_hash(&lock_key.to_string()))
    .execute(c)?;
    Ok(())
}

/// Resources one removal statement takes at most. While a backend runs a statement, requests
/// woken on its core wait for it: a scheduler trace of the purge benchmark put 188 of 280
/// waits of 1 ms or more during a purge behind statements of 250 resources that ran 1-4 ms.
/// Statements of 64 keep each run well under a millisecond, and cost a round trip each.
const STATEMENT_ROWS: usize = 64;

/// Every version, index and consent row of the resources, then the resources; returns how many
/// resources went.
pub(super) fn purge_rkeys(c: &mut PgConnection, rkeys: &[i64]) -> Result<usize, StoreError> {
    if rkeys.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for chunk in rkeys.chunks(STATEMENT_ROWS) {
        n += PurgeRkeys(chunk).execute(c)?;
    }
    Ok(n)
}

/// The statement of [`purge_rkeys`] as a query type of its own: its text never changes, so
/// diesel prepares it once per connection (an `sql_query` is parsed and planned on every call,
/// and planning `= ANY` over a batch's keys estimated each key's selectivity: a fifth of the
/// purge's time in PostgreSQL).
#[derive(Debug, Clone, Copy)]
struct PurgeRkeys<'a>(&'a [i64]);

impl diesel::query_builder::QueryId for PurgeRkeys<'_> {
    type QueryId = PurgeRkeys<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// [`PurgeRkeys`]' text around its twelve binds of the same keys.
const PURGE_RKEYS_SQL: [&str; 13] = [
    "WITH v AS (DELETE FROM resource_versions WHERE rkey = ANY(",
    ")), t AS (DELETE FROM search_token WHERE rkey = ANY(",
    ")), s AS (DELETE FROM search_string WHERE rkey = ANY(",
    ")), d AS (DELETE FROM search_date WHERE rkey = ANY(",
    ")), r AS (DELETE FROM search_reference WHERE rkey = ANY(",
    ")), n AS (DELETE FROM search_number WHERE rkey = ANY(",
    ")), q AS (DELETE FROM search_quantity WHERE rkey = ANY(",
    ")), qp AS (DELETE FROM search_quantity_pair WHERE rkey = ANY(",
    ")), u AS (DELETE FROM search_uri WHERE rkey = ANY(",
    ")), p AS (DELETE FROM search_token_pair WHERE rkey = ANY(",
    ")), c AS (DELETE FROM consents WHERE rkey = ANY(",
    ")) DELETE FROM resources WHERE rkey = ANY(",
    ")",
];

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PurgeRkeys<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        let (last, before) = PURGE_RKEYS_SQL.split_last().unwrap_or((&"", &[]));
        for part in before {
            out.push_sql(part);
            out.push_bind_param::<Array<BigInt>, _>(&self.0)?;
        }
        out.push_sql(last);
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for PurgeRkeys<'_> {}

#[derive(QueryableByName)]
struct TakenKey {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    key: String,
}

/// Drops resources of one type from report units and documents; returns the units and the
/// documents touched.
pub(super) fn take_members(
    c: &mut PgConnection,
    res_type: &str,
    ids: &[&str],
) -> Result<super::retention::Taken, StoreError> {
    let rows: Vec<TakenKey> = diesel::sql_query(
        "WITH u AS (DELETE FROM report_unit_members WHERE res_type = $1 AND res_id = ANY($2) \
                    RETURNING unit_key), \
              d AS (DELETE FROM document_members WHERE res_type = $1 AND res_id = ANY($2) \
                    RETURNING document_key) \
         SELECT DISTINCT 'u' AS kind, unit_key AS key FROM u \
         UNION SELECT DISTINCT 'd', document_key FROM d ORDER BY 1, 2",
    )
    .bind::<Text, _>(res_type)
    .bind::<Array<Text>, _>(ids)
    .load(c)?;
    let mut taken = super::retention::Taken::default();
    for r in rows {
        match r.kind.as_str() {
            "u" => taken.units.push(r.key),
            _ => taken.documents.push(r.key),
        }
    }
    Ok(taken)
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
