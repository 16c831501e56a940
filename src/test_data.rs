//! ../shared/data for unit tests. The official packages and examples are a documented
//! prerequisite: a test that needs a missing file fails naming it, instead of passing untested.

use std::path::{Path, PathBuf};

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
