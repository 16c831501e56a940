//! Writing what a submission registers, shared by report units and documents, inside the
//! submission's write transaction: the submitter's own Patient of the member identifier (latest
//! demographics; another institution's Patient of the same person is never looked at),
//! the clinical resources (a resource re-sent with the same resource identifier keeps its id and
//! gets a new version, an unchanged one is left alone, a dropped one is purged), and the
//! submitted Bundle. Nothing is written for content that did not change, so identical re-sends
//! cost reads only.

use std::collections::HashMap;

use serde_json::Value;

use super::unit_plan::PlannedMember;
use crate::access::person::{PatientLink, PersonKey};
use crate::clins::classes::RetentionClass;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write::Prepared;
use crate::interactions::write_tx::WriteTx;
use crate::messages::InteractionMessage;
use crate::search::IndexRows;
use crate::store::{LockKey, Member, Method, StoredResource, SystemUse};

/// Ids the transaction hands out, drawn before it starts so the writer thread does no more
/// than SQL.
pub struct Ids {
    ids: Vec<String>,
}

impl Ids {
    pub fn draw(svc: &Services, n: usize) -> Self {
        Ids {
            ids: (0..n).map(|_| svc.ids.new_id()).collect(),
        }
    }

    pub fn next(&mut self) -> Result<String, Error> {
        self.ids
            .pop()
            .ok_or_else(|| super::internal("ran out of pre-drawn ids"))
    }
}

/// Content as compared for "unchanged": without the server's id and meta stamps.
fn comparable(resource: &Value) -> Value {
    let mut v = resource.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("id");
        if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("versionId");
            meta.remove("lastUpdated");
            if meta.is_empty() {
                obj.remove("meta");
            }
        }
    }
    v
}

fn same_as_stored(stored: &StoredResource, new: &Value) -> bool {
    let Some(content) = stored.content.as_deref() else {
        return false;
    };
    serde_json::from_str::<Value>(content).is_ok_and(|old| comparable(&old) == comparable(new))
}

/// The members after a replacement, and how many of the previous ones are gone.
pub struct Replaced {
    pub members: Vec<Member>,
    pub purged: usize,
}

/// Writes on behalf of one submitting institution at one instant, counting what it wrote.
pub struct Writer {
    pub svc: Services,
    /// Recorded on every resource, the Patient included: it is the submitter's own.
    pub institution: String,
    pub now: i64,
    /// Resources written (new resources or new versions).
    pub written: usize,
}

impl Writer {
    pub fn new(svc: Services, institution: String, now: i64) -> Self {
        Writer {
            svc,
            institution,
            now,
            written: 0,
        }
    }

    /// The submitter's own Patient of this member identifier: found and updated when the
    /// demographics changed, or created. Other institutions' Patients of the same person are
    /// neither looked at nor changed, so none can be taken over, block a submission or be
    /// revealed by one.
    pub(crate) fn patient(
        &mut self,
        tx: &mut WriteTx<'_, '_>,
        member_identifier: &str,
        patient: Value,
        ids: &mut Ids,
    ) -> Result<(String, PersonKey), Error> {
        let person = PersonKey::parse(member_identifier);
        tx.lock(LockKey::MemberPatient {
            institution: &self.institution,
            person: person.as_str(),
        })?;
        let found = tx
            .conn()
            .system(SystemUse::Identity)
            .own_patients(&self.institution, person.as_str())?;
        let id = match found.as_slice() {
            [] => ids.next()?,
            [one] => one.clone(),
            _ => {
                return Err(Error::MultipleMatches(
                    InteractionMessage::SeveralPatientsWithMemberId { count: found.len() }.into(),
                ));
            }
        };
        self.put(tx, "Patient", &id, patient, None, None, None)?;
        Ok((id, person))
    }

    /// Replaces the members `old` by `planned`: ids are kept for the same resource identifier,
    /// references between entries (and to the patient's `fullUrl`s in `refs`) are rewritten to
    /// stored ids, members no longer planned are purged.
    pub(crate) fn members(
        &mut self,
        tx: &mut WriteTx<'_, '_>,
        old: &[Member],
        planned: Vec<PlannedMember>,
        mut refs: HashMap<String, String>,
        patient: &(String, PersonKey),
        ids: &mut Ids,
    ) -> Result<Replaced, Error> {
        let by_identifier: HashMap<(&str, &str), &Member> = old
            .iter()
            .filter_map(|m| Some(((m.res_type.as_str(), m.member_identifier.as_deref()?), m)))
            .collect();
        // Ids first, so that references between entries resolve to stored ids.
        let mut assigned = Vec::with_capacity(planned.len());
        for m in &planned {
            let kept = m
                .member_identifier
                .as_deref()
                .and_then(|i| by_identifier.get(&(m.res_type.as_str(), i)))
                .map(|old| old.res_id.clone());
            let id = match kept {
                Some(id) => id,
                None => ids.next()?,
            };
            if let Some(url) = &m.full_url {
                refs.insert(url.clone(), format!("{}/{id}", m.res_type));
            }
            assigned.push(id);
        }
        let mut members = Vec::with_capacity(planned.len());
        for (m, id) in planned.into_iter().zip(assigned) {
            let mut resource = m.resource;
            crate::interactions::transaction::rewrite_references(&mut resource, &refs);
            self.put(
                tx,
                &m.res_type,
                &id,
                resource,
                Some(m.retention_class),
                Some(patient),
                None,
            )?;
            members.push(Member {
                res_type: m.res_type,
                res_id: id,
                member_identifier: m.member_identifier,
            });
        }
        let mut purged = 0;
        for o in old {
            let still = members
                .iter()
                .any(|m| m.res_type == o.res_type && m.res_id == o.res_id);
            if !still && tx.purge(&o.res_type, &o.res_id)?.is_some() {
                purged += 1;
            }
        }
        Ok(Replaced { members, purged })
    }

    /// Writes `resource` as the next version of `res_type/id` unless it is unchanged.
    /// `computed` are the rows of the parameters no path reaches (see `search::index_computed`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put(
        &mut self,
        tx: &mut WriteTx<'_, '_>,
        res_type: &str,
        id: &str,
        resource: Value,
        retention_class: Option<RetentionClass>,
        patient: Option<&(String, PersonKey)>,
        computed: Option<IndexRows>,
    ) -> Result<StoredResource, Error> {
        let current = tx
            .conn()
            .system(SystemUse::WriteCurrent)
            .read_current_row(res_type, id)?;
        if let Some((_, stored)) = current.as_ref().filter(|(row, _)| !row.deleted)
            && same_as_stored(stored, &resource)
        {
            return Ok(stored.clone());
        }
        let row = current.map(|(row, _)| row);
        let version = row.map_or(1, |r| r.version + 1);
        let institution = Some(self.institution.clone());
        let schedule = retention_class
            .map(|class| {
                crate::retention::schedule(
                    class,
                    &resource,
                    self.now,
                    institution.as_deref(),
                    &self.svc.retention,
                )
            })
            .unwrap_or_default();
        let group = match retention_class {
            Some(RetentionClass::Lab) => Some(lab_item(&self.svc, &resource)),
            _ => schedule.group,
        };
        let mut prepared = Prepared::new(&self.svc, res_type, id, version, self.now, resource)?;
        prepared.institution = institution;
        prepared.retention_class = retention_class.map(|c| c.as_str().to_string());
        prepared.expires_at = schedule.expires_at;
        prepared.retention_group = group;
        if let Some((id, person)) = patient {
            prepared.link = PatientLink::Known {
                patient: id.clone(),
                person: Some(person.clone()),
            };
        }
        if let Some(rows) = computed {
            prepared.index.tokens.extend(rows.tokens);
            prepared.index.strings.extend(rows.strings);
            prepared.index.dates.extend(rows.dates);
            prepared.index.references.extend(rows.references);
            prepared.index.numbers.extend(rows.numbers);
            prepared.index.quantities.extend(rows.quantities);
            prepared.index.uris.extend(rows.uris);
            prepared.index.token_pairs.extend(rows.token_pairs);
        }
        let method = if row.is_some() {
            Method::Put
        } else {
            Method::Post
        };
        tx.store(&mut prepared, row, method)?;
        self.written += 1;
        Ok(prepared.into_written(false).resource)
    }
}

/// The item a lab result is ranked in: the CLINS item its JLAC code belongs to (the code
/// system's parent, e.g. ALB for an albumin method), or the code itself when the item system
/// is not loaded.
pub(crate) fn lab_item(svc: &Services, resource: &Value) -> String {
    let key = crate::retention::rules::lab_item(resource);
    if let Some((system, code)) = key.split_once('|')
        && let Ok(found) = svc.value_sets.lookup(system, None, code)
        && let Some(parent) = found.parents.first()
    {
        return format!("{system}|{parent}");
    }
    key
}

/// The computed `patient` index row of a submitted Bundle.
pub fn patient_rows(svc: &Services, patient_id: &str) -> IndexRows {
    let mut rows = IndexRows::default();
    crate::search::index_computed(
        "Bundle",
        "patient",
        &serde_json::json!({ "reference": format!("Patient/{patient_id}") }),
        svc.search.default_offset,
        &mut rows,
    );
    rows
}
