//! PATCH requests: the body is a JSON Patch (`application/json-patch+json`) or a FHIRPath Patch
//! (a `Parameters` in FHIR JSON or XML), read and parsed here; applying it is the `patch`
//! interaction's.

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Payload;

use super::handlers::{deadline, written_reply};
use super::{State, body, negotiate};
use crate::error::Error;
use crate::interactions::fhirpath_patch::FhirPathPatch;
use crate::interactions::patch::{JSON_PATCH, JsonPatch, PatchDocument, Target};
use crate::interactions::{self};
use crate::messages::PatchMessage;

/// `PATCH [base]/[type]/[id]`, or with `id` `None`, `PATCH [base]/[type]?criteria`.
pub async fn patch(
    state: State,
    req: HttpRequest,
    t: String,
    id: Option<String>,
    payload: Payload,
) -> Result<actix_web::HttpResponse, Error> {
    let deadline = deadline(&state);
    let out = negotiate::output(&req)?;
    let prefer = negotiate::prefer(&req);
    interactions::check_type(&t)?;
    let if_match = negotiate::if_match(&req)?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let ops = if essence.eq_ignore_ascii_case(JSON_PATCH) {
        let bytes = body::read(&req, payload, &state, deadline).await?;
        PatchDocument::Json(JsonPatch::parse(body::parse_json(&bytes, &state.limits)?)?)
    } else if let Ok(format) = negotiate::content_type(&req) {
        let bytes = body::read(&req, payload, &state, deadline).await?;
        let parameters = body::parse(format, &bytes, &state.limits)?;
        PatchDocument::FhirPath(FhirPathPatch::parse(&parameters)?)
    } else {
        return Err(Error::UnsupportedMediaType(
            PatchMessage::PatchContentType {
                content_type: content_type.to_string(),
            }
            .into(),
        ));
    };
    let target = Target::of(id.as_deref(), req.query_string());
    let written =
        interactions::patch::patch(&state.services, &t, target, &ops, if_match, Some(deadline))
            .await?;
    Ok(written_reply(&state, &written, out, prefer.return_))
}
