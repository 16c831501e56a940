//! The `kyoyu` binary run as a command, for the tests of its subcommands.

use std::process::Command;

/// The binary Cargo built for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");

/// `kyoyu validate` with neither a package store nor a profiles folder, so only the packages the
/// test names with `--package` are loaded, whatever the machine holds.
pub fn validate_without_store() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "validate",
        "--package-store",
        "/nonexistent",
        "--profiles",
        "/nonexistent",
    ]);
    cmd
}
