//! `enableWhen`: whether a Questionnaire item is enabled by the answers given so far. The
//! question is looked up in the nearest enclosing part of the response that holds it (a
//! repeating group's own answers first), and, as the reference validator does, a condition
//! holds when any of the question's answers satisfies it.

use std::cmp::Ordering;

use serde_json::Value;

use super::answers::{choice, same_coding};
use super::items::{Checker, children, text};

/// Whether `items` (and their answers' items), at any depth, hold an item with `link_id`.
fn holds(items: &[Value], link_id: &str) -> bool {
    items.iter().any(|i| {
        text(i, "linkId") == Some(link_id)
            || holds(children(i), link_id)
            || answer_items(i).any(|a| holds(children(a), link_id))
    })
}

fn answer_items(item: &Value) -> impl Iterator<Item = &Value> {
    item.get("answer")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The answers of every item with `link_id` under `items`, at any depth.
fn collect<'r>(items: &'r [Value], link_id: &str, out: &mut Vec<&'r Value>) {
    for i in items {
        if text(i, "linkId") == Some(link_id) {
            out.extend(answer_items(i));
        }
        collect(children(i), link_id, out);
        for a in answer_items(i) {
            collect(children(a), link_id, out);
        }
    }
}

/// Orders two answer values of comparable types; `None` when they cannot be compared.
fn compare(ty: &str, a: &Value, expected_ty: &str, expected: &Value) -> Option<Ordering> {
    let numeric = |t: &str| matches!(t, "Integer" | "Decimal");
    if numeric(ty) && numeric(expected_ty) {
        return a.as_f64()?.partial_cmp(&expected.as_f64()?);
    }
    if ty != expected_ty {
        return None;
    }
    match ty {
        "Boolean" => Some(a.as_bool()?.cmp(&expected.as_bool()?)),
        // ISO 8601 text of one precision orders as its characters do.
        "Date" | "DateTime" | "Time" | "String" | "Uri" => {
            Some(a.as_str()?.cmp(expected.as_str()?))
        }
        "Coding" => same_coding(a, expected).then_some(Ordering::Equal),
        "Quantity" => {
            let unit = |v: &Value| {
                (
                    v.get("system").and_then(Value::as_str).map(str::to_string),
                    v.get("code")
                        .or_else(|| v.get("unit"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
            };
            if unit(a) != unit(expected) {
                return None;
            }
            a.get("value")?
                .as_f64()?
                .partial_cmp(&expected.get("value")?.as_f64()?)
        }
        "Reference" => {
            let r = |v: &Value| {
                v.get("reference")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            (r(a).is_some() && r(a) == r(expected)).then_some(Ordering::Equal)
        }
        _ => (a == expected).then_some(Ordering::Equal),
    }
}

/// Whether one answer value satisfies `operator` against the condition's `answer[x]`. A Coding
/// that is not the expected one is unequal, not incomparable.
fn satisfies(operator: &str, ty: &str, value: &Value, expected_ty: &str, expected: &Value) -> bool {
    let order = compare(ty, value, expected_ty, expected);
    match operator {
        "=" => order == Some(Ordering::Equal),
        "!=" => order != Some(Ordering::Equal),
        ">" => order == Some(Ordering::Greater),
        "<" => order == Some(Ordering::Less),
        ">=" => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        "<=" => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        _ => false,
    }
}

impl Checker<'_, '_> {
    /// Whether the Questionnaire item `def` is enabled: no `enableWhen`, or its conditions
    /// hold (all of them with `enableBehavior` all, else any).
    pub(super) fn enabled(&self, def: &Value) -> bool {
        let Some(conditions) = def.get("enableWhen").and_then(Value::as_array) else {
            return true;
        };
        if conditions.is_empty() {
            return true;
        }
        let mut results = conditions.iter().map(|c| self.condition(c));
        if text(def, "enableBehavior") == Some("all") {
            results.all(|r| r)
        } else {
            results.any(|r| r)
        }
    }

    fn condition(&self, condition: &Value) -> bool {
        let (Some(question), Some(operator), Some((expected_ty, expected))) = (
            text(condition, "question"),
            text(condition, "operator"),
            choice(condition, "answer"),
        ) else {
            return false;
        };
        let answers = self.answers_to(question);
        if operator == "exists" {
            return expected.as_bool() == Some(!answers.is_empty());
        }
        answers.iter().any(|a| {
            choice(a, "value")
                .is_some_and(|(ty, value)| satisfies(operator, ty, value, expected_ty, expected))
        })
    }

    /// The answers to `link_id` in the nearest enclosing scope that holds it.
    fn answers_to(&self, link_id: &str) -> Vec<&Value> {
        let mut found = Vec::new();
        if let Some(scope) = self
            .scopes
            .iter()
            .rev()
            .find(|s| holds(children(s), link_id))
        {
            collect(children(scope), link_id, &mut found);
        }
        found
    }
}
