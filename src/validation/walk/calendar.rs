//! The calendar rules of `date`, `dateTime`, `instant` and `time` that their regexes cannot say:
//! the day exists in its month and year (`2024-02-30`, `2023-02-29` do not), and a second 60 is
//! a leap second — in UTC the last second of June 30 or December 31, the only places one is ever
//! inserted. The regexes have already fixed the layout, hour ≤ 23, minute ≤ 59 and the zone
//! range (-12:00..+14:00 steps); text that does not match them never gets here.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike};

use crate::messages::values::{CalendarError, PrimitiveError};

/// `Err(why)` when `text`, already matching the regex of primitive `ty`, names no real moment.
pub(crate) fn check(ty: &str, text: &str) -> Result<(), PrimitiveError> {
    let checked = match ty {
        "date" => date(text).map(|_| ()),
        "dateTime" | "instant" => date_time(text),
        "time" => time(text).map(|_| ()),
        _ => Ok(()),
    };
    checked.map_err(|why| PrimitiveError::Calendar {
        value: text.to_string(),
        ty: ty.to_string(),
        why,
    })
}

/// The day, when the text has one; a year or a year-month is always real.
fn date(text: &str) -> Result<Option<NaiveDate>, CalendarError> {
    let mut parts = text.splitn(3, '-').map(str::parse::<u32>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let year = i32::try_from(year).map_err(|_| CalendarError::YearOutOfRange)?;
    NaiveDate::from_ymd_opt(year, month, day)
        .map(Some)
        .ok_or(CalendarError::NoSuchDay { year, month, day })
}

/// `hh:mm:ss[.fff]` as hours, minutes and seconds (a second 60 kept as 60).
fn time(text: &str) -> Result<(u32, u32, u32), CalendarError> {
    let whole = text.split('.').next().unwrap_or(text);
    let mut fields = whole.splitn(3, ':').map(str::parse::<u32>);
    match (fields.next(), fields.next(), fields.next()) {
        (Some(Ok(h)), Some(Ok(m)), Some(Ok(s))) if h < 24 && m < 60 && s <= 60 => {
            // A time of day has no date or zone to place a leap second in: allow it only in
            // the last minute of an hour or a quarter hour, where a UTC 23:59:60 can fall
            // under any zone in use.
            if s == 60 && m % 15 != 14 {
                return Err(CalendarError::LeapSecondMinute { minute: m });
            }
            Ok((h, m, s))
        }
        _ => Err(CalendarError::NoSuchTimeOfDay),
    }
}

fn date_time(text: &str) -> Result<(), CalendarError> {
    let (day_text, rest) = text.split_once('T').unwrap_or((text, ""));
    let day = date(day_text)?;
    if rest.is_empty() {
        return Ok(());
    }
    let zone_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (h, m, s) = time(clock)?;
    let offset = zone_offset(zone).ok_or_else(|| CalendarError::NoSuchZone {
        zone: zone.to_string(),
    })?;
    if s < 60 {
        return Ok(());
    }
    // The leap second must be 23:59:60 UTC at the end of June or December.
    let local = day
        .zip(NaiveTime::from_hms_opt(h, m, 59))
        .map(|(d, t)| d.and_time(t));
    let leap = local
        .and_then(|local| offset.from_local_datetime(&local).single())
        .map(|t| t.naive_utc())
        .is_some_and(|utc| {
            let last_of_half = matches!((utc.month(), utc.day()), (6, 30) | (12, 31));
            last_of_half && (utc.hour(), utc.minute()) == (23, 59)
        });
    if leap {
        Ok(())
    } else {
        Err(CalendarError::LeapSecondDay)
    }
}

/// `Z`, `+hh:mm` or `-hh:mm`; an empty zone (a dateTime without one) is read as UTC, which only
/// matters for leap seconds.
fn zone_offset(zone: &str) -> Option<FixedOffset> {
    if zone.is_empty() || zone == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = zone.get(1..)?.split_once(':')?;
    let (h, m) = (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?);
    if m >= 60 || h * 60 + m > 14 * 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::check;
    use crate::messages::Language;
    use crate::messages::values::ValueMessage;

    #[test]
    fn days_that_do_not_exist_are_refused() {
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2026-04-31",
            "2026-06-31",
            "1900-02-29",
        ] {
            let why = check("date", bad).unwrap_err();
            let english = ValueMessage::Invalid(why.clone()).render(Language::English);
            assert!(english.contains(bad), "{english}");
            let japanese = ValueMessage::Invalid(why).render(Language::Japanese);
            assert!(japanese.contains("日はありません"), "{japanese}");
            assert!(check("dateTime", &format!("{bad}T10:00:00+09:00")).is_err());
            assert!(check("instant", &format!("{bad}T10:00:00Z")).is_err());
        }
        for good in [
            "2024-02-29",
            "2000-02-29",
            "2026-12-31",
            "2026",
            "2026-02",
            "2026-01-31",
        ] {
            assert_eq!(check("date", good), Ok(()), "{good}");
            assert_eq!(check("dateTime", good), Ok(()), "{good}");
        }
    }

    #[test]
    fn second_60_only_where_a_leap_second_can_be() {
        assert_eq!(check("instant", "2016-12-31T23:59:60Z"), Ok(()));
        assert_eq!(check("dateTime", "2017-01-01T08:59:60+09:00"), Ok(()));
        assert_eq!(check("dateTime", "2015-06-30T23:59:60.5-00:00"), Ok(()));
        assert!(check("instant", "2016-12-31T12:00:60Z").is_err());
        assert!(check("dateTime", "2016-12-31T23:59:60+09:00").is_err());
        assert!(check("dateTime", "2016-03-31T23:59:60Z").is_err());
        assert_eq!(check("time", "23:59:60"), Ok(()));
        assert!(check("time", "10:20:60").is_err());
    }

    #[test]
    fn hours_minutes_and_zones_out_of_range_are_refused() {
        assert!(check("time", "24:00:00").is_err());
        assert!(check("time", "10:60:00").is_err());
        assert!(check("dateTime", "2026-01-01T10:00:00+14:30").is_err());
        assert!(check("dateTime", "2026-01-01T10:00:00+09:60").is_err());
        assert_eq!(check("dateTime", "2026-01-01T10:00:00.123+14:00"), Ok(()));
        assert_eq!(check("time", "00:00:00.5"), Ok(()));
    }
}
