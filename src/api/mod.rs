//! HTTP only: the route table, content negotiation, body limits, and turning interaction results
//! into responses. FHIR semantics live in `interactions`; errors become responses in `error`.

mod body;
mod documents;
mod handlers;
mod negotiate;
mod request_log;
mod respond;
pub mod routes;
pub mod server;
mod terminology;

use std::sync::Arc;

use crate::config::Limits;
use crate::interactions::Services;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// Shared by every handler.
pub struct AppState {
    pub services: Services,
    pub limits: Limits,
    /// Public base URL without a trailing slash, for Location headers and links.
    pub base_url: String,
    /// When this server started, as a FHIR dateTime: the CapabilityStatement's date.
    pub started: String,
}

pub type State = actix_web::web::Data<Arc<AppState>>;
