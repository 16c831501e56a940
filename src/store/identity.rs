//! Identity lookups (DESIGN §9): the person a Patient names, an institution's own Patients of a
//! person, every Patient of a person, and keeping rows' person in step when a Patient changes.
//! These read across institutions on purpose and never return content: they serve writes (whose
//! patient is this?) and the patient principal's scope, not reads.

use diesel::prelude::*;

use super::schema::{consents, resource_versions, resources};
use super::{Conn, StoreError, dispatch};

/// A Consent's row key and person, which its grants follow (see `relink_person`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ConsentPerson {
    rkey: i64,
    person_key: Option<String>,
}

impl Conn<'_> {
    /// The person of the current, not deleted `Patient/id`; `None` when there is no such
    /// Patient or it names nobody.
    pub(super) fn person_of_patient(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let rows: Vec<Option<String>> = dispatch!(self, |c, DB| resources::table
            .filter(resources::res_type.eq("Patient"))
            .filter(resources::res_id.eq(id))
            .filter(resources::deleted.eq(false))
            .select(resources::person_key)
            .load(c))?;
        Ok(rows.into_iter().next().flatten())
    }

    /// The ids of `institution`'s own current Patients of `person`, oldest first. Another
    /// institution's Patient of the same person is never among them.
    pub(super) fn own_patients(
        &mut self,
        institution: &str,
        person: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(dispatch!(self, |c, DB| resources::table
            .filter(resources::person_key.eq(person))
            .filter(resources::res_type.eq("Patient"))
            .filter(resources::institution.eq(institution))
            .filter(resources::deleted.eq(false))
            .order(resources::rkey)
            .select(resources::res_id)
            .load(c))?)
    }

    /// The ids of every current Patient of `person`, whoever wrote them: a patient principal's
    /// records (their audit trail is kept by Patient id).
    pub(super) fn patients_of_person(&mut self, person: &str) -> Result<Vec<String>, StoreError> {
        Ok(dispatch!(self, |c, DB| resources::table
            .filter(resources::person_key.eq(person))
            .filter(resources::res_type.eq("Patient"))
            .filter(resources::deleted.eq(false))
            .order(resources::rkey)
            .select(resources::res_id)
            .load(c))?)
    }

    /// After `Patient/id` (written by `institution`) was written naming `person`: the rows that
    /// reached their person through it (`before`) follow it, and the writer's own rows that named
    /// it before it existed get it. Another institution's rows naming an id that did not exist
    /// yet stay unknown: creating a Patient under that id must not claim them. Part of writing a
    /// Patient's version (`insert_new`, `write_version`), never called on its own.
    pub(super) fn relink_person(
        &mut self,
        id: &str,
        institution: Option<&str>,
        before: Option<&str>,
        person: Option<&str>,
    ) -> Result<(), StoreError> {
        let about = resources::patient_key
            .eq(id)
            .and(resources::res_type.ne("Patient"));
        if let Some(before) = before.filter(|b| Some(*b) != person) {
            dispatch!(self, |c, DB| diesel::update(
                resources::table
                    .filter(about)
                    .filter(resources::person_key.eq(before))
            )
            .set(resources::person_key.eq(person))
            .execute(c))?;
        }
        if person.is_some() {
            let unlinked = resources::table
                .filter(about)
                .filter(resources::person_key.is_null());
            dispatch!(self, |c, DB| match institution {
                Some(i) => diesel::update(unlinked.filter(resources::institution.eq(i)))
                    .set(resources::person_key.eq(person))
                    .execute(c),
                None => diesel::update(unlinked.filter(resources::institution.is_null()))
                    .set(resources::person_key.eq(person))
                    .execute(c),
            })?;
        }
        self.relink_versions(id, institution, before, person)?;
        // A Consent's grants go with the Consent's person.
        let grants = dispatch!(self, |c, DB| resources::table
            .filter(resources::patient_key.eq(id))
            .filter(resources::res_type.eq("Consent"))
            .select(ConsentPerson::as_select())
            .load::<ConsentPerson>(c))?;
        for consent in grants {
            dispatch!(self, |c, DB| diesel::update(
                consents::table.filter(consents::rkey.eq(consent.rkey))
            )
            .set(consents::person_key.eq(&consent.person_key))
            .execute(c))?;
        }
        Ok(())
    }

    /// [`relink_person`](Self::relink_person) for the versions about `Patient/id` (each by its
    /// own patient and writer), so vread and history of a version find its person as a read of
    /// the current one does. Found through the rows about the Patient: versions have no index
    /// of their own on the patient.
    fn relink_versions(
        &mut self,
        id: &str,
        institution: Option<&str>,
        before: Option<&str>,
        person: Option<&str>,
    ) -> Result<(), StoreError> {
        let rows = || {
            resources::table
                .filter(resources::patient_key.eq(id))
                .select(resources::rkey)
        };
        let about = || {
            resource_versions::rkey
                .eq_any(rows())
                .and(resource_versions::patient_key.eq(id))
                .and(resource_versions::res_type.ne("Patient"))
        };
        if let Some(before) = before.filter(|b| Some(*b) != person) {
            dispatch!(self, |c, DB| diesel::update(
                resource_versions::table
                    .filter(about())
                    .filter(resource_versions::person_key.eq(before))
            )
            .set(resource_versions::person_key.eq(person))
            .execute(c))?;
        }
        if person.is_some() {
            dispatch!(self, |c, DB| match institution {
                Some(i) => diesel::update(
                    resource_versions::table
                        .filter(about())
                        .filter(resource_versions::person_key.is_null())
                        .filter(resource_versions::institution.eq(i))
                )
                .set(resource_versions::person_key.eq(person))
                .execute(c),
                None => diesel::update(
                    resource_versions::table
                        .filter(about())
                        .filter(resource_versions::person_key.is_null())
                        .filter(resource_versions::institution.is_null())
                )
                .set(resource_versions::person_key.eq(person))
                .execute(c),
            })?;
        }
        Ok(())
    }
}
