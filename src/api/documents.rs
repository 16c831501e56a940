//! HTTP for CLINS submissions posted to `[base]/Bundle`: report units and documents (register,
//! receipt, cancel). The rules live in `submissions`.

use actix_web::http::StatusCode;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::handlers::{deadline, resource_body};
use super::negotiate::{self, Output};
use super::{State, respond};
use crate::clins::kinds::{is_document, is_report_unit};
use crate::error::Error;
use crate::fhir::{Issue, OperationOutcome};
use crate::messages::InteractionMessage;
use crate::submissions::{self, Registered, documents};

/// A Bundle that `submit` registers rather than stores as any resource.
pub(super) fn is_submission(resource: &Value) -> bool {
    is_report_unit(resource) || is_document(resource)
}

/// `POST [base]/Bundle` of a report unit or a document.
pub(super) async fn submit(
    state: &State,
    out: Output,
    prefer: negotiate::Prefer,
    resource: Value,
    deadline: std::time::Instant,
) -> Result<HttpResponse, Error> {
    let registered: Registered = if is_report_unit(&resource) {
        submissions::register_unit(&state.services, resource, Some(deadline)).await?
    } else {
        documents::register_document(&state.services, resource, Some(deadline)).await?
    };
    let applied = &registered.applied;
    let status = if applied.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = respond::version_location(&state.base_url, &applied.bundle);
    Ok(respond::submitted(
        status,
        &applied.bundle,
        out,
        prefer.return_,
        location,
        &registered.warnings,
    ))
}

/// `POST [base]/Bundle/{id}/$receipt` with a Parameters naming the receiving `institution`.
pub async fn receipt(
    state: State,
    req: HttpRequest,
    id: String,
    payload: Payload,
) -> Result<HttpResponse, Error> {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let body = resource_body(&req, payload, &state, deadline).await?;
    let institution = documents::parse_institution(&body)?;
    let receipt = documents::receive(&state.services, &id, institution, Some(deadline)).await?;
    Ok(respond::json(
        StatusCode::OK,
        out,
        receipt.to_parameters().to_string(),
    ))
}

/// `DELETE [base]/Bundle?document-identifier=<value>`: cancels the document (取消).
pub(super) async fn cancel(
    state: &State,
    out: Output,
    params: &[(String, String)],
) -> Result<HttpResponse, Error> {
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "document-identifier") {
        return Err(Error::invalid(
            format!("a document is cancelled by document-identifier only, not {k}"),
            k.clone(),
        ));
    }
    let identifier = params
        .iter()
        .find(|(k, _)| k == "document-identifier")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let cancelled =
        documents::cancel_by_identifier(&state.services, identifier, Some(deadline(state))).await?;
    Ok(cancelled_response(out, cancelled))
}

/// `DELETE [base]/Bundle/{id}` of a document's Bundle cancels the document; `None` when the
/// Bundle is no active document.
pub(super) async fn cancel_bundle(
    state: &State,
    out: Output,
    id: &str,
) -> Result<Option<HttpResponse>, Error> {
    let cancelled =
        documents::cancel_by_bundle_id(&state.services, id, Some(deadline(state))).await?;
    Ok(cancelled.map(|c| cancelled_response(out, c)))
}

fn cancelled_response(out: Output, cancelled: documents::Cancelled) -> HttpResponse {
    let outcome =
        OperationOutcome::single(Issue::information(InteractionMessage::DocumentCancelled {
            resources: cancelled.resources,
        }));
    respond::outcome(StatusCode::OK, out, &outcome)
}

/// `GET [base]/Bundle/$document-status`: the calling patient's documents and their status.
pub async fn document_status(state: State, req: HttpRequest) -> Result<HttpResponse, Error> {
    let out = negotiate::output(&req)?;
    let parameters = crate::interactions::document_status::document_status(&state.services).await?;
    Ok(respond::json(StatusCode::OK, out, parameters.to_string()))
}

/// `GET [base]/OperationDefinition/Bundle-receipt`.
pub async fn receipt_definition(req: HttpRequest) -> Result<HttpResponse, Error> {
    let out = negotiate::output(&req)?;
    let definition = documents::receipt_definition();
    Ok(respond::json(StatusCode::OK, out, definition.to_string()))
}
