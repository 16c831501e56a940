//! The in-memory view of the imported terminology: every imported code system indexed for
//! lookup, the imported ValueSets, and the "all codes of a system" value sets. Built whole from
//! the database (or from files for `kyoyu validate`) and swapped atomically, so a reader holds
//! one consistent snapshot for as long as it needs it while an import lands.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::Value;

use super::{CodeSystemIndex, Content, ImportSet, MasterSystem, canonical_system};

/// A code system as stored, with where it came from.
#[derive(Debug, Clone)]
pub struct StoredCodeSystem {
    pub system: MasterSystem,
    pub source: String,
    /// Microseconds since the Unix epoch, UTC.
    pub imported_at: i64,
}

/// A ValueSet resource as stored.
#[derive(Debug, Clone)]
pub struct StoredValueSet {
    pub url: String,
    pub version: Option<String>,
    pub source: String,
    pub imported_at: i64,
    pub content: String,
}

/// What is known about an imported code system besides its concepts.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub url: String,
    pub version: Option<String>,
    pub name: String,
    pub content: Content,
    pub concept_count: usize,
    pub value_sets: Vec<String>,
    pub source: String,
    /// Microseconds since the Unix epoch (0 when read from files, not the database).
    pub imported_at: i64,
}

/// An imported ValueSet resource.
#[derive(Debug, Clone)]
pub struct ValueSetInfo {
    pub url: String,
    pub version: Option<String>,
    pub source: String,
    pub imported_at: i64,
    pub resource: Arc<Value>,
}

/// One snapshot of the imported terminology.
#[derive(Debug, Default)]
pub struct Masters {
    /// Changes with every import (the database's import-log id); 0 for nothing imported.
    pub generation: i64,
    systems: HashMap<String, (SystemInfo, Arc<CodeSystemIndex>)>,
    value_sets: HashMap<String, ValueSetInfo>,
    /// Value-set URL → the system it enumerates whole.
    implicit: HashMap<String, String>,
}

impl Masters {
    pub fn from_stored(
        generation: i64,
        systems: Vec<StoredCodeSystem>,
        value_sets: Vec<StoredValueSet>,
    ) -> Result<Self, String> {
        let mut m = Masters {
            generation,
            ..Masters::default()
        };
        for s in systems {
            m.add_system(s.system, s.source, s.imported_at);
        }
        for v in value_sets {
            let resource: Value = serde_json::from_str(&v.content)
                .map_err(|e| format!("stored value set {}: {e}", v.url))?;
            m.add_value_set(resource, v.source, v.imported_at);
        }
        Ok(m)
    }

    /// From import sets read off files: later sets replace earlier ones with the same URL, as a
    /// re-import would.
    pub fn from_imports(mut sets: Vec<(String, ImportSet)>) -> Self {
        super::model::merge_same_systems(&mut sets);
        let mut m = Masters::default();
        for (source, set) in sets {
            m.generation += 1;
            for s in set.systems {
                m.add_system(s, source.clone(), 0);
            }
            for v in set.value_sets {
                m.add_value_set(v, source.clone(), 0);
            }
        }
        m
    }

    fn add_system(&mut self, system: MasterSystem, source: String, imported_at: i64) {
        let url = canonical_system(&system.url).to_string();
        if let Some((old, _)) = self.systems.get(&url) {
            for vs in &old.value_sets {
                self.implicit.remove(vs);
            }
        }
        for vs in &system.value_sets {
            self.implicit.insert(vs.clone(), url.clone());
        }
        let index = Arc::new(CodeSystemIndex::from_master(&system));
        let info = SystemInfo {
            url: url.clone(),
            version: system.version,
            name: system.name,
            content: system.content,
            concept_count: system.concepts.len(),
            value_sets: system.value_sets,
            source,
            imported_at,
        };
        self.systems.insert(url, (info, index));
    }

    fn add_value_set(&mut self, resource: Value, source: String, imported_at: i64) {
        let text = |k: &str| resource.get(k).and_then(Value::as_str).map(str::to_string);
        let Some(url) = text("url") else { return };
        let info = ValueSetInfo {
            url: url.clone(),
            version: text("version"),
            source,
            imported_at,
            resource: Arc::new(resource),
        };
        self.value_sets.insert(url, info);
    }

    pub(crate) fn code_system(&self, url: &str) -> Option<&Arc<CodeSystemIndex>> {
        self.systems.get(url).map(|(_, index)| index)
    }

    pub fn system_info(&self, url: &str) -> Option<&SystemInfo> {
        self.systems.get(url).map(|(info, _)| info)
    }

    /// An imported ValueSet resource by URL (a `|version` suffix must match when given).
    pub fn value_set(&self, canonical: &str) -> Option<&ValueSetInfo> {
        let (url, version) = split_canonical(canonical);
        self.value_sets
            .get(url)
            .filter(|v| version.is_none() || v.version.as_deref() == version)
    }

    /// The system a value set enumerates whole, when an import declared one.
    pub fn implicit_value_set(&self, canonical: &str) -> Option<&str> {
        let (url, _) = split_canonical(canonical);
        self.implicit.get(url).map(String::as_str)
    }

    pub fn systems(&self) -> impl Iterator<Item = &SystemInfo> {
        self.systems.values().map(|(info, _)| info)
    }

    pub fn value_sets(&self) -> impl Iterator<Item = &ValueSetInfo> {
        self.value_sets.values()
    }

    /// Heap bytes held by the indexed code systems (an estimate from capacities).
    pub fn heap_bytes(&self) -> usize {
        self.systems
            .values()
            .map(|(_, index)| index.heap_bytes())
            .sum()
    }

    pub fn concept_count(&self) -> usize {
        self.systems.values().map(|(i, _)| i.concept_count).sum()
    }
}

fn split_canonical(canonical: &str) -> (&str, Option<&str>) {
    match canonical.split_once('|') {
        Some((u, v)) if !v.is_empty() => (u, Some(v)),
        Some((u, _)) => (u, None),
        None => (canonical, None),
    }
}

/// The shared handle: readers take the current snapshot; an import swaps in a new one.
#[derive(Debug)]
pub struct Terminology {
    current: ArcSwap<Masters>,
}

impl Default for Terminology {
    fn default() -> Self {
        Self::new(Masters::default())
    }
}

impl Terminology {
    pub fn new(masters: Masters) -> Self {
        Terminology {
            current: ArcSwap::from_pointee(masters),
        }
    }

    pub fn current(&self) -> Arc<Masters> {
        self.current.load_full()
    }

    pub fn replace(&self, masters: Masters) {
        self.current.store(Arc::new(masters));
    }
}
