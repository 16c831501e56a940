//! The refusal of writes that would bypass the CLINS rules (`clins::direct_write`), as the
//! 422 every write interaction answers: create, update, conditional update, patch and the
//! entries of a transaction or batch.

use serde_json::Value;

use crate::clins::direct_write::{Refusal, refusal, type_refusal};
use crate::error::Error;
use crate::fhir::{Issue, IssueType};
use crate::messages::DocumentMessage;

/// Refuses writes that would bypass the document rules: prescriptions enter the store only as
/// extracted from referrals and discharge summaries (DESIGN §1), and documents only through
/// `POST [base]/Bundle`. `how` names the interaction (`POST`, `PUT`, `a transaction`).
pub(crate) fn refuse_direct_write(
    res_type: &str,
    resource: &Value,
    how: &str,
) -> Result<(), Error> {
    match refusal(res_type, resource, how == "POST") {
        Some(why) => Err(refused(res_type, why, how)),
        None => Ok(()),
    }
}

/// The part of [`refuse_direct_write`] that needs only the type: asked before a PATCH reads the
/// resource it would change.
pub(crate) fn refuse_extracted_only(res_type: &str, how: &str) -> Result<(), Error> {
    match type_refusal(res_type) {
        Some(why) => Err(refused(res_type, why, how)),
        None => Ok(()),
    }
}

fn refused(res_type: &str, why: Refusal, how: &str) -> Error {
    let how = how.to_string();
    let why = match why {
        Refusal::ExtractedOnly => DocumentMessage::PrescriptionWrite { how },
        Refusal::ReportUnit => DocumentMessage::ReportUnitWrite { how },
        Refusal::Document => DocumentMessage::DocumentWrite { how },
    };
    Error::Unprocessable(vec![
        Issue::error(IssueType::NotSupported, why).at(format!("{res_type}.resourceType")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prescriptions_and_documents_cannot_be_written_directly() {
        let rx = json!({"resourceType": "MedicationRequest"});
        for how in ["POST", "PUT", "PATCH", "a transaction"] {
            assert!(refuse_direct_write("MedicationRequest", &rx, how).is_err());
            assert!(refuse_extracted_only("MedicationRequest", how).is_err());
        }
        assert!(refuse_extracted_only("Condition", "PATCH").is_ok());
        let doc = json!({"resourceType": "Bundle", "type": "document", "meta": {"profile": [
            "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral|1.1.2"]}});
        assert!(refuse_direct_write("Bundle", &doc, "POST").is_ok());
        assert!(refuse_direct_write("Bundle", &doc, "PUT").is_err());
        // A patch is judged on what it makes: a Bundle patched into a document is refused too.
        assert!(refuse_direct_write("Bundle", &doc, "PATCH").is_err());
        assert!(refuse_direct_write("Patient", &json!({}), "PUT").is_ok());
        let unit = json!({"resourceType": "Bundle", "meta": {"profile": [crate::clins::kinds::BUNDLE_CLINS]}});
        assert!(refuse_direct_write("Bundle", &unit, "POST").is_ok());
        assert!(refuse_direct_write("Bundle", &unit, "a transaction").is_err());
    }
}
