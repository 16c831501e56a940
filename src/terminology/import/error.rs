use std::path::PathBuf;

use crate::packages::PackageError;

/// Why a read failed. Every reader is all-or-nothing: a failed read returns no partial set.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A malformed record; `line` is the 1-based line where the record starts.
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: u64,
        message: String,
    },
    /// The file is not (or not recognisably) in the layout asked for.
    #[error("{file}: {message}")]
    Layout { file: String, message: String },
    #[error("{file}: invalid JSON: {message}")]
    Json { file: String, message: String },
    /// A FHIR resource that cannot be imported (no url, duplicate codes, unknown parent…).
    #[error("{file}: {message}")]
    Resource { file: String, message: String },
    #[error("{file}: neither UTF-8 nor Shift_JIS (cp932) text")]
    Encoding { file: String },
    /// The options do not fit what was read (e.g. `--system` for a file of several systems).
    #[error("{file}: {message}")]
    Options { file: String, message: String },
    #[error(transparent)]
    Package(#[from] PackageError),
}

impl ImportError {
    pub(super) fn layout(file: &str, message: impl Into<String>) -> Self {
        ImportError::Layout {
            file: file.to_string(),
            message: message.into(),
        }
    }

    pub(super) fn row(file: &str, line: u64, message: impl Into<String>) -> Self {
        ImportError::Row {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    pub(super) fn resource(file: &str, message: impl Into<String>) -> Self {
        ImportError::Resource {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
