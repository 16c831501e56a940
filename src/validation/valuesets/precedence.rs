//! Which of several definitions of one canonical URL answers: an operator's import, a package,
//! or a list shipped in `codesets/` may each define the same code system or value set, and an
//! older edition must never hide a newer one. The newest version wins whichever source it came
//! from; on equal versions, or when either definition carries no version to compare, the source
//! listed first wins (the operator's import before the packages before the shipped lists).

use std::cmp::Ordering;

use crate::packages::compare_versions;

/// The definition to use among `candidates`, given in tie-break order.
pub(crate) fn newest<T>(
    candidates: impl IntoIterator<Item = Option<T>>,
    version: impl Fn(&T) -> Option<&str>,
) -> Option<T> {
    candidates.into_iter().flatten().fold(None, |best, next| {
        let Some(best) = best else { return Some(next) };
        let newer = match (version(&best), version(&next)) {
            (Some(b), Some(n)) => compare_versions(n, b) == Ordering::Greater,
            _ => false,
        };
        Some(if newer { next } else { best })
    })
}

/// `url|version`, or the URL alone.
pub(crate) fn versioned(url: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{url}|{v}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::newest;

    fn pick<'a>(candidates: [Option<(&'a str, Option<&'a str>)>; 3]) -> Option<&'a str> {
        newest(candidates, |c| c.1).map(|c| c.0)
    }

    #[test]
    fn the_newest_version_wins_whatever_its_source() {
        let imported = Some(("imported", Some("1.5.0")));
        let package = Some(("package", Some("5.11")));
        assert_eq!(pick([imported, package, None]), Some("package"));
        // Numeric, not textual: 1.10 is newer than 1.9.
        let imported = Some(("imported", Some("1.10")));
        let package = Some(("package", Some("1.9")));
        assert_eq!(pick([imported, package, None]), Some("imported"));
        let shipped = Some(("shipped", Some("20250401")));
        assert_eq!(
            pick([Some(("imported", Some("20240401"))), None, shipped]),
            Some("shipped")
        );
    }

    #[test]
    fn equal_or_missing_versions_keep_the_first_source() {
        let package = Some(("package", Some("5.11")));
        assert_eq!(
            pick([Some(("imported", Some("5.11"))), package, None]),
            Some("imported")
        );
        assert_eq!(
            pick([Some(("imported", None)), package, None]),
            Some("imported")
        );
        assert_eq!(
            pick([None, Some(("package", Some("1"))), Some(("shipped", None))]),
            Some("package")
        );
        assert_eq!(pick([None, None, None]), None);
    }
}
