//! The audit policy (`crate::audit::policy`) on the request's services: the record of this
//! caller's request, a change stored with its record, a read recorded before it is answered.

use std::time::Instant;

use super::Services;
use super::session::Session;
use super::write_tx::WriteTx;
use crate::audit::policy::{self, touch_of};
use crate::audit::{Action, AuditRecord, Interaction};
use crate::error::Error;
use crate::store::StoredResource;

impl Services {
    /// A record of this caller's request, or `None` in development mode.
    pub fn audit_record(&self, action: Action, interaction: Interaction) -> Option<AuditRecord> {
        policy::record_for(&self.caller, self.clock.now_micros(), action, interaction)
    }

    /// Runs a write through the write kernel of `session` (made once for the request; its
    /// `now` is the write's instant) and inserts its audit record in the same transaction,
    /// naming what the kernel recorded the write touched: the change and its record commit
    /// together or not at all; a record that cannot be inserted undoes the change.
    pub async fn write_tx<T, F>(
        &self,
        session: Session,
        deadline: Option<Instant>,
        record: Option<AuditRecord>,
        f: F,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteTx<'_, '_>) -> Result<T, Error> + Send + 'static,
    {
        let audited = record.is_some();
        let svc = self.clone();
        let out = self
            .store
            .write(deadline, move |conn| {
                let mut tx = WriteTx::new(&svc, &session, conn);
                let out = f(&mut tx)?;
                let touched = tx.into_entities();
                if let Some(record) = record {
                    policy::insert_with_change(conn, record, touched)
                        .map_err(Error::AuditNotStored)?;
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
        policy::record_outside_change(&self.audit_queue, &self.recorded, record)
            .await
            .map_err(Error::AuditNotStored)
    }

    /// Records the read of `resources` by interaction `interaction`.
    pub async fn audit_read<'a>(
        &self,
        interaction: Interaction,
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
