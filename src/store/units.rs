//! Report units of 6-information submissions: which Bundle and which clinical resources a
//! (patient, Bundle-ID) pair registered. Written only inside the submission's transaction.

use diesel::prelude::*;

use super::schema::{report_unit_members, report_units, resources};
use super::{Conn, StoreError, dispatch};

/// A report unit as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_units)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UnitRow {
    pub unit_key: String,
    pub patient_identifier: String,
    pub bundle_identifier: String,
    pub institution: String,
    pub resource_type: String,
    pub bundle_id: String,
    pub patient_id: String,
    pub registered_at: i64,
    pub updated_at: i64,
}

/// One clinical resource of a report unit or a document; `member_identifier` is its
/// resourceInstance identifier (what makes a re-sent resource the same resource). Loaded from
/// either member table, so each query names its three columns.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Member {
    pub res_type: String,
    pub res_id: String,
    pub member_identifier: Option<String>,
}

/// A member list row of a report unit.
#[derive(Insertable)]
#[diesel(table_name = report_unit_members, treat_none_as_default_value = false)]
struct NewUnitMember<'a> {
    unit_key: &'a str,
    res_type: &'a str,
    res_id: &'a str,
    member_identifier: Option<&'a str>,
}

/// A current resource of a patient with its bookkeeping, for the patient summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientResource {
    pub res_type: String,
    pub id: String,
    pub content: String,
    pub institution: Option<String>,
    pub last_updated: i64,
    pub retention_class: Option<String>,
    pub retention_group: Option<String>,
}

/// [`PatientResource`] as loaded: a deletion marker has no content and is left out.
#[derive(Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct PatientResourceRow {
    res_type: String,
    res_id: String,
    content: Option<String>,
    institution: Option<String>,
    last_updated: i64,
    retention_class: Option<String>,
    retention_group: Option<String>,
}

impl Conn<'_> {
    /// The current (not deleted) resources of `types` of the person `Patient/patient_id`
    /// names, whichever institution wrote them (each institution keeps its own Patient of a
    /// person), and those naming that Patient whose person is unknown, those
    /// within `scope` only.
    pub(super) fn current_of_patient(
        &mut self,
        patient_id: &str,
        types: &[&str],
        scope: &crate::access::Scope,
        now: i64,
    ) -> Result<Vec<PatientResource>, StoreError> {
        let person = self.person_of_patient(patient_id)?;
        let rows = dispatch!(self, |c, DB| resources::table
            .filter(
                resources::person_key
                    .eq(person.as_deref())
                    .or(resources::patient_key
                        .eq(patient_id)
                        .and(resources::person_key.is_null()))
            )
            .filter(resources::deleted.eq(false))
            .filter(resources::res_type.eq_any(types))
            .select(PatientResourceRow::as_select())
            .order((resources::res_type, resources::last_updated.desc()))
            .load::<PatientResourceRow>(c))?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            if scope.is_system() || self.visible(&row.res_type, &row.res_id, scope, now)? {
                found.push(row);
            }
        }
        Ok(found
            .into_iter()
            .filter_map(|r| {
                Some(PatientResource {
                    res_type: r.res_type,
                    id: r.res_id,
                    content: r.content?,
                    institution: r.institution,
                    last_updated: r.last_updated,
                    retention_class: r.retention_class,
                    retention_group: r.retention_group,
                })
            })
            .collect())
    }

    pub(super) fn unit(&mut self, unit_key: &str) -> Result<Option<UnitRow>, StoreError> {
        let rows = dispatch!(self, |c, DB| report_units::table
            .filter(report_units::unit_key.eq(unit_key))
            .select(UnitRow::as_select())
            .load::<UnitRow>(c))?;
        Ok(rows.into_iter().next())
    }

    /// The unit whose stored Bundle is `Bundle/{bundle_id}`.
    pub(super) fn unit_by_bundle_id(
        &mut self,
        bundle_id: &str,
    ) -> Result<Option<UnitRow>, StoreError> {
        let rows = dispatch!(self, |c, DB| report_units::table
            .filter(report_units::bundle_id.eq(bundle_id))
            .select(UnitRow::as_select())
            .load::<UnitRow>(c))?;
        Ok(rows.into_iter().next())
    }

    /// Every unit registered under a Bundle-ID (one per patient).
    pub(super) fn units_by_bundle_identifier(
        &mut self,
        bundle_identifier: &str,
    ) -> Result<Vec<UnitRow>, StoreError> {
        Ok(dispatch!(self, |c, DB| report_units::table
            .filter(report_units::bundle_identifier.eq(bundle_identifier))
            .select(UnitRow::as_select())
            .order(report_units::unit_key)
            .load(c))?)
    }

    pub(super) fn unit_members(&mut self, unit_key: &str) -> Result<Vec<Member>, StoreError> {
        Ok(dispatch!(self, |c, DB| report_unit_members::table
            .filter(report_unit_members::unit_key.eq(unit_key))
            .select((
                report_unit_members::res_type,
                report_unit_members::res_id,
                report_unit_members::member_identifier,
            ))
            .order((report_unit_members::res_type, report_unit_members::res_id))
            .load(c))?)
    }
}

/// A report unit's own rows: the unit and its member list. Obtained from a connection
/// ([`Conn::units`]) inside the unit's transaction.
pub struct UnitRepo<'c> {
    conn: Conn<'c>,
}

impl Conn<'_> {
    /// The report units' writes on this connection.
    pub fn units(&mut self) -> UnitRepo<'_> {
        UnitRepo {
            conn: self.reborrow(),
        }
    }
}

impl UnitRepo<'_> {
    /// Writes the unit row and replaces its member list.
    pub fn put_unit(&mut self, unit: &UnitRow, members: &[Member]) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| {
            diesel::delete(
                report_unit_members::table.filter(report_unit_members::unit_key.eq(&unit.unit_key)),
            )
            .execute(c)?;
            diesel::delete(report_units::table.filter(report_units::unit_key.eq(&unit.unit_key)))
                .execute(c)?;
            diesel::insert_into(report_units::table)
                .values(unit)
                .execute(c)?;
            for m in members {
                diesel::insert_into(report_unit_members::table)
                    .values(NewUnitMember {
                        unit_key: &unit.unit_key,
                        res_type: &m.res_type,
                        res_id: &m.res_id,
                        member_identifier: m.member_identifier.as_deref(),
                    })
                    .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        Ok(())
    }

    pub fn delete_unit(&mut self, unit_key: &str) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| {
            diesel::delete(
                report_unit_members::table.filter(report_unit_members::unit_key.eq(unit_key)),
            )
            .execute(c)?;
            diesel::delete(report_units::table.filter(report_units::unit_key.eq(unit_key)))
                .execute(c)
        })?;
        Ok(())
    }
}
