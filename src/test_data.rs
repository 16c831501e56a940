//! What unit tests need from outside: ../shared/data and the test PostgreSQL server. The
//! official packages and examples, and the PostgreSQL server, are skipped loudly when absent or
//! fail the test when `KYOYU_TEST_REQUIRE` lists them (see [`crate::test_require`]). Neither
//! passes untested in silence.

use std::path::{Path, PathBuf};

use crate::test_require;

/// KYOYU_TEST_DATABASE_URL, or `None` after one loud SKIPPED line; panics when it is unset and
/// `KYOYU_TEST_REQUIRE` lists `postgres` (as CI sets it).
pub(crate) fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("KYOYU_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        return Some(url);
    }
    test_require::skip_or_fail(
        test_require::from_env().postgres,
        "postgres",
        "PostgreSQL variant not run, KYOYU_TEST_DATABASE_URL is not set",
    );
    None
}

pub(crate) const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// `rel` under ../shared/data, or `None` after one loud SKIPPED line when ../shared/data itself is
/// absent; panics when `KYOYU_TEST_REQUIRE` lists `data`, and when the directory is there but
/// `rel` is not (an incomplete copy is a broken set-up, not an absent one).
pub(crate) fn path_or_skip(rel: &str) -> Option<PathBuf> {
    if !Path::new(DATA).is_dir() {
        test_require::skip_or_fail(
            test_require::from_env().data,
            "data",
            "../shared/data (the official FHIR packages and examples) is missing",
        );
        return None;
    }
    Some(path(rel))
}

/// `rel` under ../shared/data; panics naming the path when it is missing, for the tests that
/// cannot skip (see [`path_or_skip`] for those that can).
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
