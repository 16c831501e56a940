//! `GET [base]/Bundle/$document-status`: a patient's own documents, each with its status
//! (DESIGN §9): 取得済 received (a referral its addressee acknowledged), 閲覧保留 on hold (the
//! patient put their viewing consent on hold and no institution reads it under consent now), or
//! 閲覧可 viewable; with the institutions that may read it now and those whose consent is on hold.

use std::collections::BTreeSet;

use chrono::FixedOffset;
use serde_json::{Value, json};

use super::Services;
use crate::access::classify::{CONSENT_ON_HOLD, consent_grants};
use crate::access::{Principal, Scope};
use crate::audit::Interaction;
use crate::audit::{Action, Touch};
use crate::clins::kinds::Kind;
use crate::clins::systems::{INSTITUTION_SYSTEM, RESOURCE_IDENTIFIER};
use crate::error::Error;
use crate::fhir::instant::to_fhir_instant;
use crate::messages::InteractionMessage;
use crate::store::{DocumentRow, PersonConsent};

/// The code system of the statuses.
pub const STATUS_SYSTEM: &str = "urn:kyoyu:CodeSystem:document-status";
/// The operation's canonical, as the CapabilityStatement names it.
pub const DEFINITION: &str = "urn:kyoyu:OperationDefinition:Bundle-document-status";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Viewable,
    OnHold,
    Received,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Viewable => "viewable",
            Status::OnHold => "on-hold",
            Status::Received => "received",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Status::Viewable => "閲覧可",
            Status::OnHold => "閲覧保留",
            Status::Received => "取得済",
        }
    }
}

/// What the person's consents say at one instant, by institution.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConsentsNow {
    /// Institutions a current, active consent lets read.
    pub granted: BTreeSet<String>,
    /// Institutions whose consent is on hold and which no other consent lets read.
    pub held: BTreeSet<String>,
}

impl ConsentsNow {
    /// Reads the Consents as the access rule does (`consent_grants`): a consent that would be
    /// refused today grants nothing here either.
    pub fn of(consents: &[PersonConsent], zone: FixedOffset, now: i64) -> ConsentsNow {
        let mut out = ConsentsNow::default();
        for c in consents {
            let Ok(resource) = serde_json::from_str::<Value>(&c.content) else {
                continue;
            };
            let on_hold = resource.get("status").and_then(Value::as_str) == Some(CONSENT_ON_HOLD);
            let Ok(grants) = consent_grants(&resource, c.institution.as_deref(), zone) else {
                continue;
            };
            for g in grants {
                let started = g.start.is_none_or(|s| s <= now);
                let ended = g.end.is_some_and(|e| e <= now);
                if g.active && started && !ended {
                    out.granted.insert(g.institution);
                } else if on_hold && !ended {
                    out.held.insert(g.institution);
                }
            }
        }
        out.held.retain(|i| !out.granted.contains(i));
        out
    }
}

/// One document's status and who may read it now.
#[derive(Debug, PartialEq, Eq)]
pub struct DocumentState {
    pub status: Status,
    pub viewable_by: BTreeSet<String>,
    pub held_for: BTreeSet<String>,
}

/// A referral is read by its sender and addressee whatever the consents; the other documents by
/// their sender and the institutions the patient's consent lets read.
pub fn state_of(doc: &DocumentRow, consents: &ConsentsNow) -> DocumentState {
    let mut viewable_by: BTreeSet<String> = [doc.institution.clone()].into();
    if doc.kind == Kind::Referral.name() {
        viewable_by.extend(doc.recipient.clone());
        let status = if doc.received_at.is_some() {
            Status::Received
        } else {
            Status::Viewable
        };
        return DocumentState {
            status,
            viewable_by,
            held_for: BTreeSet::new(),
        };
    }
    viewable_by.extend(consents.granted.iter().cloned());
    let held_for: BTreeSet<String> = consents
        .held
        .iter()
        .filter(|i| !viewable_by.contains(*i))
        .cloned()
        .collect();
    let status = if consents.granted.is_empty() && !held_for.is_empty() {
        Status::OnHold
    } else {
        Status::Viewable
    };
    DocumentState {
        status,
        viewable_by,
        held_for,
    }
}

fn institution(value: &str) -> Value {
    json!({"system": INSTITUTION_SYSTEM, "value": value})
}

fn part(doc: &DocumentRow, state: &DocumentState) -> Value {
    let mut parts = vec![
        json!({"name": "identifier", "valueIdentifier":
            {"system": RESOURCE_IDENTIFIER, "value": doc.document_identifier}}),
        json!({"name": "type", "valueCode": doc.kind}),
        json!({"name": "version", "valueString": doc.version}),
        json!({"name": "sender", "valueIdentifier": institution(&doc.institution)}),
        json!({"name": "registered", "valueInstant": to_fhir_instant(doc.registered_at)}),
        json!({"name": "status", "valueCoding": {"system": STATUS_SYSTEM,
            "code": state.status.code(), "display": state.status.display()}}),
    ];
    if let Some(r) = &doc.recipient {
        parts.push(json!({"name": "addressee", "valueIdentifier": institution(r)}));
    }
    if let Some(at) = doc.received_at {
        parts.push(json!({"name": "received", "valueInstant": to_fhir_instant(at)}));
    }
    // The patient reads their checkup reports and summaries themselves, not referrals.
    if doc.kind != Kind::Referral.name() {
        parts.push(json!({"name": "bundle", "valueReference":
            {"reference": format!("Bundle/{}", doc.bundle_id)}}));
    }
    parts.extend(
        state
            .viewable_by
            .iter()
            .map(|i| json!({"name": "viewableBy", "valueIdentifier": institution(i)})),
    );
    parts.extend(
        state
            .held_for
            .iter()
            .map(|i| json!({"name": "heldFor", "valueIdentifier": institution(i)})),
    );
    json!({"name": "document", "part": parts})
}

/// The caller's documents as a Parameters resource, one `document` part each, oldest first.
/// Patients only: the status is their view of their own documents.
pub async fn document_status(svc: &Services) -> Result<Value, Error> {
    if !matches!(svc.caller.principal, Principal::Patient { .. }) {
        return Err(Error::Forbidden(
            InteractionMessage::DocumentStatusForPatients.into(),
        ));
    }
    let (session, zone) = (svc.session(), svc.search.default_offset);
    let now = session.now;
    let (docs, consents, patient_ids) = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            let Scope::Patient { patient_ids, .. } = scoped.scope().clone() else {
                return Ok::<_, Error>((Vec::new(), Vec::new(), Vec::new()));
            };
            let docs = scoped.own_documents()?;
            let consents = scoped.own_consents()?;
            Ok((docs, consents, patient_ids))
        })
        .await?;
    let now_consents = ConsentsNow::of(&consents, zone, now);
    let parameters: Vec<Value> = docs
        .iter()
        .map(|d| part(d, &state_of(d, &now_consents)))
        .collect();
    let record = svc
        .audit_record(Action::Read, Interaction::DocumentStatus)
        .map(|r| {
            let mut r = r.target(Some("Bundle"), None);
            r.entities = patient_ids
                .iter()
                .map(|p| Touch {
                    res_type: "Patient".into(),
                    res_id: p.clone(),
                    patient: Some(Some(p.clone())),
                })
                .collect();
            r
        });
    svc.audit(record).await?;
    Ok(json!({"resourceType": "Parameters", "parameter": parameters}))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::access::classify::{CONSENT_A, CONSENT_CATEGORY_SYSTEM};
    use crate::store::DocumentStatus;

    fn zone() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    fn consent(institution: &str, status: &str) -> PersonConsent {
        PersonConsent {
            id: format!("{institution}-{status}"),
            institution: Some(institution.into()),
            content: json!({"resourceType": "Consent", "status": status,
                "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": CONSENT_A}]}]})
            .to_string(),
        }
    }

    fn doc(kind: Kind, received: bool) -> DocumentRow {
        DocumentRow {
            document_key: "k".into(),
            kind: kind.name().into(),
            institution: "1311234567".into(),
            document_identifier: "d".into(),
            version: "1".into(),
            status: DocumentStatus::Active,
            bundle_identifier: "b".into(),
            bundle_id: "b1".into(),
            patient_identifier: "p".into(),
            patient_id: "p1".into(),
            recipient: (kind == Kind::Referral).then(|| "1318814790".into()),
            registered_at: 0,
            updated_at: 0,
            received_at: received.then_some(5),
            received_by: None,
        }
    }

    #[test]
    fn a_hold_puts_a_consented_document_on_hold_until_some_consent_grants() {
        let held = ConsentsNow::of(&[consent("2712345678", CONSENT_ON_HOLD)], zone(), 0);
        let s = state_of(&doc(Kind::Checkup, false), &held);
        assert_eq!(s.status, Status::OnHold);
        assert_eq!(s.held_for, ["2712345678".to_string()].into());
        let both = ConsentsNow::of(
            &[
                consent("2712345678", CONSENT_ON_HOLD),
                consent("1318814790", "active"),
            ],
            zone(),
            0,
        );
        let s = state_of(&doc(Kind::Checkup, false), &both);
        assert_eq!(s.status, Status::Viewable);
        assert!(s.viewable_by.contains("1318814790"));
        let withdrawn = ConsentsNow::of(&[consent("2712345678", "inactive")], zone(), 0);
        assert_eq!(withdrawn, ConsentsNow::default());
        assert_eq!(
            state_of(&doc(Kind::Checkup, false), &withdrawn).status,
            Status::Viewable
        );
    }

    #[test]
    fn a_referral_is_received_once_acknowledged_whatever_the_consents() {
        let held = ConsentsNow::of(&[consent("2712345678", CONSENT_ON_HOLD)], zone(), 0);
        assert_eq!(
            state_of(&doc(Kind::Referral, false), &held).status,
            Status::Viewable
        );
        let s = state_of(&doc(Kind::Referral, true), &held);
        assert_eq!(s.status, Status::Received);
        assert!(s.held_for.is_empty());
        assert!(s.viewable_by.contains("1318814790"));
    }
}
