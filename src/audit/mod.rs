//! Audit (DESIGN §9): the record type, the recording policy and the queue that stores reads'
//! records, gathered from `access` and `interactions`.

pub mod policy;
pub mod queue;
pub mod record;

pub use policy::{Recorded, Touched, touch_of};
pub use queue::AuditQueue;
pub use record::{
    Action, AuditEntity, AuditRecord, Touch, event_id, first_event_id_since, outcome_of_status,
    to_patient_resource, to_resource,
};
