//! `POST [base]/Bundle/{id}/$receipt`: the addressee of a referral acknowledges receiving it.
//! Only the addressee (the institution number of section 910) may; the first receipt is kept
//! (who, when), and it starts the letter's short retention after receipt (DESIGN §1); what was
//! extracted from it keeps its own retention.

use std::time::Instant;

use serde_json::{Value, json};

use super::InstitutionNumber;
use crate::audit::Interaction;
use crate::clins::kinds::Kind;
use crate::clins::systems::INSTITUTION_SYSTEM;
use crate::error::Error;
use crate::fhir::instant::to_fhir_instant;
use crate::fhir::{Issue, IssueType};
use crate::interactions::Services;
use crate::messages::DocumentMessage;
use crate::store::{DocumentStatus, LockKey, SystemUse};

/// A recorded receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub bundle_id: String,
    pub institution: String,
    /// The first receipt's time, microseconds since the epoch.
    pub received_at: i64,
    /// Whether this request recorded it (false: it was received before).
    pub first: bool,
}

impl Receipt {
    /// The operation's answer: a Parameters resource naming the document and the receipt.
    pub fn to_parameters(&self) -> Value {
        json!({
            "resourceType": "Parameters",
            "parameter": [
                { "name": "document", "valueReference": { "reference": format!("Bundle/{}", self.bundle_id) } },
                { "name": "institution", "valueIdentifier": { "system": INSTITUTION_SYSTEM, "value": self.institution } },
                { "name": "received", "valueInstant": to_fhir_instant(self.received_at) },
                { "name": "firstReceipt", "valueBoolean": self.first },
            ]
        })
    }
}

/// The receiving institution from the operation's Parameters: `institution` as valueIdentifier
/// (the institution-number system, or none) or valueString.
pub fn parse_institution(body: &Value) -> Result<InstitutionNumber, Error> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(Error::invalid(
            DocumentMessage::ReceiptNotParameters,
            "resourceType",
        ));
    }
    let params = body
        .get("parameter")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some((i, p)) = params
        .iter()
        .enumerate()
        .find(|(_, p)| p.get("name").and_then(Value::as_str) == Some("institution"))
    else {
        return Err(Error::invalid(
            DocumentMessage::ReceiptInstitutionMissing,
            "Parameters.parameter",
        ));
    };
    let at = format!("Parameters.parameter[{i}]");
    let value = match (p.get("valueIdentifier"), p.get("valueString")) {
        (Some(id), None) => {
            let system = id.get("system").and_then(Value::as_str);
            if system.is_some_and(|s| s != INSTITUTION_SYSTEM) {
                return Err(Error::invalid(
                    DocumentMessage::ReceiptInstitutionSystem {
                        system: INSTITUTION_SYSTEM.to_string(),
                    },
                    format!("{at}.valueIdentifier.system"),
                ));
            }
            id.get("value").and_then(Value::as_str)
        }
        (None, Some(s)) => s.as_str(),
        _ => None,
    };
    let Some(value) = value else {
        return Err(Error::invalid(DocumentMessage::ReceiptInstitutionType, at));
    };
    InstitutionNumber::parse(value).map_err(|findings| {
        Error::invalid(
            DocumentMessage::ReceiptInstitutionInvalid { findings },
            format!("{at}.value"),
        )
    })
}

/// Records that `institution` received the referral stored as `Bundle/{bundle_id}`.
pub async fn receive(
    svc: &Services,
    bundle_id: &str,
    institution: InstitutionNumber,
    deadline: Option<Instant>,
) -> Result<Receipt, Error> {
    let id = bundle_id.to_string();
    let session = svc.session();
    let now = session.now;
    if let Some(mine) = svc.caller.principal.institution() {
        if mine != institution.as_str() {
            return Err(Error::Forbidden(
                DocumentMessage::ReceiptForOtherInstitution {
                    mine: mine.to_string(),
                    asked: institution.as_str().to_string(),
                }
                .into(),
            ));
        }
    } else {
        crate::interactions::access::check_may_write(&svc.caller)?;
    }
    let policy = svc.retention;
    let record = svc
        .audit_record(crate::audit::Action::Update, Interaction::Receipt)
        .map(|r| r.target(Some("Bundle"), Some(bundle_id)));
    svc.write_tx(session, deadline, record, move |tx| {
        let not_found = || Error::NotFound {
            res_type: "Bundle".into(),
            id: id.clone(),
        };
        let key = tx
            .conn()
            .system(SystemUse::Submission)
            .document_by_bundle_id(&id)?
            .ok_or_else(not_found)?
            .document_key;
        tx.lock(LockKey::Document(&key))?;
        let doc = tx
            .conn()
            .system(SystemUse::Submission)
            .document(&key)?
            .filter(|d| d.status == DocumentStatus::Active)
            .ok_or_else(not_found)?;
        // Whoever may not read the letter learns nothing of it, not even its kind: it
        // answers as a Bundle that does not exist.
        crate::interactions::access::check_readable(&mut tx.scoped()?, "Bundle", &id)?;
        if doc.kind != Kind::Referral.name() {
            return Err(Error::Unprocessable(vec![
                Issue::error(
                    IssueType::NotSupported,
                    DocumentMessage::ReceiptNotReferral {
                        id: id.clone(),
                        kind: doc.kind.clone(),
                    },
                )
                .at("Bundle"),
            ]));
        }
        if doc.recipient.as_deref() != Some(institution.as_str()) {
            return Err(Error::Forbidden(
                DocumentMessage::ReceiptNotAddressee {
                    institution: institution.as_str().to_string(),
                    id: id.clone(),
                }
                .into(),
            ));
        }
        let conn = tx.conn();
        let first = conn
            .documents()
            .record_receipt(&key, now, institution.as_str())?;
        if first {
            // Receipt starts the letter's short clock: it is kept at most a week more. What
            // was extracted from it keeps its own (DESIGN §8).
            if let Some(at) = crate::retention::rules::after_receipt(None, now, &policy) {
                conn.documents().expire_by("Bundle", &doc.bundle_id, at)?;
            }
        }
        let received_at = if first {
            now
        } else {
            doc.received_at.unwrap_or(now)
        };
        Ok(Receipt {
            bundle_id: id.clone(),
            institution: institution.as_str().to_string(),
            received_at,
            first,
        })
    })
    .await
}

/// The canonical URL of the `$receipt` definition, as the CapabilityStatement names it.
pub const RECEIPT_DEFINITION: &str = "urn:kyoyu:OperationDefinition:Bundle-receipt";

/// The OperationDefinition of `$receipt`, served at `OperationDefinition/Bundle-receipt`.
pub fn receipt_definition() -> Value {
    json!({
        "resourceType": "OperationDefinition",
        "id": "Bundle-receipt",
        "url": RECEIPT_DEFINITION,
        "name": "BundleReceipt",
        "title": "Receipt of a referral letter (診療情報提供書の受領)",
        "status": "active",
        "kind": "operation",
        "description": "The addressee of a referral acknowledges receiving it. Only the institution named as addressee (section 910) may, for itself; the first receipt is kept and starts the referral's retention after receipt. A repeat answers the first receipt again.",
        "code": "receipt",
        "resource": ["Bundle"],
        "system": false,
        "type": false,
        "instance": true,
        "affectsState": true,
        "parameter": [
            {"name": "institution", "use": "in", "min": 1, "max": "1",
             "documentation": "The receiving institution: valueIdentifier of system http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no, or valueString (10 digits)",
             "type": "Identifier"},
            {"name": "document", "use": "out", "min": 1, "max": "1", "type": "Reference",
             "documentation": "The referral's Bundle"},
            {"name": "institution", "use": "out", "min": 1, "max": "1", "type": "Identifier",
             "documentation": "The institution that received it"},
            {"name": "received", "use": "out", "min": 1, "max": "1", "type": "instant",
             "documentation": "When it was first received"},
            {"name": "firstReceipt", "use": "out", "min": 1, "max": "1", "type": "boolean",
             "documentation": "Whether this request recorded the receipt"}
        ]
    })
}
