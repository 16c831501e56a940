//! Registering a planned document inside one write transaction: the patient, the extracted
//! resources, the Bundle as received with its computed search rows (recipient, patient,
//! document identifier, type and date), and the document row.
//!
//! Lifecycle by (sender, document identifier): a first post registers (201); a re-post replaces
//! the document and its extracted resources whole (200; identical content writes nothing) unless
//! its version is older than the registered one (409); a re-post of a cancelled document undoes
//! the cancel under the same Bundle id (201), and a re-post of a document whose letter expired
//! registers the letter again under that id (201) and replaces what the expired one contributed. Changed content clears the addressee's receipt:
//! they have not received this content yet.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use super::rules::DocumentPlan;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write_tx::WriteTx;
use crate::messages::DocumentMessage;
use crate::search::IndexRows;
use crate::store::{DocumentRow, DocumentStatus, LockKey, Member, SystemUse};
use crate::submissions::Applied;
use crate::submissions::members::{Ids, Writer, patient_rows};

/// Orders document versions: dot-separated numbers compare numerically (`1.10` after `1.9`),
/// anything else as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Option<Vec<u64>> {
        v.trim().split('.').map(|p| p.parse::<u64>().ok()).collect()
    };
    match (parts(a), parts(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.trim().cmp(b.trim()),
    }
}

pub(crate) struct DocumentWrite {
    pub svc: Services,
    pub plan: DocumentPlan,
    pub bundle: Value,
    pub now: i64,
    pub ids: Ids,
}

impl DocumentWrite {
    pub(crate) fn run(mut self, tx: &mut WriteTx<'_, '_>) -> Result<Applied, Error> {
        let key = self.plan.document_key();
        tx.lock(LockKey::Document(&key))?;
        let previous = tx.conn().system(SystemUse::Submission).document(&key)?;
        if let Some(p) = &previous
            && compare_versions(&self.plan.version, &p.version) == Ordering::Less
        {
            return Err(Error::Conflict(
                DocumentMessage::OlderVersion {
                    identifier: self.plan.document_identifier.clone(),
                    registered: p.version.to_string(),
                    posted: self.plan.version.to_string(),
                }
                .into(),
            ));
        }
        let mut w = Writer::new(self.svc.clone(), self.plan.institution.clone(), self.now);
        let patient = w.patient(
            tx,
            &self.plan.patient_identifier,
            self.plan.patient.clone(),
            &mut self.ids,
        )?;
        let patient_id = patient.0.clone();
        let old_members = self.previous_members(tx, previous.as_ref(), &patient_id)?;
        let refs: HashMap<String, String> = self
            .plan
            .patient_full_urls
            .iter()
            .map(|u| (u.clone(), format!("Patient/{patient_id}")))
            .collect();
        let planned = std::mem::take(&mut self.plan.members);
        let replaced = w.members(tx, &old_members, planned, refs, &patient, &mut self.ids)?;

        let bundle_id = match &previous {
            Some(p) => p.bundle_id.clone(),
            None => self.ids.next()?,
        };
        let before = w.written;
        let bundle = std::mem::take(&mut self.bundle);
        let stored_bundle = w.put(
            tx,
            "Bundle",
            &bundle_id,
            bundle,
            Some(self.plan.kind.retention_class()),
            Some(&patient),
            Some(self.computed_rows(&patient_id)),
        )?;
        let bundle_changed = w.written > before;
        let reinstated = previous
            .as_ref()
            .is_some_and(|p| p.status != DocumentStatus::Active);
        let (received_at, received_by) = match &previous {
            Some(p) if !bundle_changed => (p.received_at, p.received_by.clone()),
            _ => (None, None),
        };
        let row = DocumentRow {
            document_key: key,
            kind: self.plan.kind.name().to_string(),
            institution: self.plan.institution.clone(),
            document_identifier: self.plan.document_identifier.clone(),
            version: self.plan.version.clone(),
            status: DocumentStatus::Active,
            bundle_identifier: self.plan.bundle_identifier.clone(),
            bundle_id,
            patient_identifier: self.plan.patient_identifier.clone(),
            patient_id,
            recipient: self.plan.recipient.clone(),
            registered_at: previous.as_ref().map_or(self.now, |p| p.registered_at),
            updated_at: self.now,
            received_at,
            received_by,
        };
        if w.written > 0 || replaced.purged > 0 || previous.is_none() || reinstated {
            tx.conn()
                .documents()
                .put_document(&row, &replaced.members)?;
        }
        Ok(Applied {
            bundle: stored_bundle,
            created: previous.is_none() || reinstated,
            written: w.written,
            purged: replaced.purged,
        })
    }

    /// The members a re-post replaces. When the document now names another patient (a
    /// correction), nothing of the previous one may remain under the old patient: its extracted
    /// resources and the Bundle with its history are purged and registered afresh.
    fn previous_members(
        &self,
        tx: &mut WriteTx<'_, '_>,
        previous: Option<&DocumentRow>,
        patient_id: &str,
    ) -> Result<Vec<Member>, Error> {
        let Some(p) = previous else {
            return Ok(Vec::new());
        };
        let members = tx
            .conn()
            .system(SystemUse::Submission)
            .document_members(&p.document_key)?;
        if p.patient_id == patient_id {
            return Ok(members);
        }
        tx.purge_submission(&members, &p.bundle_id)?;
        Ok(Vec::new())
    }

    fn computed_rows(&self, patient_id: &str) -> IndexRows {
        let mut rows = patient_rows(&self.svc, patient_id);
        for (param, node) in &self.plan.index_values {
            crate::search::index_computed(
                "Bundle",
                param,
                node,
                self.svc.search.default_offset,
                &mut rows,
            );
        }
        rows
    }
}
