//! The integration tests: HTTP-level tests against the real server (SQLite and PostgreSQL), the
//! real binary as an operator runs it, and the README walk-through. One test binary rather than
//! one per file: each binary links the whole library and actix, so a change to one source file
//! cost a link per file before the first test ran. Each former file is a module here; tests from
//! different modules run in parallel threads of one process, so none may rely on process-global
//! state (environment variables, the current directory, fixed ports or file names).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// First, and with `macro_use`: `backend_test!` is then in scope in every module below.
#[macro_use]
mod common;

mod access;
mod access_matrix;
mod access_scope;
mod audit;
mod bulk_export;
mod client_requests;
mod codesets;
mod compartment;
mod concurrency;
mod conditional_read;
mod disk_full;
mod document_lifecycle;
mod documents;
mod durability;
mod fuzz;
mod history_at;
mod insurer_consent;
mod limits;
mod long_lists;
mod messages;
mod messages_families;
mod operability;
mod outage;
mod patch_update;
mod patient_identity;
mod purge_accounting;
mod readme;
mod referential_integrity;
mod refused_input;
mod registry;
mod rest;
mod retention;
mod schema;
mod search;
mod search_chain;
mod search_include;
mod search_types;
mod submissions;
mod system_search;
mod terminology;
mod tls;
mod transaction;
mod validate;
mod verdict;
mod versions;
mod xml;
mod xml_round_trip;
