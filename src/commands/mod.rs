//! The command-line layer: one module per `kyoyu` subcommand (or family of them). A command
//! reads its flags, resolves the configuration, opens what it needs (a store, the packages),
//! calls the module that does the work, and prints; [`crate::cli`] parses the command line and
//! dispatches here. Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::config::{Config, ConfigArgs};

pub mod bench;
pub mod codesets;
pub mod export;
pub mod packages;
pub mod purge;
pub mod serve;
pub mod store;
pub mod validate;

/// The output of the commands that report in text or as JSON (`bench`, `purge`).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Runs `f` on the resolved configuration; a configuration that does not resolve is bad usage.
pub fn with_config(args: &ConfigArgs, f: impl FnOnce(Config) -> ExitCode) -> ExitCode {
    match args.resolve() {
        Ok(config) => f(config),
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::from(2)
        }
    }
}
