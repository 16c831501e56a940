//! Resource rows: read the current or a given version, write a new version with its index rows
//! (a Patient's with its person carried to the rows about it), record a deletion, remove a
//! resource whole.
//!
//! Lookups by key load without `LIMIT`: the keys are unique, and SQLite (3.4x+) marks a statement
//! with a bound `LIMIT ?` for re-preparation whenever that parameter is bound again — on every
//! execution — which cost about a sixth of the CPU of a GET.

use diesel::prelude::*;

use super::index_rows::{
    NewDate, NewNumber, NewReference, NewString, NewToken, NewTokenPair, NewUri, QuantityInsert,
};
use super::schema::{
    consents, resource_versions, resources, search_date, search_number, search_quantity,
    search_quantity_pair, search_reference, search_string, search_token, search_token_pair,
    search_uri,
};
use super::{Conn, StoreError, dispatch};
use crate::access::classify::ConsentGrant;
use crate::search::IndexRows;

/// A row a removal took away, with the patient it was about (for the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub res_type: String,
    pub res_id: String,
    pub patient_key: Option<String>,
}

/// One stored version as the API serves it. `content` is the JSON text exactly as stored
/// (meta.versionId and meta.lastUpdated already set), `None` for a deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub res_type: String,
    pub id: String,
    pub version: i64,
    /// Microseconds since the Unix epoch, UTC.
    pub last_updated: i64,
    pub deleted: bool,
    pub content: Option<String>,
    /// The patient the row is indexed under, when the query that loaded it had it at hand
    /// (`None`: not loaded). The audit trail takes it from here instead of looking it up.
    pub patient: Option<Option<String>>,
}

/// The bookkeeping of the current version, for writers deciding what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CurrentRow {
    pub rkey: i64,
    pub version: i64,
    pub deleted: bool,
}

/// The HTTP verb that produced a version, kept for history bundles (`entry.request.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "POST" => Ok(Method::Post),
            "PUT" => Ok(Method::Put),
            "DELETE" => Ok(Method::Delete),
            other => Err(StoreError::Corrupt(format!(
                "unknown method '{other}' in history"
            ))),
        }
    }
}

/// A version to write, prepared outside the transaction (content serialised, index extracted).
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub res_type: &'a str,
    pub id: &'a str,
    pub content: &'a str,
    pub last_updated: i64,
    pub method: Method,
    pub index: &'a IndexRows,
    pub patient_key: Option<&'a str>,
    /// The person (member identifier) of the patient the row belongs to (`access::person`).
    pub person_key: Option<&'a str>,
    pub institution: Option<&'a str>,
    /// Which retention rule applies (set for CLINS submissions; `None` keeps it forever).
    pub retention_class: Option<&'a str>,
    /// When the rule lets it go (microseconds); `None` never.
    pub expires_at: Option<i64>,
    /// The group it is ranked in for "the latest 3" (labs: item; prescriptions: occasion).
    pub retention_group: Option<&'a str>,
    /// Its data category and hiding flag for the access rules (`crate::access::classify`).
    pub access_category: Option<&'a str>,
    pub hidden: Option<&'a str>,
    /// The grants of a Consent (empty for anything else).
    pub consent: &'a [ConsentGrant],
}

/// The current row as a read loads it: [`CurrentRow`] and [`StoredResource`] with the
/// institution that wrote it and the patient it is indexed under.
#[derive(Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct OwnedRow {
    rkey: i64,
    version: i64,
    last_updated: i64,
    deleted: bool,
    content: Option<String>,
    institution: Option<String>,
    patient_key: Option<String>,
}

/// Version 1 of a resource, as [`Conn::insert_new`] writes it. `None` is bound as NULL, so the
/// INSERT's column list is the same for every resource (one prepared statement).
#[derive(Insertable)]
#[diesel(table_name = resources, treat_none_as_default_value = false)]
struct NewResource<'a> {
    res_type: &'a str,
    res_id: &'a str,
    version: i64,
    last_updated: i64,
    deleted: bool,
    content: Option<&'a str>,
    institution: Option<&'a str>,
    patient_key: Option<&'a str>,
    person_key: Option<&'a str>,
    retention_class: Option<&'a str>,
    expires_at: Option<i64>,
    retention_group: Option<&'a str>,
    access_category: Option<&'a str>,
    hidden: Option<&'a str>,
}

impl<'a> NewResource<'a> {
    fn first(v: &NewVersion<'a>) -> Self {
        NewResource {
            res_type: v.res_type,
            res_id: v.id,
            version: 1,
            last_updated: v.last_updated,
            deleted: false,
            content: Some(v.content),
            institution: v.institution,
            patient_key: v.patient_key,
            person_key: v.person_key,
            retention_class: v.retention_class,
            expires_at: v.expires_at,
            retention_group: v.retention_group,
            access_category: v.access_category,
            hidden: v.hidden,
        }
    }
}

/// One grant of a Consent, kept beside it (see `insert_consent`).
#[derive(Insertable)]
#[diesel(table_name = consents, treat_none_as_default_value = false)]
struct NewConsentGrant<'a> {
    rkey: i64,
    patient_key: &'a str,
    person_key: Option<&'a str>,
    institution: &'a str,
    category: &'a str,
    active: bool,
    period_start: Option<i64>,
    period_end: Option<i64>,
}

/// Holds the current row of `res_type/id` (if any) until this transaction ends: the
/// PostgreSQL side of [`LockKey::ReferenceTarget`](super::LockKey::ReferenceTarget).
pub(super) fn hold_row(
    c: &mut diesel::PgConnection,
    res_type: &str,
    id: &str,
) -> Result<(), StoreError> {
    // `FOR SHARE`, not `FOR KEY SHARE`: a delete updates the row without touching its key,
    // which `FOR KEY SHARE` would let through.
    resources::table
        .filter(resources::res_type.eq(res_type))
        .filter(resources::res_id.eq(id))
        .select(resources::rkey)
        .for_share()
        .load::<i64>(c)?;
    Ok(())
}

impl Conn<'_> {
    /// The current version, a deletion marker included (the caller answers 410 for it).
    pub(super) fn read_current(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        Ok(self
            .read_current_row(res_type, id)?
            .map(|(_, stored)| stored))
    }

    /// The current version with its row bookkeeping, in one query: for writers that compare
    /// the stored content before deciding to write the next version.
    pub(super) fn read_current_row(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<(CurrentRow, StoredResource)>, StoreError> {
        Ok(self
            .read_current_owned(res_type, id)?
            .map(|(row, stored, _)| (row, stored)))
    }

    /// [`read_current_row`](Self::read_current_row) with the institution that wrote it, for
    /// the access check of a read.
    pub(super) fn read_current_owned(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<(CurrentRow, StoredResource, Option<String>)>, StoreError> {
        let row = dispatch!(self, |c, DB| resources::table
            .filter(resources::res_type.eq(res_type))
            .filter(resources::res_id.eq(id))
            .select(OwnedRow::as_select())
            .load::<OwnedRow>(c))?
        .into_iter()
        .next();
        Ok(row.map(|r| {
            (
                CurrentRow {
                    rkey: r.rkey,
                    version: r.version,
                    deleted: r.deleted,
                },
                StoredResource {
                    res_type: res_type.to_string(),
                    id: id.to_string(),
                    version: r.version,
                    last_updated: r.last_updated,
                    deleted: r.deleted,
                    content: r.content,
                    patient: Some(r.patient_key),
                },
                r.institution,
            )
        }))
    }

    pub(super) fn current(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<CurrentRow>, StoreError> {
        let rows = dispatch!(self, |c, DB| resources::table
            .filter(resources::res_type.eq(res_type))
            .filter(resources::res_id.eq(id))
            .select(CurrentRow::as_select())
            .load::<CurrentRow>(c))?;
        Ok(rows.into_iter().next())
    }

    /// Writes version 1 of a resource that does not exist yet; returns its row key. A new
    /// Patient gives its person to the rows that named it before it existed (the store's
    /// `relink_person`).
    pub fn insert_new(&mut self, v: &NewVersion<'_>) -> Result<i64, StoreError> {
        let rkey: i64 = dispatch!(self, |c, DB| diesel::insert_into(resources::table)
            .values(NewResource::first(v))
            .returning(resources::rkey)
            .get_result(c))?;
        self.insert_version_row(rkey, v.method)?;
        self.insert_index(rkey, v.res_type, v.index)?;
        self.insert_consent(rkey, v)?;
        if v.res_type == "Patient" {
            // No row existed, so no row reached a person through it before.
            self.relink_person(v.id, v.institution, None, v.person_key)?;
        }
        Ok(rkey)
    }

    /// Writes `version` over the current row `rkey` (an update, or a re-creation after delete).
    /// A Patient's rows keep in step with the person it now names (the store's
    /// `relink_person`).
    pub fn write_version(
        &mut self,
        rkey: i64,
        version: i64,
        v: &NewVersion<'_>,
    ) -> Result<(), StoreError> {
        let before = if v.res_type == "Patient" {
            self.person_of_patient(v.id)?
        } else {
            None
        };
        dispatch!(self, |c, DB| diesel::update(
            resources::table.filter(resources::rkey.eq(rkey))
        )
        .set((
            resources::version.eq(version),
            resources::last_updated.eq(v.last_updated),
            resources::deleted.eq(false),
            resources::content.eq(Some(v.content)),
            resources::institution.eq(v.institution),
            resources::patient_key.eq(v.patient_key),
            resources::person_key.eq(v.person_key),
            resources::retention_class.eq(v.retention_class),
            resources::expires_at.eq(v.expires_at),
            resources::retention_group.eq(v.retention_group),
            resources::access_category.eq(v.access_category),
            resources::hidden.eq(v.hidden),
        ))
        .execute(c))?;
        self.insert_version_row(rkey, v.method)?;
        self.delete_index(rkey)?;
        self.insert_index(rkey, v.res_type, v.index)?;
        self.delete_consent(rkey)?;
        self.insert_consent(rkey, v)?;
        if v.res_type == "Patient" {
            self.relink_person(v.id, v.institution, before.as_deref(), v.person_key)?;
        }
        Ok(())
    }

    /// A Consent's grants, kept beside it for the access condition to join by person. A grant
    /// whose person is not known yet (its Patient is written later) is kept unmatched until
    /// `relink_person` gives it one.
    fn insert_consent(&mut self, rkey: i64, v: &NewVersion<'_>) -> Result<(), StoreError> {
        if v.patient_key.is_none() && v.person_key.is_none() {
            return Ok(());
        }
        // The column predates references by member identifier: '' names no Patient.
        let patient = v.patient_key.unwrap_or_default();
        for g in v.consent {
            let grant = NewConsentGrant {
                rkey,
                patient_key: patient,
                person_key: v.person_key,
                institution: &g.institution,
                category: g.category,
                active: g.active,
                period_start: g.start,
                period_end: g.end,
            };
            dispatch!(self, |c, DB| diesel::insert_into(consents::table)
                .values(grant)
                .execute(c))?;
        }
        Ok(())
    }

    fn delete_consent(&mut self, rkey: i64) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| diesel::delete(
            consents::table.filter(consents::rkey.eq(rkey))
        )
        .execute(c))?;
        Ok(())
    }

    /// Removes a resource entirely: every version, index and consent row. For data that must be
    /// gone (a replaced report unit, expired retention), not for a FHIR delete. What was
    /// removed, with the patient its row named (read with its key, for an audit record);
    /// `None` when there was nothing.
    pub fn purge(&mut self, res_type: &str, id: &str) -> Result<Option<Removed>, StoreError> {
        let rows: Vec<(i64, Option<String>)> = dispatch!(self, |c, DB| resources::table
            .filter(resources::res_type.eq(res_type))
            .filter(resources::res_id.eq(id))
            .select((resources::rkey, resources::patient_key))
            .load(c))?;
        let rkeys: Vec<i64> = rows.iter().map(|(rkey, _)| *rkey).collect();
        if self.purge_rkeys(&rkeys)? == 0 {
            return Ok(None);
        }
        Ok(Some(Removed {
            res_type: res_type.to_string(),
            res_id: id.to_string(),
            patient_key: rows.into_iter().next().and_then(|(_, patient)| patient),
        }))
    }

    /// Records a FHIR delete as a new, empty version; the index rows go so searches skip it.
    pub fn write_deletion(
        &mut self,
        row: CurrentRow,
        last_updated: i64,
    ) -> Result<i64, StoreError> {
        let version = row.version + 1;
        dispatch!(self, |c, DB| diesel::update(
            resources::table.filter(resources::rkey.eq(row.rkey))
        )
        .set((
            resources::version.eq(version),
            resources::last_updated.eq(last_updated),
            resources::deleted.eq(true),
            resources::content.eq(None::<String>),
        ))
        .execute(c))?;
        self.insert_version_row(row.rkey, Method::Delete)?;
        self.delete_index(row.rkey)?;
        self.delete_consent(row.rkey)?;
        Ok(version)
    }

    /// Records the row `rkey` as just written as its version, with the row's access facts:
    /// vread and history check each version by its own (DESIGN §9), not by the current row's.
    fn insert_version_row(&mut self, rkey: i64, method: Method) -> Result<(), StoreError> {
        use diesel::sql_types::Text;
        dispatch!(self, |c, DB| diesel::insert_into(resource_versions::table)
            .values(resources::table.filter(resources::rkey.eq(rkey)).select((
                resources::rkey,
                resources::version,
                resources::res_type,
                resources::res_id,
                resources::last_updated,
                method.as_str().into_sql::<Text>(),
                resources::deleted,
                resources::content,
                resources::institution,
                resources::patient_key,
                resources::person_key,
                resources::access_category,
                resources::hidden,
            )),)
            .into_columns((
                resource_versions::rkey,
                resource_versions::version,
                resource_versions::res_type,
                resource_versions::res_id,
                resource_versions::last_updated,
                resource_versions::method,
                resource_versions::deleted,
                resource_versions::content,
                resource_versions::institution,
                resource_versions::patient_key,
                resource_versions::person_key,
                resource_versions::access_category,
                resource_versions::hidden,
            ))
            .execute(c))?;
        Ok(())
    }

    fn delete_index(&mut self, rkey: i64) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| {
            diesel::delete(search_token::table.filter(search_token::rkey.eq(rkey))).execute(c)?;
            diesel::delete(search_string::table.filter(search_string::rkey.eq(rkey))).execute(c)?;
            diesel::delete(search_date::table.filter(search_date::rkey.eq(rkey))).execute(c)?;
            diesel::delete(search_reference::table.filter(search_reference::rkey.eq(rkey)))
                .execute(c)?;
            diesel::delete(search_number::table.filter(search_number::rkey.eq(rkey))).execute(c)?;
            diesel::delete(search_quantity::table.filter(search_quantity::rkey.eq(rkey)))
                .execute(c)?;
            diesel::delete(search_quantity_pair::table.filter(search_quantity_pair::rkey.eq(rkey)))
                .execute(c)?;
            diesel::delete(search_uri::table.filter(search_uri::rkey.eq(rkey))).execute(c)?;
            diesel::delete(search_token_pair::table.filter(search_token_pair::rkey.eq(rkey)))
                .execute(c)?;
        });
        Ok(())
    }

    /// One single-row INSERT per index row: the statement is prepared once per connection and
    /// reused, where a multi-row INSERT would be parsed anew for every distinct row count.
    pub(super) fn insert_index(
        &mut self,
        rkey: i64,
        res_type: &str,
        index: &IndexRows,
    ) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| {
            for t in &index.tokens {
                diesel::insert_into(search_token::table)
                    .values(NewToken::new(rkey, res_type, t))
                    .execute(c)?;
            }
            for s in &index.strings {
                diesel::insert_into(search_string::table)
                    .values(NewString::new(rkey, res_type, s))
                    .execute(c)?;
            }
            for d in &index.dates {
                diesel::insert_into(search_date::table)
                    .values(NewDate::new(rkey, res_type, d))
                    .execute(c)?;
            }
            for r in &index.references {
                diesel::insert_into(search_reference::table)
                    .values(NewReference::new(rkey, res_type, r))
                    .execute(c)?;
            }
            for n in &index.numbers {
                diesel::insert_into(search_number::table)
                    .values(NewNumber::new(rkey, res_type, n))
                    .execute(c)?;
            }
            for q in &index.quantities {
                match QuantityInsert::new(rkey, res_type, q) {
                    QuantityInsert::Plain(row) => {
                        diesel::insert_into(search_quantity::table)
                            .values(row)
                            .execute(c)?;
                    }
                    QuantityInsert::Pair(row) => {
                        diesel::insert_into(search_quantity_pair::table)
                            .values(row)
                            .execute(c)?;
                    }
                }
            }
            for u in &index.uris {
                diesel::insert_into(search_uri::table)
                    .values(NewUri::new(rkey, res_type, u))
                    .execute(c)?;
            }
            for t in &index.token_pairs {
                diesel::insert_into(search_token_pair::table)
                    .values(NewTokenPair::new(rkey, res_type, t))
                    .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        Ok(())
    }
}
