//! Conditional update (`PUT [base]/[type]?criteria`): the criteria pick the resource to write.
//! No match creates (under the body's id when it has one), one match is updated, several are
//! refused (412). Spec: <https://hl7.org/fhir/R4/http.html#cond-update>, with the id rules R5
//! spells out (a body id that differs from the match's is 400).
//!
//! The criteria see only what the caller may read, as conditional create's do: a resource
//! outside the caller's scope is no match, so whether the answer is a create, an update or a 412
//! never depends on it and tells nothing about it. The price is that a caller whose only match is
//! another institution's unreadable resource creates its own beside it — what it would do had
//! that resource not existed. A match the caller may read but did not write is refused by the
//! ownership rule of every update (403).

use std::time::Instant;

use serde_json::Value;

use super::write::{check_body, check_id, parse_criteria, validate_for_write};
use super::write_tx::WriteTx;
use super::{Services, Written, check_type};
use crate::audit::Action;
use crate::audit::Interaction;
use crate::error::Error;
use crate::messages::PatchMessage;
use crate::search::SearchQuery;
use crate::store::SystemUse;

/// Writes `resource` to the one resource `criteria` match, or creates it when none does.
pub async fn conditional_update(
    svc: &Services,
    res_type: &str,
    criteria: &str,
    resource: Value,
    if_match: Option<i64>,
    deadline: Option<Instant>,
) -> Result<Written, Error> {
    let query = check_request(svc, res_type, criteria, &resource, "PUT")?;
    let resource = validate_for_write(svc, resource).await?;
    let session = svc.session();
    let references = super::references::to_check(svc, res_type, &resource, false);
    let (t, new_id) = (res_type.to_string(), svc.ids.new_id());
    let record = svc
        .audit_record(Action::Update, Interaction::Update)
        .map(|r| r.target(Some(res_type), None));
    svc.write_tx(session, deadline, record, move |tx| {
        let id = target_in_tx(tx, &query, &resource)?.unwrap_or(new_id);
        let written = tx.put(&t, &id, resource, if_match)?;
        // After the write, so that a resource may reference itself.
        tx.check_references(&references)?;
        Ok(written)
    })
    .await
}

/// The checks that need no database, shared with bundle entries (`how` names the interaction
/// for the document rules): the parsed criteria.
pub(crate) fn check_request(
    svc: &Services,
    res_type: &str,
    criteria: &str,
    resource: &Value,
    how: &str,
) -> Result<SearchQuery, Error> {
    check_type(res_type)?;
    super::check_served(res_type)?;
    super::access::check_may_write_type(&svc.caller, res_type)?;
    super::terminology::check_writable(res_type, "PUT")?;
    check_body(res_type, resource, None)?;
    if let Some(id) = resource.get("id").and_then(Value::as_str) {
        check_id(res_type, id)?;
    }
    super::direct_write::refuse_direct_write(res_type, resource, how)?;
    parse_criteria(svc, res_type, criteria)
}

/// The id a conditional update writes, decided inside the write transaction under the criteria's
/// lock: the one match's; for no match the body's id, or `None` for a new one.
pub(crate) fn target_in_tx(
    tx: &mut WriteTx<'_, '_>,
    query: &SearchQuery,
    resource: &Value,
) -> Result<Option<String>, Error> {
    let res_type = query.resource_type.as_str();
    let found = tx.matches(query)?;
    let body_id = resource.get("id").and_then(Value::as_str);
    match (found.as_slice(), body_id) {
        ([one], Some(id)) if one.id != id => Err(Error::invalid(
            PatchMessage::UpdateIdNotMatched {
                found: id.to_string(),
                matched: one.id.clone(),
            },
            format!("{res_type}.id"),
        )),
        ([one], _) => Ok(Some(one.id.clone())),
        ([], Some(id)) => match tx
            .conn()
            .system(SystemUse::WriteCurrent)
            .current(res_type, id)?
        {
            // Writing it would change a resource the criteria do not pick. Who may not change
            // it is answered as by a PUT of that id (404 or 403), so nothing more is revealed.
            Some(row) if !row.deleted => {
                tx.check_owner(res_type, id)?;
                Err(Error::Conflict(
                    PatchMessage::UpdateIdInUse {
                        reference: format!("{res_type}/{id}"),
                    }
                    .into(),
                ))
            }
            _ => Ok(Some(id.to_string())),
        },
        ([], None) => Ok(None),
        _ => Err(Error::MultipleMatches(
            PatchMessage::UpdateCriteriaSeveral {
                res_type: res_type.to_string(),
            }
            .into(),
        )),
    }
}
