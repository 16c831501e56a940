//! The base code sets compiled into the binary (`codesets/r4-required.json`): the expansions of
//! the value sets the R4 base types bind as `required`, so a machine with no package installed
//! still checks them. The file format is shared with the generator.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::expansion::{Expansion, SystemPart};
use crate::terminology::codesystem::fold;

const EMBEDDED: &str = include_str!("../../../codesets/r4-required.json");

/// The file `codesets/r4-required.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSetsFile {
    /// `name#version` of the package it was generated from.
    pub package: String,
    /// Systems whose codes compare case-insensitively.
    pub case_insensitive_systems: Vec<String>,
    pub value_sets: Vec<CodeSetEntry>,
    pub not_enumerable: Vec<NotEnumerable>,
}

/// A fully enumerated value set: `[system, code]` or `[system, code, display]` per member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSetEntry {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub codes: Vec<Vec<String>>,
}

/// A required value set that cannot be enumerated from the package, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEnumerable {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub reason: String,
}

/// The embedded file, indexed.
#[derive(Debug, Default)]
pub(crate) struct BaseSets {
    /// url → (version, expansion); not-enumerable sets carry an expansion that is all unknown.
    by_url: HashMap<String, (Option<String>, Arc<Expansion>)>,
    /// system → code → display.
    displays: HashMap<String, HashMap<String, String>>,
    folded: HashSet<String>,
}

impl BaseSets {
    pub fn from_file(file: &CodeSetsFile) -> Self {
        let folded: HashSet<String> = file.case_insensitive_systems.iter().cloned().collect();
        let mut sets = BaseSets {
            folded,
            ..BaseSets::default()
        };
        for entry in &file.value_sets {
            let mut expansion = Expansion::default();
            for member in &entry.codes {
                let [system, code, rest @ ..] = member.as_slice() else {
                    continue;
                };
                let f = sets.folded.contains(system);
                let part = expansion
                    .systems
                    .entry(system.clone())
                    .or_insert_with(|| SystemPart {
                        fold: f,
                        ..SystemPart::default()
                    });
                part.codes.insert(fold(code, f).into_owned());
                if let Some(display) = rest.first() {
                    sets.displays
                        .entry(system.clone())
                        .or_default()
                        .insert(fold(code, f).into_owned(), display.clone());
                }
            }
            sets.by_url.insert(
                entry.url.clone(),
                (entry.version.clone(), Arc::new(expansion)),
            );
        }
        for n in &file.not_enumerable {
            sets.by_url.insert(
                n.url.clone(),
                (
                    n.version.clone(),
                    Arc::new(Expansion::unknown(n.reason.clone())),
                ),
            );
        }
        sets
    }

    /// The expansion of `url` (a version, if given, must be the recorded one).
    pub fn expansion(&self, url: &str, version: Option<&str>) -> Option<Arc<Expansion>> {
        let (v, e) = self.by_url.get(url)?;
        match (version, v) {
            (Some(want), Some(have)) if want != have => None,
            _ => Some(Arc::clone(e)),
        }
    }

    pub fn display(&self, system: &str, code: &str) -> Option<&str> {
        let f = self.folded.contains(system);
        self.displays
            .get(system)?
            .get(fold(code, f).as_ref())
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_url.len()
    }
}

/// The parsed embedded file; an unreadable one (only possible if hand-edited) gives no base sets,
/// which the generator's test catches.
pub(crate) fn embedded() -> &'static BaseSets {
    static BASE: OnceLock<BaseSets> = OnceLock::new();
    BASE.get_or_init(|| {
        serde_json::from_str::<CodeSetsFile>(EMBEDDED)
            .map(|f| BaseSets::from_file(&f))
            .unwrap_or_default()
    })
}

/// The embedded file as parsed, for tests and tools.
pub fn embedded_file() -> Result<CodeSetsFile, serde_json::Error> {
    serde_json::from_str(EMBEDDED)
}
