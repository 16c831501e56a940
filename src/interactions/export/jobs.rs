//! Export jobs of the HTTP API: each runs as a background task writing into its own directory
//! (`{export_dir}/{job id}`), is seen only by the caller that started it, and is removed with
//! its files `export_retention` after it ends or when cancelled (DELETE). Jobs live in memory
//! only: a restart forgets them, and the next start removes the directories of jobs older than
//! the retention (not all: several servers may share the directory).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::ExportRequest;
use super::ndjson::{self, FileOutput, Walk};
use crate::access::Principal;
use crate::error::Error;
use crate::interactions::Services;
use crate::messages::InteractionMessage;
use crate::store::StoreError;

/// Where jobs write and how long their files are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    pub dir: PathBuf,
    pub retention: Duration,
    /// Resources read (and held) per page.
    pub page: usize,
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Running { exported: u64 },
    Done(Vec<FileOutput>),
    Failed,
}

pub struct Job {
    pub id: String,
    owner: Principal,
    /// The kick-off URL, for the manifest's `request`.
    pub request_url: String,
    /// When the export started (µs): the manifest's `transactionTime`.
    pub transaction_time: i64,
    cancelled: AtomicBool,
    exported: AtomicU64,
    outcome: Mutex<Option<Result<Vec<FileOutput>, ()>>>,
}

impl Job {
    pub fn status(&self) -> Status {
        match &*self.outcome.lock().unwrap_or_else(PoisonError::into_inner) {
            None => Status::Running {
                exported: self.exported.load(Ordering::Acquire),
            },
            Some(Ok(files)) => Status::Done(files.clone()),
            Some(Err(())) => Status::Failed,
        }
    }
}

/// The jobs of this server.
pub struct Jobs {
    options: ExportOptions,
    jobs: Mutex<HashMap<String, Arc<Job>>>,
}

impl Jobs {
    pub fn new(options: ExportOptions) -> Self {
        remove_expired(&options);
        Jobs {
            options,
            jobs: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Job>>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn dir_of(&self, id: &str) -> PathBuf {
        self.options.dir.join(id)
    }

    /// Starts exporting `request` for `svc`'s caller; returns the job id at once.
    pub fn start(
        self: &Arc<Self>,
        svc: Services,
        request: ExportRequest,
        members: Vec<String>,
        request_url: String,
    ) -> Result<String, Error> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = self.dir_of(&id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Store(StoreError::Task(format!("export directory: {e}"))))?;
        let job = Arc::new(Job {
            id: id.clone(),
            owner: svc.caller.principal.clone(),
            request_url,
            transaction_time: svc.clock.now_micros(),
            cancelled: AtomicBool::new(false),
            exported: AtomicU64::new(0),
            outcome: Mutex::new(None),
        });
        self.map().insert(id.clone(), job.clone());
        let jobs = self.clone();
        tokio::spawn(async move { jobs.run(svc, request, members, job, dir).await });
        Ok(id)
    }

    async fn run(
        self: Arc<Self>,
        svc: Services,
        request: ExportRequest,
        members: Vec<String>,
        job: Arc<Job>,
        dir: PathBuf,
    ) {
        let progress = |n: u64| job.exported.store(n, Ordering::Release);
        let walk = Walk {
            page: self.options.page,
            cancelled: &job.cancelled,
            progress: &progress,
        };
        let source = ndjson::AsCaller {
            svc: &svc,
            level: &request.level,
        };
        let result = ndjson::export(&source, &request, &members, &dir, &walk).await;
        let outcome = match result {
            Ok(files) => Ok(files),
            // A DELETE between pages may remove the directory under a write: still a cancel.
            Err(_) if job.cancelled.load(Ordering::Acquire) => {
                remove_dir(&dir);
                return;
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "export failed");
                remove_dir(&dir);
                Err(())
            }
        };
        *job.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        tokio::time::sleep(self.options.retention).await;
        self.map().remove(&job.id);
        remove_dir(&dir);
    }

    /// The job `id` if `caller` started it: another caller is told it does not exist, so a job
    /// id alone reveals nothing.
    pub fn get(&self, id: &str, caller: &Principal) -> Result<Arc<Job>, Error> {
        self.map()
            .get(id)
            .filter(|job| &job.owner == caller)
            .cloned()
            .ok_or_else(|| Error::RouteNotFound(InteractionMessage::ExportJobUnknown.into()))
    }

    /// Cancels a running job or removes a finished one, with its files.
    pub fn cancel(&self, id: &str, caller: &Principal) -> Result<(), Error> {
        let job = self.get(id, caller)?;
        job.cancelled.store(true, Ordering::Release);
        self.map().remove(id);
        remove_dir(&self.dir_of(id));
        Ok(())
    }

    /// The path of output file `name` of a finished job of `caller`.
    pub fn file(&self, id: &str, name: &str, caller: &Principal) -> Result<PathBuf, Error> {
        let job = self.get(id, caller)?;
        match job.status() {
            Status::Done(files) if files.iter().any(|f| f.name == name) => {
                Ok(self.dir_of(id).join(name))
            }
            _ => Err(Error::RouteNotFound(
                InteractionMessage::ExportJobUnknown.into(),
            )),
        }
    }
}

fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "export files not removed");
    }
}

/// Removes the job directories a previous run left that are older than the retention.
fn remove_expired(options: &ExportOptions) {
    let Ok(entries) = std::fs::read_dir(&options.dir) else {
        return;
    };
    for entry in entries.flatten() {
        let expired = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > options.retention);
        if expired && entry.path().is_dir() {
            remove_dir(&entry.path());
        }
    }
}
