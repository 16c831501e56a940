//! Leaf value rules of an element definition: `fixed[x]` (exact), `pattern[x]` (the instance
//! holds at least what the pattern says), `maxLength`, `minValue[x]`/`maxValue[x]`; and the JSON
//! comparisons the slicing discriminators share with them.

use std::cmp::Ordering;

use serde_json::Value;

use super::plan::Plan;
use crate::fhir::{Issue, IssueType};
use crate::messages::ValueMessage;
use crate::terminology::canonical_system;

pub(crate) fn leaf_checks(plan: &Plan, n: usize, value: &Value, path: &str, out: &mut Vec<Issue>) {
    let def = &plan.nodes[n].def;
    if let Some(fixed) = &def.fixed
        && !fixed_matches(&fixed.value, value)
    {
        let text = ValueMessage::Fixed {
            value: fixed.value.to_string(),
            ty: upper(&fixed.type_code),
        };
        out.push(plan.error(n, IssueType::Value, text, path));
    }
    if let Some(pattern) = &def.pattern
        && !pattern_matches(&pattern.value, value)
    {
        let text = ValueMessage::Pattern {
            value: pattern.value.to_string(),
            ty: upper(&pattern.type_code),
        };
        out.push(plan.error(n, IssueType::Value, text, path));
    }
    if let (Some(max), Value::String(s)) = (def.max_length, value) {
        let len = s.chars().count() as u64;
        if len > max {
            let text = ValueMessage::TooLong { length: len, max };
            out.push(plan.error(n, IssueType::TooLong, text, path));
        }
    }
    if let Some(min) = &def.min_value
        && compare(value, &min.value) == Some(Ordering::Less)
    {
        let text = ValueMessage::BelowMinimum {
            min: min.value.to_string(),
        };
        out.push(plan.error(n, IssueType::Value, text, path));
    }
    if let Some(max) = &def.max_value
        && compare(value, &max.value) == Some(Ordering::Greater)
    {
        let text = ValueMessage::AboveMaximum {
            max: max.value.to_string(),
        };
        out.push(plan.error(n, IssueType::Value, text, path));
    }
}

fn upper(s: &str) -> String {
    crate::model::upper_first(s)
}

/// Numbers by value; strings (dates, times) when they have the same precision; quantities by
/// `value` when their units agree.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) if x.len() == y.len() => Some(x.cmp(y)),
        (Value::Object(x), Value::Object(y)) => {
            let unit = |o: &serde_json::Map<String, Value>| {
                o.get("code").or_else(|| o.get("unit")).cloned()
            };
            if unit(x) != unit(y) {
                return None;
            }
            compare(x.get("value")?, y.get("value")?)
        }
        _ => None,
    }
}

/// Exact equality (numbers by value so `1.0` and `1` of a decimal agree).
pub(crate) fn fixed_matches(fixed: &Value, v: &Value) -> bool {
    match (fixed, v) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Object(a), Value::Object(b)) => {
            let keys = |o: &serde_json::Map<String, Value>| {
                o.keys().filter(|k| *k != "fhir_comments").count()
            };
            keys(a) == keys(b)
                && a.iter()
                    .all(|(k, av)| b.get(k).is_some_and(|bv| fixed_matches(av, bv)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| fixed_matches(x, y))
        }
        (Value::String(a), Value::String(b)) => same_string(a, b),
        _ => fixed == v,
    }
}

/// String equality in which an old OID of a Japanese code system equals its URL (DESIGN §7):
/// JP profiles fix `Coding.system` to the URL while data still carries the OID.
pub(crate) fn same_string(a: &str, b: &str) -> bool {
    a == b || canonical_system(a) == canonical_system(b)
}

/// Whether `v` holds everything `pattern` says: object members recursively, and for arrays
/// each pattern item matched by some instance item.
pub(crate) fn pattern_matches(pattern: &Value, v: &Value) -> bool {
    match (pattern, v) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Object(p), Value::Object(o)) => p
            .iter()
            .all(|(k, pv)| o.get(k).is_some_and(|ov| pattern_matches(pv, ov))),
        (Value::Array(p), Value::Array(o)) => p
            .iter()
            .all(|pv| o.iter().any(|ov| pattern_matches(pv, ov))),
        // A pattern on a repeating element is written as one value.
        (pv, Value::Array(o)) => o.iter().any(|ov| pattern_matches(pv, ov)),
        (Value::String(a), Value::String(b)) => same_string(a, b),
        _ => pattern == v,
    }
}
