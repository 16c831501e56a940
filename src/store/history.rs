//! `_history` at instance, type and system level, newest first, and `vread`: each version is
//! checked against the caller's scope by its own access facts (writer, patient, category,
//! hiding flag as that version was written), never by the current row's.

use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use super::access_sql::scope_condition;
use super::search_sql::CountRow;
use super::sql::Sql;
use super::{Conn, Method, StoreError, StoredResource};
use crate::access::Scope;
use crate::search::Prefix;

#[derive(Debug, Clone, Copy)]
pub enum HistoryLevel<'a> {
    Instance { res_type: &'a str, id: &'a str },
    Type(&'a str),
    System,
}

/// One `_at` value (<https://hl7.org/fhir/R4/http.html#history>): versions current at some
/// point of `[start, end]` (inclusive µs), or, with another prefix, current at some point
/// after, before, or outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub prefix: Prefix,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub resource: StoredResource,
    pub method: Method,
}

#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub total: i64,
}

#[derive(diesel::QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Text)]
    res_type: String,
    #[diesel(sql_type = Text)]
    res_id: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    last_updated: i64,
    #[diesel(sql_type = Text)]
    method: String,
    #[diesel(sql_type = Bool)]
    deleted: bool,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    patient_key: Option<String>,
}

impl VersionRow {
    fn into_entry(self) -> Result<HistoryEntry, StoreError> {
        Ok(HistoryEntry {
            method: Method::parse(&self.method)?,
            resource: StoredResource {
                res_type: self.res_type,
                id: self.res_id,
                version: self.version,
                last_updated: self.last_updated,
                deleted: self.deleted,
                content: self.content,
                patient: Some(self.patient_key),
            },
        })
    }
}

const COLUMNS: &str = "SELECT r.res_type, r.res_id, r.version, r.last_updated, r.method, r.deleted, \
     r.content, r.patient_key FROM resource_versions r WHERE ";

/// The versions of one resource, found by its row key.
fn instance(sql: &mut Sql, res_type: &str, id: &str) {
    sql.push("r.rkey IN (SELECT k.rkey FROM resources k WHERE k.res_type = ");
    sql.bind_text(res_type);
    sql.push(" AND k.res_id = ");
    sql.bind_text(id);
    sql.push(")");
}

/// Appends when the version `r` stopped being current: the time of the next version of its
/// resource that lies within `scope` (exclusive), or the largest instant when there is none.
/// A later version outside the scope is not counted, so `_at` never tells when a version
/// the caller may not read was written: to the caller, the version it sees lasts until the
/// next one it may see.
fn until(sql: &mut Sql, scope: &Scope, now: i64) {
    sql.push(
        "COALESCE((SELECT MIN(n.last_updated) FROM resource_versions n \
         WHERE n.rkey = r.rkey AND n.version > r.version",
    );
    if !scope.is_system() {
        // The inner `r` hides the outer one: the scope is written over the alias `r`.
        sql.push(" AND n.version IN (SELECT r.version FROM resource_versions r WHERE r.rkey = n.rkey AND ");
        scope_condition(sql, scope, now);
        sql.push(")");
    }
    sql.push("), ");
    sql.bind_int(i64::MAX);
    sql.push(")");
}

/// ` AND (condition)`: the version `r`'s period `[r.last_updated, until)` meets `at`.
fn at_condition(sql: &mut Sql, at: At, scope: &Scope, now: i64) {
    // After `end` means from `end + 1` on, in whole microseconds.
    let after_end = at.end.saturating_add(1);
    let starts = |sql: &mut Sql, op: &str, v: i64| {
        sql.push("r.last_updated");
        sql.push(op);
        sql.bind_int(v);
    };
    sql.push(" AND (");
    match at.prefix {
        // Current at some point of the range: began by its end, lasted past its start.
        Prefix::Eq | Prefix::Ap => {
            starts(sql, " <= ", at.end);
            sql.push(" AND ");
            until(sql, scope, now);
            sql.push(" > ");
            sql.bind_int(at.start);
        }
        // Current at some point outside the range.
        Prefix::Ne => {
            starts(sql, " < ", at.start);
            sql.push(" OR ");
            until(sql, scope, now);
            sql.push(" > ");
            sql.bind_int(after_end);
        }
        Prefix::Gt => {
            until(sql, scope, now);
            sql.push(" > ");
            sql.bind_int(after_end);
        }
        Prefix::Ge => {
            until(sql, scope, now);
            sql.push(" > ");
            sql.bind_int(at.start);
        }
        Prefix::Lt => starts(sql, " < ", at.start),
        Prefix::Le => starts(sql, " <= ", at.end),
        Prefix::Sa => starts(sql, " > ", at.end),
        Prefix::Eb => {
            until(sql, scope, now);
            sql.push(" <= ");
            sql.bind_int(at.start);
        }
    }
    sql.push(")");
}

/// ` AND (condition)` of `scope` over the version `r`; nothing for [`Scope::System`].
fn within(sql: &mut Sql, scope: &Scope, now: i64) {
    if !scope.is_system() {
        sql.push(" AND ");
        scope_condition(sql, scope, now);
    }
}

impl Conn<'_> {
    /// Versions at `level` within `scope` updated at or after `since`, newest first, `count`
    /// from `offset`; with `owner`, only versions that institution wrote; with `at`, only
    /// versions current when each says. `total` counts only versions within `scope`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn history(
        &mut self,
        level: HistoryLevel<'_>,
        scope: &Scope,
        owner: Option<&str>,
        since: Option<i64>,
        at: &[At],
        count: i64,
        offset: i64,
        now: i64,
    ) -> Result<HistoryPage, StoreError> {
        let postgres = matches!(self, Conn::Pg(_));
        let filtered = |sql: &mut Sql| {
            match level {
                HistoryLevel::Instance { res_type, id } => instance(sql, res_type, id),
                HistoryLevel::Type(res_type) => {
                    sql.push("r.res_type = ");
                    sql.bind_text(res_type);
                }
                HistoryLevel::System => sql.push("1 = 1"),
            }
            if let Some(since) = since {
                sql.push(" AND r.last_updated >= ");
                sql.bind_int(since);
            }
            for at in at {
                at_condition(sql, *at, scope, now);
            }
            if let Some(owner) = owner {
                sql.push(" AND r.institution = ");
                sql.bind_text(owner);
            }
            within(sql, scope, now);
        };
        let mut sql = Sql::new(postgres);
        sql.push("SELECT COUNT(*) AS n FROM resource_versions r WHERE ");
        filtered(&mut sql);
        let total = self.load::<CountRow>(sql)?.first().map_or(0, |r| r.n);
        let mut sql = Sql::new(postgres);
        sql.push(COLUMNS);
        filtered(&mut sql);
        sql.push(" ORDER BY r.last_updated DESC, r.version DESC LIMIT ");
        sql.bind_int(count);
        sql.push(" OFFSET ");
        sql.bind_int(offset);
        let entries = self
            .load::<VersionRow>(sql)?
            .into_iter()
            .map(VersionRow::into_entry)
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(HistoryPage { entries, total })
    }

    /// One version of `res_type/id` if it exists and lies within `scope` by its own access
    /// facts; a version outside `scope` is `None`, as one that does not exist.
    pub(super) fn read_version(
        &mut self,
        res_type: &str,
        id: &str,
        version: i64,
        scope: &Scope,
        now: i64,
    ) -> Result<Option<StoredResource>, StoreError> {
        let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
        sql.push(COLUMNS);
        instance(&mut sql, res_type, id);
        sql.push(" AND r.version = ");
        sql.bind_int(version);
        within(&mut sql, scope, now);
        self.load::<VersionRow>(sql)?
            .into_iter()
            .next()
            .map(|row| row.into_entry().map(|e| e.resource))
            .transpose()
    }
}
