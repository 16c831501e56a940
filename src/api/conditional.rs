//! Conditional read: whether a `read` or `vread` may answer 304 Not Modified, from the request's
//! `If-None-Match` (the version ETag `W/"n"`) and `If-Modified-Since` (an HTTP-date against
//! `meta.lastUpdated`). Spec: <https://hl7.org/fhir/R4/http.html#cread> and RFC 9110 §13.
//!
//! The question is asked only of a resource the read already returned: the read ran through the
//! caller's scope and is audited before this is consulted, so a resource the caller may not read
//! answers as it always did (404) and a 304 is recorded like any other read.

use actix_web::HttpRequest;

use crate::fhir::instant::parse_http_date;
use crate::store::StoredResource;

/// Whether the client's copy of `r` is current, so the answer is 304 without a body.
pub fn not_modified(req: &HttpRequest, r: &StoredResource) -> bool {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // RFC 9110 §13.2.2: when If-None-Match is present, If-Modified-Since is not evaluated.
    if let Some(tags) = header("if-none-match") {
        return none_match_fails(tags, r.version);
    }
    match header("if-modified-since").and_then(parse_http_date) {
        Some(since) => not_modified_since(r.last_updated, since),
        None => false,
    }
}

/// Whether an `If-None-Match` list names `version` (weak comparison, as FHIR's version ETags
/// are weak), or is `*`, which any existing resource matches.
fn none_match_fails(tags: &str, version: i64) -> bool {
    tags.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let opaque = tag.strip_prefix("W/").unwrap_or(tag);
        opaque
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<i64>().ok())
            == Some(version)
    })
}

/// `Last-Modified` has one-second precision while `meta.lastUpdated` has microseconds: the
/// resource is unchanged when its time, cut to the second the header showed, is not later.
fn not_modified_since(last_updated: i64, since: i64) -> bool {
    const SECOND: i64 = 1_000_000;
    last_updated.div_euclid(SECOND) <= since.div_euclid(SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_etag_matches_weak_or_strong_and_in_a_list() {
        assert!(none_match_fails("W/\"3\"", 3));
        assert!(none_match_fails("\"3\"", 3));
        assert!(none_match_fails("W/\"1\", W/\"3\"", 3));
        assert!(none_match_fails("*", 3));
        assert!(!none_match_fails("W/\"2\"", 3));
        assert!(!none_match_fails("W/3", 3));
        assert!(!none_match_fails("", 3));
    }

    #[test]
    fn modified_since_compares_whole_seconds() {
        let written = 1_700_000_000_250_000;
        assert!(not_modified_since(written, 1_700_000_000_000_000));
        assert!(not_modified_since(written, 1_700_000_001_000_000));
        assert!(!not_modified_since(written, 1_699_999_999_000_000));
    }
}
