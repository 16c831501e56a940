//! Parses FHIR `date`, `dateTime` and `instant` values (and the search forms of them) into the
//! inclusive range of instants they stand for, so index rows and search values compare as ranges.
//! Spec: <https://hl7.org/fhir/R4/search.html#date>, <https://hl7.org/fhir/R4/datatypes.html#dateTime>

use super::Micros;
use chrono::{Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset};

/// An inclusive range of instants, µs since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Micros,
    pub end: Micros,
}

/// How much of the value was given; the range covers everything the missing parts could be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Year,
    Month,
    Day,
    Minute,
    Second,
    /// Fractional seconds with this many digits, at most 6 (finer digits are dropped).
    Fraction(u32),
}

/// Parses `s` into the range it denotes. Values without a zone (all `date` forms, and times
/// written without one) are read in `default_offset`, the server's zone, as the spec asks.
pub fn parse_fhir_date(s: &str, default_offset: FixedOffset) -> Result<DateRange, String> {
    let (date_part, time_part) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let (date, date_precision) = parse_date_part(date_part)?;
    let (start, precision, offset) = match time_part {
        None => (
            date.and_time(NaiveTime::MIN),
            date_precision,
            default_offset,
        ),
        Some(t) => {
            if date_precision != Precision::Day {
                return Err(format!("'{s}': a time needs a full date (YYYY-MM-DD)"));
            }
            let (time, precision, offset) = parse_time_part(t)?;
            (
                date.and_time(time),
                precision,
                offset.unwrap_or(default_offset),
            )
        }
    };
    let end = period_end(start, precision).ok_or_else(|| format!("'{s}': date out of range"))?;
    Ok(DateRange {
        start: to_micros(start, offset),
        end: to_micros(end, offset) - 1,
    })
}

/// Local wall-clock time in `offset` to µs since the epoch, UTC.
fn to_micros(local: NaiveDateTime, offset: FixedOffset) -> Micros {
    local.and_utc().timestamp_micros() - i64::from(offset.local_minus_utc()) * 1_000_000
}

/// The first instant after the period of the given precision that starts at `start`.
fn period_end(start: NaiveDateTime, precision: Precision) -> Option<NaiveDateTime> {
    use chrono::Datelike;
    let date = start.date();
    match precision {
        Precision::Year => {
            NaiveDate::from_ymd_opt(date.year() + 1, 1, 1).map(|d| d.and_time(NaiveTime::MIN))
        }
        Precision::Month => {
            let (y, m) = if date.month() == 12 {
                (date.year() + 1, 1)
            } else {
                (date.year(), date.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).map(|d| d.and_time(NaiveTime::MIN))
        }
        Precision::Day => start.checked_add_signed(Duration::days(1)),
        Precision::Minute => start.checked_add_signed(Duration::minutes(1)),
        Precision::Second => start.checked_add_signed(Duration::seconds(1)),
        Precision::Fraction(digits) => {
            start.checked_add_signed(Duration::microseconds(10_i64.pow(6 - digits)))
        }
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, returning the first day and the precision given.
fn parse_date_part(s: &str) -> Result<(NaiveDate, Precision), String> {
    let bytes = s.as_bytes();
    let shape_ok = matches!(s.len(), 4 | 7 | 10)
        && (s.len() < 7 || bytes[4] == b'-')
        && (s.len() < 10 || bytes[7] == b'-');
    if !shape_ok {
        return Err(format!(
            "'{s}' is not a date: expected YYYY, YYYY-MM or YYYY-MM-DD"
        ));
    }
    let year = number(&s[0..4], "year")?;
    if year == 0 {
        return Err("year 0000 is not allowed".to_string());
    }
    let month = if s.len() >= 7 {
        number(&s[5..7], "month")?
    } else {
        1
    };
    if !(1..=12).contains(&month) {
        return Err(format!("month {month:02} is out of range 01-12"));
    }
    let day = if s.len() == 10 {
        number(&s[8..10], "day")?
    } else {
        1
    };
    let precision = match s.len() {
        4 => Precision::Year,
        7 => Precision::Month,
        _ => Precision::Day,
    };
    // `year` has four digits, so the cast cannot truncate.
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| format!("day {day:02} does not exist in {year:04}-{month:02}"))?;
    Ok((date, precision))
}

/// `hh:mm`, `hh:mm:ss` or `hh:mm:ss.f…`, each optionally followed by `Z` or `±hh:mm`.
fn parse_time_part(s: &str) -> Result<(NaiveTime, Precision, Option<FixedOffset>), String> {
    let zone_at = s.find(['Z', '+', '-']).unwrap_or(s.len());
    let (clock, zone) = s.split_at(zone_at);
    let offset = if zone.is_empty() {
        None
    } else {
        Some(parse_zone(zone)?)
    };

    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    if !matches!(fields.len(), 2 | 3) || fields.iter().any(|f| f.len() != 2) {
        return Err(format!("'{s}' is not a time: expected hh:mm or hh:mm:ss"));
    }
    let hour = number(fields[0], "hour")?;
    let minute = number(fields[1], "minute")?;
    let second = fields.get(2).map(|f| number(f, "second")).transpose()?;
    if hour > 23 {
        return Err(format!("hour {hour:02} is out of range 00-23"));
    }
    if minute > 59 {
        return Err(format!("minute {minute:02} is out of range 00-59"));
    }
    if let Some(sec) = second.filter(|sec| *sec > 59) {
        return Err(format!("second {sec:02} is out of range 00-59"));
    }
    let (micros, precision) = match (second, fraction) {
        (None, Some(_)) => return Err("fractional seconds need seconds (hh:mm:ss.f)".to_string()),
        (None, None) => (0, Precision::Minute),
        (Some(_), None) => (0, Precision::Second),
        (Some(_), Some(f)) => parse_fraction(f)?,
    };
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second.unwrap_or(0), micros)
        .ok_or_else(|| format!("'{s}' is not a valid time"))?;
    Ok((time, precision, offset))
}

/// 1 to 9 digits of fractional seconds, kept to µs.
fn parse_fraction(f: &str) -> Result<(u32, Precision), String> {
    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("fractional seconds '.{f}' must be 1 to 9 digits"));
    }
    let kept = &f[..f.len().min(6)];
    let digits = kept.len() as u32;
    let value = number(kept, "fractional seconds")?;
    Ok((value * 10_u32.pow(6 - digits), Precision::Fraction(digits)))
}

/// `Z` or `±hh:mm`, limited to the offsets the FHIR datatype allows (-13:59 … +14:00).
fn parse_zone(z: &str) -> Result<FixedOffset, String> {
    if z == "Z" {
        return Ok(chrono::Utc.fix());
    }
    let bytes = z.as_bytes();
    if z.len() != 6 || bytes[3] != b':' || !matches!(bytes[0], b'+' | b'-') {
        return Err(format!("time zone '{z}' must be Z or ±hh:mm"));
    }
    let hours = number(&z[1..3], "zone hour")?;
    let minutes = number(&z[4..6], "zone minute")?;
    if minutes > 59 || hours > 14 || (hours == 14 && minutes != 0) {
        return Err(format!("time zone '{z}' is out of range"));
    }
    let seconds = (hours * 3600 + minutes * 60) as i32;
    let signed = if bytes[0] == b'-' { -seconds } else { seconds };
    FixedOffset::east_opt(signed).ok_or_else(|| format!("time zone '{z}' is out of range"))
}

/// A run of ASCII digits (no sign, no spaces) as a number; `what` names it in the error.
fn number(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} '{s}' is not a number"));
    }
    s.parse()
        .map_err(|_| format!("{what} '{s}' is not a number"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn jst() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    /// µs of an RFC 3339 instant, to state expectations readably.
    fn at(rfc3339: &str) -> Micros {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
    }

    fn range(s: &str) -> DateRange {
        parse_fhir_date(s, utc()).unwrap()
    }

    #[test]
    fn year_covers_the_whole_year() {
        let r = range("2024");
        assert_eq!(r.start, at("2024-01-01T00:00:00Z"));
        assert_eq!(r.end, at("2024-12-31T23:59:59.999999Z"));
    }

    #[test]
    fn month_covers_the_month_including_december_rollover() {
        let r = range("2024-02");
        assert_eq!(r.start, at("2024-02-01T00:00:00Z"));
        assert_eq!(r.end, at("2024-02-29T23:59:59.999999Z"));
        let r = range("2023-12");
        assert_eq!(r.end, at("2023-12-31T23:59:59.999999Z"));
    }

    #[test]
    fn day_minute_and_second_precision() {
        let r = range("2024-04-01");
        assert_eq!(
            (r.start, r.end),
            (
                at("2024-04-01T00:00:00Z"),
                at("2024-04-01T23:59:59.999999Z")
            )
        );
        let r = range("2024-04-01T10:30");
        assert_eq!(
            (r.start, r.end),
            (
                at("2024-04-01T10:30:00Z"),
                at("2024-04-01T10:30:59.999999Z")
            )
        );
        let r = range("2024-04-01T10:30:15Z");
        assert_eq!(
            (r.start, r.end),
            (
                at("2024-04-01T10:30:15Z"),
                at("2024-04-01T10:30:15.999999Z")
            )
        );
    }

    #[test]
    fn fractions_keep_the_precision_of_their_digits_up_to_micros() {
        let r = range("2024-04-01T10:30:15.5Z");
        assert_eq!(
            (r.start, r.end),
            (
                at("2024-04-01T10:30:15.5Z"),
                at("2024-04-01T10:30:15.599999Z")
            )
        );
        let r = range("2024-04-01T10:30:15.123Z");
        assert_eq!(
            (r.start, r.end),
            (
                at("2024-04-01T10:30:15.123Z"),
                at("2024-04-01T10:30:15.123999Z")
            )
        );
        let r = range("2024-04-01T10:30:15.123456789Z");
        assert_eq!(r.start, at("2024-04-01T10:30:15.123456Z"));
        assert_eq!(r.end, r.start);
    }

    #[test]
    fn leap_days() {
        assert!(parse_fhir_date("2024-02-29", utc()).is_ok());
        assert!(parse_fhir_date("2000-02-29", utc()).is_ok());
        let err = parse_fhir_date("2023-02-29", utc()).unwrap_err();
        assert!(err.contains("day 29") && err.contains("2023-02"), "{err}");
        assert!(parse_fhir_date("1900-02-29", utc()).is_err());
    }

    #[test]
    fn values_without_zone_use_the_default_offset() {
        let r = parse_fhir_date("2024-04-01", jst()).unwrap();
        assert_eq!(r.start, at("2024-03-31T15:00:00Z"));
        assert_eq!(r.end, at("2024-04-01T14:59:59.999999Z"));
        let local = parse_fhir_date("2024-04-01T09:00:00", jst()).unwrap();
        assert_eq!(
            local,
            parse_fhir_date("2024-04-01T00:00:00Z", jst()).unwrap()
        );
    }

    #[test]
    fn an_explicit_zone_wins_over_the_default() {
        let z = parse_fhir_date("2024-04-01T00:00:00Z", jst()).unwrap();
        let plus9 = parse_fhir_date("2024-04-01T09:00:00+09:00", utc()).unwrap();
        assert_eq!(z, plus9);
        let minus = parse_fhir_date("2024-03-31T19:30:00-04:30", utc()).unwrap();
        assert_eq!(minus, z);
        let plus14 = parse_fhir_date("2024-04-01T14:00+14:00", utc()).unwrap();
        assert_eq!(plus14.start, z.start);
    }

    fn error_of(s: &str) -> String {
        parse_fhir_date(s, utc()).expect_err(s)
    }

    #[test]
    fn malformed_dates_are_rejected_with_a_reason() {
        assert!(error_of("").contains("expected YYYY"));
        assert!(error_of("24").contains("expected YYYY"));
        assert!(error_of("2024-1").contains("expected YYYY"));
        assert!(error_of("2024/01/01").contains("expected YYYY"));
        assert!(error_of("２０２４").contains("expected YYYY"));
        assert!(error_of("20x4").contains("year"));
        assert!(error_of("0000").contains("0000"));
        assert!(error_of("2024-13").contains("month 13"));
        assert!(error_of("2024-00").contains("month 00"));
        assert!(error_of("2024-04-31").contains("day 31"));
        assert!(error_of("2024-04-00").contains("day 00"));
        assert!(error_of("2024-04-01Z").contains("expected YYYY"));
    }

    #[test]
    fn malformed_times_are_rejected_with_a_reason() {
        assert!(error_of("2024-04T10:00").contains("full date"));
        assert!(error_of("2024-04-01T").contains("expected hh:mm"));
        assert!(error_of("2024-04-01T10").contains("expected hh:mm"));
        assert!(error_of("2024-04-01T1:00").contains("expected hh:mm"));
        assert!(error_of("2024-04-01T24:00:00").contains("hour 24"));
        assert!(error_of("2024-04-01T10:60").contains("minute 60"));
        assert!(error_of("2024-04-01T10:00:60Z").contains("second 60"));
        assert!(error_of("2024-04-01T10:00.5").contains("need seconds"));
        assert!(error_of("2024-04-01T10:00:00.").contains("1 to 9 digits"));
        assert!(error_of("2024-04-01T10:00:00.1234567890").contains("1 to 9 digits"));
        assert!(error_of("2024-04-01T10:00:00ZZ").contains("time zone"));
        assert!(error_of("2024-04-01T10:00:00+9:00").contains("time zone"));
        assert!(error_of("2024-04-01T10:00:00+0900").contains("time zone"));
        assert!(error_of("2024-04-01T10:00:00+15:00").contains("out of range"));
        assert!(error_of("2024-04-01T10:00:00+14:30").contains("out of range"));
        assert!(error_of("2024-04-01T10:00:00+09:60").contains("out of range"));
        assert!(error_of("2024-04-01T10:00:00 09:00").contains("expected hh:mm"));
    }
}
