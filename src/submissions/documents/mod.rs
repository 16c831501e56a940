//! CLINS documents (3文書): 診療情報提供書 referral, 健康診断結果報告書 checkup report, 患者サマリー
//! patient summary, and 退院時サマリー discharge summary, which travels only attached to a referral.
//!
//! A document Bundle posted to `[base]/Bundle` is validated (profiles when loaded, the service
//! rules of `rules` always) and registered under (sending institution, document identifier =
//! Composition.identifier): a re-post with the same identifier replaces it (`apply`), `cancel`
//! withdraws it, `receipt` records the addressee's receipt of a referral. The Condition,
//! AllergyIntolerance, lab Observation and MedicationRequest entries of referrals and their
//! discharge summaries are also stored as resources of the patient, linked to the document: they
//! are the patient's clinical record under their own retention (DESIGN §8), withdrawn only by the
//! sender's cancel and replaced only by a new version, whatever happens to the letter.

mod apply;
mod cancel;
mod extract;
pub mod insurers;
mod receipt;
pub mod rules;
mod sections;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::time::Instant;

use serde_json::Value;

#[cfg(test)]
pub(crate) use cancel::cancel_in_tx;
pub use cancel::{Cancelled, cancel_by_bundle_id, cancel_by_identifier};
pub use receipt::{RECEIPT_DEFINITION, Receipt, parse_institution, receipt_definition, receive};

use super::Registered;
use super::members::Ids;
use crate::audit::Interaction;
use crate::clins::systems::INSTITUTION_SYSTEM;
use crate::error::Error;
use crate::interactions::Services;
use crate::messages::codes::SyntaxFinding;
use crate::terminology::syntax::{Severity, check_identifier};

/// A 10-digit institution number (医療機関コード), checked once where it enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionNumber(String);

impl InstitutionNumber {
    /// `Err` with what is wrong with the number, as the syntax rules say it.
    pub fn parse(value: &str) -> Result<Self, Vec<SyntaxFinding>> {
        let problems: Vec<SyntaxFinding> = check_identifier(INSTITUTION_SYSTEM, value)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message)
            .collect();
        if problems.is_empty() {
            Ok(InstitutionNumber(value.to_string()))
        } else {
            Err(problems)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates a document Bundle (profiles when loaded, the service rules always) and registers
/// it in one transaction.
pub async fn register_document(
    svc: &Services,
    bundle: Value,
    deadline: Option<Instant>,
) -> Result<Registered, Error> {
    let (bundle, verdict) = super::judged(svc, bundle, super::verdict::document).await?;
    let (plan, warnings) = verdict.into_plan()?;
    crate::interactions::access::check_submitter(&svc.caller, &plan.institution)?;
    let ids = Ids::draw(svc, plan.members.len() + 2);
    let session = svc.session();
    let write = apply::DocumentWrite {
        svc: svc.clone(),
        ids,
        plan,
        bundle,
        now: session.now,
    };
    let applied = svc
        .write_tx(
            session,
            deadline,
            svc.audit_record(crate::audit::Action::Create, Interaction::SubmitDocument)
                .map(|r| r.target(Some("Bundle"), None)),
            move |tx| {
                let applied = write.run(tx)?;
                tx.note_written(&applied.bundle, applied.created);
                Ok(applied)
            },
        )
        .await?;
    Ok(Registered { applied, warnings })
}
