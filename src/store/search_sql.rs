//! Runs a [`SearchQuery`] as SQL. Each clause becomes `rkey IN (subquery on one index table)`,
//! which both engines answer from the `(res_type, param, value)` indexes; values of one clause
//! are ORed, clauses ANDed. All values are bound, never spliced into the SQL text.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::include_sql::Included;
use super::sql::Sql;
use super::{Conn, StoreError, StoredResource};
use crate::access::Scope;
use crate::search::{
    ALL_TYPES, Clause, ParamKind, Prefix, SearchQuery, SortTarget, StringMatch, Target,
    TokenSystem, TotalMode, Value,
};

/// One page of matches, in the requested order, the total when it was asked for, and what
/// the page's `_include`/`_revinclude` added (never counted in the total).
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub resources: Vec<StoredResource>,
    pub total: Option<i64>,
    /// The storage key of each resource, in page order: where a keyset `next` page starts.
    pub keys: Vec<i64>,
    pub included: Included,
}

impl SearchPage {
    /// The matches, then the included resources: everything the page shows.
    pub fn shown(&self) -> impl Iterator<Item = &StoredResource> {
        self.resources.iter().chain(&self.included.resources)
    }
}

/// A current version found by a search or an include.
#[derive(QueryableByName)]
pub(super) struct FoundRow {
    #[diesel(sql_type = BigInt)]
    rkey: i64,
    #[diesel(sql_type = Text)]
    res_type: String,
    #[diesel(sql_type = Text)]
    res_id: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    last_updated: i64,
    #[diesel(sql_type = Nullable<Text>)]
    content: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    patient_key: Option<String>,
}

impl FoundRow {
    pub(super) fn key(&self) -> (&str, &str) {
        (&self.res_type, &self.res_id)
    }

    pub(super) fn into_stored(self) -> StoredResource {
        StoredResource {
            res_type: self.res_type,
            id: self.res_id,
            version: self.version,
            last_updated: self.last_updated,
            deleted: false,
            content: self.content,
            patient: Some(self.patient_key),
        }
    }
}

#[derive(QueryableByName)]
pub(super) struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub(super) n: i64,
}

impl Conn<'_> {
    /// The matches of `query` that lie within `scope` (nothing else is loaded or counted).
    pub(super) fn search(
        &mut self,
        query: &SearchQuery,
        scope: &Scope,
        now_micros: i64,
    ) -> Result<SearchPage, StoreError> {
        let postgres = matches!(self, Conn::Pg(_));
        let total = match query.total {
            TotalMode::Accurate => {
                let mut sql = Sql::new(postgres);
                sql.push("SELECT COUNT(*) AS n FROM resources r WHERE ");
                // The total counts every match, not those after the page's key.
                where_clause(
                    &mut sql,
                    &SearchQuery {
                        after: None,
                        ..query.clone()
                    },
                    scope,
                    now_micros,
                );
                let rows: Vec<CountRow> = self.load(sql)?;
                Some(rows.first().map_or(0, |r| r.n))
            }
            TotalMode::None => None,
        };
        let (resources, keys) = if query.count == 0 {
            (Vec::new(), Vec::new())
        } else {
            let mut sql = Sql::new(postgres);
            sql.push(
                "SELECT r.rkey, r.res_type, r.res_id, r.version, r.last_updated, r.content, \
                 r.patient_key FROM resources r WHERE ",
            );
            where_clause(&mut sql, query, scope, now_micros);
            order_by(&mut sql, query);
            sql.push(" LIMIT ");
            sql.bind_int(i64::try_from(query.count).unwrap_or(i64::MAX));
            sql.push(" OFFSET ");
            sql.bind_int(i64::try_from(query.offset).unwrap_or(i64::MAX));
            let rows: Vec<FoundRow> = self.load(sql)?;
            let keys = rows.iter().map(|r| r.rkey).collect();
            let resources = rows.into_iter().map(FoundRow::into_stored).collect();
            (resources, keys)
        };
        let included = if query.includes.is_empty() || resources.is_empty() {
            Included::default()
        } else {
            self.includes(query, &resources, scope, now_micros)?
        };
        Ok(SearchPage {
            resources,
            total,
            keys,
            included,
        })
    }
}

/// The conditions of `query` on `resources r`, scope included; a chain nests one of these for
/// each type it links to, its own `r` hiding the outer one.
pub(super) fn where_clause(sql: &mut Sql, query: &SearchQuery, scope: &Scope, now: i64) {
    // SQLite keeps no statistics unless ANALYZE runs, and without them it prefers the
    // `res_type` index: it walked every resource of the type and probed the clause's rows for
    // each, 50 ms for one patient's 20 Observations among 20,000. A unary `+` takes the column
    // out of index choice, so an index clause leads and its rows are fetched by rowid.
    // `_id` keeps the column indexable: with it `(res_type, res_id)` finds the one row.
    let index_leads = !sql.is_postgres()
        && (query.clauses.iter().any(leads) || !query.chains.is_empty())
        && !query.clauses.iter().any(|c| c.target == Target::Id);
    match &query.compartment {
        Some(compartment) if query.resource_type == ALL_TYPES => {
            let types: Vec<&str> = compartment.types.iter().map(String::as_str).collect();
            in_list(sql, "r.res_type", &types);
        }
        None if query.resource_type == ALL_TYPES => system_types(sql, query, "r.res_type"),
        _ => {
            // A keyset page of one type (`$export`'s pages after the first) is read by `rkey`
            // from its cursor, stopping at the page's end: through the `res_type` index SQLite
            // sorted every later row of the type for each page, quadratic over an export.
            let keyset = !sql.is_postgres() && query.after.is_some() && query.sort.is_empty();
            sql.push(if index_leads || keyset {
                "+r.res_type = "
            } else {
                "r.res_type = "
            });
            sql.bind_text(query.resource_type.as_str());
        }
    }
    if let Some(compartment) = &query.compartment {
        sql.push(" AND r.patient_key = ");
        sql.bind_text(compartment.patient.as_str());
    }
    if let Some(after) = query.after {
        sql.push(" AND r.rkey > ");
        sql.bind_int(after);
    }
    sql.push(" AND NOT r.deleted");
    if !scope.is_system() {
        sql.push(" AND ");
        super::access_sql::scope_condition(sql, scope, now);
    }
    for clause in &query.clauses {
        sql.push(" AND ");
        if clause.negate {
            sql.push("NOT ");
        }
        sql.push("(");
        clause_condition(sql, query, clause, now);
        sql.push(")");
    }
    for chain in &query.chains {
        sql.push(" AND ");
        super::chain_sql::chain_condition(sql, &query.resource_type, chain, scope, now);
    }
}

/// The types of a system-level search: those listed, or every one but those served apart.
/// The latter is a condition no index serves, so SQLite reads the rows in storage order and
/// stops at the page's end; with the types listed as an `IN`, it sorted every row of every
/// type for each page.
fn system_types(sql: &mut Sql, query: &SearchQuery, column: &str) {
    if query.types.is_empty() {
        sql.push("NOT (");
        in_list(sql, column, crate::search::SERVED_APART);
        sql.push(")");
    } else {
        let types: Vec<&str> = query.types.iter().map(String::as_str).collect();
        in_list(sql, column, &types);
    }
}

/// Whether every row a clause admits comes from its index table (`rkey IN (…)`), so the
/// table's rows can lead the lookup.
fn leads(clause: &Clause) -> bool {
    matches!(clause.target, Target::Index(_))
        && !clause.negate
        && !clause.values.is_empty()
        && clause
            .values
            .iter()
            .all(|v| !matches!(v, Value::Missing(true)))
}

/// The values of one clause, ORed. Values that compare one column for equality are bound as one
/// list (`IN`, `= ANY`), so a list of a thousand costs one bind, not a thousand; the others are
/// ORed as a balanced tree (see [`any_of`]).
fn clause_condition(sql: &mut Sql, query: &SearchQuery, clause: &Clause, now: i64) {
    if clause.values.is_empty() {
        sql.push("1 = 1");
        return;
    }
    match clause.target {
        Target::Id => {
            let ids: Vec<&str> = clause
                .values
                .iter()
                .filter_map(|v| match v {
                    Value::Id(id) => Some(id.as_str()),
                    _ => None,
                })
                .collect();
            if ids.is_empty() {
                sql.push("1 = 0");
            } else {
                in_list(sql, "r.res_id", &ids);
            }
        }
        Target::LastUpdated => any_of(sql, &clause.values, &mut |sql, value| match value {
            Value::Date { prefix, start, end } => date_condition(
                sql,
                "r.last_updated",
                "r.last_updated",
                *prefix,
                *start,
                *end,
                now,
            ),
            _ => sql.push("1 = 0"),
        }),
        Target::Index(ParamKind::Composite) => {
            super::composite_sql::clause_condition(sql, query, clause)
        }
        Target::Index(kind) => {
            let table = table_of(kind);
            // A union's rows are its parts' (`search::unions`).
            let params = crate::search::unions::rows_of(&query.resource_type, &clause.param);
            let (missing, matching): (Vec<&Value>, Vec<&Value>) = clause
                .values
                .iter()
                .partition(|v| matches!(v, Value::Missing(_)));
            let mut terms: Vec<Option<bool>> = missing
                .iter()
                .map(|v| Some(matches!(v, Value::Missing(true))))
                .collect();
            if !matching.is_empty() {
                terms.push(None);
            }
            let alternatives = alternatives(&matching);
            any_of(sql, &terms, &mut |sql, term| {
                // `Some(missing)`: whether the resource has no row for the parameter; `None`:
                // whether it has one matching any value.
                sql.push(if *term == Some(true) {
                    "r.rkey NOT IN ("
                } else {
                    "r.rkey IN ("
                });
                index_subquery_head(sql, table, query, params);
                if term.is_none() {
                    sql.push(" AND ");
                    any_of(sql, &alternatives, &mut |sql, alt| match alt {
                        Alternative::In {
                            column,
                            values,
                            also,
                        } => {
                            in_list(sql, column, values);
                            match also {
                                Also::Nothing => {}
                                Also::IsNull(col) => {
                                    sql.push(" AND ");
                                    sql.push(col);
                                    sql.push(" IS NULL");
                                }
                                Also::Equals(col, v) => {
                                    sql.push(" AND ");
                                    sql.push(col);
                                    sql.push(" = ");
                                    sql.bind_text(*v);
                                }
                            }
                        }
                        Alternative::One(value) => index_value_condition(sql, value, now),
                    });
                }
                sql.push(")");
            });
        }
    }
}

/// One ORed alternative inside an index table's subquery.
enum Alternative<'a> {
    /// `column` is one of `values`, and `also` holds.
    In {
        column: &'static str,
        values: Vec<&'a str>,
        also: Also<'a>,
    },
    One(&'a Value),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Also<'a> {
    Nothing,
    IsNull(&'static str),
    Equals(&'static str, &'a str),
}

/// Groups the values that differ only in the one column they compare (codes of one system,
/// ids of one target type, exact strings), in the order they were given.
fn alternatives<'a>(values: &[&'a Value]) -> Vec<Alternative<'a>> {
    let mut out: Vec<Alternative<'a>> = Vec::new();
    let mut groups: std::collections::HashMap<(&'static str, Also<'a>), usize> =
        std::collections::HashMap::new();
    for value in values {
        let keyed = match value {
            Value::Token {
                system,
                code: Some(code),
            } => {
                let also = match system {
                    TokenSystem::Any => Also::Nothing,
                    TokenSystem::NoSystem => Also::IsNull("x.system"),
                    TokenSystem::Is(s) => Also::Equals("x.system", s.as_str()),
                };
                Some(("x.code", also, code.as_str()))
            }
            Value::Reference { target_type, id } => {
                let also = match target_type {
                    Some(t) => Also::Equals("x.target_type", t.as_str()),
                    None => Also::Nothing,
                };
                Some(("x.target_id", also, id.as_str()))
            }
            Value::String {
                value,
                mode: StringMatch::Exact,
            } => Some(("x.exact", Also::Nothing, value.as_str())),
            _ => None,
        };
        match keyed {
            Some((column, also, v)) => match groups.get(&(column, also)) {
                Some(&at) => {
                    if let Some(Alternative::In { values, .. }) = out.get_mut(at) {
                        values.push(v);
                    }
                }
                None => {
                    groups.insert((column, also), out.len());
                    out.push(Alternative::In {
                        column,
                        values: vec![v],
                        also,
                    });
                }
            },
            None => out.push(Alternative::One(value)),
        }
    }
    out
}

/// `column` equals one of `values`: a plain comparison for one value, else the list bound as
/// one array (SQLite: a JSON array read by `json_each`; PostgreSQL: a `text[]`).
pub(super) fn in_list(sql: &mut Sql, column: &str, values: &[&str]) {
    sql.push(column);
    if let [one] = values {
        sql.push(" = ");
        sql.bind_text(*one);
    } else if sql.is_postgres() {
        sql.push(" = ANY(CAST(");
        sql.bind_text(pg_array(values));
        sql.push(" AS text[]))");
    } else {
        sql.push(" IN (SELECT value FROM json_each(");
        sql.bind_text(serde_json::Value::from(values).to_string());
        sql.push("))");
    }
}

/// A PostgreSQL array literal of text: every element quoted, `"` and `\` escaped, so no
/// element is read as NULL or split.
fn pg_array(values: &[&str]) -> String {
    let mut out = String::with_capacity(values.iter().map(|v| v.len() + 3).sum::<usize>() + 2);
    out.push('{');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for ch in v.chars() {
            if matches!(ch, '"' | '\\') {
                out.push('\\');
            }
            out.push(ch);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// ORs one condition per item as a balanced tree. SQLite refuses expressions nested more than
/// 1,000 deep, and a chain `a OR b OR …` nests one level per term: a thousand values of a
/// clause made the statement fail. Balanced, the depth is the logarithm of their number.
pub(super) fn any_of<T>(sql: &mut Sql, items: &[T], each: &mut impl FnMut(&mut Sql, &T)) {
    match items {
        [] => sql.push("1 = 0"),
        [one] => each(sql, one),
        _ => {
            let (left, right) = items.split_at(items.len() / 2);
            sql.push("(");
            any_of(sql, left, each);
            sql.push(" OR ");
            any_of(sql, right, each);
            sql.push(")");
        }
    }
}

pub(super) fn table_of(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Token => "search_token",
        ParamKind::String => "search_string",
        ParamKind::Date => "search_date",
        ParamKind::Reference => "search_reference",
        ParamKind::Number => "search_number",
        ParamKind::Quantity => "search_quantity",
        ParamKind::Uri => "search_uri",
        // Not reached: a composite's tables depend on its parts (`composite_sql`).
        ParamKind::Composite => "search_quantity",
    }
}

/// `SELECT x.rkey FROM table x WHERE` the rows of `params` of the searched types.
pub(super) fn index_subquery_head(
    sql: &mut Sql,
    table: &str,
    query: &SearchQuery,
    params: &[&str],
) {
    sql.push("SELECT x.rkey FROM ");
    sql.push(table);
    if query.resource_type == ALL_TYPES && query.compartment.is_none() {
        // A system-level search with a parameter every searched type defines.
        sql.push(" x WHERE ");
        system_types(sql, query, "x.res_type");
    } else {
        sql.push(" x WHERE x.res_type = ");
        sql.bind_text(query.resource_type.as_str());
    }
    sql.push(" AND ");
    in_list(sql, "x.param", params);
}

fn index_value_condition(sql: &mut Sql, value: &Value, now: i64) {
    match value {
        Value::Token { system, code } => {
            let mut first = true;
            if let Some(code) = code {
                sql.push("x.code = ");
                sql.bind_text(code.as_str());
                first = false;
            }
            match system {
                TokenSystem::Any => {}
                TokenSystem::NoSystem => {
                    sql.push(if first {
                        "x.system IS NULL"
                    } else {
                        " AND x.system IS NULL"
                    });
                    first = false;
                }
                TokenSystem::Is(s) => {
                    sql.push(if first {
                        "x.system = "
                    } else {
                        " AND x.system = "
                    });
                    sql.bind_text(s.as_str());
                    first = false;
                }
            }
            if first {
                sql.push("1 = 1");
            }
        }
        Value::String { value, mode } => match mode {
            StringMatch::Exact => {
                sql.push("x.exact = ");
                sql.bind_text(value.as_str());
            }
            StringMatch::StartsWith => {
                sql.push("x.normalized LIKE ");
                sql.bind_text(format!("{}%", escape_like(value)));
                sql.push(" ESCAPE '\\'");
            }
            StringMatch::Contains => {
                sql.push("x.normalized LIKE ");
                sql.bind_text(format!("%{}%", escape_like(value)));
                sql.push(" ESCAPE '\\'");
            }
        },
        Value::Date { prefix, start, end } => {
            date_condition(sql, "x.start_at", "x.end_at", *prefix, *start, *end, now)
        }
        Value::Reference { target_type, id } => {
            sql.push("x.target_id = ");
            sql.bind_text(id.as_str());
            if let Some(t) = target_type {
                sql.push(" AND x.target_type = ");
                sql.bind_text(t.as_str());
            }
        }
        Value::Number(n) => super::typed_sql::number_condition(sql, "x.value", n),
        Value::Quantity(q) => super::typed_sql::quantity_condition(sql, q),
        Value::Uri { uri, mode } => super::typed_sql::uri_condition(sql, uri, *mode),
        // Rendered apart, by its sources (`composite_sql`).
        Value::Composite { .. } | Value::Id(_) | Value::Missing(_) | Value::Nothing => {
            sql.push("1 = 0")
        }
    }
}

pub(super) fn escape_like(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    for ch in v.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// FHIR R4 prefix semantics over ranges: the indexed value is `[lo, hi]`, the search value
/// `[start, end]` (both inclusive). https://hl7.org/fhir/R4/search.html#prefix
fn date_condition(
    sql: &mut Sql,
    lo: &str,
    hi: &str,
    prefix: Prefix,
    start: i64,
    end: i64,
    now: i64,
) {
    let contained = |sql: &mut Sql| {
        sql.push("(");
        sql.push(lo);
        sql.push(" >= ");
        sql.bind_int(start);
        sql.push(" AND ");
        sql.push(hi);
        sql.push(" <= ");
        sql.bind_int(end);
        sql.push(")");
    };
    let compare = |sql: &mut Sql, col: &str, op: &str, v: i64| {
        sql.push(col);
        sql.push(op);
        sql.bind_int(v);
    };
    match prefix {
        Prefix::Eq => contained(sql),
        Prefix::Ne => {
            sql.push("NOT ");
            contained(sql);
        }
        Prefix::Gt => compare(sql, hi, " > ", end),
        Prefix::Lt => compare(sql, lo, " < ", start),
        Prefix::Ge => {
            sql.push("(");
            compare(sql, hi, " > ", end);
            sql.push(" OR ");
            contained(sql);
            sql.push(")");
        }
        Prefix::Le => {
            sql.push("(");
            compare(sql, lo, " < ", start);
            sql.push(" OR ");
            contained(sql);
            sql.push(")");
        }
        Prefix::Sa => compare(sql, lo, " > ", end),
        Prefix::Eb => compare(sql, hi, " < ", start),
        Prefix::Ap => {
            // "Approximately": overlap with the value widened by 10 % of its distance from now,
            // at least one day, as the spec suggests.
            const DAY: i64 = 86_400_000_000;
            let gap = (now.saturating_sub(start)).unsigned_abs() / 10;
            let widen = i64::try_from(gap).unwrap_or(i64::MAX).max(DAY);
            sql.push("(");
            compare(sql, lo, " <= ", end.saturating_add(widen));
            sql.push(" AND ");
            compare(sql, hi, " >= ", start.saturating_sub(widen));
            sql.push(")");
        }
    }
}

fn order_by(sql: &mut Sql, query: &SearchQuery) {
    sql.push(" ORDER BY ");
    for key in &query.sort {
        let dir = if key.descending { " DESC" } else { " ASC" };
        match key.target {
            SortTarget::Id => sql.push("r.res_id"),
            SortTarget::LastUpdated => sql.push("r.last_updated"),
            SortTarget::Date => {
                // Ascending sorts on the earliest start, descending on the latest, so a
                // resource with several dates sorts by its extreme in the asked direction.
                sql.push(if key.descending {
                    "(SELECT MAX(d.start_at)"
                } else {
                    "(SELECT MIN(d.start_at)"
                });
                sql.push(" FROM search_date d WHERE d.rkey = r.rkey AND d.param = ");
                sql.bind_text(key.param);
                sql.push(")");
            }
        }
        sql.push(dir);
        sql.push(" NULLS LAST, ");
    }
    sql.push("r.rkey ASC");
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::search::query::{QueryOptions, parse};
    use crate::store::test_db::test_stores;

    #[derive(QueryableByName)]
    struct PlanRow {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// SQLite's plan for the page query of `resource_type?params`, one step per line.
    fn plan(c: &mut Conn<'_>, resource_type: &str, params: &[(&str, &str)]) -> String {
        let opts = QueryOptions::for_tests(true);
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let query = parse(resource_type, &params, &opts).unwrap();
        let mut sql = Sql::new(false);
        sql.push("EXPLAIN QUERY PLAN SELECT r.res_id FROM resources r WHERE ");
        where_clause(&mut sql, &query, &Scope::System, 0);
        order_by(&mut sql, &query);
        sql.push(" LIMIT 20");
        let rows: Vec<PlanRow> = c.load(sql).unwrap();
        rows.into_iter()
            .map(|r| r.detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn array_elements_keep_quotes_backslashes_and_commas() {
        assert_eq!(
            pg_array(&["a\"b", "c\\d", "e,f", "NULL", ""]),
            r#"{"a\"b","c\\d","e,f","NULL",""}"#
        );
    }

    #[test]
    fn an_index_clause_leads_the_lookup_and_an_id_still_finds_its_row() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t = test_stores().remove(0);
        assert_eq!(t.backend, "sqlite");
        let (patient, coded, by_id, all) = rt
            .block_on(t.store.read(|c| {
                Ok::<_, StoreError>((
                    plan(c, "Observation", &[("subject", "Patient/p1")]),
                    plan(
                        c,
                        "Observation",
                        &[("code", "3D010000001926101"), ("_lastUpdated", "ge2024")],
                    ),
                    plan(
                        c,
                        "Observation",
                        &[("_id", "o1"), ("subject", "Patient/p1")],
                    ),
                    plan(c, "Observation", &[]),
                ))
            }))
            .unwrap();
        for p in [&patient, &coded] {
            assert!(p.contains("INTEGER PRIMARY KEY"), "{p}");
            assert!(!p.contains("resources_type_updated"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "{p}");
        }
        assert!(patient.contains("search_reference_lookup"), "{patient}");
        assert!(coded.contains("search_token_lookup"), "{coded}");
        assert!(by_id.contains("sqlite_autoindex_resources"), "{by_id}");
        assert!(all.contains("resources_type_updated"), "{all}");
    }

    #[test]
    fn a_search_of_several_types_reaches_its_index_rows_by_key() {
        let opts = QueryOptions::for_tests(true);
        let params = vec![("patient".to_string(), "Patient/p1".to_string())];
        let mut query = parse("Observation", &params, &opts).unwrap();
        query.resource_type = ALL_TYPES.to_string();
        query.types = vec!["Observation".into(), "Condition".into()];
        let plan = crate::store::test_db::sqlite_plan(move |sql| {
            sql.push("SELECT r.res_id FROM resources r WHERE ");
            where_clause(sql, &query, &Scope::System, 0);
            order_by(sql, &query);
            sql.push(" LIMIT 20");
        });
        assert!(plan.contains("search_reference_lookup"), "{plan}");
        assert!(!plan.contains("SCAN x"), "{plan}");
    }

    #[test]
    fn a_search_of_every_type_reads_rows_in_storage_order() {
        let opts = QueryOptions::for_tests(true);
        let params = vec![("_lastUpdated".to_string(), "gt2024".to_string())];
        let mut query = parse(ALL_TYPES, &params, &opts).unwrap();
        query.types = Vec::new();
        let plan = crate::store::test_db::sqlite_plan(move |sql| {
            sql.push("SELECT r.res_id FROM resources r WHERE ");
            where_clause(sql, &query, &Scope::System, 0);
            order_by(sql, &query);
            sql.push(" LIMIT 20");
        });
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
