//! What an import produces and the database keeps: code systems as flat concept lists (the
//! hierarchy as a parent code per concept), plus ValueSet resources as given.

use serde_json::Value;

/// One concept of an imported code system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConcept {
    pub code: String,
    pub display: Option<String>,
    /// The code of the parent concept, for hierarchical systems (the CLINS item code systems:
    /// item → JLAC codes).
    pub parent: Option<String>,
}

/// One imported code system (a master list or a FHIR CodeSystem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterSystem {
    /// Canonical URL (old OID aliases already mapped to their URL form).
    pub url: String,
    pub version: Option<String>,
    /// Computer-friendly name (e.g. the CSV's `codesystem` column or the file stem).
    pub name: String,
    /// `complete` when the list is the whole system (a code missing from it is an error),
    /// `fragment` when it is known to be partial (a missing code is a warning).
    pub content: Content,
    pub case_sensitive: bool,
    /// Value sets defined as "every code of this system" (FHIR `CodeSystem.valueSet`).
    pub value_sets: Vec<String>,
    pub concepts: Vec<MasterConcept>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Complete,
    Fragment,
}

impl Content {
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Complete => "complete",
            Content::Fragment => "fragment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(Content::Complete),
            "fragment" => Some(Content::Fragment),
            _ => None,
        }
    }
}

/// Everything one import run brings: code systems and ValueSet resources.
#[derive(Debug, Clone, Default)]
pub struct ImportSet {
    pub systems: Vec<MasterSystem>,
    /// ValueSet resources (JSON), each with at least `url`.
    pub value_sets: Vec<Value>,
    /// What the reader recognised but did not import, for the operator (e.g. a summary table).
    pub notes: Vec<String>,
}

/// Folds systems that one import run defines more than once under the same URL (e.g. the CLINS
/// item tables and the code-system table of the same items, or a checkup table listing some
/// JLAC10 codes beside the JLAC10 list) into one: the union of their concepts, the first
/// definition of a code winning. Without this the last file read would silently replace the
/// others. The union is complete when any part is. Two different editions (both versioned, the
/// versions differ) are not merged: a code of the older one may be gone from the newer, so only
/// the newer is kept, and a note says so.
pub fn merge_same_systems(sets: &mut [(String, ImportSet)]) {
    use std::collections::{HashMap, HashSet};
    let mut first: HashMap<String, (usize, usize)> = HashMap::new();
    let mut moved: Vec<((usize, usize), (usize, usize))> = Vec::new();
    for (i, (_, set)) in sets.iter().enumerate() {
        for (j, system) in set.systems.iter().enumerate() {
            match first.get(&system.url) {
                Some(&at) => moved.push(((i, j), at)),
                None => {
                    first.insert(system.url.clone(), (i, j));
                }
            }
        }
    }
    // Later duplicates are drained into the first, then removed (highest index first).
    for &((i, j), (fi, fj)) in &moved {
        if keep_newer_edition(sets, (i, j), (fi, fj)) {
            continue;
        }
        let extra = std::mem::take(&mut sets[i].1.systems[j].concepts);
        let extra_sets = sets[i].1.systems[j].value_sets.clone();
        let extra_complete = sets[i].1.systems[j].content == Content::Complete;
        let source = sets[i].0.clone();
        let target = &mut sets[fi].1;
        let system = &mut target.systems[fj];
        let known: HashSet<String> = system.concepts.iter().map(|c| c.code.clone()).collect();
        let before = system.concepts.len();
        system
            .concepts
            .extend(extra.into_iter().filter(|c| !known.contains(&c.code)));
        for vs in extra_sets {
            if !system.value_sets.contains(&vs) {
                system.value_sets.push(vs);
            }
        }
        if extra_complete {
            system.content = Content::Complete;
        }
        let note = format!(
            "{} is also defined in {source}: merged ({} more codes)",
            system.url,
            system.concepts.len() - before
        );
        target.notes.push(note);
    }
    let mut drop: Vec<(usize, usize)> = moved.into_iter().map(|(at, _)| at).collect();
    drop.sort_unstable_by(|a, b| b.cmp(a));
    for (i, j) in drop {
        sets[i].1.systems.remove(j);
    }
}

/// When the systems at `later` and `first` are different editions, leaves the newer one at
/// `first` (where the merge keeps it) and says which edition was left out; false when they are
/// parts of one edition, to be merged.
fn keep_newer_edition(
    sets: &mut [(String, ImportSet)],
    later: (usize, usize),
    first: (usize, usize),
) -> bool {
    use crate::packages::compare_versions;
    let version = |at: (usize, usize)| sets[at.0].1.systems[at.1].version.clone();
    let (Some(later_v), Some(first_v)) = (version(later), version(first)) else {
        return false;
    };
    if later_v == first_v {
        return false;
    }
    let later_source = sets[later.0].0.clone();
    let first_source = sets[first.0].0.clone();
    let (kept, kept_source, dropped, dropped_source) =
        if compare_versions(&later_v, &first_v).is_gt() {
            let older = sets[first.0].1.systems[first.1].clone();
            let newer = std::mem::replace(&mut sets[later.0].1.systems[later.1], older);
            sets[first.0].1.systems[first.1] = newer;
            (later_v, later_source, first_v, first_source)
        } else {
            (first_v, first_source, later_v, later_source)
        };
    let url = sets[first.0].1.systems[first.1].url.clone();
    sets[first.0].1.notes.push(format!(
        "{url}: version {kept} from {kept_source} imported; the older version {dropped} from {dropped_source} was not"
    ));
    true
}
