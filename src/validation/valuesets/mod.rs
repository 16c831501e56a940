//! The value-set membership engine: answers [`BindingCheck`] from the ValueSets and CodeSystems
//! of a [`PackageSet`], falling back to the base code sets compiled into the binary
//! (`codesets/r4-required.json`, see [`generate`]).
//!
//! Value sets are expanded on first use and the expansion cached per canonical as written, so a
//! check after warm-up is two hash lookups under a read lock. Code systems are indexed once
//! each, shared by every value set that uses them.

mod base;
mod coding;
mod compose;
mod expansion;
pub mod generate;
mod precedence;
mod service;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_packages;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use arc_swap::ArcSwap;
use serde_json::Value;

use crate::packages::PackageSet;
pub(crate) use crate::terminology::CodeSystemIndex;
use crate::terminology::aliases::system_names;
use crate::terminology::{Masters, Terminology, canonical_system};
use crate::validation::binding_check::{
    BindingCheck, CodeCheck, CodedPart, CodedValue, Finding, Membership,
};

pub use base::{CodeSetEntry, CodeSetsFile, NotEnumerable, embedded_file};
pub use expansion::Expansion;
pub use generate::{CODESETS_FILE, CodesetsError, GenerateCodesetsReport, generate_codesets};
pub use service::{LookupError, LookupResult, Member, MemberList, Origin, imported_id};

use base::BaseSets;
use precedence::versioned;

/// Answers binding checks; cheap to share (`Arc`) between request handlers. A code system or
/// value set defined by both the imported terminology and a package is taken at its newest
/// version (the import on a tie, see `precedence`); the embedded base sets answer for value
/// sets neither defines.
pub struct ValueSetEngine {
    packages: Option<Arc<PackageSet>>,
    base: Option<&'static BaseSets>,
    terminology: Option<Arc<Terminology>>,
    /// Caches for one terminology snapshot, replaced whole when an import swaps the snapshot, so
    /// an answer never mixes definitions from before and after an import.
    caches: ArcSwap<Caches>,
}

/// What one terminology snapshot has computed so far.
pub(crate) struct Caches {
    pub(crate) masters: Arc<Masters>,
    /// Per canonical as asked; a value set that is not loaded is remembered too, so repeated
    /// checks against it do not search the packages again.
    expansions: RwLock<HashMap<String, Result<Arc<Expansion>, String>>>,
    code_systems: RwLock<HashMap<String, Option<Arc<CodeSystemIndex>>>>,
}

impl Caches {
    fn new(masters: Arc<Masters>) -> Self {
        Caches {
            masters,
            expansions: RwLock::new(HashMap::new()),
            code_systems: RwLock::new(HashMap::new()),
        }
    }
}

impl std::fmt::Debug for ValueSetEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueSetEngine")
            .field(
                "packages",
                &self.packages.as_ref().map(|p| p.packages().len()),
            )
            .field("base_sets", &self.base.map(BaseSets::len))
            .field(
                "imported_concepts",
                &self.caches.load().masters.concept_count(),
            )
            .finish_non_exhaustive()
    }
}

impl ValueSetEngine {
    /// The packages' value sets and code systems, then the embedded base code sets for value
    /// sets no package defines.
    pub fn new(packages: Arc<PackageSet>) -> Self {
        Self::build(Some(packages), Some(base::embedded()), None)
    }

    /// As [`new`](Self::new), with the imported terminology consulted first.
    pub fn with_terminology(packages: Arc<PackageSet>, terminology: Arc<Terminology>) -> Self {
        Self::build(Some(packages), Some(base::embedded()), Some(terminology))
    }

    /// The embedded base code sets alone (no package installed).
    pub fn base_only() -> Self {
        Self::build(None, Some(base::embedded()), None)
    }

    /// The packages alone, without the embedded sets: what the generator expands with, so its
    /// output never depends on the file it regenerates.
    pub fn packages_only(packages: Arc<PackageSet>) -> Self {
        Self::build(Some(packages), None, None)
    }

    fn build(
        packages: Option<Arc<PackageSet>>,
        base: Option<&'static BaseSets>,
        terminology: Option<Arc<Terminology>>,
    ) -> Self {
        let masters = terminology
            .as_ref()
            .map_or_else(|| Arc::new(Masters::default()), |t| t.current());
        ValueSetEngine {
            packages,
            base,
            terminology,
            caches: ArcSwap::from_pointee(Caches::new(masters)),
        }
    }

    /// The caches of the current terminology snapshot (new, empty ones after an import).
    pub(crate) fn caches(&self) -> Arc<Caches> {
        let caches = self.caches.load_full();
        let Some(t) = &self.terminology else {
            return caches;
        };
        let current = t.current();
        if Arc::ptr_eq(&current, &caches.masters) {
            return caches;
        }
        let fresh = Arc::new(Caches::new(current));
        self.caches.store(Arc::clone(&fresh));
        fresh
    }

    /// The expansion of a value set (`url` or `url|version`), or why there is none.
    pub fn expansion(&self, value_set: &str) -> Result<Arc<Expansion>, String> {
        self.expansion_within(&self.caches(), value_set, &mut Vec::new())
    }

    fn expansion_within(
        &self,
        c: &Caches,
        value_set: &str,
        stack: &mut Vec<String>,
    ) -> Result<Arc<Expansion>, String> {
        if let Some(e) = read(&c.expansions).get(value_set) {
            return e.clone();
        }
        if stack.iter().any(|s| s == value_set) {
            return Err(format!("value set {value_set} imports itself"));
        }
        let imported = c
            .masters
            .value_set(value_set)
            .map(|v| Arc::clone(&v.resource));
        let packaged = self
            .packages
            .as_deref()
            .and_then(|p| p.resolve_in("ValueSet", value_set))
            .map(|r| Arc::clone(r.json()));
        let shipped = self
            .base
            .and_then(|_| crate::terminology::shipped::value_set(value_set));
        let resource = precedence::newest([imported, packaged, shipped], |r| {
            r.get("version").and_then(Value::as_str)
        });
        let expansion = if let Some(r) = resource {
            stack.push(value_set.to_string());
            let e = Arc::new(self.expand_resource(c, &r, stack));
            stack.pop();
            Ok(e)
        } else if let Some(system) = c.masters.implicit_value_set(value_set).or_else(|| {
            self.base
                .and_then(|_| crate::terminology::shipped::implicit_value_set(value_set))
        }) {
            Ok(Arc::new(self.evaluate_system(c, system, &Value::Null)))
        } else {
            let (url, version) = match value_set.split_once('|') {
                Some((u, v)) => (u, Some(v).filter(|v| !v.is_empty())),
                None => (value_set, None),
            };
            self.base
                .and_then(|b| b.expansion(url, version))
                .ok_or_else(|| format!("value set {value_set} is not loaded"))
        };
        let mut cache = c.expansions.write().unwrap_or_else(PoisonError::into_inner);
        cache
            .entry(value_set.to_string())
            .or_insert(expansion)
            .clone()
    }

    /// The indexed definition of a code system (under its URL or an alias). With a `version`,
    /// that version or nothing; without one, the newest loaded definition whichever source it
    /// came from (see [`precedence`]).
    pub(crate) fn code_system_in(
        &self,
        c: &Caches,
        url: &str,
        version: Option<&str>,
    ) -> Option<Arc<CodeSystemIndex>> {
        let key = versioned(url, version);
        if let Some(cs) = read(&c.code_systems).get(&key) {
            return cs.clone();
        }
        let imported = c.masters.code_system(url).map(Arc::clone);
        let packaged = self.packages.as_deref().and_then(|packages| {
            system_names(url)
                .filter_map(|name| packages.resolve_in("CodeSystem", &versioned(name, version)))
                .find(|r| r.json().get("content").and_then(|c| c.as_str()) != Some("supplement"))
                .map(|r| Arc::new(CodeSystemIndex::from_json(r.json())))
        });
        let imported =
            imported.filter(|cs| version.is_none_or(|v| cs.version.as_deref() == Some(v)));
        // The shipped lists go with the base sets: the generator's engine uses neither.
        let shipped = self
            .base
            .and_then(|_| crate::terminology::shipped::code_system(url, version));
        let found = precedence::newest([imported, packaged, shipped], |cs| cs.version.as_deref());
        let mut cache = c
            .code_systems
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        cache.entry(key).or_insert(found).clone()
    }

    pub(crate) fn code_system(&self, url: &str) -> Option<Arc<CodeSystemIndex>> {
        self.code_system_in(&self.caches(), url, None)
    }
}

impl BindingCheck for ValueSetEngine {
    fn check(&self, value_set: &str, value: CodedValue<'_>) -> CodeCheck {
        let c = self.caches();
        let expansion = match self.expansion_within(&c, value_set, &mut Vec::new()) {
            Ok(e) => e,
            Err(why) => {
                return CodeCheck {
                    membership: Membership::Unknown(why),
                };
            }
        };
        let system = value.system.map(canonical_system);
        let (membership, _) = expansion.membership(system, value.code);
        CodeCheck { membership }
    }

    /// Expanded on each call, not cached: a contained value set has no canonical to key it by.
    fn check_resource(&self, value_set: &Value, value: CodedValue<'_>) -> CodeCheck {
        let expansion = self.expand_resource(&self.caches(), value_set, &mut Vec::new());
        let system = value.system.map(canonical_system);
        let (membership, _) = expansion.membership(system, value.code);
        CodeCheck { membership }
    }

    fn coding(&self, value: CodedValue<'_>) -> Vec<Finding> {
        self.coding_findings(&self.caches(), value)
    }

    fn identifier(&self, system: &str, value: &str) -> Vec<Finding> {
        crate::terminology::syntax::check_identifier(system, value)
            .into_iter()
            .map(|f| Finding::from_syntax(f, CodedPart::Value))
            .collect()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}
