//! Dates, date-times and times with partial precision, as FHIR and FHIRPath write them, and the
//! FHIRPath rule that comparing values of different precision can be undecidable (empty).

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemporalKind {
    Date,
    DateTime,
    Time,
}

/// Seconds and their fraction form one precision, as FHIRPath specifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

#[derive(Clone, Copy, Debug)]
pub struct Temporal {
    pub kind: TemporalKind,
    pub precision: Precision,
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    frac_digits: u8,
    /// Offset from UTC in minutes; `None` when the text gave no zone.
    tz: Option<i32>,
}

struct Cursor<'s> {
    b: &'s [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(s.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')))
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Temporal {
    fn empty(kind: TemporalKind, precision: Precision) -> Temporal {
        Temporal {
            kind,
            precision,
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            frac_digits: 0,
            tz: None,
        }
    }

    /// `YYYY[-MM[-DD]]`.
    pub fn parse_date(s: &str) -> Option<Temporal> {
        let mut c = Cursor {
            b: s.as_bytes(),
            i: 0,
        };
        let t = Self::date_part(&mut c, TemporalKind::Date)?;
        c.done().then_some(t)
    }

    /// `YYYY[-MM[-DD[Thh[:mm[:ss[.fff]]][zone]]]]`, also with a bare trailing `T` (FHIRPath
    /// literals like `@2015T`).
    pub fn parse_datetime(s: &str) -> Option<Temporal> {
        let mut c = Cursor {
            b: s.as_bytes(),
            i: 0,
        };
        let mut t = Self::date_part(&mut c, TemporalKind::DateTime)?;
        if c.eat(b'T') && !c.done() {
            if t.precision != Precision::Day {
                return None;
            }
            let time = Self::time_part(&mut c)?;
            t.hour = time.hour;
            t.minute = time.minute;
            t.second = time.second;
            t.nanos = time.nanos;
            t.frac_digits = time.frac_digits;
            t.precision = time.precision;
            if c.eat(b'Z') {
                t.tz = Some(0);
            } else if let Some(&sign @ (b'+' | b'-')) = c.b.get(c.i) {
                c.i += 1;
                let h = c.digits(2)?;
                if !c.eat(b':') {
                    return None;
                }
                let m = c.digits(2)?;
                let off = i32::try_from(h * 60 + m).ok()?;
                t.tz = Some(if sign == b'-' { -off } else { off });
            }
        }
        c.done().then_some(t)
    }

    /// `hh[:mm[:ss[.fff]]]` (no leading `T`).
    pub fn parse_time(s: &str) -> Option<Temporal> {
        let mut c = Cursor {
            b: s.as_bytes(),
            i: 0,
        };
        let t = Self::time_part(&mut c)?;
        c.done().then_some(t)
    }

    fn date_part(c: &mut Cursor<'_>, kind: TemporalKind) -> Option<Temporal> {
        let mut t = Self::empty(kind, Precision::Year);
        t.year = i32::try_from(c.digits(4)?).ok()?;
        if c.eat(b'-') {
            t.month = c.digits(2)?;
            if !(1..=12).contains(&t.month) {
                return None;
            }
            t.precision = Precision::Month;
            if c.eat(b'-') {
                t.day = c.digits(2)?;
                if t.day < 1 || t.day > days_in_month(t.year, t.month) {
                    return None;
                }
                t.precision = Precision::Day;
            }
        }
        Some(t)
    }

    fn time_part(c: &mut Cursor<'_>) -> Option<Temporal> {
        let mut t = Self::empty(TemporalKind::Time, Precision::Hour);
        t.hour = c.digits(2)?;
        if t.hour > 23 {
            return None;
        }
        if c.eat(b':') {
            t.minute = c.digits(2)?;
            t.precision = Precision::Minute;
            if c.eat(b':') {
                t.second = c.digits(2)?;
                t.precision = Precision::Second;
                if c.eat(b'.') {
                    let start = c.i;
                    while c.b.get(c.i).is_some_and(u8::is_ascii_digit) {
                        c.i += 1;
                    }
                    let frac = &c.b[start..c.i];
                    if frac.is_empty() {
                        return None;
                    }
                    let mut nanos = 0u32;
                    for k in 0..9 {
                        nanos = nanos * 10 + frac.get(k).map_or(0, |d| u32::from(d - b'0'));
                    }
                    t.nanos = nanos;
                    t.frac_digits = u8::try_from(frac.len().min(9)).ok()?;
                }
            }
        }
        (t.minute < 60 && t.second < 60).then_some(t)
    }

    /// The current instant in the local zone (`now()`), truncated to milliseconds.
    pub fn now() -> Temporal {
        let n = chrono::Local::now();
        let mut t = Self::empty(TemporalKind::DateTime, Precision::Second);
        t.year = n.year();
        t.month = n.month();
        t.day = n.day();
        t.hour = n.hour();
        t.minute = n.minute();
        t.second = n.second().min(59);
        t.nanos = n.nanosecond() / 1_000_000 * 1_000_000;
        t.frac_digits = 3;
        t.tz = Some(n.offset().local_minus_utc() / 60);
        t
    }

    pub fn today() -> Temporal {
        let mut t = Self::now();
        t.kind = TemporalKind::Date;
        t.precision = Precision::Day;
        t.tz = None;
        t
    }

    pub fn time_of_day() -> Temporal {
        let mut t = Self::now();
        t.kind = TemporalKind::Time;
        t.tz = None;
        t
    }

    /// Converts between Date and DateTime (`toDate()`, `toDateTime()`).
    pub fn with_kind(mut self, kind: TemporalKind) -> Option<Temporal> {
        match (self.kind, kind) {
            (a, b) if a == b => Some(self),
            (TemporalKind::Date, TemporalKind::DateTime) => {
                self.kind = kind;
                Some(self)
            }
            (TemporalKind::DateTime, TemporalKind::Date) => {
                self.kind = kind;
                self.precision = self.precision.min(Precision::Day);
                self.tz = None;
                Some(self)
            }
            _ => None,
        }
    }

    fn naive(&self) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)?.and_hms_nano_opt(
            self.hour,
            self.minute,
            self.second,
            self.nanos,
        )
    }

    fn set_naive(&mut self, n: NaiveDateTime) {
        self.year = n.year();
        self.month = n.month();
        self.day = n.day();
        self.hour = n.hour();
        self.minute = n.minute();
        self.second = n.second();
        self.nanos = n.nanosecond();
    }

    /// Shifts a date-time with a zone to UTC so values written in different zones compare.
    fn to_utc(self) -> Temporal {
        let (Some(tz), TemporalKind::DateTime, true) =
            (self.tz, self.kind, self.precision >= Precision::Hour)
        else {
            return self;
        };
        let mut t = self;
        if let Some(n) = self.naive() {
            t.set_naive(n - Duration::minutes(i64::from(tz)));
            t.tz = Some(0);
        }
        t
    }

    fn has_time(&self) -> bool {
        self.kind == TemporalKind::DateTime && self.precision >= Precision::Hour
    }

    fn component(&self, p: Precision) -> (u32, u32) {
        match p {
            Precision::Year => (self.year.unsigned_abs(), 0),
            Precision::Month => (self.month, 0),
            Precision::Day => (self.day, 0),
            Precision::Hour => (self.hour, 0),
            Precision::Minute => (self.minute, 0),
            Precision::Second => (self.second, self.nanos),
        }
    }

    /// `None` when the values cannot be ordered: a time against a date, or values that agree up
    /// to the coarser one's precision but differ in precision.
    pub fn compare(&self, other: &Temporal) -> Option<Ordering> {
        if (self.kind == TemporalKind::Time) != (other.kind == TemporalKind::Time) {
            return None;
        }
        let (a, b) = match (self.tz, other.tz) {
            (Some(_), Some(_)) => (self.to_utc(), other.to_utc()),
            // A time of day with a zone against one without: the instants cannot be placed
            // against each other, so FHIRPath makes the comparison empty, not false.
            (Some(_), None) | (None, Some(_)) if self.has_time() && other.has_time() => {
                return None;
            }
            _ => (*self, *other),
        };
        if a.kind != TemporalKind::Time && a.year != b.year {
            return Some(a.year.cmp(&b.year));
        }
        let levels: &[Precision] = if a.kind == TemporalKind::Time {
            &[Precision::Hour, Precision::Minute, Precision::Second]
        } else {
            &[
                Precision::Month,
                Precision::Day,
                Precision::Hour,
                Precision::Minute,
                Precision::Second,
            ]
        };
        for &p in levels {
            match (a.precision >= p, b.precision >= p) {
                (true, true) => {
                    let o = a.component(p).cmp(&b.component(p));
                    if o != Ordering::Equal {
                        return Some(o);
                    }
                }
                (false, false) => break,
                _ => return None,
            }
        }
        Some(Ordering::Equal)
    }

    /// Equivalence (`~`): different precision is simply "not equivalent".
    pub fn equivalent(&self, other: &Temporal) -> bool {
        self.precision == other.precision && self.compare(other) == Some(Ordering::Equal)
    }

    /// `precision()`: the digits the value is written with (`@2014` 4, `@2014-01-05T10:30:00.000`
    /// 17, `@T10:30` 4).
    pub fn precision_digits(&self) -> u32 {
        let ms = self.precision == Precision::Second && self.frac_digits > 0;
        let date = match self.precision {
            Precision::Year => 4,
            Precision::Month => 6,
            Precision::Day => 8,
            Precision::Hour => 10,
            Precision::Minute => 12,
            Precision::Second if ms => 17,
            Precision::Second => 14,
        };
        if self.kind == TemporalKind::Time {
            date - 8
        } else {
            date
        }
    }

    /// `lowBoundary(digits)` / `highBoundary(digits)`: the earliest or latest instant the value
    /// may stand for, written to `digits`; a date-time without a zone takes the zone that makes
    /// it earliest (+14:00) or latest (-12:00). `None` for digits no precision has.
    pub fn boundary(&self, digits: u32, high: bool) -> Option<Temporal> {
        let date_digits = if self.kind == TemporalKind::Time {
            digits + 8
        } else {
            digits
        };
        let (target, ms) = match date_digits {
            4 => (Precision::Year, false),
            6 => (Precision::Month, false),
            8 => (Precision::Day, false),
            10 => (Precision::Hour, false),
            12 => (Precision::Minute, false),
            14 => (Precision::Second, false),
            17 => (Precision::Second, true),
            _ => return None,
        };
        let valid = match self.kind {
            TemporalKind::Date => target <= Precision::Day,
            TemporalKind::Time => target >= Precision::Hour,
            TemporalKind::DateTime => true,
        };
        if !valid {
            return None;
        }
        let mut t = *self;
        let pick = |lo: u32, hi: u32| if high { hi } else { lo };
        if self.precision < Precision::Month {
            t.month = pick(1, 12);
        }
        if self.precision < Precision::Day {
            t.day = pick(1, days_in_month(t.year, t.month));
        }
        if self.precision < Precision::Hour {
            t.hour = pick(0, 23);
        }
        if self.precision < Precision::Minute {
            t.minute = pick(0, 59);
        }
        if self.precision < Precision::Second {
            t.second = pick(0, 59);
        }
        let had_ms = self.precision == Precision::Second && self.frac_digits > 0;
        if !had_ms {
            t.nanos = pick(0, 999_000_000);
        }
        t.frac_digits = if ms { self.frac_digits.max(3) } else { 0 };
        t.precision = target;
        if t.kind == TemporalKind::DateTime && target >= Precision::Hour && t.tz.is_none() {
            t.tz = Some(if high { -12 * 60 } else { 14 * 60 });
        }
        if target < Precision::Hour {
            t.tz = None;
        }
        Some(t)
    }

    /// Adds `amount` of a calendar or UCUM time unit; `None` for other units. UCUM's `a` and
    /// `mo` are averages, not calendar years and months, so FHIRPath refuses them here.
    pub fn add(&self, amount: i64, unit: &str) -> Option<Temporal> {
        let mut t = *self;
        let months = match unit {
            "year" | "years" => Some(amount.checked_mul(12)?),
            "month" | "months" => Some(amount),
            _ => None,
        };
        if let Some(m) = months {
            let total = i64::from(t.year) * 12 + i64::from(t.month) - 1 + m;
            t.year = i32::try_from(total.div_euclid(12)).ok()?;
            t.month = u32::try_from(total.rem_euclid(12) + 1).ok()?;
            t.day = t.day.min(days_in_month(t.year, t.month));
            return Some(t);
        }
        let d = match unit {
            "week" | "weeks" | "wk" => Duration::weeks(amount),
            "day" | "days" | "d" => Duration::days(amount),
            "hour" | "hours" | "h" => Duration::hours(amount),
            "minute" | "minutes" | "min" => Duration::minutes(amount),
            "second" | "seconds" | "s" => Duration::seconds(amount),
            "millisecond" | "milliseconds" | "ms" => Duration::milliseconds(amount),
            _ => return None,
        };
        if t.kind == TemporalKind::Time {
            let base = NaiveDate::from_ymd_opt(2000, 1, 1)?
                .and_hms_nano_opt(t.hour, t.minute, t.second, t.nanos)?;
            t.set_naive(base.checked_add_signed(d)?);
            t.year = 0;
            t.month = 1;
            t.day = 1;
            return Some(t);
        }
        let n = t.naive()?.checked_add_signed(d)?;
        t.set_naive(n);
        Some(t)
    }
}

impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != TemporalKind::Time {
            write!(f, "{:04}", self.year)?;
            if self.precision >= Precision::Month {
                write!(f, "-{:02}", self.month)?;
            }
            if self.precision >= Precision::Day {
                write!(f, "-{:02}", self.day)?;
            }
            if self.kind == TemporalKind::Date || self.precision <= Precision::Day {
                return Ok(());
            }
            f.write_str("T")?;
        }
        write!(f, "{:02}", self.hour)?;
        if self.precision >= Precision::Minute {
            write!(f, ":{:02}", self.minute)?;
        }
        if self.precision >= Precision::Second {
            write!(f, ":{:02}", self.second)?;
            if self.frac_digits > 0 {
                let frac = format!("{:09}", self.nanos);
                write!(f, ".{}", &frac[..usize::from(self.frac_digits)])?;
            }
        }
        match self.tz {
            Some(0) if self.kind == TemporalKind::DateTime => f.write_str("Z"),
            Some(m) if self.kind == TemporalKind::DateTime => {
                let sign = if m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            _ => Ok(()),
        }
    }
}
