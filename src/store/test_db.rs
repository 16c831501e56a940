//! Databases for the store's unit tests: a temporary SQLite file always, and a fresh
//! PostgreSQL schema when `KYOYU_TEST_DATABASE_URL` is set (dropped with the guard; when it is
//! not, `crate::test_data::postgres_url` prints the skip or fails under CI).

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{Conn, DatabaseUrl, Store, StoreOptions, dispatch};

/// One opened store; the database behind it lives as long as this.
pub struct TestStore {
    pub store: Store,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// A SQLite store, and a PostgreSQL one when the environment names a server.
pub fn test_stores() -> Vec<TestStore> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = DatabaseUrl::Sqlite(dir.path().join("t.db").display().to_string());
    out.push(TestStore {
        store: Store::open(&StoreOptions::defaults_for(url)).expect("SQLite store"),
        backend: "sqlite",
        _dir: Some(dir),
        pg: None,
    });
    if let Some(admin) = crate::test_data::postgres_url() {
        let schema = format!("u_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!("KYOYU_TEST_DATABASE_URL is set but PostgreSQL does not answer: {e}")
        });
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .expect("schema");
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = DatabaseUrl::Postgres(format!("{admin}{sep}options=-csearch_path%3D{schema}"));
        out.push(TestStore {
            store: Store::open(&StoreOptions::defaults_for(url)).expect("PostgreSQL store"),
            backend: "postgresql",
            _dir: None,
            pg: Some((admin, schema)),
        });
    }
    out
}

impl Drop for TestStore {
    fn drop(&mut self) {
        self.store.clone().shutdown();
        if let Some((admin, schema)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn);
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows that outlived what they belong to: child rows of a resource that is gone, and unit or
/// document members naming a resource that is gone. Zero in a consistent store.
pub fn orphans(c: &mut Conn<'_>) -> i64 {
    let children = ["resource_versions", "search_token", "search_string", "search_date", "search_reference", "search_number", "search_quantity", "search_quantity_pair", "search_uri", "search_token_pair", "consents"]
        .map(|t| format!("SELECT count(*) FROM {t} x WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.rkey = x.rkey)"));
    let members = ["report_unit_members", "document_members"].map(|t| {
        format!(
            "SELECT count(*) FROM {t} x WHERE NOT EXISTS \
             (SELECT 1 FROM resources r WHERE r.res_type = x.res_type AND r.res_id = x.res_id)"
        )
    });
    let sql = format!(
        "SELECT CAST(({}) AS BIGINT) AS n",
        children
            .iter()
            .chain(members.iter())
            .map(|q| format!("({q})"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    let rows: Vec<Count> =
        dispatch!(c, |c, DB| diesel::sql_query(&sql).load(c)).expect("orphan count");
    rows.first().map_or(0, |r| r.n)
}

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// SQLite's plan of the statement `write` appends, one step per line, on a fresh store.
pub(super) fn sqlite_plan(write: impl FnOnce(&mut super::sql::Sql) + Send + 'static) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = test_stores().remove(0);
    assert_eq!(t.backend, "sqlite");
    rt.block_on(t.store.read(move |c| {
        let mut sql = super::sql::Sql::new(false);
        sql.push("EXPLAIN QUERY PLAN ");
        write(&mut sql);
        let rows: Vec<PlanRow> = c.load(sql)?;
        Ok::<_, super::StoreError>(rows.into_iter().map(|r| r.detail).collect::<Vec<_>>())
    }))
    .expect("plan")
    .join("\n")
}
