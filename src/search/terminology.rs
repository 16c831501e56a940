//! Token modifiers the terminology answers: `:below` and `:above` (the code and the codes it
//! subsumes, or that subsume it, in a loaded code system) and `:in`/`:not-in` (the members of a
//! value set). The parser turns them into plain codes before the store runs the search, so
//! the SQL is that of a list of tokens. When the terminology cannot answer (system or value
//! set not loaded, an expansion that is not complete) the search is refused: answering with
//! what is known would return fewer, or for `:not-in` more, resources than asked.
//! Spec: <https://hl7.org/fhir/R4/search.html#modifiers>

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use crate::validation::valuesets::ValueSetEngine;

/// What the search asks of the terminology.
pub trait Concepts: Send + Sync {
    /// `code` and every code below it in `system` (its descendants).
    fn below(&self, system: &str, code: &str) -> Result<Vec<String>, String>;
    /// `code` and every code above it in `system` (its ancestors).
    fn above(&self, system: &str, code: &str) -> Result<Vec<String>, String>;
    /// Every `(system, code)` of the value set `url`, which must be enumerable whole.
    fn members(&self, url: &str) -> Result<Vec<(String, String)>, String>;
}

/// The terminology a search reads, shared.
#[derive(Clone)]
pub struct ConceptSource(pub Arc<dyn Concepts>);

impl std::fmt::Debug for ConceptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConceptSource")
    }
}

/// Most codes a hierarchy walk collects before it gives up: beyond it the search would exceed
/// `search_max_values` anyway.
const MAX_WALK: usize = 100_000;

/// `code` and the codes reached from it by `next`, breadth first, each once.
fn closure<'a>(code: &'a str, next: impl Fn(&'a str) -> Vec<&'a str>) -> Vec<String> {
    let mut seen: HashSet<&str> = HashSet::from([code]);
    let mut queue = VecDeque::from([code]);
    let mut out = Vec::new();
    while let Some(c) = queue.pop_front() {
        out.push(c.to_string());
        if out.len() >= MAX_WALK {
            break;
        }
        for n in next(c) {
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
    }
    out
}

impl Concepts for ValueSetEngine {
    fn below(&self, system: &str, code: &str) -> Result<Vec<String>, String> {
        let cs = self
            .code_system(system)
            .ok_or_else(|| format!("code system {system} is not loaded"))?;
        let concept = cs
            .find(code)
            .ok_or_else(|| format!("code {code} is not in {system}"))?;
        Ok(closure(concept.code.as_str(), |c| cs.children_of(c)))
    }

    fn above(&self, system: &str, code: &str) -> Result<Vec<String>, String> {
        let cs = self
            .code_system(system)
            .ok_or_else(|| format!("code system {system} is not loaded"))?;
        let concept = cs
            .find(code)
            .ok_or_else(|| format!("code {code} is not in {system}"))?;
        Ok(closure(concept.code.as_str(), |c| cs.parents_of(c)))
    }

    fn members(&self, url: &str) -> Result<Vec<(String, String)>, String> {
        let list = ValueSetEngine::members(self, url)?;
        if let Some(why) = list.incomplete {
            return Err(format!("value set {url} cannot be expanded whole: {why}"));
        }
        Ok(list
            .members
            .into_iter()
            .map(|m| (m.system, m.code))
            .collect())
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A small terminology for the parser's tests.
    use super::*;

    pub const SYSTEM: &str = "http://example.org/cs";

    pub struct Fake;

    /// a ⊃ b ⊃ c; d alone.
    fn parent(code: &str) -> Option<&'static str> {
        match code {
            "b" => Some("a"),
            "c" => Some("b"),
            _ => None,
        }
    }

    impl Concepts for Fake {
        fn below(&self, system: &str, code: &str) -> Result<Vec<String>, String> {
            if system != SYSTEM {
                return Err(format!("code system {system} is not loaded"));
            }
            let all = ["a", "b", "c", "d"];
            let all_above = |c: &str| {
                let mut out = vec![c.to_string()];
                let mut at = c;
                while let Some(p) = parent(at) {
                    out.push(p.to_string());
                    at = p;
                }
                out
            };
            Ok(all
                .iter()
                .filter(|c| all_above(c).iter().any(|a| a == code))
                .map(|c| c.to_string())
                .collect())
        }

        fn above(&self, system: &str, code: &str) -> Result<Vec<String>, String> {
            if system != SYSTEM {
                return Err(format!("code system {system} is not loaded"));
            }
            let mut out = vec![code.to_string()];
            let mut at = code;
            while let Some(p) = parent(at) {
                out.push(p.to_string());
                at = p;
            }
            Ok(out)
        }

        fn members(&self, url: &str) -> Result<Vec<(String, String)>, String> {
            match url {
                "http://example.org/vs" => Ok(vec![
                    (SYSTEM.to_string(), "a".to_string()),
                    (SYSTEM.to_string(), "d".to_string()),
                ]),
                "http://example.org/empty" => Ok(Vec::new()),
                _ => Err(format!("value set {url} is not loaded")),
            }
        }
    }

    pub fn source() -> ConceptSource {
        ConceptSource(Arc::new(Fake))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn closure_visits_each_code_once_in_breadth_order() {
        let next = |c: &str| -> Vec<&str> {
            match c {
                "a" => vec!["b", "c"],
                "b" => vec!["c", "a"],
                _ => vec![],
            }
        };
        assert_eq!(closure("a", next), vec!["a", "b", "c"]);
    }
}
