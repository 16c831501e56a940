//! The purger's removals on SQLite: one statement per table whose text never changes, so the
//! writer's connection prepares each once.
//!
//! `rkey IN (?, ?, …)` (diesel's `eq_any`) is a new statement text for every list length, and
//! diesel prepares such a statement on every call: in a profile of the 1M-row purge that parsing
//! was a tenth of the writer's time. Here the keys travel as one JSON array read by `json_each`,
//! which SQLite plans as a lookup of each key in the table's rkey index (see the test).

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};

use super::StoreError;

/// The tables a resource's rows live in, children first: the resource row goes last, so an
/// interrupted batch (rolled back as a whole anyway) never leaves children without a parent.
const TABLES: [&str; 12] = [
    "resource_versions",
    "search_token",
    "search_string",
    "search_date",
    "search_reference",
    "search_number",
    "search_quantity",
    "search_quantity_pair",
    "search_uri",
    "search_token_pair",
    "consents",
    "resources",
];

/// `DELETE FROM <table> WHERE rkey IN (SELECT value FROM json_each(?))`.
#[derive(Debug, Clone, Copy)]
struct DeleteByRkeys<'a> {
    table: &'static str,
    keys: &'a str,
}

// No static id: diesel then caches the prepared statement by its text, one per table.
impl QueryId for DeleteByRkeys<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Sqlite> for DeleteByRkeys<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("DELETE FROM ");
        out.push_sql(self.table);
        out.push_sql(" WHERE rkey IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(self.keys)?;
        out.push_sql("))");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for DeleteByRkeys<'_> {}

/// Removes every row of the resources `rkeys` from each table, ceding the core between
/// statements (see `Conn::cede`); returns how many resources went.
pub(super) fn purge_rkeys(
    c: &mut SqliteConnection,
    rkeys: &[i64],
    mut cede: impl FnMut(),
) -> Result<usize, StoreError> {
    if rkeys.is_empty() {
        return Ok(0);
    }
    let keys = serde_json::to_string(rkeys).unwrap_or_else(|_| "[]".into());
    let mut removed = 0;
    for table in TABLES {
        removed = DeleteByRkeys { table, keys: &keys }.execute(c)?;
        cede();
    }
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Text as SqlText;

    use super::*;

    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = SqlText)]
        detail: String,
    }

    fn db() -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute(
            "CREATE TABLE resources (rkey INTEGER PRIMARY KEY, v TEXT);
             CREATE TABLE search_token (rkey BIGINT NOT NULL, v TEXT);
             CREATE INDEX search_token_rkey ON search_token (rkey);
             CREATE TABLE resource_versions (rkey BIGINT NOT NULL, version INTEGER, UNIQUE (rkey, version));
             CREATE TABLE search_string (rkey BIGINT NOT NULL);
             CREATE TABLE search_date (rkey BIGINT NOT NULL);
             CREATE TABLE search_reference (rkey BIGINT NOT NULL);
             CREATE TABLE search_number (rkey BIGINT NOT NULL);
             CREATE TABLE search_quantity (rkey BIGINT NOT NULL);
             CREATE TABLE search_quantity_pair (rkey BIGINT NOT NULL);
             CREATE TABLE search_uri (rkey BIGINT NOT NULL);
             CREATE TABLE search_token_pair (rkey BIGINT NOT NULL);
             CREATE TABLE consents (rkey BIGINT NOT NULL UNIQUE);
             INSERT INTO resources VALUES (1, 'a'), (2, 'b'), (3, 'c');
             INSERT INTO search_token VALUES (1, 'x'), (1, 'y'), (2, 'z'), (3, 'w');
             INSERT INTO resource_versions VALUES (1, 1), (1, 2), (2, 1), (3, 1);",
        )
        .unwrap();
        c
    }

    #[test]
    fn removes_exactly_the_given_resources_from_every_table() {
        let mut c = db();
        let mut cedes = 0;
        assert_eq!(purge_rkeys(&mut c, &[1, 3, 99], || cedes += 1).unwrap(), 2);
        assert_eq!(cedes, TABLES.len());
        let left: Vec<(i64, String)> = diesel::sql_query("SELECT rkey AS detail FROM resources")
            .load::<Plan>(&mut c)
            .unwrap()
            .into_iter()
            .map(|p| (0, p.detail))
            .collect();
        assert_eq!(left, vec![(0, "2".to_string())]);
        let tokens: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM search_token) * 10 + (SELECT count(*) FROM resource_versions)",
        ))
        .get_result(&mut c)
        .unwrap();
        assert_eq!(tokens, 11, "one token and one version of resource 2 stay");
        assert_eq!(purge_rkeys(&mut c, &[], || cedes += 1).unwrap(), 0);
    }

    #[test]
    fn each_key_is_looked_up_in_the_rkey_index() {
        let mut c = db();
        for (table, index) in [
            ("search_token", "search_token_rkey"),
            ("resources", "INTEGER PRIMARY KEY"),
        ] {
            let plan: Vec<Plan> = diesel::sql_query(format!(
                "EXPLAIN QUERY PLAN DELETE FROM {table} \
                 WHERE rkey IN (SELECT value FROM json_each('[1]'))"
            ))
            .load(&mut c)
            .unwrap();
            assert!(
                plan.iter().any(|p| p.detail.contains(index)),
                "{table}: {:?}",
                plan.iter().map(|p| &p.detail).collect::<Vec<_>>()
            );
        }
    }
}
