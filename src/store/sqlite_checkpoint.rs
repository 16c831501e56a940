//! SQLite WAL upkeep: copying committed frames into the database file off the writer thread,
//! and keeping the WAL file from growing without end.
//!
//! A PASSIVE checkpoint never blocks anyone, but it cannot make the WAL start over: SQLite
//! rewinds the WAL only at the start of a write that finds every frame copied and no reader on
//! the WAL. Under steady writes (audit events every few milliseconds) and steady reads that
//! moment never comes, and the file grew by gigabytes in a minute of load, each new frame
//! written to a fresh part of the file (zeroed and allocated by the kernel). So when the
//! checkpointer sees the WAL past [`RESTART_FRAMES`], it asks the writer thread to run a
//! RESTART checkpoint between two of its batches: the writer holds the write lock anyway, the
//! frames left to copy are those since the last PASSIVE pass, and readers on the WAL finish
//! within a read's time (a restart waits at most [`RESTART_READER_WAIT`] for them, then tries
//! again later). The next write then rewinds the WAL, and `journal_size_limit` trims the file
//! back.
//!
//! A bulk write (a purge) holds the passes back while it runs, for at most
//! [`Checkpointer::MAX_HELD_PASSES`] in a row.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::sqlite::open_writer_connection;
use super::{StoreError, StoreOptions};

/// WAL frames (pages) beyond which the writer restarts the WAL by default: about 256 MB of 4 KB
/// pages.
pub(super) const RESTART_FRAMES: i64 = 65_536;
/// The size the WAL file is trimmed to when it restarts (`PRAGMA journal_size_limit`).
pub(super) const WAL_SIZE_LIMIT: i64 = 256 * 1024 * 1024;

#[derive(QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CheckpointResult {
    /// 1 when the checkpoint could not finish (a lock it needed was held).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub busy: i32,
    /// Frames in the WAL. (The row's third column, the frames copied, is not needed.)
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub log: i32,
}

/// Runs `PRAGMA wal_checkpoint(mode)` and returns its row.
pub(super) fn checkpoint(
    conn: &mut SqliteConnection,
    mode: &str,
) -> Result<CheckpointResult, StoreError> {
    let row = diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)?;
    Ok(row)
}

/// How long a restart waits for readers to leave the WAL. The writer thread waits with it, so
/// a reader holding one snapshot for seconds (a large export) would otherwise hold up every
/// write for as long; after this the restart gives up and is asked for again later.
const RESTART_READER_WAIT: Duration = Duration::from_millis(50);

/// Set by the checkpointer when the WAL has grown past the restart threshold; taken by the
/// writer, which then runs the restart with its busy timeout shortened to
/// [`RESTART_READER_WAIT`] and restored to `busy_timeout` after.
#[derive(Clone)]
pub(super) struct RestartRequest {
    asked: Arc<AtomicBool>,
    busy_timeout: Duration,
}

impl RestartRequest {
    pub(super) fn new(busy_timeout: Duration) -> Self {
        RestartRequest {
            asked: Arc::default(),
            busy_timeout,
        }
    }

    fn ask(&self) {
        self.asked.store(true, Ordering::Release);
    }

    /// Runs the restart on the writer's connection if one was asked for. A restart that could
    /// not finish (a long reader, another checkpoint) is asked for again by a later pass once
    /// the WAL has grown further.
    pub(super) fn serve(&self, conn: &mut SqliteConnection) {
        if !self.asked.swap(false, Ordering::AcqRel) {
            return;
        }
        let started = Instant::now();
        let result = conn
            .batch_execute(&format!(
                "PRAGMA busy_timeout = {};",
                RESTART_READER_WAIT.as_millis()
            ))
            .map_err(StoreError::from)
            .and_then(|()| checkpoint(conn, "RESTART"));
        if let Err(e) = conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};",
            self.busy_timeout.as_millis()
        )) {
            tracing::warn!(error = %e, "sqlite busy timeout not restored after a wal restart");
        }
        match result {
            Ok(r) => tracing::debug!(
                busy = r.busy,
                frames = r.log,
                took_us = started.elapsed().as_micros() as u64,
                "sqlite wal restart"
            ),
            Err(e) => tracing::warn!(error = %e, "sqlite wal restart failed"),
        }
    }
}

/// Keeps the checkpointer's passes back while it lives (see `Checkpointer::hold`).
pub struct CheckpointHold(Option<Arc<AtomicUsize>>);

impl CheckpointHold {
    /// A hold that holds nothing, for stores without a checkpointer.
    pub(super) fn none() -> Self {
        CheckpointHold(None)
    }
}

impl Drop for CheckpointHold {
    fn drop(&mut self) {
        if let Some(holds) = &self.0 {
            holds.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Copies committed WAL frames into the database file every `INTERVAL`, off the writer thread.
pub(super) struct Checkpointer {
    stop: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    holds: Arc<AtomicUsize>,
}

impl Checkpointer {
    const INTERVAL: Duration = Duration::from_millis(250);
    /// Passes skipped in a row at most while held, so a long bulk write still has its frames
    /// copied (and the WAL restarted) every few seconds.
    const MAX_HELD_PASSES: u32 = 16;

    /// Skips passes while the hold lives: for bulk writes such as a purge, whose pages would
    /// otherwise be copied into the database file while readers read (GET p99 during a purge:
    /// ×4.9-5.8 of its baseline with passes, ×2.1-4.0 held). The frames are copied at the first
    /// pass after the hold ends.
    pub(super) fn hold(&self) -> CheckpointHold {
        self.holds.fetch_add(1, Ordering::AcqRel);
        CheckpointHold(Some(Arc::clone(&self.holds)))
    }

    pub(super) fn start(
        path: &str,
        options: &StoreOptions,
        restart: RestartRequest,
    ) -> Result<Self, StoreError> {
        let mut conn = open_writer_connection(path, options)?;
        let restart_frames = options.sqlite_wal_restart_frames;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let holds = Arc::new(AtomicUsize::new(0));
        let held = Arc::clone(&holds);
        let thread = std::thread::Builder::new()
            .name("kyoyu-sqlite-checkpoint".into())
            .spawn(move || {
                // The WAL's size when a restart was last asked for: until the next write it
                // still reports the old size, and a second restart would only wait on readers.
                let mut asked_at = None;
                let mut skipped = 0;
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(Self::INTERVAL)
                {
                    if held.load(Ordering::Acquire) > 0 && skipped < Self::MAX_HELD_PASSES {
                        skipped += 1;
                        continue;
                    }
                    skipped = 0;
                    match checkpoint(&mut conn, "PASSIVE") {
                        Ok(r) if i64::from(r.log) >= restart_frames && asked_at != Some(r.log) => {
                            asked_at = Some(r.log);
                            restart.ask();
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "sqlite checkpoint failed"),
                    }
                }
                let _ = checkpoint(&mut conn, "TRUNCATE");
            })
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Checkpointer {
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
            holds,
        })
    }

    pub(super) fn stop(&self) {
        if let Ok(mut stop) = self.stop.lock() {
            stop.take();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::store::{Conn, DatabaseUrl, Store, StoreError, StoreOptions};

    const PAGE: usize = 4096;

    /// A store on a fresh file with a `filler` table, restarting its WAL past `restart_frames`.
    async fn filler_store(restart_frames: i64) -> (tempfile::TempDir, String, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db").display().to_string();
        let mut options = StoreOptions::defaults_for(DatabaseUrl::Sqlite(path.clone()));
        options.sqlite_synchronous_full = false;
        options.sqlite_wal_restart_frames = restart_frames;
        let store = Store::open_async(options).await.unwrap();
        run(&store, "CREATE TABLE filler (b BLOB)".into()).await;
        (dir, path, store)
    }

    async fn run(store: &Store, sql: String) {
        store
            .write(None, move |c| match c {
                Conn::Sqlite(c) => Ok(c.batch_execute(&sql)?),
                Conn::Pg(_) => Err(StoreError::Task("sqlite only".into())),
            })
            .await
            .unwrap();
    }

    /// One commit of `pages` new pages of random bytes.
    async fn fill(store: &Store, pages: usize) {
        let rows = vec!["SELECT 1"; pages].join(" UNION ALL ");
        run(
            store,
            format!("INSERT INTO filler SELECT randomblob({PAGE}) FROM ({rows})"),
        )
        .await;
    }

    async fn close(store: Store) {
        tokio::task::spawn_blocking(move || store.shutdown())
            .await
            .unwrap();
    }

    /// Writes for `during` in small commits while a reader is always on the WAL; returns the
    /// bytes written and the largest size the WAL file reached.
    async fn largest_wal(restart_frames: i64, during: Duration) -> (u64, u64) {
        let (_dir, path, store) = filler_store(restart_frames).await;
        let stop = Arc::new(AtomicBool::new(false));
        let reading = {
            let (stop, path) = (Arc::clone(&stop), path.clone());
            std::thread::spawn(move || {
                let mut c = diesel::sqlite::SqliteConnection::establish(&path).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    c.batch_execute("SELECT count(*) FROM filler").unwrap();
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        };
        let wal = format!("{path}-wal");
        let (mut largest, mut written) = (0, 0);
        let started = Instant::now();
        while started.elapsed() < during {
            fill(&store, 8).await;
            written += 8 * PAGE as u64;
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        stop.store(true, Ordering::Relaxed);
        reading.join().unwrap();
        close(store).await;
        (written, largest)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_stays_bounded_under_steady_writes_and_reads() {
        const MB: u64 = 1024 * 1024;
        let during = Duration::from_secs(3);
        // Without restarts the WAL keeps all that was written (this is what the test guards).
        let (written, unbounded) = largest_wal(i64::MAX, during).await;
        eprintln!(
            "no restarts: {} MB written, WAL {} MB",
            written / MB,
            unbounded / MB
        );
        assert!(unbounded > written / 2, "{unbounded} of {written}");
        // Restarting past 256 frames (1 MB): the checkpointer looks every 250 ms, so the WAL
        // holds about what is written in between (a quarter of it all alone, more on a busy
        // machine), not everything. Longer than the first phase: on a machine whose disk is
        // busy with other work, the first restart has been seen to come only after 3 s.
        let (written, bounded) = largest_wal(256, during * 3).await;
        eprintln!(
            "restarts: {} MB written, WAL {} MB",
            written / MB,
            bounded / MB
        );
        assert!(bounded < written / 2, "{bounded} of {written}");
    }

    /// A purge holds checkpoints back while it runs; the frames are copied once it ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hold_keeps_checkpoints_back_until_it_ends() {
        let (_dir, path, store) = filler_store(i64::MAX).await;
        let db_len = || std::fs::metadata(&path).unwrap().len();
        let copied_beyond = |len: u64, within: Duration| async move {
            let started = Instant::now();
            while started.elapsed() < within {
                if db_len() > len {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        };
        let empty = db_len();
        fill(&store, 64).await;
        assert!(copied_beyond(empty, Duration::from_secs(5)).await);
        let before = db_len();

        let hold = store.hold_checkpoints();
        fill(&store, 64).await;
        // Three passes' time, well within the passes a hold may skip.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(db_len(), before, "frames were copied while held");
        drop(hold);
        assert!(copied_beyond(before, Duration::from_secs(5)).await);
        close(store).await;
    }

    /// A reader that keeps one snapshot open for a long time (a large export, say) must not
    /// hold up writes while a restart waits for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_reader_does_not_stall_writes_while_a_restart_waits() {
        let (_dir, path, store) = filler_store(64).await;
        let hold = Duration::from_secs(2);
        let reading = std::thread::spawn(move || {
            let mut c = diesel::sqlite::SqliteConnection::establish(&path).unwrap();
            c.batch_execute("BEGIN; SELECT count(*) FROM filler;")
                .unwrap();
            std::thread::sleep(hold);
            c.batch_execute("COMMIT").unwrap();
        });
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        while started.elapsed() < hold {
            let t = Instant::now();
            fill(&store, 4).await;
            slowest = slowest.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        reading.join().unwrap();
        close(store).await;
        eprintln!("slowest write while a reader held its snapshot: {slowest:?}");
        assert!(
            slowest < Duration::from_millis(500),
            "a write waited {slowest:?}"
        );
    }
}
