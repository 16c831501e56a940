//! Test support: loading the official packages from shared/data (skipped when absent), and a
//! [`TypeModel`] built from the R4 core StructureDefinitions, so tests exercise the engine with
//! real types without depending on the project's own model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use super::{ChildType, TypeCodes, TypeModel};

/// `None` (after a SKIPPED line) when ../shared/data is absent; see `crate::test_data`.
pub(crate) fn data_path(rel: &str) -> Option<PathBuf> {
    crate::test_data::path_or_skip(rel)
}

/// The resources of one type (`SearchParameter`) in a package file under shared/data/packages.
fn load_resources(tgz: &str, resource_type: &str) -> Option<Vec<Value>> {
    let path = data_path(&format!("packages/{tgz}"))?;
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&path)
        .arg("-C")
        .arg(dir.path())
        .arg("--wildcards")
        .arg(format!("package/{resource_type}-*"))
        .status()
        .unwrap();
    assert!(status.success(), "tar failed on {tgz}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("package"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect(),
    )
}

pub(crate) const CORE: &str = "hl7.fhir.r4.core-4.0.1.tgz";
pub(crate) const JP_CORE: &str = "jp-core.r4-1.1.2-url.tgz";
pub(crate) const JP_CLINS: &str = "jp-clins.r4-1.5.2-snap.tgz";
pub(crate) const JP_CHECKUP: &str = "jp-eCheckupReport.r4-1.1.3.tgz";

type PackageCache =
    std::sync::Mutex<HashMap<(&'static str, &'static str), Option<&'static [Value]>>>;

/// The StructureDefinitions of a package, unpacked once per test process.
pub(crate) fn package(tgz: &'static str) -> Option<&'static [Value]> {
    package_files(tgz, "StructureDefinition")
}

/// The resources of one type in a package, unpacked once per test process (and kept for its
/// lifetime).
pub(crate) fn package_files(
    tgz: &'static str,
    resource_type: &'static str,
) -> Option<&'static [Value]> {
    // Before the cache: each test that skips prints its own line, not only the first.
    data_path("")?;
    static CACHE: OnceLock<PackageCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut guard = cache.lock().unwrap();
    *guard
        .entry((tgz, resource_type))
        .or_insert_with(|| load_resources(tgz, resource_type).map(|v| &*Vec::leak(v)))
}

struct Info {
    types: Vec<String>,
    choice: bool,
    repeating: bool,
    definition: Option<String>,
}

/// Children by parent type (or inline definition path), then by element name.
pub(crate) struct CoreModel {
    map: HashMap<String, HashMap<String, Info>>,
}

impl TypeModel for CoreModel {
    fn child_type(&self, parent_type: &str, element: &str) -> Option<ChildType<'_>> {
        let i = self.map.get(parent_type)?.get(element)?;
        Some(ChildType {
            types: TypeCodes::Owned(&i.types),
            choice: i.choice,
            repeating: i.repeating,
            definition: i.definition.as_deref(),
        })
    }
}

/// `System.String` and friends on `id`/`url`/primitive values carry their FHIR type in an
/// extension.
fn type_code(t: &Value) -> Option<String> {
    let code = t.get("code")?.as_str()?;
    if let Some(sys) = code.strip_prefix("http://hl7.org/fhirpath/System.") {
        let fhir = t
            .get("extension")
            .and_then(Value::as_array)
            .and_then(|xs| xs.iter().find_map(|x| x.get("valueUrl")?.as_str()));
        return Some(fhir.map_or_else(|| sys.to_lowercase(), str::to_string));
    }
    Some(code.to_string())
}

impl CoreModel {
    pub(crate) fn from_core(sds: &[Value]) -> CoreModel {
        let mut map: HashMap<String, HashMap<String, Info>> = HashMap::new();
        for sd in sds {
            let kind = sd["kind"].as_str().unwrap_or("");
            if !matches!(kind, "resource" | "complex-type" | "primitive-type") {
                continue;
            }
            let derivation = sd["derivation"].as_str().unwrap_or("specialization");
            let ty = sd["type"].as_str().unwrap_or("");
            // Constrained data types used as element types (SimpleQuantity, MoneyQuantity).
            let root = if derivation == "constraint" {
                if ty == "Extension" || kind != "complex-type" {
                    continue;
                }
                sd["id"].as_str().unwrap_or(ty)
            } else {
                ty
            };
            let Some(elements) = sd["snapshot"]["element"].as_array() else {
                continue;
            };
            for el in elements {
                let path = el["path"].as_str().unwrap_or("");
                if el["id"].as_str().is_some_and(|id| id.contains(':')) {
                    continue;
                }
                let Some((parent, name)) = path.rsplit_once('.') else {
                    continue;
                };
                let parent = match parent.split_once('.') {
                    Some((_, rest)) => format!("{root}.{rest}"),
                    None => root.to_string(),
                };
                let full = format!("{parent}.{name}");
                let (name, choice) = match name.strip_suffix("[x]") {
                    Some(n) => (n.to_string(), true),
                    None => (name.to_string(), false),
                };
                let mut types: Vec<String> = el["type"]
                    .as_array()
                    .map(|ts| ts.iter().filter_map(type_code).collect())
                    .unwrap_or_default();
                let mut definition = None;
                if let Some(r) = el["contentReference"].as_str() {
                    definition = Some(r.trim_start_matches('#').to_string());
                    types = vec!["BackboneElement".to_string()];
                } else if types.len() == 1
                    && (types[0] == "BackboneElement" || types[0] == "Element")
                {
                    definition = Some(full.clone());
                }
                let max = el["max"].as_str().unwrap_or("1");
                map.entry(parent).or_default().insert(
                    name,
                    Info {
                        types,
                        choice,
                        repeating: max != "1" && max != "0",
                        definition,
                    },
                );
            }
        }
        CoreModel { map }
    }

    /// The model for the core package, if the package is present.
    pub(crate) fn shared() -> Option<&'static CoreModel> {
        // Before the cache: each test that skips prints its own line, not only the first.
        data_path("")?;
        static MODEL: OnceLock<Option<CoreModel>> = OnceLock::new();
        MODEL
            .get_or_init(|| package(CORE).map(CoreModel::from_core))
            .as_ref()
    }
}
