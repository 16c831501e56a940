//! `kyoyu purge` run as the batch job runs it, against a test server's database.

use std::process::Command;

use serde_json::Value;

/// Far enough ahead that every rule's time has passed.
pub const AS_OF: &str = "2100-01-01T00:00:00+09:00";

/// The JSON report of `kyoyu purge --as-of AS_OF` with `extra` flags.
pub fn purge(db: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["purge", "--format", "json", "--as-of", AS_OF])
        .args(extra)
        .args(["--database-url", db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}
