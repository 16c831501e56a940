//! `create` (POST \[base\]/\[type\]), with conditional create (`If-None-Exist`).
//! Spec: <https://hl7.org/fhir/R4/http.html#create>

use std::time::Instant;

use serde_json::Value;

use super::write::{Prepared, check_body, parse_criteria, validate_for_write};
use super::{Services, Written, check_type};
use crate::audit::Action;
use crate::audit::Interaction;
use crate::error::Error;
use crate::messages::InteractionMessage;

/// Stores `resource` under a new server-assigned id. With `if_none_exist`, an existing single
/// match is returned instead (`created == false`) and two or more matches are refused.
pub async fn create(
    svc: &Services,
    res_type: &str,
    resource: Value,
    if_none_exist: Option<&str>,
    deadline: Option<Instant>,
) -> Result<Written, Error> {
    check_type(res_type)?;
    super::check_served(res_type)?;
    super::access::check_may_write_type(&svc.caller, res_type)?;
    super::terminology::check_writable(res_type, "POST")?;
    check_body(res_type, &resource, None)?;
    super::direct_write::refuse_direct_write(res_type, &resource, "POST")?;
    let resource = validate_for_write(svc, resource).await?;
    let criteria = if_none_exist
        .map(|c| parse_criteria(svc, res_type, c))
        .transpose()?;
    let session = svc.session();
    let now = session.now;
    let references = super::references::to_check(svc, res_type, &resource, false);
    // Serialising and indexing happen here, outside the write transaction, so the single
    // SQLite writer spends its time only on SQL.
    let prepared = Prepared::new(svc, res_type, &svc.ids.new_id(), 1, now, resource)?;
    let record = svc
        .audit_record(Action::Create, Interaction::Create)
        .map(|r| r.target(Some(res_type), None));
    svc.write_tx(session, deadline, record, move |tx| {
        if let Some(query) = &criteria {
            // An existing match is answered only if the caller may see it.
            let mut found = tx.if_none_exist(query)?;
            match found.len() {
                0 => {}
                1 => {
                    let resource = found.remove(0);
                    return Ok(Written {
                        resource,
                        created: false,
                    });
                }
                n => {
                    return Err(Error::MultipleMatches(
                        InteractionMessage::IfNoneExistSeveral { count: n }.into(),
                    ));
                }
            }
        }
        let written = tx.insert(prepared)?;
        tx.check_references(&references)?;
        Ok(written)
    })
    .await
}
