//! FHIR REST interactions without HTTP types: each file is one interaction as the spec names it.
//! Handlers in `api` translate requests into these calls and their results into responses.
//! Spec: <https://hl7.org/fhir/R4/http.html>

pub mod access;
pub mod audit_events;
pub mod audited;
pub mod capabilities;
pub mod compartment;
pub mod conditional_update;
pub mod create;
pub mod delete;
pub(crate) mod direct_write;
pub mod document_status;
pub mod everything;
pub mod export;
pub mod fhirpath_patch;
pub mod history;
pub mod patch;
pub(crate) mod questionnaires;
pub mod read;
pub mod references;
pub mod search;
pub mod session;
pub mod system_search;
pub mod terminology;
pub mod transaction;
pub mod update;
pub mod validate;
pub(crate) mod write;
pub mod write_tx;

use std::sync::Arc;

use crate::clock::{Clock, IdGenerator};
use crate::error::Error;
use crate::search::query::QueryOptions;
use crate::store::{Store, StoredResource};
use crate::terminology::Terminology;
use crate::validation::Validator;
use crate::validation::valuesets::ValueSetEngine;

/// What every interaction needs: storage, the injected clock and id source, search defaults.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub search: QueryOptions,
    pub validator: Arc<Validator>,
    /// The value-set engine the validator uses (packages, imported terminology, base sets), for
    /// the terminology operations.
    pub value_sets: Arc<ValueSetEngine>,
    pub terminology: Arc<Terminology>,
    /// Reject creates, updates and transactions whose content has validation errors.
    pub validate_on_write: bool,
    /// Where validations run: off the HTTP workers, bounded.
    pub cpu: crate::validation::pool::CpuPool,
    /// Who is calling: set per request by the HTTP layer (the server-wide value is open).
    pub caller: Arc<crate::access::Caller>,
    /// Where reads are recorded.
    pub audit_queue: crate::audit::AuditQueue,
    /// Whether this request's audit record is stored: set per request by `for_caller`.
    pub recorded: crate::audit::Recorded,
    /// The retention periods expiry instants are computed with.
    pub retention: crate::retention::Policy,
    /// Whether writes must reference what exists, and what makes an absolute reference local.
    pub references: references::Integrity,
}

impl Services {
    /// These services acting for `caller`.
    pub fn for_caller(&self, caller: crate::access::Caller) -> Services {
        Services {
            caller: Arc::new(caller),
            recorded: crate::audit::Recorded::default(),
            ..self.clone()
        }
    }

    /// This request as the store sees it: the caller, now, and the id source.
    pub fn session(&self) -> session::Session {
        session::Session {
            caller: Arc::clone(&self.caller),
            now: self.clock.now_micros(),
            ids: Arc::clone(&self.ids),
        }
    }
}

#[cfg(test)]
impl Services {
    /// Services over `store` for unit tests that write through the write kernel without a
    /// server: the open caller, a clock fixed at `now`, base R4 only, no validation on write and
    /// no reference check. Starts its audit queue on the current runtime.
    #[allow(clippy::expect_used)]
    pub(crate) fn for_tests(store: Store, now: i64) -> Services {
        use crate::packages::PackageSet;
        let packages = Arc::new(PackageSet::default());
        let value_sets = Arc::new(ValueSetEngine::new(Arc::clone(&packages)));
        let validator = Validator::with_packages(packages, Arc::clone(&value_sets) as _, false)
            .expect("the embedded base model loads");
        let (audit_queue, _task) =
            crate::audit::AuditQueue::spawn(store.clone(), crate::metrics::Metrics::new().audit());
        Services {
            store,
            clock: Arc::new(crate::clock::FixedClock::at_micros(now)),
            ids: Arc::new(crate::clock::SequentialIds::new("test")),
            search: QueryOptions::for_tests(false),
            validator: Arc::new(validator),
            value_sets,
            terminology: Arc::new(Terminology::default()),
            validate_on_write: false,
            cpu: crate::validation::pool::CpuPool::new(1, 1),
            caller: Arc::new(crate::access::Caller::open()),
            audit_queue,
            recorded: crate::audit::Recorded::default(),
            retention: crate::retention::Policy::default(),
            references: references::Integrity {
                enabled: false,
                base_url: String::new(),
            },
        }
    }
}

/// The result of a write: the stored version and whether it created the resource.
#[derive(Debug, Clone)]
pub struct Written {
    pub resource: StoredResource,
    pub created: bool,
}

/// R4 types the server does not serve although it stores them: a Subscription asks for
/// notifications, and nothing here delivers any, so accepting one would promise what never
/// happens. Their writes are refused as an unsupported type's; reads, searches and deletes stay,
/// so one stored before this rule can still be found and removed. The CapabilityStatement
/// leaves them out.
pub const UNSERVED_TYPES: &[&str] = &["Subscription"];

/// Refuses a create or update (direct, conditional, or a bundle entry) of an unserved type.
pub fn check_served(res_type: &str) -> Result<(), Error> {
    if UNSERVED_TYPES.contains(&res_type) {
        Err(Error::UnsupportedType(res_type.to_string()))
    } else {
        Ok(())
    }
}

/// Refuses anything that is not a concrete R4 resource type before any other work.
pub fn check_type(res_type: &str) -> Result<(), Error> {
    if crate::fhir::is_resource_type(res_type) {
        Ok(())
    } else {
        Err(Error::UnknownType(res_type.to_string()))
    }
}
