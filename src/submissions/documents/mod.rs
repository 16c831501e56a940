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
use crate::error::Error;
use crate::fhir::{Issue, IssueType};
use crate::interactions::Services;
use crate::messages::DocumentMessage;
use crate::messages::codes::SyntaxFinding;
use crate::terminology::syntax::{Severity, check_identifier};

pub const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// The kinds of CLINS document, told apart by the Bundle's `meta.profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Referral,
    DischargeSummary,
    Checkup,
    PatientSummary,
}

/// Bundle profiles (any `|version`). The checkup IG's own canonical is accepted besides the
/// CLINS one: its published examples declare it.
const PROFILES: &[(&str, Kind)] = &[
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral",
        Kind::Referral,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary",
        Kind::DischargeSummary,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral",
        Kind::Checkup,
    ),
    (
        "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Bundle_eCheckupGeneral",
        Kind::Checkup,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_ePCS",
        Kind::PatientSummary,
    ),
];

/// The profiles a document Bundle may declare, for the CapabilityStatement.
pub fn supported_profiles() -> impl Iterator<Item = &'static str> {
    PROFILES.iter().map(|(p, _)| *p)
}

impl Kind {
    /// The kind a Bundle declares in `meta.profile`, if it is a CLINS document.
    pub fn of(resource: &Value) -> Option<Kind> {
        if resource.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return None;
        }
        resource
            .get("meta")
            .and_then(|m| m.get("profile"))
            .and_then(Value::as_array)?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|p| p.split('|').next())
            .find_map(|p| PROFILES.iter().find(|(url, _)| *url == p).map(|(_, k)| *k))
    }

    /// The name stored with the document, also the retention class of its Bundle.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Referral => "referral",
            Kind::DischargeSummary => "discharge-summary",
            Kind::Checkup => "checkup",
            Kind::PatientSummary => "patient-summary",
        }
    }

    /// The CLINS canonical of its Bundle profile.
    pub fn profile(self) -> &'static str {
        PROFILES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(url, _)| *url)
    }

    /// How messages call it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Referral => "referral (診療情報提供書)",
            Kind::DischargeSummary => "discharge summary (退院時サマリー)",
            Kind::Checkup => "checkup report (健康診断結果報告書)",
            Kind::PatientSummary => "patient summary (患者サマリー)",
        }
    }

    /// The LOINC code its Composition.type carries.
    pub fn composition_type(self) -> &'static str {
        match self {
            Kind::Referral => "57133-1",
            Kind::DischargeSummary => "18842-5",
            Kind::Checkup => "53576-5",
            Kind::PatientSummary => "56447-6",
        }
    }

    /// Whether its clinical entries are extracted into the patient's record (DESIGN §1).
    pub fn extracts(self) -> bool {
        matches!(self, Kind::Referral | Kind::DischargeSummary)
    }
}

/// A Bundle that declares one of the document profiles.
pub fn is_document(resource: &Value) -> bool {
    Kind::of(resource).is_some()
}

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

/// Types that enter the store only as extracted from documents (DESIGN §1: prescriptions are
/// never posted alone). Their create and update always answer 422, so the CapabilityStatement
/// lists neither for them.
pub const EXTRACTED_ONLY_TYPES: &[&str] = &["MedicationRequest"];

/// Refuses writes that would bypass the document rules: prescriptions enter the store only as
/// extracted from referrals and discharge summaries (DESIGN §1), and documents only through
/// `POST [base]/Bundle`. `how` names the interaction (`POST`, `PUT`, `a transaction`).
pub fn refuse_direct_write(res_type: &str, resource: &Value, how: &str) -> Result<(), Error> {
    refuse_extracted_only(res_type, how)?;
    let how = how.to_string();
    let why = if crate::submissions::is_report_unit(resource) && how != "POST" {
        DocumentMessage::ReportUnitWrite { how }
    } else if is_document(resource) && how != "POST" {
        DocumentMessage::DocumentWrite { how }
    } else {
        return Ok(());
    };
    Err(refused(res_type, why))
}

fn refused(res_type: &str, why: DocumentMessage) -> Error {
    Error::Unprocessable(vec![
        Issue::error(IssueType::NotSupported, why).at(format!("{res_type}.resourceType")),
    ])
}

/// The part of [`refuse_direct_write`] that needs only the type: asked before a PATCH reads the
/// resource it would change.
pub fn refuse_extracted_only(res_type: &str, how: &str) -> Result<(), Error> {
    if !EXTRACTED_ONLY_TYPES.contains(&res_type) {
        return Ok(());
    }
    let why = DocumentMessage::PrescriptionWrite {
        how: how.to_string(),
    };
    Err(refused(res_type, why))
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
    let write = apply::DocumentWrite {
        svc: svc.clone(),
        ids: Ids::draw(svc, plan.members.len() + 2),
        plan,
        bundle,
        now: svc.clock.now_micros(),
    };
    let applied = svc
        .write_audited(
            deadline,
            svc.audit_record(crate::access::audit::Action::Create, "submit-document")
                .map(|r| r.target(Some("Bundle"), None)),
            move |conn| write.run(conn),
        )
        .await?;
    Ok(Registered { applied, warnings })
}
