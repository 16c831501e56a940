//! SQLite after a full disk: the writer notices `SQLITE_FULL` in the batch it ran, opens a
//! fresh one, and truncates the WAL as soon as it can, so the space freed by an operator is not
//! taken back by a WAL that grew while writes were failing.
//!
//! Also the tests' way to fill the disk without filling one: a page limit on the writer's
//! connection (`PRAGMA max_page_count`), which survives the writer's reconnection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;

use super::error::take_disk_full_seen;
use super::sqlite_checkpoint::checkpoint;
use super::{StoreError, StoreOptions};

/// SQLite's own ceiling: "no limit".
const NO_PAGE_LIMIT: u64 = 4_294_967_294;
/// How long the WAL truncation waits for readers; it is tried again after every batch.
const TRUNCATE_READER_WAIT: Duration = Duration::from_millis(50);
const TRUNCATE_TRIES: usize = 4;

/// Caps the file at `pages` pages (0: no cap); SQLite raises a cap below the file's size to it.
pub(super) fn apply_page_limit(conn: &mut SqliteConnection, pages: u64) -> Result<(), StoreError> {
    let pages = if pages == 0 { NO_PAGE_LIMIT } else { pages };
    conn.batch_execute(&format!("PRAGMA max_page_count = {pages};"))?;
    Ok(())
}

/// What the writer needs to open its connection again, and whether the WAL still waits to be
/// truncated.
pub(super) struct Recovery {
    path: String,
    options: StoreOptions,
    /// The tests' page cap (0: none), applied to every connection the writer opens.
    pub(super) pages: Arc<AtomicU64>,
    truncate_pending: bool,
}

impl Recovery {
    pub(super) fn new(path: &str, options: &StoreOptions) -> Self {
        Recovery {
            path: path.to_string(),
            options: options.clone(),
            pages: Arc::default(),
            truncate_pending: false,
        }
    }

    /// Opens the writer's connection: WAL settings, the full-disk watch, the page cap.
    pub(super) fn connect(&self) -> Result<SqliteConnection, StoreError> {
        let mut conn = super::sqlite::open_writer_connection(&self.path, &self.options)?;
        // Checkpoints run on their own thread (see `sqlite_checkpoint`); only the WAL's restart
        // runs on the writer, between batches.
        conn.batch_execute(&format!(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {};",
            super::sqlite_checkpoint::WAL_SIZE_LIMIT
        ))?;
        let pages = self.pages.load(Ordering::Acquire);
        if pages > 0 {
            apply_page_limit(&mut conn, pages)?;
        }
        Ok(conn)
    }

    /// Runs after every batch: after a full disk, a fresh connection (a failed statement may
    /// leave SQLite's state for that connection unsure) and a WAL truncation, retried until it
    /// succeeds.
    pub(super) fn after_batch(&mut self, conn: &mut SqliteConnection) {
        if take_disk_full_seen() {
            tracing::error!(path = %self.path, "sqlite: the disk is full; writes answer 507 until space is freed");
            match self.connect() {
                Ok(fresh) => *conn = fresh,
                Err(e) => tracing::warn!(error = %e, "sqlite writer could not reconnect"),
            }
            self.truncate_pending = true;
        }
        // A few tries now (a checkpoint pass or a reader may be in the way for a moment), then
        // again after each later batch: writes may not come for a while.
        for _ in 0..TRUNCATE_TRIES {
            if !self.truncate_pending {
                break;
            }
            self.truncate_pending = !truncate_wal(conn, self.options.busy_timeout);
        }
    }
}

/// `wal_checkpoint(TRUNCATE)` with a short wait for readers; true when the WAL is empty.
fn truncate_wal(conn: &mut SqliteConnection, busy_timeout: Duration) -> bool {
    let result = conn
        .batch_execute(&format!(
            "PRAGMA busy_timeout = {};",
            TRUNCATE_READER_WAIT.as_millis()
        ))
        .map_err(StoreError::from)
        .and_then(|()| checkpoint(conn, "TRUNCATE"));
    if let Err(e) = conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        busy_timeout.as_millis()
    )) {
        tracing::warn!(error = %e, "sqlite busy timeout not restored after a wal truncation");
    }
    match result {
        Ok(r) if r.busy == 0 => {
            tracing::info!("sqlite: wal truncated after a full disk");
            true
        }
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(error = %e, "sqlite wal truncation after a full disk failed");
            false
        }
    }
}
