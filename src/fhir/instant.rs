//! Conversions between stored times (microseconds since the epoch, UTC) and their FHIR and HTTP
//! text forms.

use chrono::{DateTime, SecondsFormat, Utc};

/// FHIR `instant` text, UTC, microsecond precision.
pub fn to_fhir_instant(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// RFC 9110 HTTP-date (`Last-Modified`), which has one-second precision.
pub fn to_http_date(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses an RFC 9110 HTTP-date (`If-Modified-Since`) into microseconds since the epoch: the
/// preferred IMF-fixdate and, as recipients must accept them, the obsolete RFC 850 and asctime
/// forms. `None` for anything else: the spec has an invalid date ignored, not refused.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.timestamp_micros());
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(s, format).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

/// Parses a FHIR instant (RFC 3339 with a zone), e.g. for `_since`.
pub fn parse_fhir_instant(s: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_micros())
        .map_err(|e| format!("'{s}' is not an instant with a time zone: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_microseconds() {
        let t = parse_fhir_instant("2026-11-21T14:40:46.123456+09:00").unwrap();
        assert_eq!(to_fhir_instant(t), "2026-11-21T05:40:46.123456Z");
        assert_eq!(to_http_date(t), "Sat, 21 Nov 2026 05:40:46 GMT");
    }

    #[test]
    fn http_dates_are_read_in_all_three_forms() {
        let t = parse_fhir_instant("1994-11-06T08:49:37Z").unwrap();
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(t), "{text}");
        }
        assert_eq!(parse_http_date(&to_http_date(t)), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn instant_needs_a_zone() {
        assert!(parse_fhir_instant("2026-11-21T14:40:46").is_err());
    }
}
