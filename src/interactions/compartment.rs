//! Patient compartment search: `GET [base]/Patient/{id}/[type]?…` (`*` for every compartment
//! type) and `POST …/_search`. Spec: <https://hl7.org/fhir/R4/http.html#search> and
//! <https://hl7.org/fhir/R4/compartmentdefinition-patient.html>
//!
//! The patient is read first, in the caller's scope, so a patient the caller may not read
//! answers exactly as its read would (404, or 410 when deleted) and nothing of its data is
//! searched; each match is still judged by the same scope as any search's.

use super::read::read_in;
use super::write::check_id;
use super::{Services, UNSERVED_TYPES, check_type};
use crate::access::compartment;
use crate::audit::Interaction;
use crate::error::Error;
use crate::messages::InteractionMessage;
use crate::search::{ALL_TYPES, Compartment, SearchQuery};
use crate::store::{SearchPage, StoredResource};

/// The compartment types this server stores and searches: the audit trail is served apart
/// (`AuditEvent?patient=`), and unserved types are never stored.
pub fn served_types() -> Vec<String> {
    compartment::types()
        .into_iter()
        .filter(|t| *t != "AuditEvent" && !UNSERVED_TYPES.contains(t))
        .map(str::to_string)
        .collect()
}

/// Whether `res_type` is searchable in a patient's compartment here.
pub fn is_served(res_type: &str) -> bool {
    served_types().iter().any(|t| t == res_type)
}

/// Parses a compartment search of `res_type` (or `*`) in `Patient/{patient}`'s compartment; the
/// parameters are those of a search of the type (`*`: the common ones).
pub fn parse(
    svc: &Services,
    patient: &str,
    res_type: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<SearchQuery, Error> {
    check_id("Patient", patient)?;
    let types = if res_type == ALL_TYPES {
        served_types()
    } else {
        check_type(res_type)?;
        if res_type == "AuditEvent" {
            let message = InteractionMessage::CompartmentAuditTrail {
                patient: patient.to_string(),
            };
            return Err(Error::invalid(message, res_type));
        }
        if !is_served(res_type) {
            let message = InteractionMessage::NotInCompartment {
                res_type: res_type.to_string(),
            };
            return Err(Error::invalid(message, res_type));
        }
        Vec::new()
    };
    let mut options = svc.search.clone();
    options.strict = strict;
    let mut query = crate::search::parse(res_type, params, &options)?;
    query.compartment = Some(Compartment {
        patient: patient.to_string(),
        types,
    });
    Ok(query)
}

/// The patient, as its read answers it, and a page of `query` in its compartment. Both are
/// recorded as read: the patient's trail shows the search.
pub async fn search(
    svc: &Services,
    query: SearchQuery,
) -> Result<(StoredResource, SearchPage), Error> {
    let patient_id = query
        .compartment
        .as_ref()
        .map(|c| c.patient.clone())
        .unwrap_or_default();
    let session = svc.session();
    let audited_type = (query.resource_type != ALL_TYPES).then(|| query.resource_type.clone());
    let (patient, page) = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            let patient = read_in(&mut scoped, "Patient", &patient_id, None)?;
            let page = super::search::page_in(&mut scoped, &query)?;
            Ok::<_, Error>((patient, page))
        })
        .await?;
    svc.audit_read(
        Interaction::SearchType,
        audited_type.as_deref(),
        None,
        // Included resources are shown, so they are recorded too.
        std::iter::once(&patient).chain(
            page.shown()
                .filter(|r| (r.res_type.as_str(), r.id.as_str()) != ("Patient", &patient.id)),
        ),
    )
    .await?;
    Ok((patient, page))
}
