//! HTTP only: the route table, content negotiation, body limits, and turning interaction results
//! into responses. FHIR semantics live in `interactions`; errors become responses in `error`.

mod audit;
mod audited;
mod body;
mod compartment;
mod conditional;
mod contention;
pub mod cors;
mod documents;
mod export;
mod handlers;
mod health;
mod identify;
mod language_headers;
mod memory;
mod metrics;
mod negotiate;
mod patch;
mod request_log;
mod respond;
pub mod routes;
pub mod server;
mod terminology;

use std::sync::Arc;

use crate::config::Limits;
use crate::interactions::Services;

pub use crate::fhir::{FHIR_JSON, FHIR_XML};

/// Shared by every handler.
pub struct AppState {
    pub services: Services,
    pub limits: Limits,
    /// Public base URL without a trailing slash, for Location headers and links.
    pub base_url: String,
    /// When this server started, as a FHIR dateTime: the CapabilityStatement's date.
    pub started: String,
    /// How requests prove who they are (open in development mode).
    pub authentication: crate::access::Authentication,
    /// Collected always; shown at `/metrics` only when `metrics_exposed`.
    pub metrics: Arc<crate::metrics::Metrics>,
    pub metrics_exposed: bool,
    /// The `$export` jobs of this server, shared by every caller's state.
    pub exports: Arc<crate::interactions::export::jobs::Jobs>,
}

impl AppState {
    /// The state one request works with: the same server, acting for `caller`.
    pub fn for_caller(&self, caller: crate::access::Caller) -> State {
        actix_web::web::Data::new(Arc::new(AppState {
            services: self.services.for_caller(caller),
            limits: self.limits,
            base_url: self.base_url.clone(),
            started: self.started.clone(),
            authentication: self.authentication.clone(),
            metrics: Arc::clone(&self.metrics),
            metrics_exposed: self.metrics_exposed,
            exports: self.exports.clone(),
        }))
    }
}

pub type State = actix_web::web::Data<Arc<AppState>>;
