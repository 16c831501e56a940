//! `delete` (DELETE \[base\]/\[type\]/\[id\]): records a deletion version; later reads answer 410.
//! Deleting what does not exist (or is already deleted) succeeds without a new version.
//! Spec: <https://hl7.org/fhir/R4/http.html#delete>

use std::time::Instant;

use super::write::{check_id, delete_in_tx};
use super::{Services, check_type};
use crate::audit::Interaction;
use crate::audit::{Action, Touch};
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
    let now = svc.clock.now_micros();
    let (t, i) = (res_type.to_string(), id.to_string());
    let scoped = svc.clone();
    // The deleted resource is an entity of its record, its patient looked up in the same
    // transaction (the row stays, marked deleted), so the patient's trail shows the deletion.
    let record = svc
        .audit_record(Action::Delete, Interaction::Delete)
        .map(|r| {
            let mut r = r.target(Some(res_type), Some(id));
            r.entities.push(Touch::named(res_type, id));
            r
        });
    svc.write_audited(deadline, record, move |conn| {
        delete_in_tx(&scoped, conn, &t, &i, now)
    })
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
    let now = svc.clock.now_micros();
    let t = res_type.to_string();
    let criteria = criteria.to_string();
    let scoped = svc.clone();
    let record = svc
        .audit_record(Action::Delete, Interaction::Delete)
        .map(|r| r.target(Some(res_type), None));
    svc.write_audited(deadline, record, move |conn| {
        let scope = super::access::scope_in(conn, &scoped, now)?;
        let found = super::write::matches_in_tx(conn, &query, &scope, now)?;
        match found.as_slice() {
            [] => Err(Error::NotFound {
                res_type: t.clone(),
                id: format!("?{criteria}"),
            }),
            [one] => Ok(Matched {
                version: delete_in_tx(&scoped, conn, &t, &one.id, now)?,
                key: (t.clone(), one.id.clone()),
            }),
            _ => Err(Error::MultipleMatches(
                InteractionMessage::DeleteCriteriaSeveral {
                    res_type: t.to_string(),
                }
                .into(),
            )),
        }
    })
    .await
    .map(|m| m.version)
}

/// The one resource a conditional delete matched, for its audit record.
struct Matched {
    version: Option<i64>,
    key: (String, String),
}

impl crate::audit::Touched for Matched {
    fn touched(&self) -> Vec<crate::audit::Touch> {
        vec![Touch::named(self.key.0.clone(), self.key.1.clone())]
    }
}
