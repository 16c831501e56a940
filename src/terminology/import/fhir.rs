//! FHIR JSON: a CodeSystem (its concepts flattened, the hierarchy kept as parent codes), a
//! ValueSet (kept as JSON), a Bundle of them, or a whole FHIR NPM package.

use std::path::Path;

use serde_json::Value;

use super::ImportError;
use super::builder::SystemBuilder;
use super::table::decode;
use crate::packages::{Package, load_package, load_package_bytes};
use crate::terminology::{Content, ImportSet, MasterSystem};

/// A JSON file, or a `.tgz` package held in memory.
pub(super) fn read_bytes(name: &str, bytes: &[u8]) -> Result<ImportSet, ImportError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return from_package(&load_package_bytes(Path::new(name), bytes)?);
    }
    let (text, _) = decode(name, bytes)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| ImportError::Json {
        file: name.to_string(),
        message: e.to_string(),
    })?;
    let mut set = ImportSet::default();
    let kind = resource_type(&value);
    match kind {
        "CodeSystem" | "ValueSet" | "Bundle" => add_resource(name, &value, None, &mut set)?,
        _ => {
            return Err(ImportError::layout(
                name,
                format!("a {kind} resource; expected a CodeSystem, ValueSet or Bundle"),
            ));
        }
    }
    Ok(set)
}

/// A package directory (with or without the `package/` level) or `.tgz` file.
pub(super) fn read_package(path: &Path) -> Result<ImportSet, ImportError> {
    from_package(&load_package(path)?)
}

/// Every CodeSystem and ValueSet of the package; a CodeSystem without a version of its own takes
/// the package's, as the package index does.
fn from_package(package: &Package) -> Result<ImportSet, ImportError> {
    let mut set = ImportSet::default();
    for resource in &package.resources {
        if matches!(resource.resource_type.as_str(), "CodeSystem" | "ValueSet") {
            let file = format!("{}/{}", package.source.display(), resource.file);
            let version = resource.effective_version().to_string();
            add_resource(&file, resource.json(), Some(version), &mut set)?;
        }
    }
    Ok(set)
}

fn resource_type(value: &Value) -> &str {
    value
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("non-FHIR")
}

fn add_resource(
    file: &str,
    value: &Value,
    default_version: Option<String>,
    set: &mut ImportSet,
) -> Result<(), ImportError> {
    match resource_type(value) {
        "CodeSystem" => {
            if let Some(system) = code_system(file, value, default_version, &mut set.notes)? {
                set.systems.push(system);
            }
        }
        "ValueSet" => {
            if value.get("url").and_then(Value::as_str).is_none() {
                return Err(ImportError::resource(file, "a ValueSet without url"));
            }
            set.value_sets.push(value.clone());
        }
        "Bundle" => {
            let entries = value.get("entry").and_then(Value::as_array);
            let mut others = 0usize;
            for resource in entries
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("resource"))
            {
                match resource_type(resource) {
                    "CodeSystem" | "ValueSet" | "Bundle" => {
                        add_resource(file, resource, default_version.clone(), set)?;
                    }
                    _ => others += 1,
                }
            }
            if others > 0 {
                set.notes.push(format!(
                    "{file}: {others} Bundle entries that are neither CodeSystem nor ValueSet \
                     ignored"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A CodeSystem as a [`MasterSystem`]; `None` for a
/// supplement, which adds properties to another system rather than codes.
fn code_system(
    file: &str,
    cs: &Value,
    default_version: Option<String>,
    notes: &mut Vec<String>,
) -> Result<Option<MasterSystem>, ImportError> {
    let text = |key: &str| cs.get(key).and_then(Value::as_str);
    let url = text("url").ok_or_else(|| ImportError::resource(file, "a CodeSystem without url"))?;
    let content = match text("content") {
        Some("complete") => Content::Complete,
        Some("fragment" | "example" | "not-present") => Content::Fragment,
        Some("supplement") => {
            notes.push(format!(
                "{file}: {url} is a supplement of {}; skipped",
                text("supplements").unwrap_or("another code system")
            ));
            return Ok(None);
        }
        Some(other) => {
            return Err(ImportError::resource(
                file,
                format!("{url}: unknown content `{other}`"),
            ));
        }
        None => return Err(ImportError::resource(file, format!("{url}: no content"))),
    };
    let name = text("name")
        .or_else(|| text("id"))
        .unwrap_or_else(|| url.rsplit('/').next().unwrap_or(url));
    let mut builder = SystemBuilder::new(file, url, name, content)
        .version(text("version").map(str::to_string).or(default_version))
        .case_sensitive(
            cs.get("caseSensitive")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        );
    if let Some(vs) = text("valueSet") {
        builder = builder.value_set(vs);
    }
    let mut several_parents = 0usize;
    let top = cs.get("concept").and_then(Value::as_array);
    // Depth-first with an explicit stack: (concept, the code it is nested under).
    let mut stack: Vec<(&Value, Option<&str>)> =
        top.into_iter().flatten().rev().map(|c| (c, None)).collect();
    while let Some((concept, nested_under)) = stack.pop() {
        let code = concept
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(|| ImportError::resource(file, format!("{url}: a concept without code")))?;
        let mut parents: Vec<&str> = nested_under.into_iter().collect();
        parents.extend(declared_parents(concept));
        parents.dedup();
        if parents.len() > 1 {
            several_parents += 1;
        }
        let display = concept
            .get("display")
            .and_then(Value::as_str)
            .map(str::to_string);
        builder.add(
            None,
            code,
            display,
            parents.first().map(|p| (*p).to_string()),
        )?;
        let children = concept.get("concept").and_then(Value::as_array);
        stack.extend(
            children
                .into_iter()
                .flatten()
                .rev()
                .map(|c| (c, Some(code))),
        );
    }
    if several_parents > 0 {
        notes.push(format!(
            "{file}: {several_parents} concepts of {url} have more than one parent; the first \
             (the enclosing concept, else the first `parent` property) is kept"
        ));
    }
    builder.finish().map(Some)
}

/// Parents declared as `parent` or `subsumedBy` properties (R4 has both spellings in use).
fn declared_parents(concept: &Value) -> impl Iterator<Item = &str> {
    concept
        .get("property")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| {
            matches!(
                p.get("code").and_then(Value::as_str),
                Some("parent" | "subsumedBy")
            )
        })
        .filter_map(|p| {
            p.get("valueCode")
                .or_else(|| p.get("valueString"))
                .or_else(|| p.get("valueCoding").and_then(|c| c.get("code")))
                .and_then(Value::as_str)
        })
}
