//! `_include` and `_revinclude` as SQL: the resources a page's matches reference, and those
//! that reference them, read through the caller's scope like the matches. One statement per
//! level, whatever the page holds: the level's resources are bound as id lists per type, and
//! the references followed from the `search_reference` index, never from the stored JSON.

use std::collections::HashSet;

use super::search_sql::{FoundRow, any_of, in_list};
use super::sql::Sql;
use super::{Conn, StoreError, StoredResource};
use crate::access::Scope;
use crate::search::{Direction, Include, SearchQuery};

/// What the includes added to a page.
#[derive(Debug, Clone, Default)]
pub struct Included {
    /// In the order found: level by level, by storage order within a level.
    pub resources: Vec<StoredResource>,
    /// More were found than the query's `include_limit`; `resources` holds the first ones.
    pub capped: bool,
}

type Key = (String, String);

fn key_of(r: &StoredResource) -> Key {
    (r.res_type.clone(), r.id.clone())
}

impl Conn<'_> {
    /// The resources `query`'s includes add to `matches`: first from the matches by every
    /// include, then from what the previous level added by the `:iterate` ones, until a level
    /// adds nothing or `include_limit` is reached. Each resource appears once, matches never.
    pub(super) fn includes(
        &mut self,
        query: &SearchQuery,
        matches: &[StoredResource],
        scope: &Scope,
        now: i64,
    ) -> Result<Included, StoreError> {
        let mut seen: HashSet<Key> = matches.iter().map(key_of).collect();
        let mut out = Included::default();
        let mut level: Vec<Key> = matches.iter().map(key_of).collect();
        let mut first = true;
        while !level.is_empty() {
            let applied: Vec<&Include> = query
                .includes
                .iter()
                .filter(|i| first || i.iterate)
                .collect();
            if applied.is_empty() {
                break;
            }
            first = false;
            let room = query.include_limit.saturating_sub(out.resources.len());
            // Rows already seen may come back (a patient's other Observations, the match
            // itself through a reverse include); reading that many more keeps every new one
            // within reach of the limit, and one more tells whether it was exceeded.
            let limit = room.saturating_add(seen.len()).saturating_add(1);
            let rows = self.include_level(&applied, &level, scope, now, limit)?;
            level = Vec::new();
            for row in rows {
                let (t, id) = row.key();
                let key = (t.to_string(), id.to_string());
                if seen.contains(&key) {
                    continue;
                }
                if level.len() == room {
                    out.capped = true;
                    return Ok(out);
                }
                seen.insert(key.clone());
                level.push(key);
                out.resources.push(row.into_stored());
            }
        }
        Ok(out)
    }

    /// One level: the live resources within `scope` that `includes` reach from `from`.
    fn include_level(
        &mut self,
        includes: &[&Include],
        from: &[Key],
        scope: &Scope,
        now: i64,
        limit: usize,
    ) -> Result<Vec<FoundRow>, StoreError> {
        let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
        level_sql(&mut sql, includes, from, scope, now, limit);
        self.load(sql)
    }
}

/// Writes the statement of one level into `sql`.
fn level_sql(
    sql: &mut Sql,
    includes: &[&Include],
    from: &[Key],
    scope: &Scope,
    now: i64,
    limit: usize,
) {
    let (forward, reverse): (Vec<&Include>, Vec<&Include>) = includes
        .iter()
        .partition(|i| i.direction == Direction::Include);
    let by_type = group_by_type(from);
    sql.push(
        "SELECT r.rkey, r.res_type, r.res_id, r.version, r.last_updated, r.content, r.patient_key \
             FROM resources r WHERE r.rkey IN (",
    );
    if !forward.is_empty() {
        // The referenced rows, by the index rows of the resources found.
        sql.push(
            "SELECT t.rkey FROM resources m JOIN search_reference x ON x.rkey = m.rkey \
                 JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id \
                 WHERE ",
        );
        one_of(sql, &by_type, "m.res_type", "m.res_id");
        sql.push(" AND ");
        any_of(sql, &forward, &mut |sql, i| reference_rows(sql, i));
    }
    if !reverse.is_empty() {
        if !forward.is_empty() {
            sql.push(" UNION ");
        }
        // The referencing rows, by the lookup index (type, parameter, target).
        sql.push("SELECT x.rkey FROM search_reference x WHERE ");
        any_of(sql, &reverse, &mut |sql, i| reference_rows(sql, i));
        sql.push(" AND ");
        one_of(sql, &by_type, "x.target_type", "x.target_id");
    }
    sql.push(") AND NOT r.deleted");
    if !scope.is_system() {
        sql.push(" AND ");
        super::access_sql::scope_condition(sql, scope, now);
    }
    sql.push(" ORDER BY r.rkey LIMIT ");
    sql.bind_int(i64::try_from(limit).unwrap_or(i64::MAX));
}

/// The ids of `keys` per resource type, types in first-seen order.
fn group_by_type(keys: &[Key]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (t, id) in keys {
        match out.iter().position(|(seen, _)| *seen == t.as_str()) {
            Some(at) => out[at].1.push(id),
            None => out.push((t, vec![id])),
        }
    }
    out
}

/// `(type_column, id_column)` is one of `by_type`'s resources. With several types the
/// columns are first bound to lists of their own, which an index can take; the pairs alone
/// would be an OR no index serves.
fn one_of(sql: &mut Sql, by_type: &[(&str, Vec<&str>)], type_column: &str, id_column: &str) {
    if by_type.len() > 1 {
        let types: Vec<&str> = by_type.iter().map(|(t, _)| *t).collect();
        let ids: Vec<&str> = by_type
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        in_list(sql, type_column, &types);
        sql.push(" AND ");
        in_list(sql, id_column, &ids);
        sql.push(" AND ");
    }
    any_of(sql, by_type, &mut |sql, (t, ids)| {
        sql.push("(");
        sql.push(type_column);
        sql.push(" = ");
        sql.bind_text(*t);
        sql.push(" AND ");
        in_list(sql, id_column, ids);
        sql.push(")");
    });
}

/// The `search_reference x` rows one include follows: of its source type, parameter and
/// target type, each when it names one.
fn reference_rows(sql: &mut Sql, include: &Include) {
    // Forward, the rows are reached from the resources found, by `rkey`. SQLite, without
    // statistics, would rather walk the lookup index by type and parameter, every
    // Observation's subject for one page's; a unary `+` takes those columns out of its choice.
    let unindexed = include.direction == Direction::Include && !sql.is_postgres();
    let column = |name: &'static str| if unindexed { name } else { &name[1..] };
    sql.push("(1 = 1");
    if let Some(source) = &include.source {
        sql.push(" AND ");
        sql.push(column("+x.res_type"));
        sql.push(" = ");
        sql.bind_text(source.as_str());
    }
    if let Some(param) = include.param {
        sql.push(" AND ");
        sql.push(column("+x.param"));
        sql.push(" = ");
        sql.bind_text(param);
    }
    if let Some(target) = &include.target {
        sql.push(" AND x.target_type = ");
        sql.bind_text(target.as_str());
    }
    sql.push(")");
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::search::include::parse;
    use crate::store::test_db::sqlite_plan;

    #[test]
    fn a_level_is_found_by_index_lookups_never_by_scanning_resources() {
        let include = parse(Direction::Include, false, "_include", "Observation:subject").unwrap();
        let reverse = parse(
            Direction::RevInclude,
            false,
            "_revinclude",
            "Condition:subject",
        )
        .unwrap();
        let key = |t: &str, id: &str| (t.to_string(), id.to_string());
        let one_type = vec![key("Observation", "o1"), key("Observation", "o2")];
        let mut two_types = one_type.clone();
        two_types.push(key("Patient", "p1"));
        for from in [one_type, two_types] {
            let (include, reverse) = (include.clone(), reverse.clone());
            let plan = sqlite_plan(move |sql| {
                level_sql(sql, &[&include, &reverse], &from, &Scope::System, 0, 10)
            });
            // Every table is reached by a key: the resources found (`m`) by type and id,
            // their index rows by `rkey`, the referencing rows by type, parameter and target.
            for scan in ["SCAN r", "SCAN m", "SCAN t", "SCAN x"] {
                assert!(!plan.contains(scan), "{scan}:\n{plan}");
            }
            for lookup in [
                "SEARCH m USING COVERING INDEX sqlite_autoindex_resources_1 (res_type=? AND res_id=?)",
                "SEARCH x USING INDEX search_reference_rkey (rkey=?)",
                "search_reference_lookup (res_type=? AND param=? AND target_id=?",
            ] {
                assert!(plan.contains(lookup), "{lookup}:\n{plan}");
            }
        }
    }
}
