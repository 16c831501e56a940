//! `kyoyu package generate-codesets`: expands, with this engine over the core package alone,
//! every value set a base type (resource or datatype) binds as `required`, and writes
//! `codesets/r4-required.json`. Only codes, systems and displays are kept. The output is
//! deterministic (value sets by canonical, members by system and code), so a test can compare
//! the committed file with a fresh regeneration byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::ValueSetEngine;
use super::base::{CodeSetEntry, CodeSetsFile, NotEnumerable};
use crate::packages::{Package, PackageError, PackageSet};

/// The generated file, relative to the output folder.
pub const CODESETS_FILE: &str = "r4-required.json";

#[derive(Debug, thiserror::Error)]
pub enum CodesetsError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{package}: binds no value set as required (is it hl7.fhir.r4.core?)")]
    NoBindings { package: String },
    #[error("cannot serialize the code sets: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateCodesetsReport {
    pub package: String,
    /// Value sets written with their members.
    pub value_sets: usize,
    pub not_enumerable: usize,
    /// Member codes over all value sets.
    pub codes: usize,
    pub path: PathBuf,
    pub bytes: u64,
}

/// Reads the core package (`.tgz` or directory) and writes `out/r4-required.json`.
pub fn generate_codesets(from: &Path, out: &Path) -> Result<GenerateCodesetsReport, CodesetsError> {
    let file = build_codesets(Package::load(from)?)?;
    let text = render_codesets(&file)?;
    fs::create_dir_all(out).map_err(|source| CodesetsError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let path = out.join(CODESETS_FILE);
    fs::write(&path, &text).map_err(|source| CodesetsError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(GenerateCodesetsReport {
        package: file.package.clone(),
        value_sets: file.value_sets.len(),
        not_enumerable: file.not_enumerable.len(),
        codes: file.value_sets.iter().map(|v| v.codes.len()).sum(),
        path,
        bytes: text.len() as u64,
    })
}

/// The canonicals (as written) bound `required` by the base types' snapshots.
pub fn required_value_sets(set: &PackageSet) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in set.resources_of_type("StructureDefinition") {
        let sd = &**r.json();
        let kind = sd.get("kind").and_then(Value::as_str);
        if !matches!(kind, Some("primitive-type" | "complex-type" | "resource")) {
            continue;
        }
        let derivation = sd.get("derivation").and_then(Value::as_str);
        let has_base = sd.get("baseDefinition").is_some();
        if !(derivation == Some("specialization") || (derivation.is_none() && !has_base)) {
            continue;
        }
        let elements = sd
            .get("snapshot")
            .and_then(|s| s.get("element"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for e in elements {
            let Some(b) = e.get("binding") else { continue };
            if b.get("strength").and_then(Value::as_str) != Some("required") {
                continue;
            }
            if let Some(vs) = b.get("valueSet").and_then(Value::as_str) {
                out.insert(vs.to_string());
            }
        }
    }
    out
}

pub fn build_codesets(package: Package) -> Result<CodeSetsFile, CodesetsError> {
    let package_name = package.id.to_string();
    let mut set = PackageSet::new();
    set.add(package);
    let set = Arc::new(set);
    let required = required_value_sets(&set);
    if required.is_empty() {
        return Err(CodesetsError::NoBindings {
            package: package_name,
        });
    }
    let engine = ValueSetEngine::packages_only(Arc::clone(&set));
    let mut file = CodeSetsFile {
        package: package_name,
        ..CodeSetsFile::default()
    };
    let mut folded = BTreeSet::new();
    for canonical in &required {
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) => (u.to_string(), Some(v.to_string())),
            None => (canonical.clone(), None),
        };
        let expansion = match engine.expansion(canonical) {
            Ok(e) => e,
            Err(reason) => {
                file.not_enumerable.push(NotEnumerable {
                    url,
                    version,
                    reason,
                });
                continue;
            }
        };
        if let Some(reason) = expansion.incomplete_reason() {
            file.not_enumerable.push(NotEnumerable {
                url,
                version,
                reason: reason.to_string(),
            });
            continue;
        }
        let mut members: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
        for (system, part) in &expansion.systems {
            let cs = engine.code_system(system);
            if part.fold {
                folded.insert(system.clone());
            }
            for key in &part.codes {
                let concept = cs.as_ref().and_then(|c| c.find(key));
                let code = concept.map_or(key.clone(), |c| c.code.clone());
                let display = concept.and_then(|c| c.display.clone());
                members.insert((system.clone(), code), display);
            }
        }
        let codes = members
            .into_iter()
            .map(|((system, code), display)| {
                let mut m = vec![system, code];
                m.extend(display);
                m
            })
            .collect();
        file.value_sets.push(CodeSetEntry {
            url,
            version,
            codes,
        });
    }
    file.case_insensitive_systems = folded.into_iter().collect();
    Ok(file)
}

/// One value set per line, so a regeneration diff shows which sets changed.
pub fn render_codesets(file: &CodeSetsFile) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    out.push_str("{\n");
    let _ = writeln!(
        out,
        "  \"package\": {},",
        serde_json::to_string(&file.package)?
    );
    let _ = writeln!(
        out,
        "  \"case_insensitive_systems\": {},",
        serde_json::to_string(&file.case_insensitive_systems)?
    );
    out.push_str("  \"value_sets\": [\n");
    for (i, e) in file.value_sets.iter().enumerate() {
        let comma = if i + 1 < file.value_sets.len() {
            ","
        } else {
            ""
        };
        let _ = writeln!(out, "    {}{comma}", serde_json::to_string(e)?);
    }
    out.push_str("  ],\n  \"not_enumerable\": [\n");
    for (i, e) in file.not_enumerable.iter().enumerate() {
        let comma = if i + 1 < file.not_enumerable.len() {
            ","
        } else {
            ""
        };
        let _ = writeln!(out, "    {}{comma}", serde_json::to_string(e)?);
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}
