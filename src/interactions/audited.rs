//! The audit policy (`crate::audit::policy`) on the request's services: the record of this
//! caller's request and a read recorded before it is answered; a change is stored with its
//! record by the write kernel ([`Services::write_tx`]).

use super::Services;
use crate::audit::policy::{self, touch_of};
use crate::audit::{Action, AuditRecord, Interaction};
use crate::error::Error;
use crate::store::StoredResource;

impl Services {
    /// A record of this caller's request, or `None` in development mode.
    pub fn audit_record(&self, action: Action, interaction: Interaction) -> Option<AuditRecord> {
        policy::record_for(&self.caller, self.clock.now_micros(), action, interaction)
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
