//! SQLite: WAL mode, a pool of reader connections, and one writer thread.
//!
//! SQLite allows one writer at a time; instead of letting request threads fight over the write
//! lock (busy waits, `SQLITE_BUSY`), every write is queued to a single thread that owns the
//! write connection. It takes whatever is queued (up to `group_commit_max`), runs each job in
//! its own savepoint — a failing job rolls back alone — and commits them with one fsync.
//! Callers are answered only after that commit, so a 2xx always means "on disk".

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::sqlite_checkpoint::{CheckpointHold, Checkpointer, RestartRequest};
use super::sqlite_full::Recovery;
use super::{Conn, StoreError, StoreOptions, TxError};

/// Settings every connection gets; the writer adds durability settings on top.
fn common_pragmas(options: &StoreOptions) -> String {
    format!(
        "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -32768;",
        options.busy_timeout.as_millis()
    )
}

/// Opens a connection in WAL mode. Used by migrations and the writer.
pub(super) fn open_writer_connection(
    path: &str,
    options: &StoreOptions,
) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path)?;
    let synchronous = if options.sqlite_synchronous_full {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.batch_execute(&format!(
        "{} PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};",
        common_pragmas(options)
    ))?;
    Ok(conn)
}

#[derive(Debug)]
struct ReaderSetup {
    pragmas: String,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ReaderSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&self.pragmas)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

pub(super) fn reader_pool(
    path: &str,
    options: &StoreOptions,
) -> Result<Pool<ConnectionManager<SqliteConnection>>, StoreError> {
    let setup = ReaderSetup {
        // Readers never write: a bug that tries would otherwise bypass the writer's ordering.
        pragmas: format!("{} PRAGMA query_only = ON;", common_pragmas(options)),
    };
    Pool::builder()
        .max_size(options.pool_size.max(1))
        // A SQLite file connection cannot go stale; pinging it on every checkout would add
        // a query to every read.
        .test_on_check_out(false)
        .connection_customizer(Box::new(setup))
        .build(ConnectionManager::new(path))
        .map_err(|e| StoreError::Connection(e.to_string()))
}

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = diesel::sql_types::Text)]
    compile_options: String,
}

/// The options the linked SQLite was compiled with (`PRAGMA compile_options`).
fn compile_options(conn: &mut SqliteConnection) -> Result<Vec<String>, StoreError> {
    let rows: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(conn)?;
    Ok(rows.into_iter().map(|r| r.compile_options).collect())
}

/// The project's cargo configuration builds SQLite without `SQLITE_ENABLE_MEMORY_MANAGEMENT`;
/// with it, all connections of the process share one page cache behind one mutex, and a
/// long-running writer (the purge) stalls every reader. A build that missed the configuration
/// still works, so it is said, not refused.
fn warn_on_shared_page_cache(conn: &mut SqliteConnection) {
    if let Ok(options) = compile_options(conn)
        && options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT")
    {
        tracing::warn!(
            "SQLite was built with ENABLE_MEMORY_MANAGEMENT: connections share one page cache \
             and readers wait on writers; build with the project's .cargo/config.toml"
        );
    }
}

/// What a queued job hands back after running: the continuation that answers its caller once
/// the batch's commit outcome is known.
type Completion = Box<dyn FnOnce(Result<(), CommitFailure>) + Send>;
/// Run with the batch's connection, or with `None` when the batch's transaction could not
/// begin (the job then only answers its caller).
type Job = Box<dyn FnOnce(Option<&mut SqliteConnection>) -> Completion + Send>;

/// Why a batch did not commit, for every job in it.
#[derive(Debug, Clone)]
struct CommitFailure {
    full: bool,
    /// Another process held the file locked past the busy timeout.
    busy: bool,
    message: String,
}

impl From<CommitFailure> for StoreError {
    fn from(f: CommitFailure) -> Self {
        if f.full {
            StoreError::DiskFull(f.message)
        } else if f.busy {
            StoreError::Busy(f.message)
        } else {
            StoreError::Task(format!("commit failed: {}", f.message))
        }
    }
}

pub(super) struct Writer {
    /// Taken at shutdown: once every sender is gone the writer drains the queue and exits.
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Checkpointer,
    pages: Arc<AtomicU64>,
}

impl Writer {
    pub(super) fn start(path: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let recovery = Recovery::new(path, options);
        let mut conn = recovery.connect()?;
        warn_on_shared_page_cache(&mut conn);
        let pages = Arc::clone(&recovery.pages);
        let restart = RestartRequest::new(options.busy_timeout);
        let checkpointer = Checkpointer::start(path, options, restart.clone())?;
        let (sender, receiver) = mpsc::channel(4096);
        let max = options.group_commit_max.max(1);
        let thread = std::thread::Builder::new()
            .name("kyoyu-sqlite-writer".into())
            .spawn(move || writer_loop(conn, receiver, max, restart, recovery))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Writer {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
            checkpointer,
            pages,
        })
    }

    /// Test hook: the page cap of the writer's connections from now on (0: none); see
    /// `sqlite_full`. The caller applies it to the current connection with a write.
    pub(super) fn limit_pages(&self, pages: u64) {
        self.pages.store(pages, Ordering::Release);
    }

    pub(super) async fn submit<T, E, F>(&self, deadline: Option<Instant>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        let sender = self
            .sender
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| E::from(StoreError::ShuttingDown))?;
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: Option<&mut SqliteConnection>| -> Completion {
            // The batch's transaction could not begin: answered with its error.
            let Some(conn) = conn else {
                return Box::new(move |commit: Result<(), CommitFailure>| {
                    let e = commit
                        .err()
                        .map_or(StoreError::ShuttingDown, StoreError::from);
                    let _ = answer.send(Err(E::from(e)));
                });
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Box::new(move |_| {
                    let _ = answer.send(Err(E::from(StoreError::Timeout)));
                });
            }
            // A nested diesel transaction is a savepoint: this job's failure rolls back only
            // this job's statements.
            let result = conn
                .transaction::<T, TxError<E>, _>(|c| {
                    f(&mut Conn::Sqlite(c)).map_err(TxError::Inner)
                })
                .map_err(TxError::into_inner);
            Box::new(move |commit: Result<(), CommitFailure>| {
                let outcome = match (result, commit) {
                    (Ok(_), Err(e)) => Err(E::from(StoreError::from(e))),
                    (result, _) => result,
                };
                let _ = answer.send(outcome);
            })
        });
        sender
            .send(job)
            .await
            .map_err(|_| E::from(StoreError::ShuttingDown))?;
        drop(sender);
        answered
            .await
            .map_err(|_| E::from(StoreError::ShuttingDown))?
    }

    pub(super) fn hold_checkpoints(&self) -> CheckpointHold {
        self.checkpointer.hold()
    }

    /// Refuses new writes, lets the queued ones commit, and waits for the thread to end.
    pub(super) fn shutdown(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.checkpointer.stop();
    }
}

fn writer_loop(
    mut conn: SqliteConnection,
    mut receiver: mpsc::Receiver<Job>,
    max: usize,
    restart: RestartRequest,
    mut recovery: Recovery,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max);
    while let Some(job) = receiver.blocking_recv() {
        batch.push(job);
        while batch.len() < max {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut conn, &mut batch);
        recovery.after_batch(&mut conn);
        restart.serve(&mut conn);
    }
}

fn run_batch(conn: &mut SqliteConnection, batch: &mut Vec<Job>) {
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let outcome = conn.immediate_transaction::<(), diesel::result::Error, _>(|c| {
        for job in batch.drain(..) {
            match std::panic::catch_unwind(AssertUnwindSafe(|| job(Some(c)))) {
                Ok(done) => completions.push(done),
                // The panicking job's caller sees its answer channel close; the batch is rolled
                // back because a panic may have left a savepoint open.
                Err(_) => return Err(diesel::result::Error::RollbackTransaction),
            }
        }
        Ok(())
    });
    let commit = outcome.map_err(|e| CommitFailure {
        full: super::error::is_disk_full(&e),
        busy: super::error::is_busy(&e),
        message: e.to_string(),
    });
    if let Err(e) = &commit {
        if e.full {
            super::error::note_disk_full();
        }
        tracing::error!(error = %e.message, jobs = completions.len(), "sqlite group commit failed");
    }
    // Jobs never run because the transaction did not begin: answered, not kept for the next
    // batch (where they would wait for as long as the failure lasts).
    for job in batch.drain(..) {
        completions.push(job(None));
    }
    for done in completions {
        done(commit.clone());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_is_built_with_separate_page_caches_no_memory_statistics_and_stable_plans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("build.db").display().to_string();
        let mut conn = SqliteConnection::establish(&path).unwrap();
        let options = compile_options(&mut conn).unwrap();
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
    }
}
