//! One log line and one metrics observation per request: method, route template, status,
//! duration, request id. The template (`/{type}/{id}`, noted by the router), never the concrete
//! path: ids and query strings can identify a patient, and nothing that can does go to the log
//! or into a metric's labels.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::State;
use super::routes::Template;

const REQUEST_ID: &str = "x-request-id";

/// Accepts a caller's request id only if it is a short plain token, so it cannot smuggle data
/// into the log; otherwise makes one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let metrics = req
        .app_data::<State>()
        .map(|s| std::sync::Arc::clone(&s.metrics));
    let mut response = next.call(req).await?;
    let route = response
        .request()
        .extensions()
        .get::<Template>()
        .map_or("(unmatched)", |t| t.0);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(REQUEST_ID),
            v,
        );
    }
    let (status, took) = (response.status().as_u16(), started.elapsed());
    if let Some(m) = metrics {
        m.request(route, method.as_str(), status, took);
    }
    tracing::info!(
        target: crate::telemetry::REQUEST_LOG,
        request_id = %id,
        method = %method,
        route = %route,
        status,
        duration_us = took.as_micros() as u64,
    );
    Ok(response)
}
