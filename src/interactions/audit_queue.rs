//! The queue that records reads. Waiting for a durable commit before answering every read would
//! bound reads by the disk's flush rate (a few thousand a second whatever the CPUs), so a read's
//! record is queued and the queue is stored in batches, one transaction each, in order. The
//! audit trail is flushed before it is read, and drained when the server stops; a crash can lose
//! the records of reads answered in the last moments (changes are never affected: their records
//! commit with them). A full queue slows readers down rather than dropping records.
//!
//! The task also, about once a second, busy or idle, moves the records of changes into the
//! SQLite audit file (see `Store::move_audit_changes`) and the patients of recent events into the
//! trail's patient index (see `Conn::move_recent_audit_patients`). A flush moves changes' records
//! too, so a trail read after it sees every change committed before.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::access::audit::AuditRecord;
use crate::store::{Store, StoreError};

/// Records stored in one transaction at most.
const MAX_BATCH: usize = 4096;
/// How long the first record of a batch waits for others.
const GATHER: std::time::Duration = std::time::Duration::from_millis(20);
/// How often recent events' patients move into the patient index. A patient's history scans
/// what has not moved yet, so this bounds that scan to about a second of events; each move
/// writes each patient's index page once, however many of their events it carries.
const MOVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

enum Job {
    Record(Box<AuditRecord>),
    /// Answered once everything queued before it is committed.
    Flush(oneshot::Sender<Result<(), String>>),
}

/// A handle to the recording task; cheap to clone.
#[derive(Clone)]
pub struct AuditQueue {
    tx: mpsc::Sender<Job>,
}

impl AuditQueue {
    /// Starts the recording task on the current runtime; it stores what is left and ends when
    /// every handle is gone.
    pub fn spawn(store: Store) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(8 * MAX_BATCH);
        let task = tokio::spawn(run(store, rx));
        (AuditQueue { tx }, task)
    }

    /// Queues `record`.
    pub async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        self.tx
            .send(Job::Record(Box::new(record)))
            .await
            .map_err(|_| StoreError::ShuttingDown)
    }

    /// Returns once every record queued so far is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.tx
            .send(Job::Flush(done))
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        committed
            .await
            .map_err(|_| StoreError::ShuttingDown)?
            .map_err(StoreError::Task)
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut last_move = tokio::time::Instant::now();
    loop {
        match tokio::time::timeout_at(last_move + MOVE_EVERY, rx.recv()).await {
            Ok(Some(first)) => store_batch(&store, first, &mut rx).await,
            Ok(None) => break,
            // Idle: nothing to store, but changes' records still move.
            Err(_) => {}
        }
        if last_move.elapsed() >= MOVE_EVERY {
            move_trail(&store).await;
            last_move = tokio::time::Instant::now();
        }
    }
    move_trail(&store).await;
}

/// Stores `first` and what queued behind it (up to [`MAX_BATCH`] records) in one transaction,
/// then answers the flushes among them.
async fn store_batch(store: &Store, first: Job, rx: &mut mpsc::Receiver<Job>) {
    // Let a batch gather: every commit rewrites the touched pages of the audit tables, so
    // fewer, larger commits cost far less disk and CPU per record. A flush skips the wait.
    if matches!(first, Job::Record(_)) {
        tokio::time::sleep(GATHER).await;
    }
    let mut records = Vec::new();
    let mut waiters = Vec::new();
    let mut next = Some(first);
    while let Some(job) = next.take() {
        match job {
            Job::Record(r) => records.push(*r),
            Job::Flush(w) => waiters.push(w),
        }
        if records.len() < MAX_BATCH {
            next = rx.try_recv().ok();
        }
    }
    let mut result = if records.is_empty() {
        Ok(())
    } else {
        store
            .record_audits(records)
            .await
            .map_err(|e| e.to_string())
    };
    if let Err(e) = &result {
        // The only trace of a lost batch; the error, never the records.
        tracing::error!(error = %e, "audit records could not be stored");
    }
    if !waiters.is_empty() && result.is_ok() {
        result = store
            .move_audit_changes()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    for waiter in waiters {
        let _ = waiter.send(result.clone());
    }
}

/// Transactions of their own: a failed move leaves changes' records, and recent patients, where
/// they are (still found by a trail read after a flush), and the next move takes them.
async fn move_trail(store: &Store) {
    if let Err(e) = store.move_audit_changes().await {
        tracing::warn!(error = %e, "changes' audit records not moved to the audit file");
    }
    if let Err(e) = store
        .audit_write(|conn| conn.move_recent_audit_patients())
        .await
    {
        tracing::warn!(error = %e, "audit patient index not updated");
    }
}
