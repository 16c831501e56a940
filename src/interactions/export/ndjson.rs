//! The export walk: for each type, keyset pages in storage order (as `$everything` pages),
//! read within the caller's scope, audited, and appended to `{type}.ndjson`, one resource per
//! line. Only one page is held at a time, so memory stays bounded however large the export.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::{ExportRequest, Level};
use crate::audit::Interaction;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::everything::since_clause;
use crate::interactions::read::read_in;
use crate::interactions::search::page_in;
use crate::search::{Compartment, Prefix, SearchQuery, TotalMode};
use crate::store::StoredResource;

/// One file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutput {
    pub res_type: String,
    /// The file's name in the export directory.
    pub name: String,
    pub count: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Fhir(#[from] Error),
    #[error("cannot write {}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the export was cancelled")]
    Cancelled,
}

/// How the walk runs: resources per page, a cancel flag checked between pages, and a
/// callback told the running count after each page.
pub struct Walk<'a> {
    pub page: usize,
    pub cancelled: &'a AtomicBool,
    pub progress: &'a (dyn Fn(u64) + Send + Sync),
}

/// The Patient ids a Group names in `member.entity`, read within the caller's scope (a Group
/// the caller may not read is missing to them: 404), with the Group, for the kick-off's record.
pub async fn group_members(
    svc: &Services,
    id: &str,
) -> Result<(Vec<String>, StoredResource), Error> {
    let session = svc.session();
    let id = id.to_string();
    let group = svc
        .store
        .read(move |conn| read_in(&mut session.scoped(conn)?, "Group", &id, None))
        .await?;
    let content: Value = group
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or(Value::Null);
    let mut out: Vec<String> = Vec::new();
    for member in content
        .get("member")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let reference = member
            .pointer("/entity/reference")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(patient) = reference.strip_prefix("Patient/")
            && !patient.contains('/')
            && !out.iter().any(|p| p == patient)
        {
            out.push(patient.to_string());
        }
    }
    Ok((out, group))
}

/// Where the walk reads its pages: one page of a query, with the storage key of its last
/// resource; the source decides the scope and records the read.
pub trait Source {
    fn page(
        &self,
        query: SearchQuery,
    ) -> impl std::future::Future<Output = Result<(Vec<StoredResource>, Option<i64>), Error>> + Send;
}

/// Pages read as `svc`'s caller, with its scope, each recorded as one `$export` read event.
pub struct AsCaller<'a> {
    pub svc: &'a Services,
    pub level: &'a Level,
}

impl Source for AsCaller<'_> {
    async fn page(&self, query: SearchQuery) -> Result<(Vec<StoredResource>, Option<i64>), Error> {
        let svc = self.svc;
        let session = svc.session();
        let page = svc
            .store
            .read(move |conn| page_in(&mut session.scoped(conn)?, &query))
            .await?;
        if !page.resources.is_empty() {
            let (t, id) = self.level.target();
            svc.audit_read(Interaction::Export, t, id, page.resources.iter())
                .await?;
        }
        Ok((page.resources, page.keys.last().copied()))
    }
}

/// Writes the export of `request` into `dir` (which must exist); `members` are the Patients of
/// a Group-level export. Returns the files written, types with nothing exported left out.
pub async fn export<S: Source + Sync>(
    source: &S,
    request: &ExportRequest,
    members: &[String],
    dir: &Path,
    walk: &Walk<'_>,
) -> Result<Vec<FileOutput>, ExportError> {
    let mut outputs = Vec::new();
    let mut total = 0u64;
    for res_type in request.types() {
        let name = format!("{res_type}.ndjson");
        let path = dir.join(&name);
        let mut file = Sink { path, out: None };
        let mut count = 0u64;
        let patients: Vec<Option<&String>> = match request.level {
            Level::Group(_) => members.iter().map(Some).collect(),
            Level::System | Level::Patient => vec![None],
        };
        for patient in patients {
            let mut after = None;
            loop {
                if walk.cancelled.load(Ordering::Acquire) {
                    return Err(ExportError::Cancelled);
                }
                let query = page_query(request, &res_type, patient, after, walk.page);
                let (resources, last) = source.page(query).await?;
                for content in resources.iter().filter_map(|r| r.content.as_deref()) {
                    file.line(content)?;
                }
                count += resources.len() as u64;
                total += resources.len() as u64;
                (walk.progress)(total);
                match last {
                    Some(key) if resources.len() >= walk.page => after = Some(key),
                    _ => break,
                }
            }
        }
        file.finish()?;
        if count > 0 {
            outputs.push(FileOutput {
                res_type,
                name,
                count,
            });
        }
    }
    Ok(outputs)
}

fn page_query(
    request: &ExportRequest,
    res_type: &str,
    patient: Option<&String>,
    after: Option<i64>,
    count: usize,
) -> SearchQuery {
    let clauses = request
        .since
        .map(|since| since_clause(Prefix::Gt, since))
        .into_iter()
        .collect();
    let mut query = SearchQuery::new(res_type, count, 0);
    query.clauses = clauses;
    query.total = TotalMode::None;
    query.compartment = patient.map(|p| Compartment {
        patient: p.clone(),
        types: vec![res_type.to_string()],
    });
    query.after = after;
    query
}

/// A file opened at its first line, so a type with nothing exported leaves no file.
struct Sink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl Sink {
    fn line(&mut self, content: &str) -> Result<(), ExportError> {
        let path = &self.path;
        let fail = |source| ExportError::File {
            path: path.clone(),
            source,
        };
        let out = match &mut self.out {
            Some(out) => out,
            None => self
                .out
                .insert(BufWriter::new(File::create(path).map_err(fail)?)),
        };
        // Stored content is one line of JSON already; a line break inside would split it.
        if content.contains('\n') {
            let compact = serde_json::from_str::<Value>(content)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| content.replace('\n', " "));
            writeln!(out, "{compact}").map_err(fail)
        } else {
            writeln!(out, "{content}").map_err(fail)
        }
    }

    fn finish(self) -> Result<(), ExportError> {
        match self.out {
            Some(mut out) => out.flush().map_err(|source| ExportError::File {
                path: self.path,
                source,
            }),
            None => Ok(()),
        }
    }
}
