//! `GET /metrics`: the Prometheus scrape. Like the health endpoints it sits outside the FHIR
//! API: no credential asked (behind mutual TLS, the connection still needs its certificate),
//! nothing audited, as it shows volumes and timings, never a patient's data. Off unless
//! configured (`--metrics`): then it answers 404 like any unknown path.

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::State;
use super::routes::Template;
use crate::error::Error;
use crate::messages::InteractionMessage;

pub async fn metrics(state: State, req: HttpRequest) -> Result<HttpResponse, Error> {
    req.extensions_mut().insert(Template("/metrics"));
    if !state.metrics_exposed {
        return Err(Error::RouteNotFound(
            InteractionMessage::NoEndpoint {
                path: req.path().to_string(),
            }
            .into(),
        ));
    }
    let text = state.metrics.encode(
        &state.services.store.pool_states(),
        state.services.audit_queue.backlog(),
    );
    let mut response = HttpResponse::Ok().body(text);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    Ok(response)
}
