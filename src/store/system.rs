//! The deliberately unscoped reads: the server's own bookkeeping, which reads across callers
//! and hands no content to one. A [`System`] handle is obtained only by naming why
//! ([`Conn::system`] with a [`SystemUse`]), so `grep -rn 'SystemUse::' src` lists every
//! unscoped path, and a unit test keeps that list reviewed. Reads for a caller go through
//! [`Scoped`](super::Scoped).

use super::audit::{AuditEntity, AuditRow};
use super::{
    AuditFilter, Conn, CurrentRow, DocumentRow, Member, Scoped, StoreError, StoredResource, UnitRow,
};
use crate::access::Scope;

/// Why a path reads without a caller's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemUse {
    /// Computing a caller's scope: a patient's Patient records, by the person their credential
    /// names.
    CallerScope,
    /// Linking a written resource to its patient and person: the person of a referenced
    /// Patient, an institution's own Patients of a person.
    Identity,
    /// Who wrote an existing resource, before it is changed or deleted: the write rules answer
    /// another's as 403 or, when it is not readable either, as 404.
    Ownership,
    /// A write's own read of the row it replaces or compares with (version numbers, unchanged
    /// content, the resource a conditional match must not pick).
    WriteCurrent,
    /// A CLINS submission's report units and documents, read inside its transaction after the
    /// submitter check (registration, receipt, cancellation, deletion).
    Submission,
    /// The purger: the report units and documents expired resources leave empty.
    Purge,
    /// An operator's `$export`: every resource and the whole audit trail, to the operator.
    OperatorExport,
    /// Reading the audit trail: `interactions::audit_events` narrows it to what its reader may
    /// see (a patient: the events that touched their own Patient records).
    AuditTrail,
    /// Unit tests that look at what a write left.
    #[cfg(test)]
    Test,
}

impl SystemUse {
    /// Every reason, for the test that keeps the list of unscoped paths.
    pub const ALL: &[SystemUse] = &[
        SystemUse::CallerScope,
        SystemUse::Identity,
        SystemUse::Ownership,
        SystemUse::WriteCurrent,
        SystemUse::Submission,
        SystemUse::Purge,
        SystemUse::OperatorExport,
        SystemUse::AuditTrail,
        #[cfg(test)]
        SystemUse::Test,
    ];
}

/// A connection read without a scope, for the reason it was opened with.
pub struct System<'c> {
    conn: Conn<'c>,
    why: SystemUse,
}

impl Conn<'_> {
    /// This connection read without a scope, for `why`.
    pub fn system(&mut self, why: SystemUse) -> System<'_> {
        System {
            conn: self.reborrow(),
            why,
        }
    }
}

impl<'c> System<'c> {
    /// Why this handle reads unscoped.
    pub fn why(&self) -> SystemUse {
        self.why
    }

    /// Every resource visible: the scoped reads ([`Scoped`]) over [`Scope::System`].
    pub fn unscoped(self, now: i64) -> Scoped<'c> {
        Scoped::from_parts(self.conn, Scope::System, now)
    }

    /// The institution that wrote `res_type/id`: `None` when there is no such row,
    /// `Some(None)` when the row has no institution.
    pub fn owner_of(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        self.conn.owner_of(res_type, id)
    }

    /// The bookkeeping of the current row of `res_type/id`.
    pub fn current(&mut self, res_type: &str, id: &str) -> Result<Option<CurrentRow>, StoreError> {
        self.conn.current(res_type, id)
    }

    /// The current version, a deletion marker included.
    pub fn read_current(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        self.conn.read_current(res_type, id)
    }

    /// The current version with its row bookkeeping.
    pub fn read_current_row(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<(CurrentRow, StoredResource)>, StoreError> {
        self.conn.read_current_row(res_type, id)
    }

    /// The person of the Patient `id`, if it has one.
    pub fn person_of_patient(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn.person_of_patient(id)
    }

    /// The current Patients of `person` that `institution` wrote.
    pub fn own_patients(
        &mut self,
        institution: &str,
        person: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.conn.own_patients(institution, person)
    }

    /// The ids of every current Patient of `person`, whoever wrote them.
    pub fn patients_of_person(&mut self, person: &str) -> Result<Vec<String>, StoreError> {
        self.conn.patients_of_person(person)
    }

    pub fn unit(&mut self, unit_key: &str) -> Result<Option<UnitRow>, StoreError> {
        self.conn.unit(unit_key)
    }

    pub fn unit_by_bundle_id(&mut self, bundle_id: &str) -> Result<Option<UnitRow>, StoreError> {
        self.conn.unit_by_bundle_id(bundle_id)
    }

    pub fn units_by_bundle_identifier(
        &mut self,
        bundle_identifier: &str,
    ) -> Result<Vec<UnitRow>, StoreError> {
        self.conn.units_by_bundle_identifier(bundle_identifier)
    }

    pub fn unit_members(&mut self, unit_key: &str) -> Result<Vec<Member>, StoreError> {
        self.conn.unit_members(unit_key)
    }

    /// The keys of the report units that list any of `res_type/ids`.
    pub fn units_of(&mut self, res_type: &str, ids: &[&str]) -> Result<Vec<String>, StoreError> {
        self.conn.units_of(res_type, ids)
    }

    pub fn document(&mut self, document_key: &str) -> Result<Option<DocumentRow>, StoreError> {
        self.conn.document(document_key)
    }

    pub fn document_by_bundle_id(
        &mut self,
        bundle_id: &str,
    ) -> Result<Option<DocumentRow>, StoreError> {
        self.conn.document_by_bundle_id(bundle_id)
    }

    pub fn documents_by_identifier(
        &mut self,
        document_identifier: &str,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        self.conn.documents_by_identifier(document_identifier)
    }

    pub fn document_members(&mut self, document_key: &str) -> Result<Vec<Member>, StoreError> {
        self.conn.document_members(document_key)
    }

    /// One audit event with its entities.
    pub fn audit_event(
        &mut self,
        id: &str,
    ) -> Result<Option<(AuditRow, Vec<AuditEntity>)>, StoreError> {
        self.conn.audit_event(id)
    }

    /// A page of audit events, newest first, and the total.
    #[allow(clippy::type_complexity)]
    pub fn audit_events(
        &mut self,
        filter: &AuditFilter,
    ) -> Result<(Vec<(AuditRow, Vec<AuditEntity>)>, i64), StoreError> {
        self.conn.audit_events(filter)
    }
}
