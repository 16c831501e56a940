//! Reading one package, from a `.tgz` (decompressed in memory) or a directory, into a
//! [`Package`]. Only the JSON files directly in `package/` are read: sub-folders (`example/`,
//! `openapi/`, `xml/`, `other/`) hold nothing validation needs.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::lazy::{Header, HeaderError, LazyJson};
use super::prose::Detail;
use super::{KEPT_TYPES, Manifest, Package, PackageError, PackageId, Resource};

/// A file of the package's `package/` folder: its name there and its bytes.
pub type RawFile = (String, Vec<u8>);

/// Upper bound on the buffer reserved from a tar header's size field, so a corrupt header cannot
/// ask for an absurd allocation up front (larger files still read, just growing the buffer).
const MAX_RESERVE: u64 = 64 << 20;

/// Below this many bytes of JSON, parsing on one thread beats starting others.
const PARALLEL_THRESHOLD: usize = 4 << 20;

/// Reads a `.tgz` file or a package directory (with or without the `package/` level).
pub fn load_package(path: &Path) -> Result<Package, PackageError> {
    load_package_with(path, Detail::Full)
}

/// As [`load_package`], keeping of each StructureDefinition what `detail` says.
pub fn load_package_with(path: &Path, detail: Detail) -> Result<Package, PackageError> {
    let mut files = read_files(path)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    build_package(path, &files, detail)
}

/// Reads a `.tgz` already in memory (e.g. an upload); `path` only names it in errors.
pub fn load_package_bytes(path: &Path, bytes: &[u8]) -> Result<Package, PackageError> {
    let files = read_tgz(path, bytes)?;
    package_from_files(path, files)
}

/// The JSON files directly in the `package/` folder of a `.tgz` or a package directory,
/// unparsed (`package.json` and `.index.json` among them).
pub fn read_files(path: &Path) -> Result<Vec<RawFile>, PackageError> {
    let meta = fs::metadata(path).map_err(|source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        read_dir(path)
    } else {
        let bytes = fs::read(path).map_err(|source| PackageError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        read_tgz(path, &bytes)
    }
}

/// The `package/` JSON files of a gzip-compressed tar archive held in memory.
pub(super) fn read_tgz(path: &Path, bytes: &[u8]) -> Result<Vec<RawFile>, PackageError> {
    let archive_error = |source| PackageError::Archive {
        path: path.to_path_buf(),
        source,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = match entry.path() {
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(e) => return Err(archive_error(e)),
        };
        let name = name.strip_prefix("./").unwrap_or(&name);
        let Some(file) = name.strip_prefix("package/") else {
            continue;
        };
        if !is_package_json_file(file) {
            continue;
        }
        let file = file.to_string();
        let mut buf =
            Vec::with_capacity(usize::try_from(entry.size().min(MAX_RESERVE)).unwrap_or(0));
        entry.read_to_end(&mut buf).map_err(archive_error)?;
        files.push((file, buf));
    }
    if files.is_empty() {
        return Err(PackageError::MissingManifest {
            path: path.to_path_buf(),
        });
    }
    Ok(files)
}

fn read_dir(path: &Path) -> Result<Vec<RawFile>, PackageError> {
    let nested = path.join("package");
    let dir = if nested.join("package.json").is_file() {
        nested
    } else {
        path.to_path_buf()
    };
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| PackageError::Io { path: p, source }
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_package_json_file(&name) || !entry.file_type().map_err(io(&dir))?.is_file() {
            continue;
        }
        let file_path = entry.path();
        let bytes = fs::read(&file_path).map_err(io(&file_path))?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// A JSON file directly in `package/` (no sub-folder); dot-files other than the index are not
/// package content.
fn is_package_json_file(name: &str) -> bool {
    !name.contains('/')
        && name.ends_with(".json")
        && (!name.starts_with('.') || name == ".index.json")
}

#[derive(Deserialize)]
struct IndexFile {
    files: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    filename: String,
    #[serde(rename = "resourceType")]
    resource_type: String,
}

/// Builds a package from its `package/` files (`package.json` required, `.index.json` used to
/// skip non-conformance files unparsed when present).
pub fn package_from_files(source: &Path, mut files: Vec<RawFile>) -> Result<Package, PackageError> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    build_package(source, &files, Detail::Full)
}

/// As [`package_from_files`], for files already sorted by name.
pub(super) fn build_package(
    source: &Path,
    files: &[RawFile],
    detail: Detail,
) -> Result<Package, PackageError> {
    let manifest_bytes = files
        .iter()
        .find(|(name, _)| name == "package.json")
        .map(|(_, b)| b)
        .ok_or_else(|| PackageError::MissingManifest {
            path: source.to_path_buf(),
        })?;
    let manifest = parse_manifest(source, manifest_bytes)?;
    let id = Arc::new(PackageId {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
    });
    let index: HashMap<String, String> = match files.iter().find(|(n, _)| n == ".index.json") {
        Some((_, bytes)) => serde_json::from_slice::<IndexFile>(bytes)
            .map_err(|e| json_error(source, ".index.json", e))?
            .files
            .into_iter()
            .map(|e| (e.filename, e.resource_type))
            .collect(),
        None => HashMap::new(),
    };
    let mut skipped_files = 0;
    let mut to_parse: Vec<&RawFile> = Vec::new();
    for file in files {
        let name = file.0.as_str();
        if name == "package.json" || name == ".index.json" {
            continue;
        }
        match index.get(name) {
            Some(t) if !KEPT_TYPES.contains(&t.as_str()) => skipped_files += 1,
            _ => to_parse.push(file),
        }
    }
    let parsed = parse_all(source, &id, &to_parse, detail)?;
    let mut resources = Vec::with_capacity(parsed.len());
    for r in parsed {
        match r {
            Some(r) => resources.push(r),
            None => skipped_files += 1,
        }
    }
    Ok(Package {
        id,
        manifest,
        source: source.to_path_buf(),
        resources,
        skipped_files,
    })
}

/// One thread's share of the files: (position, resource if kept).
type ParsedChunk = Result<Vec<(usize, Option<Resource>)>, PackageError>;

/// Parses on several threads when there is enough JSON to be worth it; order is kept.
fn parse_all(
    source: &Path,
    id: &Arc<PackageId>,
    files: &[&RawFile],
    detail: Detail,
) -> Result<Vec<Option<Resource>>, PackageError> {
    let total: usize = files.iter().map(|f| f.1.len()).sum();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if total < PARALLEL_THRESHOLD || threads < 2 {
        return files
            .iter()
            .map(|f| parse_one(source, id, f, detail))
            .collect();
    }
    // Chunks of interleaved files so that one thread does not get all the big ValueSets.
    let chunks: Vec<Vec<(usize, &RawFile)>> = (0..threads)
        .map(|t| {
            files
                .iter()
                .enumerate()
                .skip(t)
                .step_by(threads)
                .map(|(i, f)| (i, *f))
                .collect()
        })
        .collect();
    let results: Vec<ParsedChunk> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(i, f)| parse_one(source, id, f, detail).map(|r| (*i, r)))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out: Vec<Option<Resource>> = Vec::new();
    out.resize_with(files.len(), || None);
    for chunk in results {
        for (i, r) in chunk? {
            out[i] = r;
        }
    }
    Ok(out)
}

fn parse_one(
    source: &Path,
    id: &Arc<PackageId>,
    (name, bytes): &RawFile,
    detail: Detail,
) -> Result<Option<Resource>, PackageError> {
    let bad = |reason: &str| PackageError::BadResource {
        path: source.to_path_buf(),
        file: name.clone(),
        reason: reason.to_string(),
    };
    let header = Header::read(bytes).map_err(|e| match e {
        HeaderError::Json(e) => json_error(source, name, e),
        HeaderError::Utf8(e) => bad(&format!("not UTF-8: {e}")),
    })?;
    if !header.object {
        return Err(bad("not a JSON object"));
    }
    let Some(resource_type) = header.resource_type else {
        return Err(bad("no resourceType"));
    };
    if !KEPT_TYPES.contains(&resource_type.as_str()) {
        return Ok(None);
    }
    let json = LazyJson::unparsed(
        format!("{id}/{name}"),
        bytes.as_slice().into(),
        detail,
        resource_type == "StructureDefinition",
    );
    Ok(Some(Resource {
        resource_type,
        id: header.id,
        url: header.url,
        version: header.version,
        file: name.clone(),
        package: Arc::clone(id),
        json: Arc::new(json),
    }))
}

fn json_error(source: &Path, file: &str, e: serde_json::Error) -> PackageError {
    PackageError::Json {
        path: source.to_path_buf(),
        file: file.to_string(),
        source: e,
    }
}

pub(super) fn parse_manifest(source: &Path, bytes: &[u8]) -> Result<Manifest, PackageError> {
    let bad = |reason: String| PackageError::BadManifest {
        path: source.to_path_buf(),
        reason,
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| json_error(source, "package.json", e))?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let name = text("name").ok_or_else(|| bad("no \"name\" string".into()))?;
    let version = text("version").ok_or_else(|| bad("no \"version\" string".into()))?;
    let strings = |key: &str| -> Result<Vec<String>, PackageError> {
        match value.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad(format!("\"{key}\" has a non-string item")))
                })
                .collect(),
            Some(_) => Err(bad(format!("\"{key}\" is not an array"))),
        }
    };
    // Older packages spell it `fhir-version-list`.
    let mut fhir_versions = strings("fhirVersions")?;
    if fhir_versions.is_empty() {
        fhir_versions = strings("fhir-version-list")?;
    }
    let dependencies = match value.get("dependencies") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(deps)) => deps
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|v| (k.clone(), v.to_string()))
                    .ok_or_else(|| bad(format!("dependency {k} has no version string")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("\"dependencies\" is not an object".into())),
    };
    Ok(Manifest {
        name,
        version,
        fhir_versions,
        canonical: text("canonical"),
        dependencies,
    })
}
