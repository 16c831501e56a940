//! The FHIR model as the server handles it: resources are `serde_json::Value`s (order-preserving),
//! with helpers for what the REST layer needs — parsing within limits (JSON and XML), meta,
//! instants, bundles and OperationOutcome.

pub mod arrays;
pub mod bundle;
pub mod characters;
pub mod instant;
pub mod json;
pub mod members;
pub mod outcome;
pub mod resource;
pub mod resource_types;
pub mod service_rule;
pub mod subset;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests_fuzz;
pub mod xml;

pub use outcome::{Issue, IssueSeverity, IssueType, OperationOutcome, Text};

/// The media types of FHIR's JSON and XML, as the server labels what it sends; here, below
/// `error` and `api`, so an error can label its OperationOutcome without knowing the HTTP layer.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
pub const FHIR_XML: &str = "application/fhir+xml; charset=utf-8";
pub use resource_types::is_resource_type;
pub use service_rule::ServiceRule;
