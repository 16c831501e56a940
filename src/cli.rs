//! The command line: `serve`, `migrate`, `reindex`, `bench`, `validate`, `package`, `codesets`,
//! `purge`, `export`, parsed here and each run by its module of [`crate::commands`]. Exit codes:
//! 0 success, 1 failure at run time, 2 bad usage or configuration.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{self, with_config};
use crate::config::ConfigArgs;

#[derive(Debug, Parser)]
#[command(
    name = "kyoyu",
    version,
    about = "FHIR R4 server for Japan's EHR information sharing service (電子カルテ情報共有サービス)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the FHIR server (SQLite file in the working directory unless --database-url says otherwise).
    Serve(ConfigArgs),
    /// Apply pending database migrations and exit.
    Migrate(ConfigArgs),
    /// Rewrite the search index rows of parameters added since the stored resources were
    /// indexed (the server also does this at start-up when the stored index is older).
    Reindex(ConfigArgs),
    /// Measure loopback throughput and latency of POST and GET Observation.
    ///
    /// The in-process server logs requests at WARN only (a line per request at INFO costs the
    /// benchmark throughput); RUST_LOG, when set, decides instead (RUST_LOG=info logs each
    /// request again).
    Bench(commands::bench::BenchArgs),
    /// Validate FHIR resources in files or folders against their profiles (no database).
    Validate(commands::validate::ValidateArgs),
    /// FHIR packages: install, list, check; regenerate the base model in fhir-schemas/.
    #[command(subcommand)]
    Package(commands::packages::PackageCommand),
    /// Apply the retention rules: remove what has passed its time (see README, Retention).
    Purge(commands::purge::PurgeArgs),
    /// Bulk export: every stored resource (or a Patient-level subset) into NDJSON files of a
    /// directory, read from the store directly and audited (see README, Bulk export).
    Export(commands::export::ExportArgs),
    /// Terminology: import code lists (masters, FHIR CodeSystems/ValueSets) into the database.
    #[command(subcommand)]
    Codesets(commands::codesets::CodesetsCommand),
}

impl Cli {
    /// What the command logs unless `RUST_LOG` says otherwise: every request at INFO, but for
    /// the benchmark, whose in-process server the request log would slow down.
    pub fn log_defaults(&self) -> crate::telemetry::Defaults {
        match self.command {
            Command::Bench(_) => crate::telemetry::Defaults::QuietRequests,
            _ => crate::telemetry::Defaults::Info,
        }
    }
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => with_config(&args, commands::serve::serve),
        Command::Migrate(args) => with_config(&args, commands::store::migrate),
        Command::Reindex(args) => with_config(&args, commands::store::reindex),
        Command::Bench(args) => commands::bench::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Package(command) => commands::packages::run(command),
        Command::Codesets(command) => commands::codesets::run(command),
        Command::Purge(args) => commands::purge::run_command(args),
        Command::Export(args) => commands::export::run_command(args),
    }
}
