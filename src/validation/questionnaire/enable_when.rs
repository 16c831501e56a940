//! `enableWhen`: whether a Questionnaire item is enabled by the answers given so far. The
//! question is looked up in the nearest enclosing part of the response that holds it (a
//! repeating group's own answers first), and, as the reference validator does, a condition
//! holds when any of the question's answers satisfies it.
//!
//! Dates and times compare as FHIRPath compares them (R4 does not say how answers of different
//! precision compare; FHIRPath, FHIR's comparison everywhere else, leaves it empty): an answer
//! `2020-01` against `2020-01-15` is neither equal nor unequal, so the item's state is not
//! definite. The response is then held to
//! neither reading: an answer to the item is not refused as given while disabled, and a
//! required item left empty is not demanded; an information issue says why.

use std::cmp::Ordering;

use serde_json::Value;

use super::super::fhirpath::Temporal;
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

/// How an answer stands against the value a condition names.
enum Cmp {
    Order(Ordering),
    /// Different types, or values that have no order (two Codings only equal or differ).
    Incomparable,
    /// Dates or times of different precision that agree as far as the coarser goes
    /// (`2020-01` against `2020-01-15`): FHIRPath leaves such a comparison empty, neither true
    /// nor false.
    Indefinite,
}

fn temporal(ty: &str, v: &Value) -> Option<Temporal> {
    let s = v.as_str()?;
    match ty {
        "Time" => Temporal::parse_time(s),
        _ => Temporal::parse_datetime(s),
    }
}

/// Orders two answer values; see [`Cmp`].
fn compare(ty: &str, a: &Value, expected_ty: &str, expected: &Value) -> Cmp {
    let numeric = |t: &str| matches!(t, "Integer" | "Decimal");
    let dated = |t: &str| matches!(t, "Date" | "DateTime");
    let order = |o: Option<Ordering>| o.map_or(Cmp::Incomparable, Cmp::Order);
    if numeric(ty) && numeric(expected_ty) {
        return order(
            a.as_f64()
                .zip(expected.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        );
    }
    // A date compares with a date-time as FHIRPath converts it, at its own precision.
    if (dated(ty) && dated(expected_ty)) || (ty == "Time" && expected_ty == "Time") {
        return match (temporal(ty, a), temporal(expected_ty, expected)) {
            (Some(x), Some(y)) => x.compare(&y).map_or(Cmp::Indefinite, Cmp::Order),
            _ => Cmp::Incomparable,
        };
    }
    if ty != expected_ty {
        return Cmp::Incomparable;
    }
    let equal = |same: bool| {
        if same {
            Cmp::Order(Ordering::Equal)
        } else {
            Cmp::Incomparable
        }
    };
    match ty {
        "Boolean" => order(a.as_bool().zip(expected.as_bool()).map(|(x, y)| x.cmp(&y))),
        "String" | "Uri" => order(a.as_str().zip(expected.as_str()).map(|(x, y)| x.cmp(y))),
        "Coding" => equal(same_coding(a, expected)),
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
                return Cmp::Incomparable;
            }
            let value = |v: &Value| v.get("value").and_then(Value::as_f64);
            order(
                value(a)
                    .zip(value(expected))
                    .and_then(|(x, y)| x.partial_cmp(&y)),
            )
        }
        "Reference" => {
            let r = |v: &Value| {
                v.get("reference")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            equal(r(a).is_some() && r(a) == r(expected))
        }
        _ => equal(a == expected),
    }
}

/// Whether one answer value satisfies `operator` against the condition's `answer[x]`; `None`
/// when that is not definite. A Coding that is not the expected one is unequal, not
/// incomparable.
fn satisfies(
    operator: &str,
    ty: &str,
    value: &Value,
    expected_ty: &str,
    expected: &Value,
) -> Option<bool> {
    let order = match compare(ty, value, expected_ty, expected) {
        Cmp::Order(o) => Some(o),
        Cmp::Incomparable => None,
        Cmp::Indefinite => return None,
    };
    Some(match operator {
        "=" => order == Some(Ordering::Equal),
        "!=" => order != Some(Ordering::Equal),
        ">" => order == Some(Ordering::Greater),
        "<" => order == Some(Ordering::Less),
        ">=" => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        "<=" => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        _ => false,
    })
}

/// `true` when any result is, `false` when all are, else not definite.
fn any(results: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut out = Some(false);
    for r in results {
        match r {
            Some(true) => return Some(true),
            None => out = None,
            Some(false) => {}
        }
    }
    out
}

impl Checker<'_, '_> {
    /// Whether the Questionnaire item `def` is enabled: no `enableWhen`, or its conditions
    /// hold (all of them with `enableBehavior` all, else any). `None` when that is not
    /// definite: a condition compares dates or times of different precision, which FHIRPath
    /// neither affirms nor denies, and the other conditions do not decide alone.
    pub(super) fn enabled(&self, def: &Value) -> Option<bool> {
        let Some(conditions) = def.get("enableWhen").and_then(Value::as_array) else {
            return Some(true);
        };
        if conditions.is_empty() {
            return Some(true);
        }
        let results = conditions.iter().map(|c| self.condition(c));
        if text(def, "enableBehavior") == Some("all") {
            // All of them: any definite false decides, as `and` does.
            any(results.map(|r| r.map(|b| !b))).map(|b| !b)
        } else {
            any(results)
        }
    }

    fn condition(&self, condition: &Value) -> Option<bool> {
        let (Some(question), Some(operator), Some((expected_ty, expected))) = (
            text(condition, "question"),
            text(condition, "operator"),
            choice(condition, "answer"),
        ) else {
            return Some(false);
        };
        let answers = self.answers_to(question);
        if operator == "exists" {
            return Some(expected.as_bool() == Some(!answers.is_empty()));
        }
        any(answers.iter().map(|a| {
            choice(a, "value").map_or(Some(false), |(ty, value)| {
                satisfies(operator, ty, value, expected_ty, expected)
            })
        }))
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
