//! Cancelling (取消) a document: `DELETE [base]/Bundle?document-identifier=<value>`, or a
//! DELETE of the document's Bundle by id. The Bundle (all versions) and the resources extracted
//! from it are purged, so the document leaves the addressee's inbox and the patient's record at
//! once. Its row stays, marked cancelled, with identifier, version and Bundle id but no clinical
//! content: re-posting the document undoes the cancel under the same Bundle id. A document whose
//! letter has expired can still be cancelled: that withdraws what it contributed to the record.

use std::time::Instant;

use crate::audit::Interaction;
use crate::clins::systems::RESOURCE_IDENTIFIER;
use crate::error::Error;
use crate::interactions::Services;
use crate::interactions::write_tx::{Did, WriteTx};
use crate::messages::DocumentMessage;
use crate::store::{DocumentRow, DocumentStatus, LockKey, SystemUse};

/// What a cancel removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// Extracted resources purged.
    pub resources: usize,
    /// Everything purged, the Bundle included, for the audit record.
    pub removed: Vec<crate::store::Removed>,
}

/// Cancels the active document with this identifier (`system|value` with the
/// resourceInstance-identifier system, or a bare value). 404 when there is none; 412 when
/// several senders use the identifier (access control will tell them apart).
pub async fn cancel_by_identifier(
    svc: &Services,
    identifier: &str,
    deadline: Option<Instant>,
) -> Result<Cancelled, Error> {
    let value = match identifier.split_once('|') {
        Some((system, value)) if system == RESOURCE_IDENTIFIER || system.is_empty() => value,
        Some((system, _)) => {
            return Err(Error::invalid(
                DocumentMessage::CancelByOtherSystem {
                    system: RESOURCE_IDENTIFIER.to_string(),
                    asked: system.to_string(),
                },
                "document-identifier",
            ));
        }
        None => identifier,
    }
    .to_string();
    let session = svc.session();
    crate::interactions::access::check_may_write(&svc.caller)?;
    // An institution cancels its own documents: others' with the same identifier are not its.
    let mine = svc.caller.principal.institution().map(str::to_string);
    let record = svc
        .audit_record(crate::audit::Action::Delete, Interaction::CancelDocument)
        .map(|r| r.target(Some("Bundle"), None));
    svc.write_tx(session, deadline, record, move |tx| {
        let active: Vec<DocumentRow> = tx
            .conn()
            .system(SystemUse::Submission)
            .documents_by_identifier(&value)?
            .into_iter()
            .filter(|d| d.status.contributes())
            .filter(|d| mine.as_ref().is_none_or(|m| *m == d.institution))
            .collect();
        match active.as_slice() {
            [] => Err(Error::NotFound {
                res_type: "Bundle".into(),
                id: format!("?document-identifier={value}"),
            }),
            [one] => cancel_in_tx(tx, &one.document_key),
            many => Err(Error::MultipleMatches(
                DocumentMessage::CancelSeveralSenders {
                    identifier: value.to_string(),
                    count: many.len(),
                }
                .into(),
            )),
        }
    })
    .await
}

/// Cancels the document whose Bundle is (or, for an expired letter, was) `Bundle/{bundle_id}`;
/// `None` when that Bundle is not a document in force (the caller then deletes it as any
/// resource).
pub async fn cancel_by_bundle_id(
    svc: &Services,
    bundle_id: &str,
    deadline: Option<Instant>,
) -> Result<Option<Cancelled>, Error> {
    let id = bundle_id.to_string();
    let session = svc.session();
    let caller = std::sync::Arc::clone(&svc.caller);
    let record = svc
        .audit_record(crate::audit::Action::Delete, Interaction::CancelDocument)
        .map(|r| r.target(Some("Bundle"), Some(bundle_id)));
    svc.write_tx(session, deadline, record, move |tx| {
        match tx
            .conn()
            .system(SystemUse::Submission)
            .document_by_bundle_id(&id)?
            .filter(|d| d.status.contributes())
        {
            Some(doc) => {
                // A caller who may not read the document gets the plain DELETE of a Bundle
                // that does not exist, which names neither the document nor its sender.
                match tx.check_owner("Bundle", &id) {
                    Err(Error::NotFound { .. }) => return Ok(None),
                    other => other?,
                }
                crate::interactions::access::check_submitter(&caller, &doc.institution)?;
                cancel_in_tx(tx, &doc.document_key).map(Some)
            }
            None => Ok(None),
        }
    })
    .await
}

/// The cancel itself, inside a write transaction, through its write kernel: under the
/// document's lock, the document's members and Bundle are purged, each named in the write's
/// audit record, and its row is marked cancelled.
pub(crate) fn cancel_in_tx(tx: &mut WriteTx<'_, '_>, key: &str) -> Result<Cancelled, Error> {
    tx.lock(LockKey::Document(key))?;
    // Read again under the lock: a concurrent cancel or re-post may have come first.
    let Some(mut doc) = tx
        .conn()
        .system(SystemUse::Submission)
        .document(key)?
        .filter(|d| d.status.contributes())
    else {
        return Err(Error::Conflict(DocumentMessage::CancelRaced.into()));
    };
    let members = tx
        .conn()
        .system(SystemUse::Submission)
        .document_members(key)?;
    let removed = tx.purge_submission(&members, &doc.bundle_id)?;
    tx.note(Did::Removed, crate::submissions::touches_of(&removed));
    let resources = removed.iter().filter(|r| r.res_type != "Bundle").count();
    doc.status = DocumentStatus::Cancelled;
    doc.updated_at = tx.now();
    doc.received_at = None;
    doc.received_by = None;
    tx.conn().documents().put_document(&doc, &[])?;
    Ok(Cancelled { resources, removed })
}
