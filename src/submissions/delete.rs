//! Deleting a report unit whole, by its Bundle-ID (and the patient's member identifier when the
//! Bundle-ID alone names more than one unit). Its resources and Bundle are purged, not
//! FHIR-deleted: a deleted unit is gone (DESIGN §8); the Patient stays.

use std::time::Instant;

use crate::audit::Interaction;
use crate::clins::systems::BUNDLE_IDENTIFIER;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write_tx::Did;
use crate::messages::InteractionMessage;
use crate::store::{LockKey, SystemUse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedUnits {
    pub units: usize,
    pub resources: usize,
    /// Everything purged, the Bundle included, for the audit record.
    pub removed: Vec<crate::store::Removed>,
}

/// `identifier` is `system|value` (the system must be the Bundle-ID system) or a bare value;
/// `patient` is the member identifier `system|value`.
pub async fn delete_units(
    svc: &Services,
    identifier: &str,
    patient: Option<String>,
    deadline: Option<Instant>,
) -> Result<DeletedUnits, Error> {
    let value = match identifier.split_once('|') {
        Some((system, value)) if system == BUNDLE_IDENTIFIER || system.is_empty() => value,
        Some((system, _)) => {
            return Err(Error::invalid(
                InteractionMessage::DeleteUnitByOtherSystem {
                    system: BUNDLE_IDENTIFIER.to_string(),
                    asked: system.to_string(),
                },
                "identifier",
            ));
        }
        None => identifier,
    }
    .to_string();
    // The Bundle-ID begins with the sending institution's number.
    let sender: String = value.chars().take(10).collect();
    crate::interactions::access::check_submitter(&svc.caller, &sender)?;
    let record = svc
        .audit_record(crate::audit::Action::Delete, Interaction::DeleteReportUnit)
        .map(|r| r.target(Some("Bundle"), None));
    let session = svc.session();
    svc.write_tx(session, deadline, record, move |tx| {
        let units: Vec<_> = tx
            .conn()
            .system(SystemUse::Submission)
            .units_by_bundle_identifier(&value)?
            .into_iter()
            .filter(|u| patient.as_ref().is_none_or(|p| *p == u.patient_identifier))
            .collect();
        let unit = match units.as_slice() {
            [] => {
                return Err(Error::NotFound {
                    res_type: "Bundle".into(),
                    id: format!("?identifier={value}"),
                });
            }
            [one] => one.clone(),
            many => {
                return Err(Error::MultipleMatches(
                    InteractionMessage::BundleIdSeveralUnits {
                        value: value.to_string(),
                        count: many.len(),
                    }
                    .into(),
                ));
            }
        };
        tx.lock(LockKey::ReportUnit(&unit.unit_key))?;
        let members = tx
            .conn()
            .system(SystemUse::Submission)
            .unit_members(&unit.unit_key)?;
        let removed = tx.purge_submission(&members, &unit.bundle_id)?;
        tx.conn().units().delete_unit(&unit.unit_key)?;
        tx.note(Did::Removed, super::touches_of(&removed));
        Ok(DeletedUnits {
            units: 1,
            resources: removed.iter().filter(|r| r.res_type != "Bundle").count(),
            removed,
        })
    })
    .await
}
