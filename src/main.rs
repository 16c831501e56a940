//! The `kyoyu` binary: parse the command line, run the subcommand, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kyoyu::cli::Cli::parse();
    kyoyu::telemetry::init(cli.log_defaults());
    kyoyu::cli::run(cli)
}
