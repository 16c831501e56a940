//! Loopback HTTP load generator behind `kyoyu bench`, the validation benchmark behind
//! `kyoyu bench validate` ([`validate`]), and the FHIR XML conversion benchmark behind
//! `kyoyu bench xml` ([`xml`]).
//!
//! [`run`] drives two phases against a FHIR server on this machine: creating
//! lab Observations over keep-alive connections, then reading them back. Each
//! phase reports throughput and latency percentiles ([`LoadReport`]).
//!
//! Targets are restricted to loopback addresses: load tests may only hit the
//! machine they run on, so a non-loopback `base_url` is rejected before any
//! connection is opened.

mod client;
pub mod everything;
pub mod fuzz;
mod ingest;
mod load;
pub mod purge;
mod report;
pub mod rng;
pub mod terminology;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
pub mod validate;
pub mod xml;

pub use ingest::run_ingest;
pub use load::{AnalyzeStore, Error, LoadOptions, run};
pub use report::{LoadReport, PhaseReport};
