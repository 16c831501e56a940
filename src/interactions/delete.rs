//! `delete` (DELETE \[base\]/\[type\]/\[id\]): records a deletion version; later reads answer 410.
//! Deleting what does not exist (or is already deleted) succeeds without a new version.
//! Spec: <https://hl7.org/fhir/R4/http.html#delete>

use std::time::Instant;

use super::write::check_id;
use super::{Services, check_type};
use crate::audit::Action;
use crate::audit::Interaction;
use crate::error::Error;
use crate::messages::InteractionMessage;

/// Returns the version that records the deletion, if one was written.
pub async fn delete(
    svc: &Services,
    res_type: &str,
    id: &str,
    deadline: Option<Instant>,
) -> Result<Option<i64>, Error> {
    check_type(res_type)?;
    super::terminology::check_writable(res_type, "DELETE")?;
    check_id(res_type, id)?;
    let session = svc.session();
    let (t, i) = (res_type.to_string(), id.to_string());
    // The deleted resource is an entity of its record (the kernel names it), its patient looked
    // up in the same transaction (the row stays, marked deleted), so the patient's trail shows
    // the deletion.
    let record = svc
        .audit_record(Action::Delete, Interaction::Delete)
        .map(|r| r.target(Some(res_type), Some(id)));
    svc.write_tx(session, deadline, record, move |tx| tx.delete(&t, &i))
        .await
}

/// Conditional delete (DELETE \[base\]/\[type\]?criteria): one match is deleted, none is 404,
/// several are 412 (the criteria are not selective enough; only single deletes are offered).
pub async fn conditional_delete(
    svc: &Services,
    res_type: &str,
    criteria: &str,
    deadline: Option<Instant>,
) -> Result<Option<i64>, Error> {
    check_type(res_type)?;
    super::terminology::check_writable(res_type, "DELETE")?;
    let query = super::write::parse_criteria(svc, res_type, criteria)?;
    let session = svc.session();
    let t = res_type.to_string();
    let criteria = criteria.to_string();
    let record = svc
        .audit_record(Action::Delete, Interaction::Delete)
        .map(|r| r.target(Some(res_type), None));
    svc.write_tx(session, deadline, record, move |tx| {
        let found = tx.matches(&query)?;
        match found.as_slice() {
            [] => Err(Error::NotFound {
                res_type: t.clone(),
                id: format!("?{criteria}"),
            }),
            [one] => tx.delete(&t, &one.id),
            _ => Err(Error::MultipleMatches(
                InteractionMessage::DeleteCriteriaSeveral {
                    res_type: t.to_string(),
                }
                .into(),
            )),
        }
    })
    .await
}
