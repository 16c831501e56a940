//! Audit (DESIGN §9): every read and write of an authenticated caller leaves a record, stored
//! before the answer leaves, and the trail is readable as FHIR AuditEvent resources. This module
//! holds the whole concern above the store: the typed record and its closed vocabularies
//! (`vocabulary`), the recording policy (`policy`: a change's record in the change's
//! transaction, a read's through the queue, nothing in development mode), the queue that
//! group-commits reads' records (`queue`), and the AuditEvent rendering of stored events
//! (`resource`). The store keeps the rows (`store::AuditRow`) and is the only one to write them;
//! the HTTP layer records what no interaction did (`api::audited`), and the trail is read through
//! `interactions::audit_events`. Records go to the trail, never to the logs.

pub mod policy;
pub mod queue;
pub mod record;
pub mod resource;
pub mod vocabulary;

pub use policy::{Recorded, touch_of};
pub use queue::AuditQueue;
pub use record::AuditRecord;
pub use resource::{to_patient_resource, to_resource};
pub use vocabulary::{Action, Interaction, Outcome, UnknownCode};

pub use crate::store::{AuditEntity, AuditRow, Touch, event_id};
