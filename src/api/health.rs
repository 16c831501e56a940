//! Liveness and readiness for load balancers and orchestrators: unauthenticated, outside the
//! FHIR API, and saying nothing about patients or about where the database is.

use std::time::Duration;

use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::State;
use super::routes::Template;
use crate::error::RETRY_AFTER_SECS;
use crate::fhir::{Issue, IssueType, OperationOutcome};
use crate::messages::InteractionMessage;
use crate::store::StoreError;

/// Longer than a checkout that finds the database down, shorter than a prober's usual timeout.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// `GET /health/live`: the process serves HTTP.
pub async fn live(req: HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(Template("/health/live"));
    HttpResponse::Ok().json(json!({"status": "live"}))
}

/// `GET /health/ready`: the database answers and holds this version's schema; 503 with the
/// reason otherwise.
pub async fn ready(state: State, req: HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(Template("/health/ready"));
    let reason = match tokio::time::timeout(READY_WITHIN, state.services.store.ready()).await {
        Ok(Ok(())) => return HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(Err(StoreError::Migration(m))) => InteractionMessage::SchemaNotCurrent {
            detail: m.to_string(),
        },
        Ok(Err(e)) if e.is_unavailable() => InteractionMessage::DatabaseUnreachable,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            InteractionMessage::DatabaseCheckFailed
        }
        Err(_) => InteractionMessage::DatabaseSlow {
            seconds: READY_WITHIN.as_secs(),
        },
    };
    let outcome = OperationOutcome::single(Issue::error(IssueType::NoStore, reason));
    let mut response = HttpResponse::ServiceUnavailable().body(outcome.to_json().to_string());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(super::FHIR_JSON));
    headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}
