//! What is recorded, and when (DESIGN §9): a change in its own transaction, a read before its
//! answer leaves. Either fails closed: a record that cannot be stored fails the request (the
//! interactions answer 503), so nothing is read or changed unaudited. Development mode (no
//! principal) records nothing: there is nobody to hold accountable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::queue::AuditQueue;
use super::record::AuditRecord;
use super::vocabulary::{Action, Interaction};
use crate::access::Caller;
use crate::store::{AuditRow, Conn, StoreError, StoredResource, Touch};

/// Whether a request's audit record is stored, shared by every clone of its services: the
/// HTTP layer records a request that no interaction recorded, so none goes unaudited however
/// its handler was written.
#[derive(Clone, Default)]
pub struct Recorded(Arc<AtomicBool>);

impl Recorded {
    pub(crate) fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_marked(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The entity of a resource the request had in hand.
pub fn touch_of(r: &StoredResource) -> Touch {
    Touch {
        res_type: r.res_type.clone(),
        res_id: r.id.clone(),
        patient: r.patient.clone(),
    }
}

/// A record of `caller`'s request at `now` (µs), or `None` in development mode.
pub fn record_for(
    caller: &Caller,
    now: i64,
    action: Action,
    interaction: Interaction,
) -> Option<AuditRecord> {
    if caller.is_open() {
        return None;
    }
    Some(AuditRecord::new(
        caller,
        crate::store::event_id(now),
        now,
        action,
        interaction,
    ))
}

/// Inserts the record of a change in the change's transaction, naming what the change touched
/// (`touched`, in order; the write kernel's account, `interactions::write_tx`): the change and
/// its record commit together or not at all.
pub fn insert_with_change(
    conn: &mut Conn<'_>,
    record: AuditRecord,
    touched: Vec<Touch>,
) -> Result<(), StoreError> {
    let mut record = record;
    record.entities.extend(touched);
    conn.audit().insert_audit(&AuditRow::from(record))
}

/// Records a read (or a refusal) outside any change, through the queue, and returns once it is
/// stored, marking the request recorded: its answer may leave only then.
pub async fn record_outside_change(
    queue: &AuditQueue,
    recorded: &Recorded,
    record: Option<AuditRecord>,
) -> Result<(), StoreError> {
    if let Some(record) = record {
        queue.record(record).await?;
        recorded.mark();
    }
    Ok(())
}
