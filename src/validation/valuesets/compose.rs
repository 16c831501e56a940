//! Evaluating a ValueSet resource: R4 `compose` (include/exclude, concept lists, whole systems,
//! filters, imported value sets), with the shipped `expansion.contains` as the fallback when
//! the compose cannot be fully evaluated here.

use std::collections::HashSet;

use serde_json::Value;

use super::expansion::{Expansion, SystemPart};
use super::{Caches, ValueSetEngine, canonical_system};
use crate::terminology::codesystem::fold;

impl ValueSetEngine {
    pub(super) fn expand_resource(
        &self,
        c: &Caches,
        vs: &Value,
        stack: &mut Vec<String>,
    ) -> Expansion {
        let shipped = vs
            .get("expansion")
            .and_then(|e| e.get("contains"))
            .and_then(Value::as_array)
            .map(|contains| self.shipped_expansion(c, contains));
        let Some(compose) = vs.get("compose") else {
            return shipped.unwrap_or_else(|| {
                Expansion::unknown(format!(
                    "value set {} has neither compose nor expansion",
                    text(vs, "url")
                ))
            });
        };
        let composed = self.evaluate_compose(c, compose, stack);
        match shipped {
            Some(e) if !composed.is_complete() => e,
            _ => composed,
        }
    }

    fn evaluate_compose(&self, c: &Caches, compose: &Value, stack: &mut Vec<String>) -> Expansion {
        let list = |k: &str| {
            compose
                .get(k)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let mut result = Expansion::default();
        for include in list("include") {
            result.union(self.evaluate_include(c, include, stack));
        }
        for exclude in list("exclude") {
            let removed = self.evaluate_include(c, exclude, stack);
            result.subtract(&removed);
        }
        result
    }

    /// One include (or exclude): the system part and every imported value set, intersected.
    fn evaluate_include(&self, c: &Caches, include: &Value, stack: &mut Vec<String>) -> Expansion {
        let mut parts = Vec::new();
        if let Some(system) = include.get("system").and_then(Value::as_str) {
            parts.push(self.evaluate_system(c, canonical_system(system), include));
        }
        for vs in include
            .get("valueSet")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            parts.push(match self.expansion_within(c, vs, stack) {
                Ok(e) => (*e).clone(),
                Err(why) => Expansion::unknown(why),
            });
        }
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        parts.fold(first, Expansion::intersect)
    }

    /// `include.version` picks that edition of the code system when it is loaded; otherwise
    /// the newest loaded one answers, as packages often pin an edition they do not ship and
    /// every code would else be unknown.
    pub(super) fn evaluate_system(&self, c: &Caches, system: &str, include: &Value) -> Expansion {
        let version = include.get("version").and_then(Value::as_str);
        let cs = self
            .code_system_in(c, system, version)
            .or_else(|| version.and_then(|_| self.code_system_in(c, system, None)));
        let fold_codes = cs.as_ref().is_some_and(|c| !c.case_sensitive);
        let part = |codes: HashSet<String>, unknown: Option<String>| {
            Expansion::single(
                system.to_string(),
                SystemPart {
                    codes,
                    fold: fold_codes,
                    unknown,
                },
            )
        };
        if let Some(concepts) = include.get("concept").and_then(Value::as_array) {
            // Listed codes are members whatever the code system says about them.
            let codes = concepts
                .iter()
                .filter_map(|c| c.get("code").and_then(Value::as_str))
                .map(|c| fold(c, fold_codes).into_owned())
                .collect();
            return part(codes, None);
        }
        let Some(cs) = cs else {
            return part(
                HashSet::new(),
                Some(format!("code system {system} not loaded")),
            );
        };
        let filters = include
            .get("filter")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if filters.is_empty() {
            return match cs.not_enumerable() {
                Some(why) => part(HashSet::new(), Some(why)),
                None => part(cs.all_keys().map(|k| k.into_owned()).collect(), None),
            };
        }
        // A filter over part of a system would silently miss the rest of it.
        if let Some(why) = cs.not_enumerable() {
            return part(HashSet::new(), Some(why));
        }
        let mut selected: Option<HashSet<String>> = None;
        for f in filters {
            let result = cs.filter(text(f, "property"), text(f, "op"), text(f, "value"));
            match result {
                Ok(keys) => {
                    let keys: HashSet<String> = keys.into_iter().collect();
                    selected = Some(match selected {
                        Some(s) => s.intersection(&keys).cloned().collect(),
                        None => keys,
                    });
                }
                Err(why) => return part(HashSet::new(), Some(why)),
            }
        }
        part(selected.unwrap_or_default(), None)
    }

    /// A shipped expansion: `contains` nests, and abstract entries without a code are headers.
    fn shipped_expansion(&self, caches: &Caches, contains: &[Value]) -> Expansion {
        let mut result = Expansion::default();
        let mut stack: Vec<&Value> = contains.iter().collect();
        while let Some(c) = stack.pop() {
            if let (Some(system), Some(code)) = (
                c.get("system").and_then(Value::as_str),
                c.get("code").and_then(Value::as_str),
            ) {
                let system = canonical_system(system);
                let fold_codes = self
                    .code_system_in(caches, system, None)
                    .is_some_and(|cs| !cs.case_sensitive);
                result.union(Expansion::single(
                    system.to_string(),
                    SystemPart {
                        codes: HashSet::from([fold(code, fold_codes).into_owned()]),
                        fold: fold_codes,
                        unknown: None,
                    },
                ));
            }
            if let Some(nested) = c.get("contains").and_then(Value::as_array) {
                stack.extend(nested);
            }
        }
        result
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}
