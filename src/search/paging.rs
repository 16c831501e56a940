//! The paging parameters every listing shares — `_count`, `_offset` and the `_cursor` of keyset
//! pages — read in one place, so a search, a history, the audit trail, the terminology listings
//! and `$everything` refuse the same bad value with the same OperationOutcome.
//! Spec: <https://hl7.org/fhir/R4/search.html#count>

use crate::messages::requests::SearchReason;

use super::query::QueryOptions;

/// A paging parameter, by its name on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingParam {
    /// `_count`: the page size, reduced to the server's largest.
    Count,
    /// `_offset`: how many matches the page skips.
    Offset,
    /// `_cursor`: the storage key of the previous page's last match (keyset pages).
    Cursor,
}

impl PagingParam {
    pub const fn name(self) -> &'static str {
        match self {
            PagingParam::Count => "_count",
            PagingParam::Offset => "_offset",
            PagingParam::Cursor => "_cursor",
        }
    }
}

/// A paging parameter whose value is no non-negative integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: '{value}' is not a non-negative integer", .param.name())]
pub struct PagingError {
    pub param: PagingParam,
    pub value: String,
}

/// Surfaced as the search error every listing already answers 400 with: the OperationOutcome
/// names the parameter (`expression`), and inside a batch entry points at its `request.url`.
impl From<PagingError> for super::Error {
    fn from(e: PagingError) -> Self {
        super::Error::InvalidValue {
            param: e.param.name().to_string(),
            value: e.value,
            reason: SearchReason::NonNegativeInteger,
        }
    }
}

/// The page size when the request gives no `_count`: the default, never above the largest.
pub fn default_count(opts: &QueryOptions) -> usize {
    opts.default_count.min(opts.max_count)
}

/// `_count`, reduced to the server's largest page.
pub fn count(raw: &str, opts: &QueryOptions) -> Result<usize, PagingError> {
    Ok(non_negative(PagingParam::Count, raw)?.min(opts.max_count))
}

/// `_offset`.
pub fn offset(raw: &str) -> Result<usize, PagingError> {
    non_negative(PagingParam::Offset, raw)
}

/// `_cursor`: a storage key, which is never negative.
pub fn cursor(raw: &str) -> Result<i64, PagingError> {
    raw.parse::<i64>()
        .ok()
        .filter(|key| *key >= 0)
        .ok_or_else(|| bad(PagingParam::Cursor, raw))
}

fn non_negative(param: PagingParam, raw: &str) -> Result<usize, PagingError> {
    raw.parse().map_err(|_| bad(param, raw))
}

fn bad(param: PagingParam, raw: &str) -> PagingError {
    PagingError {
        param,
        value: raw.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn opts(default_count: usize, max_count: usize) -> QueryOptions {
        QueryOptions {
            default_count,
            max_count,
            ..QueryOptions::for_tests(false)
        }
    }

    #[test]
    fn count_is_reduced_to_the_largest_page() {
        let o = opts(20, 100);
        assert_eq!(count("0", &o), Ok(0));
        assert_eq!(count("40", &o), Ok(40));
        assert_eq!(count("500", &o), Ok(100));
    }

    #[test]
    fn the_default_count_never_exceeds_the_largest_page() {
        assert_eq!(default_count(&opts(20, 100)), 20);
        assert_eq!(default_count(&opts(50, 10)), 10);
    }

    #[test]
    fn a_bad_value_names_its_parameter_and_value() {
        let o = opts(20, 100);
        for raw in ["-1", "abc", "1.5", " 5", "", "99999999999999999999999"] {
            let want = |param| PagingError {
                param,
                value: raw.to_string(),
            };
            assert_eq!(count(raw, &o), Err(want(PagingParam::Count)), "{raw:?}");
            assert_eq!(offset(raw), Err(want(PagingParam::Offset)), "{raw:?}");
            assert_eq!(cursor(raw), Err(want(PagingParam::Cursor)), "{raw:?}");
        }
    }

    #[test]
    fn offset_and_cursor_take_any_non_negative_integer() {
        assert_eq!(offset("0"), Ok(0));
        assert_eq!(offset("40"), Ok(40));
        assert_eq!(cursor("0"), Ok(0));
        assert_eq!(cursor("9223372036854775807"), Ok(i64::MAX));
    }

    #[test]
    fn the_error_becomes_the_search_error_naming_the_parameter() {
        let e: super::super::Error = offset("x").unwrap_err().into();
        assert_eq!(e.param(), "_offset");
        assert_eq!(
            e,
            super::super::Error::InvalidValue {
                param: "_offset".into(),
                value: "x".into(),
                reason: SearchReason::NonNegativeInteger,
            }
        );
    }
}
