//! Registering a planned report unit inside one write transaction: the patient, the unit's
//! clinical resources and the Bundle as received (see `members`), and the unit row. A re-send
//! therefore replaces the unit whole, and an identical re-send writes nothing.

use std::collections::HashMap;

use serde_json::Value;

use super::members::{Ids, Writer, patient_rows};
use super::unit_plan::UnitPlan;
use crate::clins::classes::RetentionClass;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write_tx::WriteTx;
use crate::store::{LockKey, StoredResource, SystemUse, UnitRow};

/// What registering a unit or a document did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub bundle: StoredResource,
    /// A new registration (not a re-send).
    pub created: bool,
    /// Resources written (new or new versions), the Bundle and Patient included.
    pub written: usize,
    /// Resources of the previous send that the new one no longer has, now gone.
    pub purged: usize,
}

pub(crate) struct UnitWrite {
    pub svc: Services,
    pub plan: UnitPlan,
    pub bundle: Value,
    pub now: i64,
    pub ids: Ids,
}

impl UnitWrite {
    pub(crate) fn run(mut self, tx: &mut WriteTx<'_, '_>) -> Result<Applied, Error> {
        let key = self.plan.unit_key();
        tx.lock(LockKey::ReportUnit(&key))?;
        let mut w = Writer::new(self.svc.clone(), self.plan.institution.clone(), self.now);
        let patient = w.patient(
            tx,
            &self.plan.patient_identifier,
            self.plan.patient.clone(),
            &mut self.ids,
        )?;
        let patient_id = patient.0.clone();
        let previous = tx.conn().system(SystemUse::Submission).unit(&key)?;
        let old_members = match &previous {
            Some(_) => tx.conn().system(SystemUse::Submission).unit_members(&key)?,
            None => Vec::new(),
        };
        let mut refs = HashMap::new();
        if let Some(url) = &self.plan.patient_full_url {
            refs.insert(url.clone(), format!("Patient/{patient_id}"));
        }
        let planned = std::mem::take(&mut self.plan.members);
        let replaced = w.members(tx, &old_members, planned, refs, &patient, &mut self.ids)?;

        let bundle_id = match &previous {
            Some(p) => p.bundle_id.clone(),
            None => self.ids.next()?,
        };
        let bundle = std::mem::take(&mut self.bundle);
        let stored_bundle = w.put(
            tx,
            "Bundle",
            &bundle_id,
            bundle,
            Some(RetentionClass::ReportUnit),
            Some(&patient),
            Some(patient_rows(&self.svc, &patient_id)),
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
        if w.written > 0 || replaced.purged > 0 || previous.is_none() {
            tx.conn().units().put_unit(&row, &replaced.members)?;
        }
        Ok(Applied {
            bundle: stored_bundle,
            created: previous.is_none(),
            written: w.written,
            purged: replaced.purged,
        })
    }
}
