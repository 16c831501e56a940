//! One CodeSystem, indexed for membership and filters: its concepts (flattened), their
//! hierarchy, and the filter operators of R4 `ValueSet.compose.include.filter`.
//!
//! The hierarchy comes from nested `concept`s and from the `parent`/`subsumedBy`/`child`
//! properties, since code systems use either form (and some both).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::MasterSystem;

/// Terminologies too large to be published in full in a FHIR package: a package that defines
/// one (jp-clins ships a two-code `http://loinc.org` marked `complete`) holds a subset, so its
/// concepts are used for displays but never enumerated as the whole system.
const EXTERNAL_SYSTEMS: &[&str] = &[
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://unitsofmeasure.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://hl7.org/fhir/sid/icd-10",
    "urn:ietf:bcp:47",
    "urn:ietf:bcp:13",
    "urn:iso:std:iso:3166",
];

/// Whether `text` has kana or CJK ideographs (radical look-alikes included).
pub(crate) fn japanese(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c,
            '\u{2E80}'..='\u{2FDF}'     // CJK and Kangxi radicals
            | '\u{3040}'..='\u{30FF}'   // hiragana, katakana
            | '\u{3400}'..='\u{4DBF}'   // extension A
            | '\u{4E00}'..='\u{9FFF}'   // unified ideographs
            | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
            | '\u{FF66}'..='\u{FF9F}'   // halfwidth katakana
            | '\u{20000}'..='\u{3134F}' // extensions B to G
        )
    })
}

#[derive(Debug, Clone)]
pub(crate) struct Concept {
    pub code: String,
    pub display: Option<String>,
    pub designations: Vec<String>,
    /// Property code → value, every value rendered as text (codes, strings, numbers, booleans).
    pub properties: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct CodeSystemIndex {
    pub url: String,
    pub version: Option<String>,
    pub content: String,
    pub case_sensitive: bool,
    pub concepts: Vec<Concept>,
    /// Whether any display or designation is written in Japanese script: a Japanese display
    /// that differs from such a system's is a different name, not a translation.
    pub writes_japanese: bool,
    by_code: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    parents: Vec<Vec<usize>>,
}

impl CodeSystemIndex {
    pub fn from_json(json: &Value) -> Self {
        let text = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or_default();
        // R4 gives no default; most systems are case-sensitive, and treating an unmarked one so
        // never accepts a code its publisher would reject.
        let case_sensitive = json
            .get("caseSensitive")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut index = CodeSystemIndex {
            url: text("url").to_string(),
            version: json
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_string),
            content: text("content").to_string(),
            case_sensitive,
            concepts: Vec::new(),
            writes_japanese: false,
            by_code: HashMap::new(),
            children: Vec::new(),
            parents: Vec::new(),
        };
        let mut edges = Vec::new();
        if let Some(list) = json.get("concept").and_then(Value::as_array) {
            index.flatten(list, None, &mut edges);
        }
        index.link(&edges);
        index.writes_japanese = index.any_japanese();
        index
    }

    /// An imported master: flat concepts, each naming its parent.
    pub fn from_master(system: &MasterSystem) -> Self {
        let mut index = CodeSystemIndex {
            url: system.url.clone(),
            version: system.version.clone(),
            content: system.content.as_str().to_string(),
            case_sensitive: system.case_sensitive,
            concepts: Vec::with_capacity(system.concepts.len()),
            writes_japanese: false,
            by_code: HashMap::with_capacity(system.concepts.len()),
            children: Vec::new(),
            parents: Vec::new(),
        };
        let mut edges = Vec::new();
        for c in &system.concepts {
            if let Some(p) = &c.parent {
                edges.push((p.clone(), c.code.clone()));
            }
            let key = index.key(&c.code).into_owned();
            index.by_code.entry(key).or_insert(index.concepts.len());
            index.concepts.push(Concept {
                code: c.code.clone(),
                display: c.display.clone(),
                designations: Vec::new(),
                properties: Vec::new(),
            });
        }
        index.link(&edges);
        index.writes_japanese = index.any_japanese();
        index
    }

    fn any_japanese(&self) -> bool {
        self.concepts.iter().any(|c| {
            c.display.as_deref().is_some_and(japanese) || c.designations.iter().any(|d| japanese(d))
        })
    }

    /// The parent concepts' codes of the concept at `code`.
    pub fn parents_of(&self, code: &str) -> Vec<&str> {
        self.position(code)
            .map(|i| {
                self.parents[i]
                    .iter()
                    .map(|&p| self.concepts[p].code.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Heap bytes held: concept strings and vectors, the code table, the hierarchy.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let strings = |v: &[String]| v.iter().map(String::capacity).sum::<usize>();
        let concepts: usize = self
            .concepts
            .iter()
            .map(|c| {
                c.code.capacity()
                    + c.display.as_ref().map_or(0, String::capacity)
                    + strings(&c.designations)
                    + c.designations.capacity() * size_of::<String>()
                    + c.properties
                        .iter()
                        .map(|(a, b)| a.capacity() + b.capacity())
                        .sum::<usize>()
                    + c.properties.capacity() * size_of::<(String, String)>()
            })
            .sum::<usize>()
            + self.concepts.capacity() * size_of::<Concept>();
        // hashbrown: one control byte per bucket besides the entry.
        let table = self.by_code.capacity() * (size_of::<(String, usize)>() + 1)
            + self.by_code.keys().map(String::capacity).sum::<usize>();
        let links = |v: &[Vec<usize>]| {
            v.iter()
                .map(|l| l.capacity() * size_of::<usize>())
                .sum::<usize>()
                + std::mem::size_of_val(v)
        };
        concepts + table + links(&self.children) + links(&self.parents)
    }

    /// The child concepts' codes of the concept at `code`.
    pub fn children_of(&self, code: &str) -> Vec<&str> {
        self.position(code)
            .map(|i| {
                self.children[i]
                    .iter()
                    .map(|&p| self.concepts[p].code.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Concepts in document order; `edges` collects (parent code, child code) pairs.
    fn flatten(&mut self, list: &[Value], parent: Option<&str>, edges: &mut Vec<(String, String)>) {
        for c in list {
            let Some(code) = c.get("code").and_then(Value::as_str) else {
                continue;
            };
            let designations = c
                .get("designation")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("value").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            let mut properties = Vec::new();
            for p in c
                .get("property")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = p.get("code").and_then(Value::as_str) else {
                    continue;
                };
                let Some(value) = property_value(p) else {
                    continue;
                };
                match name {
                    "parent" | "subsumedBy" => edges.push((value.clone(), code.to_string())),
                    "child" => edges.push((code.to_string(), value.clone())),
                    _ => {}
                }
                properties.push((name.to_string(), value));
            }
            if let Some(p) = parent {
                edges.push((p.to_string(), code.to_string()));
            }
            let key = self.key(code).into_owned();
            self.by_code.entry(key).or_insert(self.concepts.len());
            self.concepts.push(Concept {
                code: code.to_string(),
                display: c.get("display").and_then(Value::as_str).map(str::to_string),
                designations,
                properties,
            });
            if let Some(nested) = c.get("concept").and_then(Value::as_array) {
                self.flatten(nested, Some(code), edges);
            }
        }
    }

    fn link(&mut self, edges: &[(String, String)]) {
        self.children = vec![Vec::new(); self.concepts.len()];
        self.parents = vec![Vec::new(); self.concepts.len()];
        for (p, c) in edges {
            let (Some(p), Some(c)) = (self.position(p), self.position(c)) else {
                continue;
            };
            if p != c && !self.children[p].contains(&c) {
                self.children[p].push(c);
                self.parents[c].push(p);
            }
        }
    }

    /// The lookup key of a code: folded to lower case when the system is case-insensitive.
    pub fn key<'a>(&self, code: &'a str) -> Cow<'a, str> {
        fold(code, !self.case_sensitive)
    }

    fn position(&self, code: &str) -> Option<usize> {
        self.by_code.get(self.key(code).as_ref()).copied()
    }

    pub fn find(&self, code: &str) -> Option<&Concept> {
        self.position(code).map(|i| &self.concepts[i])
    }

    /// Why the whole system cannot be enumerated from this definition, if it cannot.
    pub fn not_enumerable(&self) -> Option<String> {
        if EXTERNAL_SYSTEMS.contains(&self.url.as_str()) {
            return Some(format!(
                "code system {} not loaded (a package defines only part of it)",
                self.url
            ));
        }
        match self.content.as_str() {
            "complete" => None,
            other => Some(format!(
                "code system {} not loaded (only a '{other}' definition)",
                self.url
            )),
        }
    }

    pub fn all_keys(&self) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        self.concepts.iter().map(|c| self.key(&c.code))
    }

    /// The keys of the concepts a filter selects, or why it cannot be evaluated.
    pub fn filter(&self, property: &str, op: &str, value: &str) -> Result<Vec<String>, String> {
        let unsupported = || {
            Err(format!(
                "filter {property} {op} {value} on code system {} is not supported",
                self.url
            ))
        };
        let hierarchical = matches!(property, "concept" | "code");
        let selected: Vec<usize> = match op {
            "is-a" | "descendent-of" | "is-not-a" | "generalizes" if !hierarchical => {
                return unsupported();
            }
            "is-a" => self.closure(value, true, &self.children),
            "descendent-of" => self.closure(value, false, &self.children),
            "generalizes" => self.closure(value, true, &self.parents),
            "is-not-a" => {
                let out: HashSet<usize> = self
                    .closure(value, true, &self.children)
                    .into_iter()
                    .collect();
                (0..self.concepts.len())
                    .filter(|i| !out.contains(i))
                    .collect()
            }
            "=" => self.matching(property, |v| v == value),
            "in" | "not-in" => {
                let wanted: HashSet<Cow<'_, str>> = value
                    .split(',')
                    .map(|v| self.key_for(property, v.trim()))
                    .collect();
                let inside = self.matching(property, |v| {
                    wanted.contains(self.key_for(property, v).as_ref())
                });
                if op == "in" {
                    inside
                } else {
                    let inside: HashSet<usize> = inside.into_iter().collect();
                    (0..self.concepts.len())
                        .filter(|i| !inside.contains(i))
                        .collect()
                }
            }
            "regex" => {
                let re = regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("filter regex {value:?} is invalid: {e}"))?;
                self.matching(property, |v| re.is_match(v))
            }
            "exists" => {
                let want = value != "false";
                (0..self.concepts.len())
                    .filter(|&i| self.has_property(i, property) == want)
                    .collect()
            }
            _ => return unsupported(),
        };
        Ok(selected
            .into_iter()
            .map(|i| self.key(&self.concepts[i].code).into_owned())
            .collect())
    }

    fn key_for<'a>(&self, property: &str, v: &'a str) -> Cow<'a, str> {
        if matches!(property, "concept" | "code" | "parent" | "child") {
            self.key(v)
        } else {
            Cow::Borrowed(v)
        }
    }

    /// `value` (when `include_self`) and everything reachable from it along `links`.
    fn closure(&self, value: &str, include_self: bool, links: &[Vec<usize>]) -> Vec<usize> {
        let Some(start) = self.position(value) else {
            return Vec::new();
        };
        let mut seen = HashSet::from([start]);
        let mut stack = vec![start];
        let mut out = if include_self {
            vec![start]
        } else {
            Vec::new()
        };
        while let Some(i) = stack.pop() {
            for &n in &links[i] {
                if seen.insert(n) {
                    out.push(n);
                    stack.push(n);
                }
            }
        }
        out
    }

    /// Concepts with some value of `property` accepted by `pred`. `code`/`concept`, `display`,
    /// and `parent`/`child` (through the hierarchy) are understood without being declared.
    fn matching(&self, property: &str, pred: impl Fn(&str) -> bool) -> Vec<usize> {
        (0..self.concepts.len())
            .filter(|&i| {
                let c = &self.concepts[i];
                match property {
                    "code" | "concept" => pred(&c.code),
                    "display" => c.display.as_deref().is_some_and(&pred),
                    "parent" => self.parents[i]
                        .iter()
                        .any(|&p| pred(&self.concepts[p].code)),
                    "child" => self.children[i]
                        .iter()
                        .any(|&p| pred(&self.concepts[p].code)),
                    _ => c.properties.iter().any(|(n, v)| n == property && pred(v)),
                }
            })
            .collect()
    }

    fn has_property(&self, i: usize, property: &str) -> bool {
        let c = &self.concepts[i];
        match property {
            "code" | "concept" => true,
            "display" => c.display.is_some(),
            "parent" => !self.parents[i].is_empty(),
            "child" => !self.children[i].is_empty(),
            _ => c.properties.iter().any(|(n, _)| n == property),
        }
    }
}

pub(crate) fn fold(code: &str, fold: bool) -> Cow<'_, str> {
    if fold && code.chars().any(char::is_uppercase) {
        Cow::Owned(code.to_lowercase())
    } else {
        Cow::Borrowed(code)
    }
}

fn property_value(p: &Value) -> Option<String> {
    let obj = p.as_object()?;
    obj.iter()
        .find(|(k, _)| k.starts_with("value"))
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Object(o) => o.get("code").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
}
