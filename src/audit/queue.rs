//! The queue that records reads (and refusals). A read is never answered unaudited (DESIGN §9:
//! fail closed), so each record's sender waits for the commit of the batch that holds it and
//! learns whether it was stored. Committing every record on its own would bound reads by the
//! disk's flush rate, so the records that queue while one batch commits are stored together by
//! the next (group commit): the busier the server, the larger the batches. A full queue slows
//! readers down rather than dropping records.
//!
//! The task also, about once a second, busy or idle, moves the records of changes into the
//! SQLite audit file (see `Store::move_audit_changes`) and the patients of recent events into the
//! trail's patient index (see `AuditRepo::move_recent_audit_patients`). A flush moves changes' records
//! too, so a trail read after it sees every change committed before.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::record::AuditRecord;
use crate::metrics::AuditCounters;
use crate::store::{AuditRow, Store, StoreError};

/// Records stored in one transaction at most.
const MAX_BATCH: usize = 4096;
/// How often recent events' patients move into the patient index. A patient's history scans
/// what has not moved yet, so this bounds that scan to about a second of events; each move
/// writes each patient's index page once, however many of their events it carries.
const MOVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The outcome of a batch's commit, told to each of its senders.
type Committed = oneshot::Sender<Result<(), String>>;

enum Job {
    /// Answered once the batch holding it is committed (or failed).
    Record(Box<AuditRow>, Committed),
    /// Answered once everything queued before it is committed.
    Flush(Committed),
}

/// A handle to the recording task; cheap to clone.
#[derive(Clone)]
pub struct AuditQueue {
    tx: mpsc::Sender<Job>,
}

impl AuditQueue {
    /// Starts the recording task on the current runtime; it stores what is left and ends when
    /// every handle is gone. Records written and failed are counted in `counters`.
    pub fn spawn(store: Store, counters: AuditCounters) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(8 * MAX_BATCH);
        let task = tokio::spawn(run(store, rx, counters));
        (AuditQueue { tx }, task)
    }

    /// Records and flushes waiting in the queue, not yet taken into a batch.
    pub fn backlog(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Stores `record`: returns once the batch holding it is committed, or why it was not.
    pub async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.send(Job::Record(Box::new(record.into()), done), committed)
            .await
    }

    /// Returns once every record queued so far is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.send(Job::Flush(done), committed).await
    }

    async fn send(
        &self,
        job: Job,
        committed: oneshot::Receiver<Result<(), String>>,
    ) -> Result<(), StoreError> {
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::ShuttingDown)?;
        committed
            .await
            .map_err(|_| StoreError::ShuttingDown)?
            .map_err(StoreError::Task)
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, counters: AuditCounters) {
    let mut last_move = tokio::time::Instant::now();
    loop {
        match tokio::time::timeout_at(last_move + MOVE_EVERY, rx.recv()).await {
            Ok(Some(first)) => store_batch(&store, first, &mut rx, &counters).await,
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
/// then tells every sender in the batch the outcome. No waiting for a batch to fill: each sender
/// waits for the commit, so a pause would add to every audited request's latency, while the
/// records sent during a commit make the next batch anyway.
async fn store_batch(
    store: &Store,
    first: Job,
    rx: &mut mpsc::Receiver<Job>,
    counters: &AuditCounters,
) {
    let mut records = Vec::new();
    let mut senders = Vec::new();
    let mut flushes = Vec::new();
    let mut next = Some(first);
    while let Some(job) = next.take() {
        match job {
            Job::Record(r, done) => {
                records.push(*r);
                senders.push(done);
            }
            Job::Flush(w) => flushes.push(w),
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
    let batch = u64::try_from(senders.len()).unwrap_or(u64::MAX);
    if let Err(e) = &result {
        // The error, never the records; each sender refuses its request.
        tracing::error!(error = %e, "audit records could not be stored");
        counters.failed.inc_by(batch);
    } else {
        counters.written.inc_by(batch);
    }
    for sender in senders {
        // A sender gone (its request abandoned at the deadline) needs no answer.
        let _ = sender.send(result.clone());
    }
    if !flushes.is_empty() && result.is_ok() {
        result = store
            .move_audit_changes()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    for waiter in flushes {
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
        .audit_write(|conn| conn.audit().move_recent_audit_patients())
        .await
    {
        tracing::warn!(error = %e, "audit patient index not updated");
    }
}
