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
    pub fn includes(
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
        let (forward, reverse): (Vec<&Include>, Vec<&Include>) = includes
            .iter()
            .partition(|i| i.direction == Direction::Include);
        let by_type = group_by_type(from);
        let mut sql = Sql::new(matches!(self, Conn::Pg(_)));
        sql.push(
            "SELECT r.rkey, r.res_type, r.res_id, r.version, r.last_updated, r.content, \
             r.patient_key FROM resources r WHERE r.rkey IN (",
        );
        if !forward.is_empty() {
            // The referenced rows, by the index rows of the resources found.
            sql.push(
                "SELECT t.rkey FROM resources m JOIN search_reference x ON x.rkey = m.rkey \
                 JOIN resources t ON t.res_type = x.target_type AND t.res_id = x.target_id \
                 WHERE ",
            );
            one_of(&mut sql, &by_type, "m.res_type", "m.res_id");
            sql.push(" AND ");
            any_of(&mut sql, &forward, &mut |sql, i| reference_rows(sql, i));
        }
        if !reverse.is_empty() {
            if !forward.is_empty() {
                sql.push(" UNION ");
            }
            // The referencing rows, by the lookup index (type, parameter, target).
            sql.push("SELECT x.rkey FROM search_reference x WHERE ");
            any_of(&mut sql, &reverse, &mut |sql, i| reference_rows(sql, i));
            sql.push(" AND ");
            one_of(&mut sql, &by_type, "x.target_type", "x.target_id");
        }
        sql.push(") AND NOT r.deleted");
        if !scope.is_system() {
            sql.push(" AND ");
            super::access_sql::scope_condition(&mut sql, scope, now);
        }
        sql.push(" ORDER BY r.rkey LIMIT ");
        sql.bind_int(i64::try_from(limit).unwrap_or(i64::MAX));
        self.load(sql)
    }
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

/// `(type_column, id_column)` is one of `by_type`'s resources.
fn one_of(sql: &mut Sql, by_type: &[(&str, Vec<&str>)], type_column: &str, id_column: &str) {
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
    sql.push("(1 = 1");
    if let Some(source) = &include.source {
        sql.push(" AND x.res_type = ");
        sql.bind_text(source.as_str());
    }
    if let Some(param) = include.param {
        sql.push(" AND x.param = ");
        sql.bind_text(param);
    }
    if let Some(target) = &include.target {
        sql.push(" AND x.target_type = ");
        sql.bind_text(target.as_str());
    }
    sql.push(")");
}
