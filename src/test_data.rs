//! What unit tests need from outside: ../shared/data and the test PostgreSQL server. The
//! official packages and examples are a documented prerequisite, so a test that needs a missing
//! file fails naming it; a PostgreSQL variant that cannot run says so loudly (see
//! [`postgres_url`]). Neither passes untested in silence.

use std::io::Write;
use std::path::{Path, PathBuf};

/// KYOYU_TEST_DATABASE_URL, or `None` after one loud SKIPPED line; panics when it is unset and
/// KYOYU_REQUIRE_POSTGRES=1 (as CI sets it).
pub(crate) fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("KYOYU_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        return Some(url);
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    assert!(
        std::env::var("KYOYU_REQUIRE_POSTGRES").as_deref() != Ok("1"),
        "{test}: KYOYU_REQUIRE_POSTGRES=1 but KYOYU_TEST_DATABASE_URL is not set: the PostgreSQL \
         variant cannot run"
    );
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: PostgreSQL variant not run, KYOYU_TEST_DATABASE_URL is not set \
         (KYOYU_REQUIRE_POSTGRES=1 makes this a failure)"
    );
    None
}

pub(crate) const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// `rel` under ../shared/data; panics naming the path when it is missing.
pub(crate) fn path(rel: &str) -> PathBuf {
    let p = Path::new(DATA).join(rel);
    if !p.exists() {
        missing(p.display());
    }
    p
}

/// Fails the test: `what` (a path under ../shared/data) is missing.
pub(crate) fn missing(what: impl std::fmt::Display) -> ! {
    panic!(
        "{what} is missing: the tests need the official FHIR packages and examples in \
         ../shared/data"
    )
}
