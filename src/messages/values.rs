//! Messages about a single value: the lexical rules of the primitive types (JSON kind, regex,
//! integer ranges), the calendar (a day that exists, leap seconds), narrative XHTML, and the
//! leaf rules of an element definition (`fixed[x]`, `pattern[x]`, `maxLength`, min/max).

use super::markup::NarrativeError;
use super::{Language, say};

/// Why a date, dateTime, instant or time that matches its regex names no real moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    YearOutOfRange,
    NoSuchDay {
        year: i32,
        month: u32,
        day: u32,
    },
    /// A second 60 in a minute no leap second can fall in.
    LeapSecondMinute {
        minute: u32,
    },
    NoSuchTimeOfDay,
    NoSuchZone {
        zone: String,
    },
    /// A second 60 that is not 23:59:60 UTC at the end of June or December.
    LeapSecondDay,
}

impl CalendarError {
    fn render(&self, lang: Language) -> String {
        use CalendarError as C;
        match self {
            C::YearOutOfRange => say!(lang, "the year is out of range", "年が範囲外です"),
            C::NoSuchDay { year, month, day } => say!(
                lang,
                format!("{year:04}-{month:02} has no day {day}"),
                format!("{year:04}-{month:02} に {day} 日はありません"),
            ),
            C::LeapSecondMinute { minute } => say!(
                lang,
                format!("second 60 is a leap second, which never falls at minute {minute}"),
                format!("60 秒はうるう秒で、{minute} 分に置かれることはありません"),
            ),
            C::NoSuchTimeOfDay => say!(lang, "no such time of day", "存在しない時刻です"),
            C::NoSuchZone { zone } => say!(
                lang,
                format!("no such time zone offset '{zone}'"),
                format!("タイムゾーンのオフセット '{zone}' は存在しません"),
            ),
            C::LeapSecondDay => say!(
                lang,
                "second 60 is a leap second, only ever 23:59:60 UTC on June 30 or December 31",
                "60 秒はうるう秒で、協定世界時（UTC）の 6 月 30 日または 12 月 31 日の 23:59:60 にしか置かれません",
            ),
        }
    }
}

/// Why a JSON value is not a valid form of its primitive type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrimitiveError {
    NotPositiveInt(i64),
    NotUnsignedInt(i64),
    IntegerOutOfRange(i64),
    NotAnInteger(String),
    Empty,
    OnlyWhitespace,
    NoMatch {
        value: String,
        ty: String,
    },
    /// `json` names the JSON kind the type takes (`boolean`, `integer number`, `number`, `string`);
    /// `found` the kind the instance has (see [`JsonKind`]).
    WrongJsonKind {
        ty: String,
        json: &'static str,
        found: JsonKind,
    },
    Calendar {
        value: String,
        ty: String,
        why: CalendarError,
    },
    /// The narrative's XHTML breaks a rule.
    Narrative(NarrativeError),
}

impl PrimitiveError {
    pub fn render(&self, lang: Language) -> String {
        use PrimitiveError as P;
        match self {
            P::NotPositiveInt(i) => say!(
                lang,
                format!("{i} is not a positiveInt"),
                format!("{i} は positiveInt（1 以上の整数）ではありません"),
            ),
            P::NotUnsignedInt(i) => say!(
                lang,
                format!("{i} is not an unsignedInt"),
                format!("{i} は unsignedInt（0 以上の整数）ではありません"),
            ),
            P::IntegerOutOfRange(i) => say!(
                lang,
                format!("{i} is out of range"),
                format!("{i} は整数の範囲外です"),
            ),
            P::NotAnInteger(n) => say!(
                lang,
                format!("{n} is not an integer"),
                format!("{n} は整数ではありません"),
            ),
            P::Empty => say!(
                lang,
                "the value is empty (\"\")",
                "値が空文字列（\"\"）です"
            ),
            P::OnlyWhitespace => say!(lang, "the value is only whitespace", "値が空白文字だけです"),
            P::NoMatch { value, ty } => say!(
                lang,
                format!("\"{value}\" is not a valid {ty}"),
                format!("\"{value}\" は {ty} として正しくありません"),
            ),
            P::WrongJsonKind { ty, json, found } => say!(
                lang,
                format!("a {ty} must be a JSON {json}, not {}", found.english()),
                format!(
                    "{ty} は JSON の {} でなければなりません（{}になっています）",
                    json_kind_ja(json),
                    found.japanese()
                ),
            ),
            P::Calendar { value, ty, why } => say!(
                lang,
                format!("\"{value}\" is not a valid {ty}: {}", why.render(lang)),
                format!(
                    "\"{value}\" は {ty} として正しくありません: {}",
                    why.render(lang)
                ),
            ),
            P::Narrative(why) => why.render(lang),
        }
    }
}

/// What a JSON value is, for messages that say what was found where something else belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    pub fn of(v: &serde_json::Value) -> JsonKind {
        use serde_json::Value;
        match v {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Boolean,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }

    pub fn english(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Boolean => "真偽値",
            JsonKind::Number => "数値",
            JsonKind::String => "文字列",
            JsonKind::Array => "配列",
            JsonKind::Object => "オブジェクト",
        }
    }
}

fn json_kind_ja(json: &str) -> &'static str {
    match json {
        "boolean" => "真偽値（boolean）",
        "integer number" => "整数",
        "number" => "数値",
        _ => "文字列",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueMessage {
    Invalid(PrimitiveError),
    /// `value` is the fixed value as JSON, `ty` the upper-cased type (`fixedCode`).
    Fixed {
        value: String,
        ty: String,
    },
    Pattern {
        value: String,
        ty: String,
    },
    TooLong {
        length: u64,
        max: u64,
    },
    BelowMinimum {
        min: String,
    },
    AboveMaximum {
        max: String,
    },
}

impl ValueMessage {
    pub fn render(&self, lang: Language) -> String {
        use ValueMessage as M;
        match self {
            M::Invalid(why) => why.render(lang),
            M::Fixed { value, ty } => say!(
                lang,
                format!("value must be exactly {value} (fixed{ty})"),
                format!("値は {value} でなければなりません（fixed{ty}）"),
            ),
            M::Pattern { value, ty } => say!(
                lang,
                format!("value does not match the required pattern {value} (pattern{ty})"),
                format!("値が指定のパターン {value} に一致しません（pattern{ty}）"),
            ),
            M::TooLong { length, max } => say!(
                lang,
                format!("value is {length} characters long; maxLength is {max}"),
                format!("値が {length} 文字あり、最大長 {max} 文字を超えています"),
            ),
            M::BelowMinimum { min } => say!(
                lang,
                format!("value is below the minimum {min}"),
                format!("値が最小値 {min} を下回っています"),
            ),
            M::AboveMaximum { max } => say!(
                lang,
                format!("value is above the maximum {max}"),
                format!("値が最大値 {max} を上回っています"),
            ),
        }
    }
}
