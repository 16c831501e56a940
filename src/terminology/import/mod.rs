//! Reading code lists into [`ImportSet`]s for `kyoyu codesets import`: FHIR CodeSystems,
//! ValueSets, Bundles and NPM packages, and the CSV masters of the Japanese code systems (MHLW,
//! MEDIS, J-FAGY, the CLINS lab item tables, the checkup IG's code system table).
//!
//! Pure parsing: files in, an [`ImportSet`] out; storing it is someone else's job. A read is
//! all-or-nothing: a malformed record fails it with the file and the line the record starts on,
//! and nothing of the file is returned. What a reader recognised but did not import, or had to
//! allow for in the data, is said in [`ImportSet::notes`].
//!
//! The layout is the `--layout` given, else told from the file: JSON or gzip content is FHIR, a
//! CSV is recognised by its header row (`detect.rs`), a directory is a package when it has
//! `package.json`, else a folder whose code lists are read one by one and merged.

mod builder;
mod clins;
mod detect;
mod error;
mod fhir;
mod jfagy;
mod medication;
mod options;
mod table;
mod tables;
mod urls;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_data;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_fhir;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use error::ImportError;
pub use options::{ColumnMap, ImportOptions, Layout};

use super::ImportSet;
use crate::terminology::canonical_system;
use table::Table;

/// Extensions of the files a folder import reads; anything else there is noted and skipped.
const LIST_EXTENSIONS: &[&str] = &["csv", "json", "tgz"];

/// Reads every path, each as [`read_path`] does, and merges what several files hold of one code
/// system; the first malformed file stops the run before anything is stored. What each read
/// found, and its notes, go to standard error: `kyoyu codesets import`, `kyoyu validate
/// --codeset` and the terminology bench all report their reads so.
pub fn read_all(
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<Vec<(String, ImportSet)>, String> {
    let mut sets = Vec::new();
    for path in paths {
        let started = Instant::now();
        let set = read_path(path, options).map_err(|e| e.to_string())?;
        let source = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let concepts: usize = set.systems.iter().map(|s| s.concepts.len()).sum();
        eprintln!(
            "read {source}: {} code systems, {concepts} concepts, {} value sets in {:.1} ms",
            set.systems.len(),
            set.value_sets.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
        for note in &set.notes {
            eprintln!("  note: {note}");
        }
        sets.push((source, set));
    }
    let seen: Vec<usize> = sets.iter().map(|(_, s)| s.notes.len()).collect();
    super::model::merge_same_systems(&mut sets);
    for ((_, set), n) in sets.iter().zip(seen) {
        for note in &set.notes[n..] {
            eprintln!("  note: {note}");
        }
    }
    Ok(sets)
}

/// Reads a file, a `.tgz` package, a package directory, or a folder of code lists (recursively,
/// in name order, merged into one set).
pub fn read_path(path: &Path, options: &ImportOptions) -> Result<ImportSet, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if fs::metadata(path).map_err(io)?.is_dir() {
        if is_package_dir(path) {
            let set = fhir::read_package(path)?;
            return finish(&path.display().to_string(), set, options);
        }
        return read_folder(path, options);
    }
    let bytes = fs::read(path).map_err(io)?;
    read_bytes(&path.display().to_string(), &bytes, options)
}

/// Reads one file's bytes; `name` is its file name (the layout of some masters is told by it)
/// and names it in errors.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportSet, ImportError> {
    let layout = options
        .layout
        .or_else(|| options.columns.as_ref().map(|_| Layout::Mapped));
    if layout == Some(Layout::Fhir) || (layout.is_none() && looks_like_fhir(name, bytes)) {
        let set = fhir::read_bytes(name, bytes)?;
        return finish(name, set, options);
    }
    let (text, shift_jis) = table::decode(name, bytes)?;
    let table = Table::parse(name, &text)?;
    let layout = match layout {
        Some(layout) => layout,
        None => detect::detect(&table)?,
    };
    let mut set = match layout {
        // Handled above, before any CSV parsing.
        Layout::Fhir => return Err(ImportError::layout(name, "FHIR content read as CSV")),
        Layout::CodeSystemTable => tables::read_code_system_table(&table)?,
        Layout::ReceiptDisease
        | Layout::ReceiptModifier
        | Layout::MedisModifier
        | Layout::Jlac10 => tables::read_code_display(&table, layout)?,
        Layout::Mapped => tables::read_mapped(&table, options)?,
        Layout::Jfagy => jfagy::read_jfagy(&table)?,
        Layout::Yakka => medication::read_yakka(&table)?,
        Layout::Ippanmei => medication::read_ippanmei(&table)?,
        Layout::Hot9 => medication::read_hot9(&table)?,
        Layout::ClinsItems => clins::read_items(&table)?,
        Layout::ClinsMaster => clins::read_master(&table)?,
        Layout::ClinsSummary => clins::read_summary(&table),
    };
    if shift_jis {
        set.notes
            .push(format!("{name}: not UTF-8; read as Shift_JIS (cp932)"));
    }
    finish(name, set, options)
}

fn looks_like_fhir(name: &str, bytes: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.starts_with(&[0x1f, 0x8b])
        || lower.ends_with(".json")
        || lower.ends_with(".tgz")
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn is_package_dir(path: &Path) -> bool {
    path.join("package.json").is_file() || path.join("package").join("package.json").is_file()
}

/// Old OIDs to URLs, then the operator's overrides, then the one-definition check.
fn finish(
    file: &str,
    mut set: ImportSet,
    options: &ImportOptions,
) -> Result<ImportSet, ImportError> {
    for system in &mut set.systems {
        system.url = canonical_system(&system.url).to_string();
    }
    let single = |what: &str, set: &ImportSet| {
        if set.systems.len() == 1 {
            Ok(())
        } else {
            Err(ImportError::Options {
                file: file.to_string(),
                message: format!(
                    "{what} applies to one code system, and this reads {}",
                    set.systems.len()
                ),
            })
        }
    };
    if let Some(system) = &options.system {
        single("--system", &set)?;
        set.systems[0].url = canonical_system(system).to_string();
    }
    if !options.value_sets.is_empty() {
        single("--value-set", &set)?;
        let value_sets = &mut set.systems[0].value_sets;
        for vs in &options.value_sets {
            if !value_sets.contains(vs) {
                value_sets.push(vs.clone());
            }
        }
    }
    for system in &mut set.systems {
        if let Some(version) = &options.version {
            system.version = Some(version.clone());
        }
        if let Some(content) = options.content {
            system.content = content;
        }
    }
    let mut seen = HashMap::new();
    check_unique(file, &set, &mut seen)?;
    Ok(set)
}

/// One definition per `url|version`: two would leave the store to pick one silently.
fn check_unique(
    file: &str,
    set: &ImportSet,
    seen: &mut HashMap<(String, Option<String>), String>,
) -> Result<(), ImportError> {
    for system in &set.systems {
        let key = (system.url.clone(), system.version.clone());
        if let Some(first) = seen.insert(key, file.to_string()) {
            let version = system.version.as_deref().unwrap_or("(no version)");
            return Err(ImportError::Options {
                file: file.to_string(),
                message: format!(
                    "{}|{version} is also defined by {first}; import them separately",
                    system.url
                ),
            });
        }
    }
    Ok(())
}

/// Every code list under a folder, in name order, merged.
fn read_folder(path: &Path, options: &ImportOptions) -> Result<ImportSet, ImportError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    collect(path, &mut files, &mut skipped)?;
    let mut merged = ImportSet::default();
    let mut seen = HashMap::new();
    for file in files {
        let set = read_path(&file, options)?;
        check_unique(&file.display().to_string(), &set, &mut seen)?;
        merged.systems.extend(set.systems);
        merged.value_sets.extend(set.value_sets);
        merged.notes.extend(set.notes);
    }
    for file in skipped {
        merged.notes.push(format!(
            "{}: skipped, not a code list (.csv, .json or .tgz)",
            file.display()
        ));
    }
    Ok(merged)
}

/// The code lists under `dir`: files with a known extension and package directories, sorted.
fn collect(
    dir: &Path,
    files: &mut Vec<std::path::PathBuf>,
    skipped: &mut Vec<std::path::PathBuf>,
) -> Result<(), ImportError> {
    let io = |source| ImportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            if is_package_dir(&entry) {
                files.push(entry);
            } else {
                collect(&entry, files, skipped)?;
            }
        } else {
            let ext = entry
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            match ext {
                Some(e) if LIST_EXTENSIONS.contains(&e.as_str()) => files.push(entry),
                _ => skipped.push(entry),
            }
        }
    }
    Ok(())
}
