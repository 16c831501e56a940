//! `package install NAME#VERSION`: a release from a registry into the store, then the
//! dependencies that are not available (installed, shipped or built in), fetched as well when
//! asked to.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use super::listing::{Found, available};
use super::registry::{PackageSpec, Registry, RegistryError, Wanted};
use super::{InstalledPackage, PackageStore};

/// The base R4 definitions are compiled into the server: a dependency on them is met.
const BUILT_IN: (&str, &str) = ("hl7.fhir.r4.core", "4.0.1");

/// Packages fetched by one `--with-dependencies` install at most: a cycle or a runaway graph
/// stops there.
const MAX_FETCHED: usize = 64;

/// A dependency no available package satisfies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Missing {
    pub name: String,
    pub version: String,
    /// The package that depends on it.
    pub needed_by: String,
}

/// What an install from the registry did.
#[derive(Debug, Default)]
pub struct Fetched {
    pub installed: Vec<InstalledPackage>,
    /// Dependencies still missing afterwards.
    pub missing: Vec<Missing>,
}

/// Installs `spec`, and with `with_dependencies` every missing dependency (transitively).
/// Packages installed before a failure stay installed: each is complete on its own.
pub fn install_from_registry(
    store: &PackageStore,
    shipped: &Path,
    registry: &Registry,
    spec: &PackageSpec,
    with_dependencies: bool,
) -> Result<Fetched, RegistryError> {
    let mut fetched = Fetched::default();
    let mut queue = VecDeque::from([spec.clone()]);
    let mut seen = BTreeSet::from([spec.to_string()]);
    while let Some(next) = queue.pop_front() {
        let installed = install_one(store, registry, &next)?;
        let available = available(store, shipped)?;
        for missing in missing_dependencies(&installed, &available) {
            let dependency = PackageSpec {
                name: missing.name.clone(),
                wanted: Wanted::parse(&missing.version),
            };
            if with_dependencies
                && fetched.installed.len() + queue.len() + 1 < MAX_FETCHED
                && seen.insert(dependency.to_string())
            {
                queue.push_back(dependency);
            }
        }
        fetched.installed.push(installed);
    }
    let available = available(store, shipped)?;
    let mut missing: Vec<Missing> = fetched
        .installed
        .iter()
        .flat_map(|i| missing_dependencies(i, &available))
        .collect();
    missing.sort();
    missing.dedup();
    fetched.missing = missing;
    Ok(fetched)
}

fn install_one(
    store: &PackageStore,
    registry: &Registry,
    spec: &PackageSpec,
) -> Result<InstalledPackage, RegistryError> {
    let release = registry.resolve(spec)?;
    let bytes = registry.download(&release)?;
    let label = Path::new(&release.tarball);
    Ok(store.install_archive(label, &bytes, Some(&release.id))?)
}

/// The dependencies of `installed` that nothing available satisfies.
pub fn missing_dependencies(installed: &InstalledPackage, available: &[Found]) -> Vec<Missing> {
    installed
        .dependencies
        .iter()
        .filter(|(name, version)| {
            let wanted = Wanted::parse(version);
            let built_in = (name.as_str(), version.as_str()) == BUILT_IN;
            !built_in
                && !available
                    .iter()
                    .any(|f| f.id.name == **name && wanted.matches(&f.id.version))
        })
        .map(|(name, version)| Missing {
            name: name.clone(),
            version: version.clone(),
            needed_by: installed.id.to_string(),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::super::PackageId;
    use super::super::listing::Origin;
    use super::*;

    fn found(name: &str, version: &str) -> Found {
        Found {
            id: PackageId {
                name: name.into(),
                version: version.into(),
            },
            origin: Origin::Shipped,
            path: PathBuf::new(),
            dependencies: BTreeMap::new(),
        }
    }

    #[test]
    fn dependencies_met_by_any_available_version_or_the_built_in_core_are_not_missing() {
        let installed = InstalledPackage {
            id: PackageId {
                name: "jp-clins.r4".into(),
                version: "1.10.0".into(),
            },
            conformance_resources: 0,
            path: PathBuf::new(),
            dependencies: BTreeMap::from([
                ("hl7.fhir.r4.core".to_string(), "4.0.1".to_string()),
                ("jp-core.r4".to_string(), "1.1.x".to_string()),
                ("jp-terminology.r4".to_string(), "1.2.0".to_string()),
                ("hl7.terminology.r4".to_string(), "5.0.0".to_string()),
            ]),
            replaced: false,
        };
        let available = [
            found("jp-core.r4", "1.1.2"),
            found("jp-terminology.r4", "1.1.0"),
        ];
        let missing = missing_dependencies(&installed, &available);
        let names: Vec<String> = missing
            .iter()
            .map(|m| format!("{}#{}", m.name, m.version))
            .collect();
        assert_eq!(
            names,
            ["hl7.terminology.r4#5.0.0", "jp-terminology.r4#1.2.0"]
        );
        assert!(missing.iter().all(|m| m.needed_by == "jp-clins.r4#1.10.0"));
    }
}
