//! SQL text built at run time (searches, access conditions) with its bind values, and how it is
//! run: as a prepared statement the connection keeps for the next query of the same shape, up
//! to a bounded number of shapes.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, RwLock};

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Double, HasSqlType, Text, Untyped};

use super::{Conn, StoreError, dispatch};

/// Most distinct statement shapes whose prepared statements connections keep. A shape is the
/// text and where its binds go, so values never add shapes, but parameter combinations do,
/// and a client can make them without end; past this many, new shapes are prepared for each
/// query as before, and what is kept stays bounded (a few dozen kilobytes per statement and
/// connection).
const MAX_CACHED_SHAPES: usize = 128;

enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

/// SQL text under construction with its bind values. The text holds no placeholders: diesel
/// writes each backend's own (`?`, `$n`) where a bind goes.
pub(super) struct Sql {
    text: String,
    binds: Vec<Bind>,
    /// Where in `text` each bind goes.
    bind_at: Vec<usize>,
    postgres: bool,
}

impl Sql {
    pub(super) fn new(postgres: bool) -> Self {
        Sql {
            text: String::with_capacity(256),
            binds: Vec::new(),
            bind_at: Vec::new(),
            postgres,
        }
    }

    /// Whether the text is for PostgreSQL.
    pub(super) fn is_postgres(&self) -> bool {
        self.postgres
    }

    pub(super) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    pub(super) fn bind_text(&mut self, v: impl Into<String>) {
        self.binds.push(Bind::Text(v.into()));
        self.bind_at.push(self.text.len());
    }

    pub(super) fn bind_int(&mut self, v: i64) {
        self.binds.push(Bind::Int(v));
        self.bind_at.push(self.text.len());
    }

    pub(super) fn bind_float(&mut self, v: f64) {
        self.binds.push(Bind::Float(v));
        self.bind_at.push(self.text.len());
    }

    /// The text with `?` where each bind goes, for tests that pin a statement's shape.
    #[cfg(test)]
    pub(super) fn debug_text(&self) -> String {
        let mut out = String::new();
        let mut at = 0;
        for &pos in &self.bind_at {
            out.push_str(&self.text[at..pos]);
            out.push('?');
            at = pos;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// Whether statements of this text may be kept: only the first [`MAX_CACHED_SHAPES`] shapes
/// the process meets. On PostgreSQL a kept statement may run on a generic plan after five
/// runs; PostgreSQL takes one only when its estimate is no worse than the custom plans', and
/// every clause here is a key lookup in an index table whatever its value.
fn cacheable(sql: &Sql) -> bool {
    static SHAPES: OnceLock<RwLock<HashSet<u64>>> = OnceLock::new();
    let mut hasher = std::hash::DefaultHasher::new();
    sql.text.hash(&mut hasher);
    sql.bind_at.hash(&mut hasher);
    let shape = hasher.finish();
    let shapes = SHAPES.get_or_init(|| RwLock::new(HashSet::new()));
    if let Ok(known) = shapes.read()
        && known.contains(&shape)
    {
        return true;
    }
    match shapes.write() {
        Ok(mut known) if known.len() < MAX_CACHED_SHAPES => {
            known.insert(shape);
            true
        }
        Ok(known) => known.contains(&shape),
        Err(_) => false,
    }
}

/// A [`Sql`] as a diesel query. Unlike `sql_query`, it does not mark itself unsafe to cache
/// when it is [`cacheable`], so diesel keeps its prepared statement keyed by the text: a
/// search's access condition alone took a quarter of the CPU to parse and plan, every time.
struct Prepared {
    sql: Sql,
    cache: bool,
}

impl<DB> QueryFragment<DB> for Prepared
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Double>,
    String: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    f64: diesel::serialize::ToSql<Double, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cache {
            out.unsafe_to_cache_prepared();
        }
        let mut at = 0;
        for (bind, &pos) in self.sql.binds.iter().zip(&self.sql.bind_at) {
            out.push_sql(&self.sql.text[at..pos]);
            match bind {
                Bind::Text(s) => out.push_bind_param::<Text, String>(s)?,
                Bind::Int(i) => out.push_bind_param::<BigInt, i64>(i)?,
                Bind::Float(f) => out.push_bind_param::<Double, f64>(f)?,
            }
            at = pos;
        }
        out.push_sql(&self.sql.text[at..]);
        Ok(())
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}

impl<C: Connection> RunQueryDsl<C> for Prepared {}

impl Conn<'_> {
    /// Runs `sql` and reads its rows by column name.
    pub(super) fn load<R>(&mut self, sql: Sql) -> Result<Vec<R>, StoreError>
    where
        R: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        let cache = cacheable(&sql);
        let query = Prepared { sql, cache };
        let rows = dispatch!(self, |c, DB| query.load::<R>(c))?;
        Ok(rows)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shapes_past_the_bound_are_not_kept() {
        let shape = |n: usize| {
            let mut sql = Sql::new(false);
            sql.push(&format!("SELECT {n} AS bound_test WHERE 1 = "));
            sql.bind_int(1);
            sql
        };
        let mut kept = 0;
        for n in 0..MAX_CACHED_SHAPES + 10 {
            kept += usize::from(cacheable(&shape(n)));
        }
        assert!(kept <= MAX_CACHED_SHAPES, "{kept}");
        assert!(kept < MAX_CACHED_SHAPES + 10, "{kept}");
        // A shape kept once stays kept: the same text is cacheable again.
        if cacheable(&shape(0)) {
            assert!(cacheable(&shape(0)));
        }
    }
}
