//! Which entries of a referral or discharge summary are extracted into the patient's
//! 6-information record (DESIGN §1): Conditions, AllergyIntolerances, lab and infection results
//! (Observations coded with a CLINS lab item system; other Observations such as physical
//! findings stay in the document only) and MedicationRequests, the only way prescriptions enter
//! the store. Each keeps its retention class and the flag rules of DESIGN §5.

use std::collections::HashMap;

use serde_json::Value;

use super::rules::{err, list, text};
use crate::clins::classes::{observation_class, retention_class};
use crate::fhir::{Issue, IssueType};
use crate::messages::DocumentMessage;
use crate::submissions::flags::check_flags;
use crate::submissions::unit_plan::{PlannedMember, resource_identifier, subject, subject_element};

/// Whether an Observation is a lab or infection result of the CLINS item code systems.
pub fn is_lab_observation(resource: &Value) -> bool {
    list(&resource["code"], "coding")
        .iter()
        .filter_map(|c| text(c, "system"))
        .any(|s| s.ends_with("_CoreLabo_CS") || s.ends_with("_InfectionLabo_CS"))
}

fn extracted(res_type: &str, resource: &Value) -> bool {
    match res_type {
        "Condition" | "AllergyIntolerance" | "MedicationRequest" => true,
        "Observation" => is_lab_observation(resource),
        _ => false,
    }
}

/// Member identifiers of one document. A referral and its discharge summary may carry the same
/// resource (same resource identifier) twice; the copies are told apart by their order, so a
/// re-post in the same order matches them again.
#[derive(Default)]
pub struct MemberIds {
    seen: HashMap<String, usize>,
}

impl MemberIds {
    fn next(&mut self, res_type: &str, resource: &Value) -> Option<String> {
        let id = resource_identifier(resource)?;
        let n = self.seen.entry(format!("{res_type}|{id}")).or_insert(0);
        *n += 1;
        Some(if *n == 1 {
            id
        } else {
            format!("{id}\u{1f}{n}")
        })
    }
}

/// The extracted entries of the document Bundle at `at` whose Patient entry is `patient_url`.
pub fn clinical_entries(
    entries: &[Value],
    at: &str,
    patient_url: Option<&str>,
    ids: &mut MemberIds,
    errors: &mut Vec<Issue>,
) -> Vec<PlannedMember> {
    let mut members = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let resource = &entry["resource"];
        let Some(t) = text(resource, "resourceType") else {
            continue;
        };
        if !extracted(t, resource) {
            continue;
        }
        let r_at = format!("{at}.entry[{i}].resource");
        // An extracted resource is filed under the document's patient: it must be about them.
        if let (Some(reference), Some(patient)) = (subject(resource), patient_url)
            && reference != patient
        {
            errors.push(err(
                IssueType::Invalid,
                DocumentMessage::ExtractedOtherPatient {
                    res_type: t.to_string(),
                    reference: reference.to_string(),
                    patient: patient.to_string(),
                },
                format!("{r_at}.{}", subject_element(t)),
            ));
            continue;
        }
        check_flags(t, resource, &observation_class(resource), &r_at, errors);
        members.push(PlannedMember {
            entry: i,
            full_url: text(entry, "fullUrl").map(str::to_string),
            res_type: t.to_string(),
            resource: resource.clone(),
            member_identifier: ids.next(t, resource),
            retention_class: retention_class(t, resource),
        });
    }
    members
}
