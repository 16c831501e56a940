//! FHIR NPM packages: loading (`.tgz` or unpacked directory), indexing conformance resources by
//! canonical URL and version, canonical resolution, and the on-disk package store.
//!
//! Only conformance resources are kept (see [`KEPT_TYPES`]): examples and other resource types
//! are skipped, using `.index.json` when the package has one so they are not even parsed.
//!
//! Versions: a resource without a business `version` takes its package's version, as the IG
//! publisher would have stamped it; `url|version` needs that exact version, a bare `url` gets the
//! newest (see [`compare_versions`]). The same `url|version` defined differently by two packages is
//! a [`Conflict`]: it is listed, and resolving it fails with [`ResolveError::Conflict`] instead of
//! picking one of them.

mod fetch;
pub mod igs;
mod lazy;
mod listing;
mod load;
mod prose;
mod registry;
mod store;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub use fetch::{Fetched, Missing, install_from_registry, missing_dependencies};
pub use igs::{IgContext, IgError, IgRelease};
pub use lazy::LazyJson;
pub use listing::{Found, NameVersions, Origin, SHIPPED_DIR, available, side_by_side};
pub use load::{
    RawFile, load_package, load_package_bytes, load_package_with, package_from_files, read_files,
};
pub use prose::Detail;
pub use registry::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_REGISTRY, PackageSpec, Registry, RegistryError, Release,
    Wanted,
};
pub use store::{DEFAULT_STORE, InstalledPackage, PackageStore, StoreEntry};

/// Resource types kept from a package: the ones validation and terminology need (Questionnaires:
/// a QuestionnaireResponse is checked against its Questionnaire).
pub const KEPT_TYPES: &[&str] = &[
    "CapabilityStatement",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "ImplementationGuide",
    "NamingSystem",
    "OperationDefinition",
    "Questionnaire",
    "SearchParameter",
    "StructureDefinition",
    "StructureMap",
    "ValueSet",
];

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a readable gzip-compressed tar archive: {source}", path.display())]
    Archive {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no package/package.json", path.display())]
    MissingManifest { path: PathBuf },
    #[error("{}: package.json: {reason}", path.display())]
    BadManifest { path: PathBuf, reason: String },
    #[error("{}: {file}: invalid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        file: String,
        source: serde_json::Error,
    },
    #[error("{}: {file}: {reason}", path.display())]
    BadResource {
        path: PathBuf,
        file: String,
        reason: String,
    },
    #[error(
        "{url}: install by package name (NAME#VERSION, from the registry) or download the .tgz and install the file"
    )]
    NetworkInstall { url: String },
}

/// `name#version`, as the FHIR package cache spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId {
    pub name: String,
    pub version: String,
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.version)
    }
}

/// The parts of `package.json` that loading and dependency checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub fhir_versions: Vec<String>,
    pub canonical: Option<String>,
    /// Package name → version (or range) as written.
    pub dependencies: BTreeMap<String, String>,
}

/// One conformance resource of a loaded package.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: String,
    pub id: Option<String>,
    pub url: Option<String>,
    /// The resource's own business version, if it has one.
    pub version: Option<String>,
    /// The file inside the package it came from.
    pub file: String,
    pub package: Arc<PackageId>,
    /// Shared by the resource's clones, so the tree is built once for all of them.
    pub(crate) json: Arc<LazyJson>,
}

impl Resource {
    /// The version it is indexed under: its own, else its package's.
    pub fn effective_version(&self) -> &str {
        self.version.as_deref().unwrap_or(&self.package.version)
    }

    /// Its JSON, parsed on the first call (see [`LazyJson`]).
    pub fn json(&self) -> &Arc<Value> {
        self.json.value()
    }

    /// Replaces its JSON (a test's or a tool's edit of a loaded package).
    pub fn set_json(&mut self, value: Value) {
        self.json = Arc::new(LazyJson::parsed(value));
    }
}

/// A loaded package: its manifest and its kept resources, in file-name order.
#[derive(Debug, Clone)]
pub struct Package {
    pub id: Arc<PackageId>,
    pub manifest: Manifest,
    /// The `.tgz` file or directory it was read from.
    pub source: PathBuf,
    pub resources: Vec<Resource>,
    /// JSON files not kept (examples, other resource types).
    pub skipped_files: usize,
}

impl Package {
    /// Reads a `.tgz` file or an unpacked directory (with or without the `package/` level).
    pub fn load(path: &Path) -> Result<Package, PackageError> {
        load_package(path)
    }

    pub fn count_of(&self, resource_type: &str) -> usize {
        self.resources
            .iter()
            .filter(|r| r.resource_type == resource_type)
            .count()
    }
}

/// The same `url|version` defined differently by more than one package (or twice in one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub url: String,
    pub version: String,
    pub resource_type: String,
    /// Every package that defines it, in load order (a package appears once per definition).
    pub packages: Vec<PackageId>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packages: Vec<String> = self.packages.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} {}|{} is defined differently by {}",
            self.resource_type,
            self.url,
            self.version,
            packages.join(", ")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}: no loaded package defines it")]
    NotFound(String),
    #[error("{0}")]
    Conflict(Conflict),
}

/// What [`PackageSet::add`] did with a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    /// A package with the same `name#version` was already loaded; the new one was ignored.
    AlreadyLoaded,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    package: usize,
    resource: usize,
}

/// Loaded packages and their conformance resources, indexed by canonical URL.
#[derive(Debug, Default, Clone)]
pub struct PackageSet {
    packages: Vec<Package>,
    ids: HashSet<PackageId>,
    /// url → every distinct definition (identical re-definitions are not indexed twice).
    by_url: HashMap<String, Vec<Entry>>,
    conflicts: Vec<Conflict>,
    conflict_index: HashMap<(String, String), usize>,
}

impl PackageSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every path (`.tgz` or directory), in parallel, and adds them in the given order so
    /// the result does not depend on thread timing.
    pub fn load<P: AsRef<Path> + Sync>(paths: &[P]) -> Result<Self, PackageError> {
        Self::load_with(paths, Detail::Full)
    }

    /// As [`load`](Self::load), keeping of each StructureDefinition what `detail` says.
    pub fn load_with<P: AsRef<Path> + Sync>(
        paths: &[P],
        detail: Detail,
    ) -> Result<Self, PackageError> {
        let loaded: Vec<Result<Package, PackageError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = paths
                .iter()
                .map(|p| scope.spawn(move || load_package_with(p.as_ref(), detail)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut set = Self::new();
        for package in loaded {
            set.add(package?);
        }
        Ok(set)
    }

    pub fn add(&mut self, package: Package) -> AddOutcome {
        if !self.ids.insert((*package.id).clone()) {
            return AddOutcome::AlreadyLoaded;
        }
        let p = self.packages.len();
        let count = package.resources.len();
        self.packages.push(package);
        for r in 0..count {
            self.index(Entry {
                package: p,
                resource: r,
            });
        }
        AddOutcome::Added
    }

    fn index(&mut self, entry: Entry) {
        let resource = &self.packages[entry.package].resources[entry.resource];
        let Some(url) = &resource.url else { return };
        let version = resource.effective_version();
        let entries = self.by_url.entry(url.clone()).or_default();
        let same: Vec<&Resource> = entries
            .iter()
            .map(|e| &self.packages[e.package].resources[e.resource])
            .filter(|o| {
                o.effective_version() == version && o.resource_type == resource.resource_type
            })
            .collect();
        if same.iter().any(|o| o.json.same_as(&resource.json)) {
            // Re-publication of the same definition (e.g. a package and its dependency copy).
            return;
        }
        if let Some(first) = same.first() {
            let key = (url.clone(), version.to_string());
            match self.conflict_index.get(&key) {
                Some(&c) => self.conflicts[c].packages.push((*resource.package).clone()),
                None => {
                    self.conflict_index.insert(key, self.conflicts.len());
                    self.conflicts.push(Conflict {
                        url: url.clone(),
                        version: version.to_string(),
                        resource_type: resource.resource_type.clone(),
                        packages: vec![(*first.package).clone(), (*resource.package).clone()],
                    });
                }
            }
        }
        entries.push(entry);
    }

    pub fn packages(&self) -> &[Package] {
        &self.packages
    }

    /// The packages, to add them to another set.
    pub fn into_packages(self) -> Vec<Package> {
        self.packages
    }

    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// `url` or `url|version`; `None` when nothing defines it or the answer is a conflict.
    pub fn resolve(&self, canonical: &str) -> Option<&Resource> {
        self.lookup(None, canonical).ok()
    }

    /// As [`resolve`](Self::resolve), among resources of one type only.
    pub fn resolve_in(&self, resource_type: &str, canonical: &str) -> Option<&Resource> {
        self.lookup(Some(resource_type), canonical).ok()
    }

    /// Resolution that says why it failed: not defined, or defined differently by two packages.
    pub fn lookup(
        &self,
        resource_type: Option<&str>,
        canonical: &str,
    ) -> Result<&Resource, ResolveError> {
        let (url, version) = split_canonical(canonical);
        let not_found = || ResolveError::NotFound(canonical.to_string());
        let entries = self.by_url.get(url).ok_or_else(not_found)?;
        let candidates = entries
            .iter()
            .map(|e| &self.packages[e.package].resources[e.resource])
            .filter(|r| resource_type.is_none_or(|t| r.resource_type == t));
        let chosen_version = match version {
            Some(v) => v.to_string(),
            None => candidates
                .clone()
                .map(Resource::effective_version)
                .max_by(|a, b| compare_versions(a, b))
                .ok_or_else(not_found)?
                .to_string(),
        };
        let mut matching = candidates.filter(|r| r.effective_version() == chosen_version);
        let found = matching.next().ok_or_else(not_found)?;
        // Two definitions of one url|version are only indexed when they differ.
        if matching.next().is_some()
            && let Some(&c) = self
                .conflict_index
                .get(&(url.to_string(), chosen_version.clone()))
        {
            return Err(ResolveError::Conflict(self.conflicts[c].clone()));
        }
        Ok(found)
    }

    /// Every definition of `url`, newest first.
    pub fn versions(&self, url: &str) -> Vec<&Resource> {
        let mut all: Vec<&Resource> = self
            .by_url
            .get(url)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| &self.packages[e.package].resources[e.resource])
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| compare_versions(b.effective_version(), a.effective_version()));
        all
    }

    /// Every kept resource of one type, package by package in load order.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.packages
            .iter()
            .flat_map(|p| p.resources.iter())
            .filter(move |r| r.resource_type == resource_type)
    }
}

/// Splits `url|version`; a `#fragment` (contained resource) is not part of the URL looked up.
fn split_canonical(canonical: &str) -> (&str, Option<&str>) {
    let (url, version) = match canonical.split_once('|') {
        Some((u, v)) => (u, Some(v)),
        None => (canonical, None),
    };
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    (url, version.filter(|v| !v.is_empty()))
}

/// Orders versions: numeric dot-separated parts compare as numbers (`1.10` > `1.9`, `1.0` ==
/// `1.0.0`); a pre-release (`1.1.2-clins`) sorts before its release (`1.1.2`), pre-release
/// identifiers compare numerically or else lexically; versions not starting with a digit sort
/// before numeric ones and among themselves lexically. Ties are broken lexically so the order is
/// total and deterministic.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (ca, ra) = numeric_core(a);
    let (cb, rb) = numeric_core(b);
    let semantic = match (ca.is_empty(), cb.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => {
            let len = ca.len().max(cb.len());
            let core = (0..len)
                .map(|i| {
                    ca.get(i)
                        .copied()
                        .unwrap_or(0)
                        .cmp(&cb.get(i).copied().unwrap_or(0))
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal);
            core.then_with(|| compare_pre_release(ra, rb))
        }
    };
    semantic.then_with(|| a.cmp(b))
}

/// Leading `N(.N)*` as numbers, and the rest (`-pre`, `+build`, or anything else).
fn numeric_core(v: &str) -> (Vec<u64>, &str) {
    let mut parts = Vec::new();
    let mut rest = v;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        parts.push(rest[..digits].parse::<u64>().unwrap_or(u64::MAX));
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    (parts, rest)
}

fn compare_pre_release(a: &str, b: &str) -> Ordering {
    // Build metadata does not order versions.
    let a = a.split_once('+').map_or(a, |(p, _)| p);
    let b = b.split_once('+').map_or(b, |(p, _)| p);
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let ids = |s: &'_ str| -> Vec<String> {
        s.split(['.', '-'])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (ia, ib) = (ids(a), ids(b));
    for (x, y) in ia.iter().zip(&ib) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    ia.len().cmp(&ib.len())
}
