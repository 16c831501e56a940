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
    fn instant_needs_a_zone() {
        assert!(parse_fhir_instant("2026-11-21T14:40:46").is_err());
    }
}
