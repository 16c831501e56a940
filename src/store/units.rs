//! Report units of 6-information submissions: which Bundle and which clinical resources a
//! (patient, Bundle-ID) pair registered. Written only inside the submission's transaction.

use diesel::prelude::*;

use super::schema::{report_unit_members, report_units};
use super::{Conn, StoreError, dispatch};

/// A report unit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
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
/// resourceInstance identifier (what makes a re-sent resource the same resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub res_type: String,
    pub res_id: String,
    pub member_identifier: Option<String>,
}

/// A member list row: (type, id, resource identifier).
impl From<(String, String, Option<String>)> for Member {
    fn from((res_type, res_id, member_identifier): (String, String, Option<String>)) -> Self {
        Member {
            res_type,
            res_id,
            member_identifier,
        }
    }
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

fn to_unit(r: Row) -> UnitRow {
    UnitRow {
        unit_key: r.0,
        patient_identifier: r.1,
        bundle_identifier: r.2,
        institution: r.3,
        resource_type: r.4,
        bundle_id: r.5,
        patient_id: r.6,
        registered_at: r.7,
        updated_at: r.8,
    }
}

macro_rules! unit_columns {
    () => {
        (
            report_units::unit_key,
            report_units::patient_identifier,
            report_units::bundle_identifier,
            report_units::institution,
            report_units::resource_type,
            report_units::bundle_id,
            report_units::patient_id,
            report_units::registered_at,
            report_units::updated_at,
        )
    };
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

impl Conn<'_> {
    /// The current (not deleted) resources of `types` of the person `Patient/patient_id`
    /// names, whichever institution wrote them (each institution keeps its own Patient of a
    /// person), and those naming that Patient whose person is unknown, those
    /// within `scope` only.
    pub fn current_of_patient(
        &mut self,
        patient_id: &str,
        types: &[&str],
        scope: &crate::access::Scope,
        now: i64,
    ) -> Result<Vec<PatientResource>, StoreError> {
        use super::schema::resources;
        type R = (
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<String>,
            Option<String>,
        );
        let person = self.person_of_patient(patient_id)?;
        let rows: Vec<R> = dispatch!(self, |c, DB| resources::table
            .filter(
                resources::person_key
                    .eq(person.as_deref())
                    .or(resources::patient_key
                        .eq(patient_id)
                        .and(resources::person_key.is_null()))
            )
            .filter(resources::deleted.eq(false))
            .filter(resources::res_type.eq_any(types))
            .select((
                resources::res_type,
                resources::res_id,
                resources::content,
                resources::institution,
                resources::last_updated,
                resources::retention_class,
                resources::retention_group,
            ))
            .order((resources::res_type, resources::last_updated.desc()))
            .load(c))?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            if scope.is_system() || self.visible(&row.0, &row.1, scope, now)? {
                found.push(row);
            }
        }
        Ok(found
            .into_iter()
            .filter_map(
                |(res_type, id, content, institution, last_updated, class, group)| {
                    Some(PatientResource {
                        res_type,
                        id,
                        content: content?,
                        institution,
                        last_updated,
                        retention_class: class,
                        retention_group: group,
                    })
                },
            )
            .collect())
    }

    pub fn unit(&mut self, unit_key: &str) -> Result<Option<UnitRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| report_units::table
            .filter(report_units::unit_key.eq(unit_key))
            .select(unit_columns!())
            .load(c))?;
        Ok(rows.into_iter().next().map(to_unit))
    }

    /// The unit whose stored Bundle is `Bundle/{bundle_id}`.
    pub fn unit_by_bundle_id(&mut self, bundle_id: &str) -> Result<Option<UnitRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| report_units::table
            .filter(report_units::bundle_id.eq(bundle_id))
            .select(unit_columns!())
            .load(c))?;
        Ok(rows.into_iter().next().map(to_unit))
    }

    /// Every unit registered under a Bundle-ID (one per patient).
    pub fn units_by_bundle_identifier(
        &mut self,
        bundle_identifier: &str,
    ) -> Result<Vec<UnitRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| report_units::table
            .filter(report_units::bundle_identifier.eq(bundle_identifier))
            .select(unit_columns!())
            .order(report_units::unit_key)
            .load(c))?;
        Ok(rows.into_iter().map(to_unit).collect())
    }

    pub fn unit_members(&mut self, unit_key: &str) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> =
            dispatch!(self, |c, DB| report_unit_members::table
                .filter(report_unit_members::unit_key.eq(unit_key))
                .select((
                    report_unit_members::res_type,
                    report_unit_members::res_id,
                    report_unit_members::member_identifier,
                ))
                .order((report_unit_members::res_type, report_unit_members::res_id))
                .load(c))?;
        Ok(rows.into_iter().map(Member::from).collect())
    }

    /// Writes the unit row and replaces its member list.
    pub fn put_unit(&mut self, unit: &UnitRow, members: &[Member]) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| {
            diesel::delete(
                report_unit_members::table.filter(report_unit_members::unit_key.eq(&unit.unit_key)),
            )
            .execute(c)?;
            diesel::delete(report_units::table.filter(report_units::unit_key.eq(&unit.unit_key)))
                .execute(c)?;
            diesel::insert_into(report_units::table)
                .values((
                    report_units::unit_key.eq(&unit.unit_key),
                    report_units::patient_identifier.eq(&unit.patient_identifier),
                    report_units::bundle_identifier.eq(&unit.bundle_identifier),
                    report_units::institution.eq(&unit.institution),
                    report_units::resource_type.eq(&unit.resource_type),
                    report_units::bundle_id.eq(&unit.bundle_id),
                    report_units::patient_id.eq(&unit.patient_id),
                    report_units::registered_at.eq(unit.registered_at),
                    report_units::updated_at.eq(unit.updated_at),
                ))
                .execute(c)?;
            for m in members {
                diesel::insert_into(report_unit_members::table)
                    .values((
                        report_unit_members::unit_key.eq(&unit.unit_key),
                        report_unit_members::res_type.eq(&m.res_type),
                        report_unit_members::res_id.eq(&m.res_id),
                        report_unit_members::member_identifier.eq(m.member_identifier.as_deref()),
                    ))
                    .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        Ok(())
    }

    pub fn delete_unit(&mut self, unit_key: &str) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| {
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

/// A row a submission's removal took away, with the patient it was about (for the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub res_type: String,
    pub res_id: String,
    pub patient_key: Option<String>,
}

impl Conn<'_> {
    /// Removes a submission (a report unit or a document): its members first, then its Bundle,
    /// so no moment shows a Bundle without the data it stands for. What was removed, each
    /// row's patient read before it goes.
    pub fn purge_submission(
        &mut self,
        members: &[Member],
        bundle_id: &str,
    ) -> Result<Vec<Removed>, StoreError> {
        let rows = members
            .iter()
            .map(|m| (m.res_type.as_str(), m.res_id.as_str()))
            .chain([("Bundle", bundle_id)]);
        let mut removed = Vec::new();
        for (res_type, res_id) in rows {
            let patient_key = dispatch!(self, |c, DB| super::schema::resources::table
                .filter(super::schema::resources::res_type.eq(res_type))
                .filter(super::schema::resources::res_id.eq(res_id))
                .select(super::schema::resources::patient_key)
                .first::<Option<String>>(c)
                .optional())?
            .flatten();
            if self.purge(res_type, res_id)? {
                removed.push(Removed {
                    res_type: res_type.to_string(),
                    res_id: res_id.to_string(),
                    patient_key,
                });
            }
        }
        Ok(removed)
    }
}
