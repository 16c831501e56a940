//! Which writes would bypass the CLINS rules: prescriptions enter the store only as extracted
//! from referrals and discharge summaries (DESIGN §1), report units and documents only through
//! `POST [base]/Bundle`. The rule names the refusal; the interactions turn it into their error.

use serde_json::Value;

use super::kinds::{is_document, is_report_unit};

/// Types that enter the store only as extracted from documents (DESIGN §1: prescriptions are
/// never posted alone). Their create and update always answer 422, so the CapabilityStatement
/// lists neither for them.
pub const EXTRACTED_ONLY_TYPES: &[&str] = &["MedicationRequest"];

/// Why a direct write is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A type of [`EXTRACTED_ONLY_TYPES`].
    ExtractedOnly,
    /// A 6-information Bundle, written other than by `POST`.
    ReportUnit,
    /// A CLINS document Bundle, written other than by `POST`.
    Document,
}

/// The refusal of writing `resource` of `res_type` directly; `posted` when it is a `POST` to
/// the type (where a submission is registered instead of stored as it is).
pub fn refusal(res_type: &str, resource: &Value, posted: bool) -> Option<Refusal> {
    if let Some(refusal) = type_refusal(res_type) {
        Some(refusal)
    } else if is_report_unit(resource) && !posted {
        Some(Refusal::ReportUnit)
    } else if is_document(resource) && !posted {
        Some(Refusal::Document)
    } else {
        None
    }
}

/// The part of [`refusal`] that needs only the type: asked before a PATCH reads the resource
/// it would change.
pub fn type_refusal(res_type: &str) -> Option<Refusal> {
    EXTRACTED_ONLY_TYPES
        .contains(&res_type)
        .then_some(Refusal::ExtractedOnly)
}
