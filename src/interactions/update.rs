//! `update` (PUT \[base\]/\[type\]/\[id\]); update-as-create is allowed (client-chosen ids).
//! Spec: <https://hl7.org/fhir/R4/http.html#update>

use std::time::Instant;

use serde_json::Value;

use super::write::{check_body, check_id, validate_for_write};
use super::{Services, Written, check_type};
use crate::audit::Action;
use crate::audit::Interaction;
use crate::error::Error;

/// Writes the next version of `res_type/id`. `if_match` is the version from `If-Match: W/"n"`;
/// a mismatch is refused with `PreconditionFailed`.
pub async fn update(
    svc: &Services,
    res_type: &str,
    id: &str,
    resource: Value,
    if_match: Option<i64>,
    deadline: Option<Instant>,
) -> Result<Written, Error> {
    check_type(res_type)?;
    super::check_served(res_type)?;
    super::terminology::check_writable(res_type, "PUT")?;
    check_id(res_type, id)?;
    check_body(res_type, &resource, Some(id))?;
    super::direct_write::refuse_direct_write(res_type, &resource, "PUT")?;
    let resource = validate_for_write(svc, resource).await?;
    let session = svc.session();
    let references = super::references::to_check(svc, res_type, &resource, false);
    let (t, i) = (res_type.to_string(), id.to_string());
    let record = svc
        .audit_record(Action::Update, Interaction::Update)
        .map(|r| r.target(Some(res_type), Some(id)));
    svc.write_tx(session, deadline, record, move |tx| {
        let written = tx.put(&t, &i, resource, if_match)?;
        // After the write, so that a resource may reference itself.
        tx.check_references(&references)?;
        Ok(written)
    })
    .await
}
