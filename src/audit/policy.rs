//! Audit of interactions (DESIGN §9): a change is recorded in its own transaction, a read is
//! recorded before its answer leaves. Either fails closed: a record that cannot be stored fails
//! the request ([`Error::AuditNotStored`], 503), so nothing is read or changed unaudited.
//! Development mode (no principal) records nothing: there is nobody to hold accountable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::audit::{Action, AuditRecord, Touch};
use crate::error::Error;
use crate::interactions::{Services, Written};
use crate::store::{Conn, StoredResource};

/// Whether a request's audit record is stored, shared by every clone of its `Services`: the
/// HTTP layer records a request that no interaction recorded, so none goes unaudited however
/// its handler was written.
#[derive(Clone, Default)]
pub struct Recorded(Arc<AtomicBool>);

impl Recorded {
    fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_marked(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The resources a write touched, for its record.
pub trait Touched {
    fn touched(&self) -> Vec<Touch>;
}

/// The entity of a resource the request had in hand.
pub fn touch_of(r: &StoredResource) -> Touch {
    Touch {
        res_type: r.res_type.clone(),
        res_id: r.id.clone(),
        patient: r.patient.clone(),
    }
}

impl Touched for Written {
    fn touched(&self) -> Vec<Touch> {
        vec![touch_of(&self.resource)]
    }
}

/// A delete's version: the record names what was deleted before the write (see `delete`).
impl Touched for Option<i64> {
    fn touched(&self) -> Vec<Touch> {
        Vec::new()
    }
}

impl Services {
    /// A record of this caller's request, or `None` in development mode.
    pub fn audit_record(&self, action: Action, interaction: &str) -> Option<AuditRecord> {
        if self.caller.is_open() {
            return None;
        }
        let now = self.clock.now_micros();
        Some(AuditRecord::new(
            &self.caller,
            crate::audit::event_id(now),
            now,
            action,
            interaction,
        ))
    }

    /// Runs a write and inserts its audit record in the same transaction: the change and its
    /// record commit together or not at all; a record that cannot be inserted undoes the change.
    pub async fn write_audited<T, F>(
        &self,
        deadline: Option<Instant>,
        record: Option<AuditRecord>,
        f: F,
    ) -> Result<T, Error>
    where
        T: Touched + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, Error> + Send + 'static,
    {
        let audited = record.is_some();
        let out = self
            .store
            .write(deadline, move |conn| {
                let out = f(conn)?;
                if let Some(mut record) = record {
                    record.entities.extend(out.touched());
                    conn.insert_audit(&record).map_err(Error::AuditNotStored)?;
                }
                Ok::<_, Error>(out)
            })
            .await?;
        if audited {
            self.recorded.mark();
        }
        Ok(out)
    }

    /// Records a read (or a refusal) outside any change, through the queue, and returns once it
    /// is stored: the caller answers only then.
    pub async fn audit(&self, record: Option<AuditRecord>) -> Result<(), Error> {
        match record {
            Some(record) => {
                self.audit_queue
                    .record(record)
                    .await
                    .map_err(Error::AuditNotStored)?;
                self.recorded.mark();
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records the read of `resources` by interaction `interaction`.
    pub async fn audit_read<'a>(
        &self,
        interaction: &str,
        res_type: Option<&str>,
        res_id: Option<&str>,
        resources: impl Iterator<Item = &'a StoredResource>,
    ) -> Result<(), Error> {
        let record = self.audit_record(Action::Read, interaction).map(|r| {
            let mut r = r.target(res_type, res_id);
            r.entities = resources.map(touch_of).collect();
            r
        });
        self.audit(record).await
    }
}
