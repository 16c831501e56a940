//! The access condition of a [`Scope`] in SQL, over `resources r` (DESIGN §9). One place, used
//! by searches, histories and single reads alike. Values are bound, never spliced.
//!
//! Another institution's patient data is matched by person (`r.person_key`, the member
//! identifier of the Patient the row belongs to): a consent recorded for the person, an emergency
//! declaration, or the patient's own view cover every institution's records of that person. A
//! row whose person is unknown is read by its writer only.
//!
//! An institution's rule lives in `access_rule`, written once and rendered inline for SQLite and
//! as the PostgreSQL function `kyoyu_readable_by` that the PostgreSQL condition calls.

use super::sql::Sql;
use crate::access::Scope;
use crate::access::classify::category;
use crate::clins::systems::{INSURER_PARAM, INSURER_SYSTEM};

/// `'a', 'b'`: fixed vocabulary texts, never a caller's value, spliced into an `IN (…)`.
pub(super) fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Appends `(condition)` for `scope` at `now` (µs). `Scope::System` appends `1 = 1`.
pub(super) fn scope_condition(sql: &mut Sql, scope: &Scope, now: i64) {
    use category::*;
    match scope {
        Scope::System => sql.push("(1 = 1)"),
        Scope::NoPatientData => sql.push("(r.access_category IS NULL)"),
        Scope::Institution { number, emergency } => {
            super::access_rule::institution_condition(sql, number.as_str(), now, *emergency);
        }
        Scope::Insurer { number } => {
            // The insurer numbers of a checkup report are indexed when it is registered
            // (`submissions::documents::insurers`); each version is read by the current ones,
            // which is safe because a document that changes its patient is registered afresh.
            sql.push(
                "(r.access_category IS NULL OR (r.res_type = 'Bundle' AND r.access_category = '",
            );
            sql.push(CHECKUP);
            sql.push("' AND EXISTS (SELECT 1 FROM search_token i WHERE i.rkey = r.rkey AND i.res_type = 'Bundle' AND i.param = '");
            sql.push(INSURER_PARAM);
            sql.push("' AND i.system = '");
            sql.push(INSURER_SYSTEM);
            sql.push("' AND i.code = ");
            sql.bind_text(number.as_str());
            sql.push(")))");
        }
        Scope::Patient { person, .. } => {
            sql.push(
                "(r.access_category IS NULL OR (r.hidden IS NULL AND r.access_category NOT IN (",
            );
            sql.push(&quoted(&[REFERRAL, DISCHARGE]));
            sql.push(", '");
            sql.push(PRIVATE);
            sql.push("', '");
            sql.push(UNIT);
            sql.push("') AND r.person_key = ");
            sql.bind_text(person.as_str());
            sql.push("))");
        }
    }
}

use super::Conn;
use super::StoreError;
use super::search_sql::CountRow;

impl Conn<'_> {
    /// Whether the resource `res_type/id` (deleted or not) lies within `scope`.
    pub(super) fn visible(
        &mut self,
        res_type: &str,
        id: &str,
        scope: &Scope,
        now: i64,
    ) -> Result<bool, StoreError> {
        if scope.is_system() {
            return Ok(true);
        }
        let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
        sql.push("SELECT COUNT(*) AS n FROM resources r WHERE r.res_type = ");
        sql.bind_text(res_type);
        sql.push(" AND r.res_id = ");
        sql.bind_text(id);
        sql.push(" AND ");
        scope_condition(&mut sql, scope, now);
        let rows: Vec<CountRow> = self.load(sql)?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }
}

/// Ids per [`Conn::visible_among`] statement: always this many binds (the last id repeated),
/// so the statement has one shape, prepared once, whatever the number of ids.
const VISIBLE_PER_STATEMENT: usize = 64;

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    res_id: String,
}

impl Conn<'_> {
    /// Which of the resources `res_type/ids` (deleted or not) lie within `scope`.
    pub(super) fn visible_among(
        &mut self,
        res_type: &str,
        ids: &[&str],
        scope: &Scope,
        now: i64,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(VISIBLE_PER_STATEMENT) {
            let Some(last) = chunk.last() else { continue };
            let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
            sql.push("SELECT r.res_id AS res_id FROM resources r WHERE r.res_type = ");
            sql.bind_text(res_type);
            sql.push(" AND r.res_id IN (");
            for i in 0..VISIBLE_PER_STATEMENT {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_text(*chunk.get(i).unwrap_or(last));
            }
            sql.push(") AND ");
            scope_condition(&mut sql, scope, now);
            let rows: Vec<IdRow> = self.load(sql)?;
            out.extend(rows.into_iter().map(|r| r.res_id));
        }
        Ok(out)
    }
}

impl Conn<'_> {
    /// The institution that wrote `res_type/id`: `None` when there is no such row,
    /// `Some(None)` when the row has no institution (development data, shared patients).
    pub(super) fn owner_of(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        use super::dispatch;
        use super::schema::resources;
        use diesel::prelude::*;
        let rows = dispatch!(self, |c, DB| resources::table
            .filter(resources::res_type.eq(res_type))
            .filter(resources::res_id.eq(id))
            .select(resources::institution)
            .load::<Option<String>>(c))?;
        Ok(rows.into_iter().next())
    }
}
