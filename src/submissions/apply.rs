//! Registering a planned report unit inside one write transaction: the patient (one per member
//! identifier, latest demographics), the unit's clinical resources (kept ids for the same
//! resource identifier, unchanged ones untouched, dropped ones purged), the Bundle as received,
//! and the unit row. A re-send therefore replaces the unit whole, and an identical re-send
//! writes nothing.

use std::collections::HashMap;

use serde_json::Value;

use super::unit_plan::UnitPlan;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write::Prepared;
use crate::search::SearchQuery;
use crate::store::{Conn, Method, StoredResource, UnitMember, UnitRow};

/// What registering a unit did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub bundle: StoredResource,
    /// A new unit (not a re-send).
    pub created: bool,
    /// Resources written (new or new versions), the Bundle and Patient included.
    pub written: usize,
    /// Resources of the previous send that the new one no longer has, now gone.
    pub purged: usize,
}

/// Ids the transaction hands out, drawn before it starts so the writer thread does no more
/// than SQL.
pub struct Ids {
    pub ids: Vec<String>,
}

impl Ids {
    fn next(&mut self) -> Result<String, Error> {
        self.ids
            .pop()
            .ok_or_else(|| super::internal("ran out of pre-drawn ids"))
    }
}

/// The item a lab result is ranked in: the CLINS item its JLAC code belongs to (the code
/// system's parent, e.g. ALB for an albumin method), or the code itself when the item system
/// is not loaded.
pub(crate) fn lab_item(svc: &Services, resource: &Value) -> String {
    let key = crate::retention::rules::lab_item(resource);
    if let Some((system, code)) = key.split_once('|') {
        if let Ok(found) = svc.value_sets.lookup(system, code) {
            if let Some(parent) = found.parents.first() {
                return format!("{system}|{parent}");
            }
        }
    }
    key
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

fn same_as_stored(stored: Option<&StoredResource>, new: &Value) -> bool {
    let Some(content) = stored.and_then(|s| s.content.as_deref()) else {
        return false;
    };
    serde_json::from_str::<Value>(content).is_ok_and(|old| comparable(&old) == comparable(new))
}

pub(crate) struct UnitWrite {
    pub svc: Services,
    pub plan: UnitPlan,
    pub bundle: Value,
    pub patient_query: SearchQuery,
    pub now: i64,
    pub ids: Ids,
}

struct Tally {
    written: usize,
}

impl UnitWrite {
    pub(crate) fn run(mut self, conn: &mut Conn<'_>) -> Result<Applied, Error> {
        let key = self.plan.unit_key();
        conn.lock(&format!("unit\u{1f}{key}"))?;
        conn.lock(&format!("patient\u{1f}{}", self.plan.patient_identifier))?;
        let mut tally = Tally { written: 0 };
        let patient_id = self.patient(conn, &mut tally)?;
        let previous = conn.unit(&key)?;
        let old_members = match &previous {
            Some(_) => conn.unit_members(&key)?,
            None => Vec::new(),
        };
        let by_identifier: HashMap<(&str, &str), &UnitMember> = old_members
            .iter()
            .filter_map(|m| Some(((m.res_type.as_str(), m.member_identifier.as_deref()?), m)))
            .collect();

        // Ids first, so that references between entries resolve to stored ids.
        let mut ids: HashMap<String, String> = HashMap::new();
        if let Some(url) = &self.plan.patient_full_url {
            ids.insert(url.clone(), format!("Patient/{patient_id}"));
        }
        let mut assigned = Vec::with_capacity(self.plan.members.len());
        for m in &self.plan.members {
            let kept = m
                .member_identifier
                .as_deref()
                .and_then(|i| by_identifier.get(&(m.res_type.as_str(), i)))
                .map(|old| old.res_id.clone());
            let id = match kept {
                Some(id) => id,
                None => self.ids.next()?,
            };
            if let Some(url) = &m.full_url {
                ids.insert(url.clone(), format!("{}/{id}", m.res_type));
            }
            assigned.push(id);
        }

        let mut members = Vec::with_capacity(self.plan.members.len());
        let planned = std::mem::take(&mut self.plan.members);
        for (m, id) in planned.into_iter().zip(assigned) {
            let mut resource = m.resource;
            crate::interactions::transaction::rewrite_references(&mut resource, &ids);
            self.put(
                conn,
                &m.res_type,
                &id,
                resource,
                Some(m.retention_class),
                Some(&patient_id),
                &mut tally,
            )?;
            members.push(UnitMember {
                res_type: m.res_type,
                res_id: id,
                member_identifier: m.member_identifier,
            });
        }
        let mut purged = 0;
        for old in &old_members {
            let still = members
                .iter()
                .any(|m| m.res_type == old.res_type && m.res_id == old.res_id);
            if !still && conn.purge(&old.res_type, &old.res_id)? {
                purged += 1;
            }
        }

        let bundle_id = match &previous {
            Some(p) => p.bundle_id.clone(),
            None => self.ids.next()?,
        };
        let bundle = std::mem::take(&mut self.bundle);
        let stored_bundle = self.put(
            conn,
            "Bundle",
            &bundle_id,
            bundle,
            Some("report-unit"),
            Some(&patient_id),
            &mut tally,
        )?;
        let row = UnitRow {
            unit_key: key,
            patient_identifier: self.plan.patient_identifier.clone(),
            bundle_identifier: self.plan.bundle_identifier.clone(),
            institution: self.plan.institution.clone(),
            resource_type: self.plan.resource_type.clone(),
            bundle_id,
            patient_id,
            registered_at: previous.as_ref().map_or(self.now, |p| p.registered_at),
            updated_at: self.now,
        };
        if tally.written > 0 || purged > 0 || previous.is_none() {
            conn.put_unit(&row, &members)?;
        }
        Ok(Applied {
            bundle: stored_bundle,
            created: previous.is_none(),
            written: tally.written,
            purged,
        })
    }

    /// The patient of this member identifier: found and updated when the demographics
    /// changed, or created.
    fn patient(&mut self, conn: &mut Conn<'_>, tally: &mut Tally) -> Result<String, Error> {
        let found = conn.search(&self.patient_query, self.now)?.resources;
        let id = match found.as_slice() {
            [] => self.ids.next()?,
            [one] => one.id.clone(),
            _ => {
                return Err(Error::MultipleMatches(format!(
                    "more than one Patient has the member identifier {}; register the unit once they are merged",
                    self.plan.patient_identifier
                )));
            }
        };
        let patient = self.plan.patient.clone();
        self.put(conn, "Patient", &id, patient, None, None, tally)?;
        Ok(id)
    }

    /// Writes `resource` as the next version of `res_type/id` unless it is unchanged.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        conn: &mut Conn<'_>,
        res_type: &str,
        id: &str,
        resource: Value,
        retention_class: Option<&str>,
        patient_id: Option<&str>,
        tally: &mut Tally,
    ) -> Result<StoredResource, Error> {
        let current = conn.read_current(res_type, id)?;
        if let Some(stored) = current.as_ref().filter(|c| !c.deleted) {
            if same_as_stored(Some(stored), &resource) {
                return Ok(stored.clone());
            }
        }
        let row = conn.current(res_type, id)?;
        let version = row.map_or(1, |r| r.version + 1);
        let institution = Some(self.plan.institution.clone()).filter(|_| res_type != "Patient");
        let schedule = retention_class
            .map(|class| {
                crate::retention::schedule(
                    class,
                    &resource,
                    self.now,
                    institution.as_deref(),
                    &crate::retention::Policy::default(),
                )
            })
            .unwrap_or_default();
        let group = match retention_class {
            Some("lab") => Some(lab_item(&self.svc, &resource)),
            _ => schedule.group,
        };
        let mut prepared = Prepared::new(&self.svc, res_type, id, version, self.now, resource)?;
        prepared.institution = institution;
        prepared.retention_class = retention_class.map(str::to_string);
        prepared.expires_at = schedule.expires_at;
        prepared.retention_group = group;
        if let Some(p) = patient_id {
            prepared.patient_key = Some(p.to_string());
        }
        match row {
            Some(r) => conn.write_version(r.rkey, version, &prepared.new_version(Method::Put))?,
            None => {
                conn.insert_new(&prepared.new_version(Method::Post))?;
            }
        }
        tally.written += 1;
        Ok(prepared.into_written(false).resource)
    }
}
