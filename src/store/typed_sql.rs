//! The SQL of the number, quantity and uri search values, inside the index-table
//! subquery `search_sql` opens (the table's alias is `x`). All values are bound.

use super::search_sql::escape_like;
use super::sql::Sql;
use crate::search::number::{NumberSearch, QuantitySearch, QuantityUnit};
use crate::search::{Prefix, TokenSystem, UriMatch, Value};

/// `column` against a number search value: `eq` within the range of the value's precision,
/// the order prefixes against the value itself (stored values are exact), `ap` within 10 %.
pub(super) fn number_condition(sql: &mut Sql, column: &str, n: &NumberSearch) {
    let compare = |sql: &mut Sql, op: &str, v: f64| {
        sql.push(column);
        sql.push(op);
        sql.bind_float(v);
    };
    let within = |sql: &mut Sql, low: f64, high: f64| {
        sql.push("(");
        compare(sql, " >= ", low);
        sql.push(" AND ");
        compare(sql, " < ", high);
        sql.push(")");
    };
    match n.prefix {
        Prefix::Eq => within(sql, n.low, n.high),
        Prefix::Ne => {
            sql.push("NOT ");
            within(sql, n.low, n.high);
        }
        Prefix::Gt | Prefix::Sa => compare(sql, " > ", n.value),
        Prefix::Lt | Prefix::Eb => compare(sql, " < ", n.value),
        Prefix::Ge => compare(sql, " >= ", n.value),
        Prefix::Le => compare(sql, " <= ", n.value),
        Prefix::Ap => {
            // The spec leaves "approximately" to the server; 10 % of the value, as it suggests,
            // and never narrower than the value's own precision.
            let margin = (n.value.abs() * 0.1).max(n.high - n.value);
            sql.push("(");
            compare(sql, " >= ", n.value - margin);
            sql.push(" AND ");
            compare(sql, " <= ", n.value + margin);
            sql.push(")");
        }
    }
}

/// A quantity: in base units when its unit is UCUM's and understood, else in the unit as
/// written (system and code, or code alone), or the number alone when no unit is given.
pub(super) fn quantity_condition(sql: &mut Sql, q: &QuantitySearch) {
    match &q.unit {
        QuantityUnit::Any => number_condition(sql, "x.value", &q.number),
        QuantityUnit::Code { system, code } => {
            sql.push("x.code = ");
            sql.bind_text(code.as_str());
            if let Some(system) = system {
                sql.push(" AND x.system = ");
                sql.bind_text(system.as_str());
            }
            sql.push(" AND ");
            number_condition(sql, "x.value", &q.number);
        }
        QuantityUnit::Canonical { unit } => {
            sql.push("x.canon_unit = ");
            sql.bind_text(unit.as_str());
            sql.push(" AND ");
            number_condition(sql, "x.canon_value", &q.number);
        }
    }
}

/// A uri: equal, below (the stored uri starts with the value), or above (the value starts
/// with the stored uri).
pub(super) fn uri_condition(sql: &mut Sql, uri: &str, mode: UriMatch) {
    match mode {
        UriMatch::Exact => {
            sql.push("x.uri = ");
            sql.bind_text(uri);
        }
        UriMatch::Below => {
            // LIKE lets the index narrow the rows; SQLite's LIKE ignores ASCII case, which a
            // uri does not, so the prefix is compared exactly too.
            sql.push("x.uri LIKE ");
            sql.bind_text(format!("{}%", escape_like(uri)));
            sql.push(" ESCAPE '\\' AND substr(x.uri, 1, CAST(");
            sql.bind_int(i64::try_from(uri.chars().count()).unwrap_or(i64::MAX));
            sql.push(" AS INTEGER)) = ");
            sql.bind_text(uri);
        }
        UriMatch::Above => {
            sql.push("substr(");
            sql.bind_text(uri);
            sql.push(", 1, length(x.uri)) = x.uri");
        }
    }
}

/// `code_col` (and `system_col`) against a token value; a token without a code matches any
/// code of the system.
pub(super) fn token_condition(sql: &mut Sql, system_col: &str, code_col: &str, token: &Value) {
    let Value::Token { system, code } = token else {
        sql.push("1 = 0");
        return;
    };
    sql.push("(");
    match code {
        Some(code) => {
            sql.push(code_col);
            sql.push(" = ");
            sql.bind_text(code.as_str());
        }
        None => {
            sql.push(code_col);
            sql.push(" IS NOT NULL");
        }
    }
    match system {
        TokenSystem::Any => {}
        TokenSystem::NoSystem => {
            sql.push(" AND ");
            sql.push(system_col);
            sql.push(" IS NULL");
        }
        TokenSystem::Is(s) => {
            sql.push(" AND ");
            sql.push(system_col);
            sql.push(" = ");
            sql.bind_text(s.as_str());
        }
    }
    sql.push(")");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::access::Scope;
    use crate::search::query::{QueryOptions, parse};
    use crate::store::test_db::sqlite_plan;

    /// SQLite's plan of the page query of `Observation?params`.
    fn plan(
        resource_type: &'static str,
        params: &'static [(&'static str, &'static str)],
    ) -> String {
        sqlite_plan(move |sql| {
            let params: Vec<(String, String)> = params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let query = parse(resource_type, &params, &QueryOptions::for_tests(true)).unwrap();
            sql.push("SELECT r.res_id FROM resources r WHERE ");
            crate::store::search_sql::where_clause(sql, &query, &Scope::System, 0);
            sql.push(" ORDER BY r.rkey LIMIT 20");
        })
    }

    /// A search's type and parameters, and the index its plan must use.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    #[test]
    fn each_new_kind_of_clause_is_looked_up_in_its_index() {
        let cases: &[Case] = &[
            (
                "Observation",
                &[("value-quantity", "5.4|http://unitsofmeasure.org|mg")],
                "search_quantity_canon",
            ),
            (
                "Observation",
                &[("value-quantity", "5.4|http://example.org|pill")],
                "search_quantity_lookup",
            ),
            (
                "Observation",
                &[(
                    "component-code-value-quantity",
                    "http://loinc.org|8480-6$gt100",
                )],
                "search_quantity_pair_lookup",
            ),
            (
                "Observation",
                &[(
                    "code-value-quantity",
                    "http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg]",
                )],
                // The Observation's own code and value: the rows of `code` and `value-quantity`.
                "search_quantity_lookup",
            ),
            (
                "Observation",
                &[("combo-code-value-quantity", "http://loinc.org|8480-6$gt100")],
                "search_quantity_pair_lookup",
            ),
            (
                "Observation",
                &[("combo-code", "http://loinc.org|8480-6")],
                "search_token_lookup",
            ),
            (
                "Observation",
                &[("code-value-concept", "882-1$278149003")],
                "search_token_lookup",
            ),
            (
                "Observation",
                &[("component-code-value-concept", "882-1$278149003")],
                "search_token_pair_lookup",
            ),
            (
                "RiskAssessment",
                &[("probability", "gt0.5")],
                "search_number_lookup",
            ),
            (
                "Patient",
                &[("_profile", "http://example.org/p")],
                "search_uri_lookup",
            ),
            (
                "Patient",
                &[("_profile:below", "http://example.org/")],
                "search_uri_lookup",
            ),
            (
                "Patient",
                &[("_tag", "http://example.org/tags|urgent")],
                "search_token_lookup",
            ),
        ];
        for (resource_type, params, index) in cases {
            let p = plan(resource_type, params);
            assert!(p.contains(index), "{resource_type}?{params:?}: {p}");
            // The index rows lead and the resources are fetched by key, as for the older kinds.
            assert!(
                p.contains("INTEGER PRIMARY KEY"),
                "{resource_type}?{params:?}: {p}"
            );
            assert!(
                !p.contains("resources_type_updated"),
                "{resource_type}?{params:?}: {p}"
            );
        }
    }
}
