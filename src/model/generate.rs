//! `kyoyu package generate-base`: builds the [`BaseModel`] from the core package's
//! StructureDefinitions and writes `fhir-schemas/` — the model file, the JSON Schemas of the
//! structural pass, and the patient compartment table of the access rules
//! ([`super::compartment`]). The output is deterministic (types by name, elements in snapshot
//! order, keys in a fixed order), so regenerating from the same package gives the same bytes; a
//! test checks the committed files that way.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::schema::{self, SchemaError};
use super::{
    BaseModel, Binding, Constraint, Discriminator, ElementDef, JsonType, ModelData,
    PRIMITIVE_TYPES, Slicing, TypeDef, TypeKind, TypeRef, TypedValue,
};
use crate::packages::{Package, PackageError};

const REGEX_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/regex";
const FHIR_TYPE_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

/// The model file, relative to the output folder.
pub const MODEL_FILE: &str = "r4-model.json";
/// The JSON Schema folder, relative to the output folder.
pub const SCHEMA_DIR: &str = "json";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("StructureDefinition {url}: {reason}")]
    Definition { url: String, reason: String },
    #[error("{package}: defines no base types (is it hl7.fhir.r4.core?)")]
    NoTypes { package: String },
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Compartment(#[from] super::compartment::CompartmentError),
    #[error("cannot serialize the model: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateReport {
    /// `name#version` of the source package.
    pub package: String,
    pub types: usize,
    pub elements: usize,
    /// Every file written, with its size in bytes.
    pub files: Vec<(PathBuf, u64)>,
}

/// Reads the core package (`.tgz` or directory) and writes the model and schemas under `out`.
/// Schema files of types that no longer exist are removed; nothing else in `out` is touched.
pub fn generate_base(from: &Path, out: &Path) -> Result<GenerateReport, ModelError> {
    let package = Package::load(from)?;
    let model = build_base_model(&package)?;
    let mut files = render_files(&model)?;
    // The patient compartment table (access rules) comes from the same package.
    let compartment = super::compartment::build_table(&package)?;
    files.push((
        PathBuf::from(super::compartment::TABLE_FILE),
        super::compartment::render_table(model.package(), &compartment),
    ));
    let schema_dir = out.join(SCHEMA_DIR);
    fs::create_dir_all(&schema_dir).map_err(|source| ModelError::Io {
        path: schema_dir.clone(),
        source,
    })?;
    let keep: BTreeSet<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    let stale = fs::read_dir(&schema_dir).map_err(|source| ModelError::Io {
        path: schema_dir.clone(),
        source,
    })?;
    for entry in stale.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = Path::new(SCHEMA_DIR).join(&name);
        if name.ends_with(".schema.json") && !keep.contains(relative.as_path()) {
            fs::remove_file(entry.path()).map_err(|source| ModelError::Io {
                path: entry.path(),
                source,
            })?;
        }
    }
    let mut written = Vec::with_capacity(files.len());
    for (relative, text) in &files {
        let path = out.join(relative);
        fs::write(&path, text).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        written.push((path, text.len() as u64));
    }
    Ok(GenerateReport {
        package: model.package().to_string(),
        types: model.types().len(),
        elements: model.types().iter().map(|t| t.elements.len()).sum(),
        files: written,
    })
}

/// Every generated file: its path relative to the output folder and its contents.
pub fn render_files(model: &BaseModel) -> Result<Vec<(PathBuf, String)>, ModelError> {
    let mut files = vec![(PathBuf::from(MODEL_FILE), render_model(model)?)];
    let pretty = |v: &Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    let datatypes = schema::datatypes_schema(model)?;
    files.push((
        Path::new(SCHEMA_DIR).join(schema::DATATYPES_FILE),
        pretty(&datatypes)?,
    ));
    for def in model.types() {
        if def.kind == TypeKind::Resource && !def.is_abstract {
            let schema = schema::resource_schema(model, &def.name)?;
            files.push((
                Path::new(SCHEMA_DIR).join(schema::schema_file_name(&def.name)),
                pretty(&schema)?,
            ));
        }
    }
    Ok(files)
}

/// The types of the core package: primitive types, complex types and resources that are
/// specializations, and the abstract roots (which have no base).
pub fn build_base_model(package: &Package) -> Result<BaseModel, ModelError> {
    let mut types = Vec::new();
    let mut fhir_version = None;
    for resource in package.resources.iter() {
        if resource.resource_type != "StructureDefinition" {
            continue;
        }
        let sd = &**resource.json();
        let kind = sd.get("kind").and_then(Value::as_str);
        if !matches!(kind, Some("primitive-type" | "complex-type" | "resource")) {
            continue;
        }
        let derivation = sd.get("derivation").and_then(Value::as_str);
        let has_base = sd.get("baseDefinition").is_some();
        if !(derivation == Some("specialization") || (derivation.is_none() && !has_base)) {
            continue;
        }
        if fhir_version.is_none() {
            fhir_version = sd
                .get("fhirVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        types.push(type_from_structure_definition(sd)?);
    }
    if types.is_empty() {
        return Err(ModelError::NoTypes {
            package: package.id.to_string(),
        });
    }
    types.sort_by(|a, b| a.name.cmp(&b.name));
    let fhir_version = fhir_version
        .or_else(|| package.manifest.fhir_versions.first().cloned())
        .unwrap_or_default();
    Ok(BaseModel::new(ModelData {
        fhir_version,
        package: package.id.to_string(),
        types,
    }))
}

/// One type from its StructureDefinition's snapshot.
pub fn type_from_structure_definition(sd: &Value) -> Result<TypeDef, ModelError> {
    let url = sd
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("(no url)")
        .to_string();
    let bad = |reason: String| ModelError::Definition {
        url: url.clone(),
        reason,
    };
    let text = |key: &str| sd.get(key).and_then(Value::as_str);
    let name = text("type")
        .ok_or_else(|| bad("no type".into()))?
        .to_string();
    let kind = match text("kind") {
        Some("primitive-type") => TypeKind::PrimitiveType,
        Some("complex-type") => TypeKind::ComplexType,
        Some("resource") => TypeKind::Resource,
        other => return Err(bad(format!("kind {other:?} is not a base type kind"))),
    };
    let snapshot = sd
        .pointer("/snapshot/element")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no snapshot".into()))?;
    let elements = snapshot
        .iter()
        .map(element_from_snapshot)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let (json_type, regex) = if kind == TypeKind::PrimitiveType {
        let value_path = format!("{name}.value");
        let value = snapshot
            .iter()
            .find(|e| e.get("path").and_then(Value::as_str) == Some(value_path.as_str()));
        let regex = value.and_then(|e| {
            let on_types = e
                .get("type")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| extension_value(t, REGEX_EXTENSION));
            on_types
                .chain(extension_value(e, REGEX_EXTENSION))
                .next()
                .map(str::to_string)
        });
        (Some(json_type_of(&name)), regex)
    } else {
        (None, None)
    };
    Ok(TypeDef {
        base: text("baseDefinition").map(|b| b.rsplit('/').next().unwrap_or(b).to_string()),
        is_abstract: sd.get("abstract").and_then(Value::as_bool).unwrap_or(false),
        name,
        kind,
        url,
        json_type,
        regex,
        elements,
    })
}

/// The JSON form of each primitive, as the R4 JSON format specifies it (the definitions do not
/// say it: their `value` elements name FHIRPath system types, `System.String` for positiveInt).
pub fn json_type_of(primitive: &str) -> JsonType {
    match primitive {
        "boolean" => JsonType::Boolean,
        "integer" | "positiveInt" | "unsignedInt" => JsonType::Integer,
        "decimal" => JsonType::Number,
        _ => JsonType::String,
    }
}

fn extension_value<'a>(holder: &'a Value, url: &str) -> Option<&'a str> {
    holder
        .get("extension")?
        .as_array()?
        .iter()
        .find(|x| x.get("url").and_then(Value::as_str) == Some(url))
        .and_then(|x| {
            ["valueString", "valueUrl", "valueUri", "valueCode"]
                .iter()
                .find_map(|k| x.get(*k).and_then(Value::as_str))
        })
}

/// An ElementDefinition of a snapshot, reduced: no text (short, definition, comment,
/// requirements, alias, mapping, human, xpath, example, meaningWhenMissing…).
pub fn element_from_snapshot(e: &Value) -> Result<ElementDef, String> {
    let object = e.as_object().ok_or("an element is not an object")?;
    let text = |key: &str| object.get(key).and_then(Value::as_str);
    let path = text("path").ok_or("an element has no path")?.to_string();
    let fail = |what: &str| format!("{path}: {what}");
    let strings = |value: Option<&Value>| -> Vec<String> {
        value
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let min = match object.get("min") {
        None => 0,
        Some(v) => v
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .ok_or_else(|| fail("min is not a small unsigned integer"))?,
    };
    let mut types = Vec::new();
    for t in object
        .get("type")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let code = t
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("a type has no code"))?
            .to_string();
        let fhir_type = if code.starts_with(super::SYSTEM_TYPE_PREFIX) {
            extension_value(t, FHIR_TYPE_EXTENSION).map(str::to_string)
        } else {
            None
        };
        types.push(TypeRef {
            code,
            fhir_type,
            profile: strings(t.get("profile")),
            target_profile: strings(t.get("targetProfile")),
        });
    }
    let typed = |prefix: &str| -> Option<TypedValue> {
        object.iter().find_map(|(k, v)| {
            let suffix = k.strip_prefix(prefix)?;
            suffix
                .starts_with(|c: char| c.is_ascii_uppercase())
                .then(|| TypedValue {
                    type_code: type_from_suffix(suffix),
                    value: v.clone(),
                })
        })
    };
    let binding = match object.get("binding") {
        None => None,
        Some(b) => Some(Binding {
            strength: serde_json::from_value(b.get("strength").cloned().unwrap_or(Value::Null))
                .map_err(|_| fail("binding has no valid strength"))?,
            value_set: b
                .get("valueSet")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
    };
    let mut constraints = Vec::new();
    for c in object
        .get("constraint")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = c
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("a constraint has no key"))?;
        constraints.push(Constraint {
            key: key.to_string(),
            severity: serde_json::from_value(c.get("severity").cloned().unwrap_or(Value::Null))
                .map_err(|_| fail(&format!("constraint {key} has no valid severity")))?,
            expression: c
                .get("expression")
                .and_then(Value::as_str)
                .map(str::to_string),
            human: c.get("human").and_then(Value::as_str).map(str::to_string),
        });
    }
    let slicing = match object.get("slicing") {
        None => None,
        Some(s) => Some(Slicing {
            discriminator: s
                .get("discriminator")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|d| {
                    let field = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
                    match (field("type"), field("path")) {
                        (Some(kind), Some(path)) => Ok(Discriminator { kind, path }),
                        _ => Err(fail("a slicing discriminator lacks type or path")),
                    }
                })
                .collect::<Result<_, _>>()?,
            ordered: s.get("ordered").and_then(Value::as_bool).unwrap_or(false),
            rules: serde_json::from_value(s.get("rules").cloned().unwrap_or(Value::Null))
                .map_err(|_| fail("slicing has no valid rules"))?,
        }),
    };
    let flag = |key: &str| object.get(key).and_then(Value::as_bool).unwrap_or(false);
    Ok(ElementDef {
        id: text("id").filter(|id| *id != path).map(str::to_string),
        slice_name: text("sliceName").map(str::to_string),
        min,
        max: text("max").unwrap_or("*").to_string(),
        types,
        content_reference: text("contentReference").map(str::to_string),
        fixed: typed("fixed"),
        pattern: typed("pattern"),
        min_value: typed("minValue"),
        max_value: typed("maxValue"),
        max_length: object.get("maxLength").and_then(Value::as_u64),
        binding,
        constraints,
        condition: strings(object.get("condition")),
        slicing,
        is_modifier: flag("isModifier"),
        is_summary: flag("isSummary"),
        path,
    })
}

/// `fixedUri` → `uri`, `patternCodeableConcept` → `CodeableConcept`.
fn type_from_suffix(suffix: &str) -> String {
    let mut chars = suffix.chars();
    let lowered = match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    };
    if PRIMITIVE_TYPES.contains(&lowered.as_str()) {
        lowered
    } else {
        suffix.to_string()
    }
}

/// The model file: one line per type header and one per element, so it reads and diffs well
/// without the bulk of fully pretty-printed JSON.
pub fn render_model(model: &BaseModel) -> Result<String, serde_json::Error> {
    let data = model.data();
    let mut out = String::with_capacity(4 << 20);
    out.push_str("{\n");
    let _ = writeln!(
        out,
        "  \"fhirVersion\": {},",
        serde_json::to_string(&data.fhir_version)?
    );
    let _ = writeln!(
        out,
        "  \"package\": {},",
        serde_json::to_string(&data.package)?
    );
    out.push_str("  \"types\": [\n");
    for (t, def) in data.types.iter().enumerate() {
        let mut header = match serde_json::to_value(def)? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        header.remove("elements");
        let header = Value::Object(header).to_string();
        let open = header.strip_suffix('}').unwrap_or(&header);
        let _ = writeln!(out, "    {open},\"elements\":[");
        for (i, e) in def.elements.iter().enumerate() {
            let comma = if i + 1 < def.elements.len() { "," } else { "" };
            let _ = writeln!(out, "      {}{comma}", serde_json::to_string(e)?);
        }
        let comma = if t + 1 < data.types.len() { "," } else { "" };
        let _ = writeln!(out, "    ]}}{comma}");
    }
    out.push_str("  ]\n}\n");
    Ok(out)
}
