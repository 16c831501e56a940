//! What `package list` shows and what dependency checks look at: the packages of the operator's
//! store together with those shipped in `profiles/` (read-only here), grouped by package name
//! with the newest version first, each marked with where it comes from.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::load::parse_manifest;
use super::{Manifest, PackageError, PackageId, PackageStore, compare_versions};

/// The folder of packages that ship with the server, relative to the working directory.
pub const SHIPPED_DIR: &str = "profiles";

/// `package.json` is small; an archive entry claiming more is not read whole.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Installed by the operator into the package store.
    Store,
    /// Shipped with the server in `profiles/`.
    Shipped,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Store => "store",
            Origin::Shipped => "shipped",
        }
    }
}

/// One package found in the store or the shipped folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: PackageId,
    pub origin: Origin,
    pub path: PathBuf,
    pub dependencies: BTreeMap<String, String>,
}

/// One package name with all its versions, newest first (a version present in both places is
/// listed once per place, the store first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameVersions {
    pub name: String,
    pub versions: Vec<(String, Origin)>,
}

/// The store's packages and the shipped ones; a folder that does not exist contributes none.
pub fn available(store: &PackageStore, shipped: &Path) -> Result<Vec<Found>, PackageError> {
    let mut found = scan(store.root(), Origin::Store)?;
    found.extend(scan(shipped, Origin::Shipped)?);
    Ok(found)
}

/// Groups by name (names in order), versions newest first.
pub fn side_by_side(found: &[Found]) -> Vec<NameVersions> {
    let mut by_name: BTreeMap<&str, Vec<(String, Origin)>> = BTreeMap::new();
    for f in found {
        by_name
            .entry(&f.id.name)
            .or_default()
            .push((f.id.version.clone(), f.origin));
    }
    by_name
        .into_iter()
        .map(|(name, mut versions)| {
            versions.sort_by(|a, b| compare_versions(&b.0, &a.0).then(a.1.cmp(&b.1)));
            versions.dedup();
            NameVersions {
                name: name.to_string(),
                versions,
            }
        })
        .collect()
}

/// Packages directly in `dir`: folders holding `package/package.json` (or `package.json`) and
/// `.tgz` archives, whose manifest alone is read. Hidden entries (a store's unfinished installs)
/// are skipped.
pub fn scan(dir: &Path, origin: Origin) -> Result<Vec<Found>, PackageError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| PackageError::Io { path: p, source }
    };
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut found = Vec::new();
    for entry in read {
        let entry = entry.map_err(io(dir))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let manifest = if path.is_dir() {
            let candidates = [path.join("package/package.json"), path.join("package.json")];
            match candidates.iter().find(|p| p.is_file()) {
                Some(m) => {
                    let bytes = fs::read(m).map_err(io(m))?;
                    Some(parse_manifest(&path, &bytes)?)
                }
                None => None,
            }
        } else if path.extension().is_some_and(|e| e == "tgz") {
            Some(archive_manifest(&path)?)
        } else {
            None
        };
        if let Some(Manifest {
            name,
            version,
            dependencies,
            ..
        }) = manifest
        {
            found.push(Found {
                id: PackageId { name, version },
                origin,
                path,
                dependencies,
            });
        }
    }
    found.sort_by(|a, b| {
        a.id.name
            .cmp(&b.id.name)
            .then_with(|| compare_versions(&a.id.version, &b.id.version))
    });
    Ok(found)
}

/// `package/package.json` of a `.tgz`, reading the archive only up to it.
fn archive_manifest(path: &Path) -> Result<Manifest, PackageError> {
    let archive_error = |source| PackageError::Archive {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(|source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().map_err(archive_error)? {
        let entry = entry.map_err(archive_error)?;
        let is_manifest = entry
            .path()
            .map(|p| p.strip_prefix("./").unwrap_or(&p) == Path::new("package/package.json"))
            .map_err(archive_error)?;
        if is_manifest {
            let mut bytes = Vec::new();
            entry
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut bytes)
                .map_err(archive_error)?;
            return parse_manifest(path, &bytes);
        }
    }
    Err(PackageError::MissingManifest {
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn write_manifest(dir: &Path, name: &str, version: &str) {
        fs::create_dir_all(dir.join("package")).unwrap();
        let manifest = serde_json::json!({"name": name, "version": version});
        fs::write(dir.join("package/package.json"), manifest.to_string()).unwrap();
    }

    #[test]
    fn versions_of_one_name_share_a_line_newest_first_marked_by_origin() {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        let shipped = tmp.path().join("profiles");
        write_manifest(&store.join("jp-core.r4#1.2.0"), "jp-core.r4", "1.2.0");
        write_manifest(&store.join("jp-clins.r4#1.10.0"), "jp-clins.r4", "1.10.0");
        write_manifest(&shipped.join("a"), "jp-clins.r4", "1.5.2");
        write_manifest(&shipped.join("b"), "jp-clins.r4", "1.10.0");
        write_manifest(&store.join(".installing-x"), "half.written", "1.0.0");
        fs::write(shipped.join("NOTICE"), "not a package").unwrap();

        let found = available(&PackageStore::new(&store), &shipped).unwrap();
        let lines = side_by_side(&found);
        assert_eq!(
            lines,
            vec![
                NameVersions {
                    name: "jp-clins.r4".into(),
                    versions: vec![
                        ("1.10.0".into(), Origin::Store),
                        ("1.10.0".into(), Origin::Shipped),
                        ("1.5.2".into(), Origin::Shipped),
                    ],
                },
                NameVersions {
                    name: "jp-core.r4".into(),
                    versions: vec![("1.2.0".into(), Origin::Store)],
                },
            ]
        );
    }

    #[test]
    fn a_shipped_archive_is_listed_from_its_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let tgz = crate::test_data::path("packages/jp-eCheckupReport.r4-1.1.3.tgz");
        fs::copy(&tgz, tmp.path().join("checkup.tgz")).unwrap();
        let found = scan(tmp.path(), Origin::Shipped).unwrap();
        assert_eq!(found.len(), 1);
        // The 1.1.3 release was packed with a placeholder version in its manifest.
        assert_eq!(found[0].id.to_string(), "jp-eCheckupReport.r4#1.0.0-temp");
        assert!(found[0].dependencies.contains_key("hl7.fhir.r4.core"));
    }

    #[test]
    fn missing_folders_list_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let found = available(
            &PackageStore::new(tmp.path().join("none")),
            &tmp.path().join("none-either"),
        )
        .unwrap();
        assert!(found.is_empty());
    }
}
