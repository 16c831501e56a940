//! Chained parameters and `_has` as SQL: each link is a lookup in `search_reference` nested in
//! the statement of the search, and each linked type's conditions are those of a search of it,
//! the caller's scope included, so a chain never learns anything from a resource the caller
//! may not read (`Observation?subject.name=…` would otherwise tell another institution's
//! patients' names).

use super::search_sql::{any_of, where_clause};
use super::sql::Sql;
use crate::access::Scope;
use crate::search::{Chain, Link};

/// Appends the condition that `r`, of `resource_type`, is linked by `chain` to a resource that
/// matches one of its targets and lies within `scope`.
pub(super) fn chain_condition(
    sql: &mut Sql,
    resource_type: &str,
    chain: &Chain,
    scope: &Scope,
    now: i64,
) {
    match chain.link {
        Link::Forward => {
            // The references of the searched type by the lookup index (type, parameter,
            // target id), the ids found by the targets' own conditions.
            sql.push("r.rkey IN (SELECT x.rkey FROM search_reference x WHERE x.res_type = ");
            sql.bind_text(resource_type);
            sql.push(" AND x.param = ");
            sql.bind_text(chain.param);
            sql.push(" AND ");
            any_of(sql, &chain.targets, &mut |sql, target| {
                sql.push("(x.target_type = ");
                sql.bind_text(target.resource_type.as_str());
                sql.push(" AND x.target_id IN (SELECT r.res_id FROM resources r WHERE ");
                where_clause(sql, target, scope, now);
                sql.push("))");
            });
            sql.push(")");
        }
        Link::Reverse => {
            // The referencing rows are reached from the targets found, by `rkey`; SQLite,
            // without statistics, would rather walk every reference of the type and
            // parameter, so a unary `+` takes those columns out of its choice.
            let (type_column, param_column) = if sql.is_postgres() {
                ("x.res_type", "x.param")
            } else {
                ("+x.res_type", "+x.param")
            };
            sql.push("r.rkey IN (SELECT t.rkey FROM resources t WHERE t.res_type = ");
            sql.bind_text(resource_type);
            sql.push(" AND t.res_id IN (SELECT x.target_id FROM search_reference x WHERE ");
            sql.push("x.target_type = ");
            sql.bind_text(resource_type);
            sql.push(" AND ");
            any_of(sql, &chain.targets, &mut |sql, target| {
                sql.push("(");
                sql.push(type_column);
                sql.push(" = ");
                sql.bind_text(target.resource_type.as_str());
                sql.push(" AND ");
                sql.push(param_column);
                sql.push(" = ");
                sql.bind_text(chain.param);
                sql.push(" AND x.rkey IN (SELECT r.rkey FROM resources r WHERE ");
                where_clause(sql, target, scope, now);
                sql.push("))");
            });
            sql.push("))");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::search::query::{QueryOptions, parse};
    use crate::store::test_db::sqlite_plan;

    /// SQLite's plan for the page query of `resource_type?name=value`.
    fn plan(resource_type: &'static str, name: &str, value: &str) -> String {
        let opts = QueryOptions::for_tests(true);
        let query = parse(
            resource_type,
            &[(name.to_string(), value.to_string())],
            &opts,
        )
        .unwrap();
        sqlite_plan(move |sql| {
            sql.push("SELECT r.res_id FROM resources r WHERE ");
            where_clause(sql, &query, &Scope::System, 0);
            sql.push(" ORDER BY r.rkey LIMIT 20");
        })
    }

    #[test]
    fn a_chain_reaches_every_table_by_a_key() {
        for (resource_type, name, value) in [
            ("Observation", "subject:Patient.name", "yamada"),
            ("Observation", "subject.identifier", "urn:x|1"),
            ("Observation", "subject:Patient.organization.name", "kyoyu"),
            ("Patient", "_has:Observation:subject:code", "GLU"),
            (
                "Patient",
                "_has:Observation:subject:_has:Observation:has-member:code",
                "GLU",
            ),
        ] {
            let plan = plan(resource_type, name, value);
            // Forward, the references by (type, parameter, target id); reverse, by `rkey`
            // from the referencing resources found.
            let link = if name.starts_with("_has") {
                "search_reference_rkey (rkey=?)"
            } else {
                "search_reference_lookup (res_type=? AND param=? AND target_id=?"
            };
            assert!(plan.contains(link), "{name}: {link}\n{plan}");
            for line in plan.lines() {
                assert!(
                    !line.trim_start().starts_with("SCAN "),
                    "{name}: {line}\n{plan}"
                );
            }
        }
    }
}
