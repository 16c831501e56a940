//! IG contexts: which packages make up each implementation guide version the server validates
//! against, read from the manifest (`igs.toml`) beside the shipped packages. A definition
//! referenced from inside a context resolves among that context's packages only, so two
//! versions of one IG built on two variants of JP-Core never see each other's definitions.
//!
//! The pairing is declared by the manifest because the packages cannot tell it: JP-CLINS and
//! the checkup IG name only the R4 core as a dependency, not the JP-Core variant they build on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::{Detail, Package, PackageError, PackageSet};

/// The manifest's file name in the profiles folder.
pub const MANIFEST: &str = "igs.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    context: Vec<ContextEntry>,
}

/// One `[[context]]` of the manifest.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContextEntry {
    /// The IG's short name, which `--ig-version NAME=VERSION` uses (`jp-clins`, `checkup`).
    pub ig: String,
    /// The IG release (`1.10.0`); `meta.profile` versions are matched against it.
    pub version: String,
    /// How issues name it (`JP-CLINS 1.10.0`).
    pub label: String,
    /// Package files, relative to the manifest's folder.
    pub packages: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IgError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{label}: package conflicts: {list}")]
    Conflicts { label: String, list: String },
}

/// The IG a context is, when it comes from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgRelease {
    pub ig: String,
    pub version: String,
    pub label: String,
}

/// One resolution context: its packages, and which IG release it is (`None` for the packages an
/// operator installed or passed with `--package`, which form one context of their own).
#[derive(Debug, Clone)]
pub struct IgContext {
    pub release: Option<IgRelease>,
    pub packages: Arc<PackageSet>,
}

/// The manifest of `dir`, or `None` when the folder or its manifest does not exist.
pub fn read_manifest(dir: &Path) -> Result<Option<Vec<ContextEntry>>, IgError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(IgError::Io { path, source }),
    };
    let bad = |reason: String| IgError::Manifest {
        path: path.clone(),
        reason,
    };
    let file: ManifestFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    for c in &file.context {
        if c.packages.is_empty() {
            return Err(bad(format!("context {} lists no packages", c.label)));
        }
        if !seen.insert((c.ig.clone(), c.version.clone())) {
            return Err(bad(format!("{} {} is declared twice", c.ig, c.version)));
        }
        if let Some(p) = c.packages.iter().find(|p| Path::new(p).is_absolute()) {
            return Err(bad(format!(
                "{p}: package paths are relative to the manifest's folder"
            )));
        }
    }
    Ok(Some(file.context))
}

/// Loads the contexts of `dir`'s manifest (none when it has no manifest) and, when `extras` is
/// not empty, one more context of those packages. Every file is read once, in parallel, however
/// many contexts share it. A context whose packages define one `url|version` differently stops
/// loading: which definition applies must not be left to chance.
pub fn load_contexts(
    dir: Option<&Path>,
    extras: &[PathBuf],
    detail: Detail,
) -> Result<Vec<IgContext>, IgError> {
    let entries = match dir {
        Some(d) => read_manifest(d)?.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    let base = dir.unwrap_or(Path::new("."));
    let mut plans: Vec<(Option<IgRelease>, Vec<usize>)> = Vec::new();
    for e in entries {
        let indices = e
            .packages
            .iter()
            .map(|p| position(base.join(p), &mut files))
            .collect();
        let release = IgRelease {
            ig: e.ig,
            version: e.version,
            label: e.label,
        };
        plans.push((Some(release), indices));
    }
    if !extras.is_empty() {
        let indices = extras
            .iter()
            .map(|p| position(p.clone(), &mut files))
            .collect();
        plans.push((None, indices));
    }
    let loaded: Vec<Package> = load_each(&files, detail)?;
    let mut contexts = Vec::with_capacity(plans.len());
    for (release, indices) in plans {
        let mut set = PackageSet::new();
        for i in indices {
            set.add(loaded[i].clone());
        }
        if !set.conflicts().is_empty() {
            let list: Vec<String> = set.conflicts().iter().map(ToString::to_string).collect();
            let label = release
                .as_ref()
                .map_or_else(|| "the packages given".to_string(), |r| r.label.clone());
            return Err(IgError::Conflicts {
                label,
                list: list.join("; "),
            });
        }
        contexts.push(IgContext {
            release,
            packages: Arc::new(set),
        });
    }
    Ok(contexts)
}

/// The index of `p` in `files`, added at the end when it is not there yet.
fn position(p: PathBuf, files: &mut Vec<PathBuf>) -> usize {
    match files.iter().position(|f| *f == p) {
        Some(i) => i,
        None => {
            files.push(p);
            files.len() - 1
        }
    }
}

/// Every file as its own package, in the order given (a set would drop a second copy of one
/// `name#version`, and two contexts may each need theirs).
fn load_each(files: &[PathBuf], detail: Detail) -> Result<Vec<Package>, PackageError> {
    let loaded: Vec<Result<Package, PackageError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|p| scope.spawn(move || super::load_package_with(p, detail)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    loaded.into_iter().collect()
}
