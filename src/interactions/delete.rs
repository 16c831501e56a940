//! `delete` (DELETE [base]/[type]/[id]): records a deletion version; later reads answer 410.
//! Deleting what does not exist (or is already deleted) succeeds without a new version.
//! Spec: https://hl7.org/fhir/R4/http.html#delete

use std::time::Instant;

use super::write::{check_id, delete_in_tx};
use super::{Services, check_type};
use crate::error::Error;

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
    svc.store
        .write(deadline, move |conn| delete_in_tx(conn, &t, &i, now))
        .await
}
