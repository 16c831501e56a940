//! Steps shared by every write (create, update, delete, and the entries of a transaction):
//! checking the body against the URL, stamping meta, extracting index rows, and the in-transaction
//! operations, which only the write kernel ([`WriteTx`]) calls.

use serde_json::Value;

use super::write_tx::WriteTx;
use super::{Services, Written};
use crate::access::Principal;
use crate::access::person::{PatientLink, PersonKey};
use crate::error::Error;
use crate::fhir::resource::{is_valid_id, resource_type, stamp};
use crate::messages::InteractionMessage;
use crate::search::{IndexRows, SearchQuery};
use crate::store::{Conn, CurrentRow, LockKey, Method, NewVersion, StoredResource, SystemUse};

/// A version ready to be written: everything that does not need the database.
pub(crate) struct Prepared {
    pub res_type: String,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    pub content: String,
    pub index: IndexRows,
    /// What the resource says about its patient; [`store_prepared`] resolves it into
    /// `patient_key` and `person_key` inside the write transaction.
    pub link: PatientLink,
    pub patient_key: Option<String>,
    pub person_key: Option<String>,
    pub institution: Option<String>,
    pub retention_class: Option<String>,
    pub expires_at: Option<i64>,
    pub retention_group: Option<String>,
    pub access: crate::access::classify::Classified,
    pub consent: Vec<crate::access::classify::ConsentGrant>,
    /// A patient's write (their own Consent) must be about this person, their own.
    pub own_person: Option<String>,
}

impl Prepared {
    pub fn new(
        svc: &Services,
        res_type: &str,
        id: &str,
        version: i64,
        now: i64,
        resource: Value,
    ) -> Result<Self, Error> {
        let writer = svc.caller.principal.institution().map(str::to_string);
        Self::written_by(svc, writer, res_type, id, version, now, resource)
    }

    /// [`Self::new`] on behalf of the institution `institution`: a patient's new version of a
    /// Consent an institution recorded stays that institution's, which grants under it.
    pub fn written_by(
        svc: &Services,
        institution: Option<String>,
        res_type: &str,
        id: &str,
        version: i64,
        now: i64,
        mut resource: Value,
    ) -> Result<Self, Error> {
        stamp(&mut resource, id, version, now);
        let index = crate::search::extract(res_type, &resource, svc.search.default_offset);
        let link = PatientLink::of(res_type, &resource);
        let access = crate::access::classify::classify(res_type, &resource);
        let own_person = match &svc.caller.principal {
            Principal::Patient { identifier, .. } => {
                Some(PersonKey::parse(identifier).as_str().to_string())
            }
            _ => None,
        };
        let consent = if res_type == "Consent" {
            crate::access::classify::consent_grants(
                &resource,
                institution.as_deref(),
                svc.search.default_offset,
            )
            .map_err(|(message, at)| Error::invalid(message, at))?
        } else {
            Vec::new()
        };
        let content = serde_json::to_string(&resource)
            .map_err(|e| Error::invalid(e.to_string(), res_type))?;
        Ok(Prepared {
            res_type: res_type.to_string(),
            id: id.to_string(),
            version,
            last_updated: now,
            content,
            index,
            link,
            patient_key: None,
            person_key: None,
            institution,
            retention_class: None,
            expires_at: None,
            retention_group: None,
            access,
            consent,
            own_person,
        })
    }

    fn new_version(&self, method: Method) -> NewVersion<'_> {
        NewVersion {
            res_type: &self.res_type,
            id: &self.id,
            content: &self.content,
            last_updated: self.last_updated,
            method,
            index: &self.index,
            patient_key: self.patient_key.as_deref(),
            person_key: self.person_key.as_deref(),
            institution: self.institution.as_deref(),
            retention_class: self.retention_class.as_deref(),
            expires_at: self.expires_at,
            retention_group: self.retention_group.as_deref(),
            access_category: self.access.category,
            hidden: self.access.hidden,
            consent: &self.consent,
        }
    }

    /// Resolves [`Self::link`] against the store: a Patient is its own patient; a reference to
    /// `Patient/id` takes that Patient's person; a member identifier names the person, and the
    /// writer's own Patient of that person when it has one. Anything else stays unknown (no
    /// person), which only the writer reads.
    fn resolve_patient(&mut self, conn: &mut Conn<'_>) -> Result<(), Error> {
        let (patient, person) = match &self.link {
            PatientLink::Shared | PatientLink::Unknown => (None, None),
            PatientLink::Itself(person) => (Some(self.id.clone()), person.clone().map(key)),
            PatientLink::Patient(id) => (
                Some(id.clone()),
                conn.system(SystemUse::Identity).person_of_patient(id)?,
            ),
            PatientLink::Person(person) => {
                let own = match &self.institution {
                    Some(i) => conn
                        .system(SystemUse::Identity)
                        .own_patients(i, person.as_str())?
                        .into_iter()
                        .next(),
                    None => None,
                };
                (own, Some(person.as_str().to_string()))
            }
            PatientLink::Known { patient, person } => {
                (Some(patient.clone()), person.clone().map(key))
            }
        };
        self.patient_key = patient;
        self.person_key = person;
        Ok(())
    }

    pub(crate) fn into_written(self, created: bool) -> Written {
        Written {
            resource: StoredResource {
                res_type: self.res_type,
                id: self.id,
                version: self.version,
                last_updated: self.last_updated,
                deleted: false,
                content: Some(self.content),
                patient: Some(self.patient_key),
            },
            created,
        }
    }
}

/// The body must be a resource of the URL's type; on update its id must be the URL's id.
pub(crate) fn check_body(
    res_type: &str,
    resource: &Value,
    url_id: Option<&str>,
) -> Result<(), Error> {
    match resource_type(resource) {
        Some(t) if t == res_type => {}
        Some(t) => {
            return Err(Error::invalid(
                InteractionMessage::TypeMismatch {
                    found: t.to_string(),
                    url: res_type.to_string(),
                },
                format!("{res_type}.resourceType"),
            ));
        }
        None => {
            return Err(Error::invalid(
                InteractionMessage::NoResourceType,
                "resourceType",
            ));
        }
    }
    if let Some(url_id) = url_id {
        match resource.get("id").and_then(Value::as_str) {
            Some(id) if id == url_id => {}
            Some(id) => {
                return Err(Error::invalid(
                    InteractionMessage::IdMismatch {
                        found: id.to_string(),
                        url: url_id.to_string(),
                    },
                    format!("{res_type}.id"),
                ));
            }
            None => {
                return Err(Error::invalid(
                    InteractionMessage::UpdateWithoutId,
                    format!("{res_type}.id"),
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn check_id(res_type: &str, id: &str) -> Result<(), Error> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(Error::invalid(
            InteractionMessage::InvalidId { id: id.to_string() },
            format!("{res_type}.id"),
        ))
    }
}

/// Validates content about to be written, on the validation pool; errors reject the whole
/// write with 422. The resource comes back for the write (moved, not copied, to the pool).
pub(crate) async fn validate_for_write(svc: &Services, resource: Value) -> Result<Value, Error> {
    if !svc.validate_on_write {
        return Ok(resource);
    }
    let questionnaires = super::questionnaires::stored_for(svc, &resource).await?;
    let validator = std::sync::Arc::clone(&svc.validator);
    let (resource, issues) = svc
        .cpu
        .run(move || {
            let issues = validator.validate_with(&resource, None, None, &questionnaires);
            (resource, issues)
        })
        .await?;
    if crate::validation::has_errors(&issues) {
        return Err(Error::Unprocessable(issues));
    }
    Ok(resource)
}

/// The stored Bundle of a report unit or of an active document changes only through the
/// submission rules: a plain PUT or DELETE of it would leave its members behind.
fn check_not_managed(
    conn: &mut Conn<'_>,
    res_type: &str,
    id: &str,
    how: &str,
) -> Result<(), Error> {
    if res_type != "Bundle" {
        return Ok(());
    }
    let mut submissions = conn.system(SystemUse::Submission);
    let why = if submissions.unit_by_bundle_id(id)?.is_some() {
        InteractionMessage::UnitWrittenDirectly {
            id: id.to_string(),
            how: how.to_string(),
        }
    } else if submissions
        .document_by_bundle_id(id)?
        .is_some_and(|d| d.status.contributes())
    {
        InteractionMessage::DocumentWrittenDirectly { id: id.to_string() }
    } else {
        return Ok(());
    };
    Err(Error::Unprocessable(vec![
        crate::fhir::Issue::error(crate::fhir::IssueType::NotSupported, why).at("Bundle"),
    ]))
}

fn key(person: crate::access::person::PersonKey) -> String {
    person.as_str().to_string()
}

/// Writes `prepared` as the next version over `current`, or as a new resource: its patient
/// resolved first; for a Patient, the store keeps the rows that belong to it in step with its
/// person as it writes the version. Every write of a resource goes through here.
pub(super) fn store_prepared(
    conn: &mut Conn<'_>,
    prepared: &mut Prepared,
    current: Option<CurrentRow>,
    method: Method,
) -> Result<(), Error> {
    prepared.resolve_patient(conn)?;
    if let Some(own) = &prepared.own_person
        && prepared.person_key.as_deref() != Some(own.as_str())
    {
        return Err(Error::Forbidden(
            InteractionMessage::ConsentOfOwnRecord {
                res_type: prepared.res_type.clone(),
            }
            .into(),
        ));
    }
    match current {
        Some(row) => {
            conn.write_version(row.rkey, prepared.version, &prepared.new_version(method))?
        }
        None => {
            conn.insert_new(&prepared.new_version(method))?;
        }
    }
    Ok(())
}

/// Inserts a new resource (server-assigned id, version 1), through the write kernel
/// ([`WriteTx::insert`]), which records it.
pub(super) fn insert_in_tx(conn: &mut Conn<'_>, mut prepared: Prepared) -> Result<Written, Error> {
    store_prepared(conn, &mut prepared, None, Method::Post)?;
    Ok(prepared.into_written(true))
}

/// Writes the next version of `res_type/id` (creating it if absent), honouring `If-Match`.
/// Through the write kernel ([`WriteTx::put`]), which records it.
pub(super) fn put_in_tx(
    tx: &mut WriteTx<'_, '_>,
    res_type: &str,
    id: &str,
    resource: Value,
    if_match: Option<i64>,
) -> Result<Written, Error> {
    let (svc, now) = (tx.services(), tx.now());
    tx.lock(LockKey::Resource { res_type, id })?;
    tx.check_owner(res_type, id)?;
    let conn = tx.conn();
    check_not_managed(conn, res_type, id, "PUT")?;
    let current = conn.system(SystemUse::WriteCurrent).current(res_type, id)?;
    if let Some(expected) = if_match {
        match current {
            Some(row) if row.version == expected && !row.deleted => {}
            Some(row) => {
                return Err(Error::PreconditionFailed(
                    InteractionMessage::IfMatchOtherVersion {
                        expected: expected.to_string(),
                        reference: format!("{res_type}/{id}"),
                        current: row.version,
                        deleted: row.deleted,
                    }
                    .into(),
                ));
            }
            None => {
                return Err(Error::PreconditionFailed(
                    InteractionMessage::IfMatchNoResource {
                        expected: expected.to_string(),
                        reference: format!("{res_type}/{id}"),
                    }
                    .into(),
                ));
            }
        }
    }
    let version = current.map_or(1, |row| row.version + 1);
    let writer = match &svc.caller.principal {
        Principal::Patient { .. } => conn
            .system(SystemUse::Ownership)
            .owner_of(res_type, id)?
            .flatten(),
        p => p.institution().map(str::to_string),
    };
    let mut prepared = Prepared::written_by(svc, writer, res_type, id, version, now, resource)?;
    store_prepared(conn, &mut prepared, current, Method::Put)?;
    Ok(prepared.into_written(current.is_none_or(|row| row.deleted)))
}

/// Deletes `res_type/id`; returns the deletion's version, or `None` when there was nothing to
/// delete, which is also the answer for a resource the caller may not read: for it, that
/// resource does not exist. Through the write kernel ([`WriteTx::delete`]), which records it.
pub(super) fn delete_in_tx(
    tx: &mut WriteTx<'_, '_>,
    res_type: &str,
    id: &str,
) -> Result<Option<i64>, Error> {
    let now = tx.now();
    tx.lock(LockKey::Resource { res_type, id })?;
    match tx.check_owner(res_type, id) {
        Err(Error::NotFound { .. }) => return Ok(None),
        checked => checked?,
    }
    let conn = tx.conn();
    check_not_managed(conn, res_type, id, "DELETE")?;
    match conn.system(SystemUse::WriteCurrent).current(res_type, id)? {
        Some(row) if !row.deleted => Ok(Some(conn.write_deletion(row, now)?)),
        _ => Ok(None),
    }
}

/// Parses conditional criteria (`identifier=…`, optionally prefixed `Type?`). Unknown parameters
/// are errors here whatever the handling preference: ignoring one would widen the match.
pub(crate) fn parse_criteria(
    svc: &Services,
    res_type: &str,
    criteria: &str,
) -> Result<SearchQuery, Error> {
    let criteria = criteria.trim();
    let criteria = criteria
        .strip_prefix(res_type)
        .and_then(|rest| rest.strip_prefix('?'))
        .unwrap_or(criteria);
    let params: Vec<(String, String)> = form_urlencoded::parse(criteria.as_bytes())
        .into_owned()
        .collect();
    if params.is_empty() {
        return Err(Error::invalid(
            InteractionMessage::EmptyCriteria,
            "If-None-Exist",
        ));
    }
    let mut options = svc.search.clone();
    options.strict = true;
    let mut query = crate::search::parse(res_type, &params, &options)?;
    query.count = 2;
    query.offset = 0;
    query.sort.clear();
    query.total = crate::search::TotalMode::None;
    Ok(query)
}
