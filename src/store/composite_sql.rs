//! The SQL of a composite clause (`code-value-quantity=http://loinc.org|2345-7$gt100`). A
//! composite is looked up in its sources: the pair rows of a repeating element (a component's
//! code with its value, `search_quantity_pair` or `search_token_pair`), or, for a composite of the
//! resource itself, its two parts' own rows on the same resource (`search::composite`'s
//! `Parts::own`), which hold exactly what its pair rows would. A `combo-*` composite is the
//! union of both (`search::unions`).

use super::search_sql::{any_of, index_subquery_head, table_of};
use super::sql::Sql;
use super::typed_sql::{quantity_condition, token_condition};
use crate::search::composite::{Parts, Second, parts_of};
use crate::search::{Clause, SearchQuery, Value};

/// Where a composite's matches are found.
enum Source {
    /// The pair rows of these parameters in `table`.
    Pairs {
        table: &'static str,
        params: Vec<&'static str>,
    },
    /// The rows of the code's and the value's own parameters on one resource.
    Own {
        code: &'static str,
        value: &'static str,
        second: Second,
    },
}

/// The sources of `clause`'s parameter: its own, or each of its union's parts'. The pair
/// parts of a union share one table (their values are of one kind), read in one subquery.
fn sources(query: &SearchQuery, clause: &Clause) -> Vec<Source> {
    let mut out = Vec::new();
    let mut pairs: Vec<&Parts> = Vec::new();
    for parts in crate::search::unions::rows_of(&query.resource_type, &clause.param)
        .iter()
        .filter_map(|p| parts_of(&query.resource_type, p))
    {
        match parts.own {
            Some((code, value)) => out.push(Source::Own {
                code,
                value,
                second: parts.second,
            }),
            None => pairs.push(parts),
        }
    }
    if let Some(first) = pairs.first() {
        out.push(Source::Pairs {
            table: match first.second {
                Second::Quantity => "search_quantity_pair",
                Second::Concept => "search_token_pair",
            },
            params: pairs.iter().map(|p| p.name).collect(),
        });
    }
    out
}

/// The values of a composite clause, ORed: whether any source matches any value. (A composite
/// takes no modifier, `:missing` included: the query parser refuses them.)
pub(super) fn clause_condition(sql: &mut Sql, query: &SearchQuery, clause: &Clause) {
    let sources = sources(query, clause);
    let values: Vec<&Value> = clause.values.iter().collect();
    any_of(sql, &sources, &mut |sql, s| matches(sql, query, s, &values));
}

/// Whether one of the source's elements has the code and the value of one of `values`.
fn matches(sql: &mut Sql, query: &SearchQuery, source: &Source, values: &[&Value]) {
    match source {
        Source::Pairs { table, params } => {
            sql.push("r.rkey IN (");
            index_subquery_head(sql, table, query, params);
            sql.push(" AND ");
            any_of(sql, values, &mut |sql, v| match v {
                Value::Composite { token, value } => pair_condition(sql, token, value),
                _ => sql.push("1 = 0"),
            });
            sql.push(")");
        }
        Source::Own {
            code,
            value: value_param,
            second,
        } => any_of(sql, values, &mut |sql, v| {
            let Value::Composite { token, value } = v else {
                sql.push("1 = 0");
                return;
            };
            sql.push("(r.rkey IN (");
            index_subquery_head(sql, "search_token", query, &[code]);
            sql.push(" AND ");
            token_condition(sql, "x.system", "x.code", token);
            sql.push(") AND r.rkey IN (");
            index_subquery_head(sql, table_of(second.kind()), query, &[value_param]);
            sql.push(" AND ");
            match value.as_ref() {
                Value::Quantity(q) => quantity_condition(sql, q),
                Value::Token { .. } => token_condition(sql, "x.system", "x.code", value),
                _ => sql.push("1 = 0"),
            }
            sql.push("))");
        }),
    }
}

/// Both parts of a composite, on one pair row: the element's code and its value.
fn pair_condition(sql: &mut Sql, token: &Value, value: &Value) {
    match value {
        Value::Quantity(q) => {
            token_condition(sql, "x.comp_system", "x.comp_code", token);
            sql.push(" AND ");
            quantity_condition(sql, q);
        }
        Value::Token { .. } => {
            token_condition(sql, "x.system", "x.code", token);
            sql.push(" AND ");
            token_condition(sql, "x.value_system", "x.value_code", value);
        }
        _ => sql.push("1 = 0"),
    }
}
