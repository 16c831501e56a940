//! `KYOYU_TEST_REQUIRE`: which test prerequisites must be present. A comma list of `postgres`
//! (the PostgreSQL server of `KYOYU_TEST_DATABASE_URL`) and `data` (the official packages and
//! examples in ../shared/data); a prerequisite that is missing fails every test that needs it when
//! it is listed, and prints one `SKIPPED <test>: <reason>` line otherwise. `KYOYU_REQUIRE_POSTGRES=1`
//! is the older spelling of `postgres`.
//!
//! Compiled into the unit tests and, by path, into the integration tests' harness, so both
//! read the variable the same way.

use std::io::Write;

/// The prerequisites whose absence fails a test instead of skipping it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Required {
    pub(crate) postgres: bool,
    pub(crate) data: bool,
}

/// Parses `KYOYU_TEST_REQUIRE` (`require`) and `KYOYU_REQUIRE_POSTGRES` (`legacy_postgres`). An
/// unknown item is an error: a misspelt `postgress` must not quietly let CI skip.
pub(crate) fn parse(
    require: Option<&str>,
    legacy_postgres: Option<&str>,
) -> Result<Required, String> {
    let mut out = Required {
        postgres: legacy_postgres == Some("1"),
        data: false,
    };
    for item in require.unwrap_or("").split(',').map(str::trim) {
        match item {
            "" => {}
            "postgres" => out.postgres = true,
            "data" => out.data = true,
            other => {
                return Err(format!(
                    "KYOYU_TEST_REQUIRE: unknown item {other:?} (expected a comma list of \
                     postgres, data)"
                ));
            }
        }
    }
    Ok(out)
}

/// The requirements of this process's environment; panics on a value that does not parse.
pub(crate) fn from_env() -> Required {
    let require = std::env::var("KYOYU_TEST_REQUIRE").ok();
    let legacy = std::env::var("KYOYU_REQUIRE_POSTGRES").ok();
    parse(require.as_deref(), legacy.as_deref()).unwrap_or_else(|e| panic!("{e}"))
}

/// The current test's name, for the skip line and the failure.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}

/// A test cannot run because `reason`: fails it when `required` (the item of
/// `KYOYU_TEST_REQUIRE` that is `item`), and prints the skip line otherwise.
pub(crate) fn skip_or_fail(required: bool, item: &str, reason: &str) {
    let test = test_name();
    assert!(
        !required,
        "{test}: {item} is required (KYOYU_TEST_REQUIRE) but {reason}"
    );
    // Straight to stderr: the test harness captures `eprintln!` of passing tests, which would
    // hide the skip.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {reason} (KYOYU_TEST_REQUIRE={item} makes this a failure)"
    );
}
