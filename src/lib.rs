//! kyoyu (共有, "sharing"): an HL7 FHIR R4 server for Japan's electronic medical record
//! information sharing service (電子カルテ情報共有サービス).
//!
//! Where a request goes:
//! - [`access`]: principals (tokens, client certificates), consent and access rules.
//! - [`api`]: HTTP only — routes, content negotiation, body limits, responses.
//! - [`interactions`]: FHIR REST semantics (create, read, update, search, transaction…).
//! - [`fhir`]: the resource model over JSON, OperationOutcome, bundles.
//! - [`search`]: search parameters, index extraction, query parsing (pure).
//! - [`store`]: the only module that knows SQL; SQLite and PostgreSQL.
//! - [`validation`]: profiles, FHIRPath, UCUM and value sets: is an instance valid?
//! - [`packages`]: FHIR NPM packages, their conformance resources, the package store.
//! - [`model`]: the compact element model of the R4 base types, and its generator.
//! - [`audit`]: the audit record, its vocabularies, the recording policy and queue, and the
//!   AuditEvent rendering of the trail.
//! - [`retention`]: expiry rules and the purger.
//! - [`submissions`]: CLINS report units (6-information Bundles) and documents: their service
//!   rules, registration, receipt and cancellation.
//! - [`clins`]: the CLINS vocabulary every layer may name: document kinds and profiles,
//!   identifier systems, observation and retention classes, the direct-write rule.
//! - [`terminology`]: Japanese code systems: syntax, OID aliases, imported masters, the lookup
//!   index.
//! - [`messages`]: the catalogue of OperationOutcome texts, English and Japanese, with the
//!   refusal errors they render.
//! - [`error`]: the one place errors become HTTP statuses and OperationOutcomes.
//! - [`commands`]: one module per `kyoyu` subcommand: flags in, the work done by the modules
//!   above, the report out.
//! - [`config`], [`clock`], [`telemetry`], [`metrics`], [`mod@bench`], [`cli`]: start-up, injected
//!   time, logs, the Prometheus figures, the load benchmark, and the command line.

pub mod access;
pub mod api;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod clins;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod fhir;
pub mod interactions;
pub mod messages;
pub mod metrics;
pub mod model;
pub mod packages;
pub mod retention;
pub mod search;
pub mod store;
pub mod submissions;
pub mod telemetry;
pub mod terminology;
pub mod validation;

#[cfg(test)]
mod architecture_tests;
#[cfg(test)]
mod test_data;
#[cfg(test)]
mod test_require;
#[cfg(test)]
mod test_require_tests;
