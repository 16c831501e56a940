//! `kyoyu codesets generate`: the code lists whose licence allows redistribution, read with the
//! import's own readers and written under `codesets/` in the generated form of [`mod@format`]. What
//! is not on the list here is left to the operator's import (see `codesets/NOTICE`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::format::{self, Provenance};
use super::{GENERATOR, SOURCES, Source};
use crate::terminology::ImportSet;
use crate::terminology::import::{ImportError, ImportOptions, read_path};

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Import(#[from] ImportError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no file named {pattern}* under {dir}")]
    Missing { pattern: String, dir: PathBuf },
    #[error("{0} matches more than one file: {1}")]
    Ambiguous(String, String),
    #[error("writing {file}: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
}

/// One written file.
#[derive(Debug)]
pub struct Generated {
    pub file: &'static str,
    pub from: PathBuf,
    pub concepts: usize,
}

/// Reads every list of [`SOURCES`] from `from` (searched recursively by file name) and writes
/// its generated form into `out`. Every list must be found: a partial set would silently drop
/// a shipped code system.
pub fn generate(from: &Path, out: &Path) -> Result<Vec<Generated>, GenerateError> {
    let mut files = Vec::new();
    collect(from, &mut files)?;
    let mut done = Vec::new();
    for source in SOURCES {
        let path = find(source, from, &files)?;
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let set = read_path(&path, &ImportOptions::default())?;
        let text = render(source, &path, &bytes, &set)?;
        let target = out.join(source.file);
        std::fs::write(&target, text).map_err(|e| io(&target, e))?;
        done.push(Generated {
            file: source.file,
            from: path,
            concepts: set.systems.iter().map(|s| s.concepts.len()).sum(),
        });
    }
    Ok(done)
}

fn render(
    source: &Source,
    path: &Path,
    bytes: &[u8],
    set: &ImportSet,
) -> Result<String, GenerateError> {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let sha256 = digest.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    let provenance = Provenance {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256,
        publisher: source.publisher.into(),
        licence: source.licence.into(),
        generator: GENERATOR.into(),
    };
    format::write(&provenance, &set.systems, &set.value_sets).map_err(|e| GenerateError::Json {
        file: source.file.into(),
        source: e,
    })
}

fn find(source: &Source, dir: &Path, files: &[PathBuf]) -> Result<PathBuf, GenerateError> {
    let matching: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(source.pattern))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(GenerateError::Missing {
            pattern: source.pattern.into(),
            dir: dir.to_path_buf(),
        }),
        many => Err(GenerateError::Ambiguous(
            source.pattern.into(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), GenerateError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| io(dir, e))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn io(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}
