//! The operator's package store: a data directory (`kyoyu-data/packages/` by default) holding one
//! unpacked package per `<name>#<version>/package/` folder, the layout of the FHIR package cache.
//! It is kept apart from `profiles/`, which holds the packages that ship with the server.
//! Installing writes a hidden sibling folder first and renames it into place, so a failed install
//! leaves no half-written package behind.

use std::fs;
use std::path::{Path, PathBuf};

use super::load::{RawFile, build_package, read_files, read_tgz};
use super::prose::Detail;
use super::{PackageError, PackageId, PackageSet};

/// The store directory used when none is configured, relative to the working directory (beside
/// the default SQLite file, and ignored by git).
pub const DEFAULT_STORE: &str = "kyoyu-data/packages";

#[derive(Debug, Clone)]
pub struct PackageStore {
    root: PathBuf,
}

/// An installed package as listed: counts come from its files, nothing is parsed but the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    pub id: PackageId,
    /// Resources in the package (all of them, examples included).
    pub resources: usize,
    /// The folder holding `package/`.
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    pub id: PackageId,
    /// Conformance resources the package provides (what loading keeps).
    pub conformance_resources: usize,
    pub path: PathBuf,
    /// Package name → version, from its manifest.
    pub dependencies: std::collections::BTreeMap<String, String>,
    /// An installed package of the same `name#version` was replaced.
    pub replaced: bool,
}

impl PackageStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Installs a `.tgz` file or a package directory. The package is loaded first, so one that
    /// would not load is refused before anything is written.
    pub fn install(&self, source: &str) -> Result<InstalledPackage, PackageError> {
        if source.starts_with("http://") || source.starts_with("https://") {
            return Err(PackageError::NetworkInstall {
                url: source.to_string(),
            });
        }
        let path = Path::new(source);
        self.install_files(path, read_files(path)?, None)
    }

    /// Installs a `.tgz` held in memory (a download); `label` names it in errors. With
    /// `expected`, a package whose manifest names another `name#version` is refused.
    pub fn install_archive(
        &self,
        label: &Path,
        bytes: &[u8],
        expected: Option<&PackageId>,
    ) -> Result<InstalledPackage, PackageError> {
        self.install_files(label, read_tgz(label, bytes)?, expected)
    }

    fn install_files(
        &self,
        path: &Path,
        mut files: Vec<RawFile>,
        expected: Option<&PackageId>,
    ) -> Result<InstalledPackage, PackageError> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let package = build_package(path, &files, Detail::Full)?;
        let id = (*package.id).clone();
        if let Some(expected) = expected
            && *expected != id
        {
            return Err(PackageError::BadManifest {
                path: path.to_path_buf(),
                reason: format!("the package is {id}, not the {expected} asked for"),
            });
        }
        for part in [&id.name, &id.version] {
            if !is_safe_dir_part(part) {
                return Err(PackageError::BadManifest {
                    path: path.to_path_buf(),
                    reason: format!("'{part}' cannot name a store folder"),
                });
            }
        }
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| PackageError::Io { path: p, source }
        };
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let folder = format!("{}#{}", id.name, id.version);
        let dest = self.root.join(&folder);
        let staging = self
            .root
            .join(format!(".installing-{folder}-{}", std::process::id()));
        let written = write_package(&staging, &files);
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        let replaced = dest.exists();
        if replaced {
            fs::remove_dir_all(&dest).map_err(io(&dest))?;
        }
        fs::rename(&staging, &dest).map_err(io(&dest))?;
        Ok(InstalledPackage {
            id,
            conformance_resources: package.resources.len(),
            dependencies: package.manifest.dependencies.clone(),
            path: dest,
            replaced,
        })
    }

    /// Installed packages, by name then version; a store that does not exist yet is empty.
    pub fn list(&self) -> Result<Vec<StoreEntry>, PackageError> {
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| PackageError::Io { path: p, source }
        };
        let read = match fs::read_dir(&self.root) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.root)(e)),
        };
        let mut entries = Vec::new();
        for dir in read {
            let dir = dir.map_err(io(&self.root))?;
            if dir.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let package_dir = dir.path().join("package");
            let manifest_path = package_dir.join("package.json");
            if !manifest_path.is_file() {
                continue;
            }
            let manifest = fs::read(&manifest_path).map_err(io(&manifest_path))?;
            let manifest = super::load::parse_manifest(&dir.path(), &manifest)?;
            entries.push(StoreEntry {
                id: PackageId {
                    name: manifest.name,
                    version: manifest.version,
                },
                resources: count_resources(&package_dir)?,
                path: dir.path(),
            });
        }
        entries.sort_by(|a, b| {
            a.id.name
                .cmp(&b.id.name)
                .then_with(|| super::compare_versions(&a.id.version, &b.id.version))
        });
        Ok(entries)
    }

    /// Loads every installed package.
    pub fn load(&self) -> Result<PackageSet, PackageError> {
        let paths: Vec<PathBuf> = self.list()?.into_iter().map(|e| e.path).collect();
        PackageSet::load(&paths)
    }
}

fn write_package(staging: &Path, files: &[RawFile]) -> Result<(), PackageError> {
    let dir = staging.join("package");
    fs::create_dir_all(&dir).map_err(|source| PackageError::Io {
        path: dir.clone(),
        source,
    })?;
    for (name, bytes) in files {
        let path = dir.join(name);
        fs::write(&path, bytes).map_err(|source| PackageError::Io { path, source })?;
    }
    Ok(())
}

/// Entries of `.index.json` when present, else JSON files other than the manifest.
fn count_resources(package_dir: &Path) -> Result<usize, PackageError> {
    let index_path = package_dir.join(".index.json");
    if let Ok(bytes) = fs::read(&index_path) {
        let index: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|source| PackageError::Json {
                path: package_dir.to_path_buf(),
                file: ".index.json".into(),
                source,
            })?;
        if let Some(files) = index.get("files").and_then(|f| f.as_array()) {
            return Ok(files.len());
        }
    }
    let read = fs::read_dir(package_dir).map_err(|source| PackageError::Io {
        path: package_dir.to_path_buf(),
        source,
    })?;
    Ok(read
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".json") && !name.starts_with('.') && name != "package.json"
        })
        .count())
}

/// Package names and versions become folder names: nothing that could leave the store.
fn is_safe_dir_part(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}
