//! The two backends' migrations stay paired: same tables, same columns, and every child table
//! indexed on the resource key so that deleting a resource never scans.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_types::Text;

use common::{Backend, TestDatabase};
use kyoyu::store::{DatabaseUrl, run_migrations};

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
}

/// table → columns, and table → first columns of its indexes (primary key included).
type Shape = (
    BTreeMap<String, BTreeSet<String>>,
    BTreeMap<String, BTreeSet<String>>,
);

fn sqlite_shape(path: &str) -> Shape {
    let mut c = diesel::sqlite::SqliteConnection::establish(path).unwrap();
    let columns: Vec<Pair> = diesel::sql_query(
        "SELECT m.name AS a, p.name AS b FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'",
    )
    .load(&mut c)
    .unwrap();
    let mut indexed: Vec<Pair> = diesel::sql_query(
        "SELECT m.name AS a, i.name AS b FROM sqlite_master m, pragma_index_list(m.name) l, \
         pragma_index_info(l.name) i WHERE m.type = 'table' AND i.seqno = 0",
    )
    .load(&mut c)
    .unwrap();
    // An INTEGER PRIMARY KEY is the rowid itself, indexed without an index entry.
    indexed.push(Pair {
        a: "resources".into(),
        b: "rkey".into(),
    });
    (group(columns), group(indexed))
}

fn postgres_shape(url: &str) -> Shape {
    let mut c = diesel::pg::PgConnection::establish(url).unwrap();
    let columns: Vec<Pair> = diesel::sql_query(
        "SELECT table_name::text AS a, column_name::text AS b FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '__diesel%'",
    )
    .load(&mut c)
    .unwrap();
    let indexed: Vec<Pair> = diesel::sql_query(
        "SELECT t.relname::text AS a, a.attname::text AS b FROM pg_index x \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] \
         WHERE n.nspname = current_schema()",
    )
    .load(&mut c)
    .unwrap();
    (group(columns), group(indexed))
}

fn group(pairs: Vec<Pair>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in pairs {
        out.entry(p.a).or_default().insert(p.b);
    }
    out
}

fn check_child_tables_are_indexed_on_rkey(shape: &Shape) {
    let (columns, indexed) = shape;
    let children: Vec<_> = columns
        .iter()
        .filter(|(t, cols)| *t != "resources" && cols.contains("rkey"))
        .collect();
    assert!(children.len() >= 5, "{children:?}");
    for (table, _) in children {
        assert!(
            indexed
                .get(table)
                .is_some_and(|first| first.contains("rkey")),
            "{table} has no index starting with rkey"
        );
    }
}

#[test]
fn sqlite_child_tables_are_indexed_on_the_resource_key() {
    let db = TestDatabase::new(Backend::Sqlite);
    run_migrations(&DatabaseUrl::parse(&db.url).unwrap()).unwrap();
    check_child_tables_are_indexed_on_rkey(&sqlite_shape(&db.url));
}

/// SQLite re-prepares, on every execution, a statement binding a value compared with a column of
/// a table that carries an `IS NOT NULL` partial index (the value might satisfy the index's
/// condition): one such index turned every cached read by id into a fresh parse and plan.
#[test]
fn sqlite_has_no_partial_indexes() {
    let db = TestDatabase::new(Backend::Sqlite);
    run_migrations(&DatabaseUrl::parse(&db.url).unwrap()).unwrap();
    let path = db.url.trim_start_matches("sqlite://");
    let mut c = diesel::sqlite::SqliteConnection::establish(path).unwrap();
    let partial: Vec<Pair> = diesel::sql_query(
        "SELECT tbl_name AS a, name AS b FROM sqlite_master \
         WHERE type = 'index' AND sql LIKE '%WHERE%'",
    )
    .load(&mut c)
    .unwrap();
    let names: Vec<String> = partial.iter().map(|p| format!("{}.{}", p.a, p.b)).collect();
    assert!(names.is_empty(), "partial indexes: {names:?}");
}

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    if !common::postgres_or_skip() {
        return;
    }
    let lite = TestDatabase::new(Backend::Sqlite);
    let pg = TestDatabase::new(Backend::Postgres);
    run_migrations(&DatabaseUrl::parse(&lite.url).unwrap()).unwrap();
    run_migrations(&DatabaseUrl::parse(&pg.url).unwrap()).unwrap();
    let (lite_shape, pg_shape) = (sqlite_shape(&lite.url), postgres_shape(&pg.url));
    assert_eq!(lite_shape.0, pg_shape.0);
    check_child_tables_are_indexed_on_rkey(&pg_shape);
}
