//! Fixed-width code layouts: a code as a sequence of named fields, each a run of character
//! classes, checked field by field so that a finding can name the field that is wrong.

use super::{Finding, What};
use crate::messages::codes::{Breakdown, CodeField, Coded, Embedded, Span, SyntaxProblem};

/// One field of a layout. `pattern` has one letter per character: `9` a digit, `A` an uppercase
/// letter, `X` an uppercase letter or a digit (ASCII only, as every master is); the messages
/// say it in words.
#[derive(Debug)]
pub(super) struct Field {
    pub name: CodeField,
    pub pattern: &'static str,
}

#[derive(Debug)]
pub(super) struct Layout {
    /// How a code is named in messages ("JLAC10 code").
    pub label: Coded,
    pub fields: &'static [Field],
}

/// A field that does not match its pattern.
#[derive(Debug)]
pub(super) struct FieldError {
    pub field: &'static Field,
    /// Where the field is in the whole code.
    pub span: Span,
    pub found: String,
    /// The first character that does not fit, and its 1-based position in the whole code.
    pub bad: char,
    pub bad_at: usize,
}

impl FieldError {
    /// "{what}: the analyte field (characters 1–5) must be …, found "…"", the field named
    /// after the code it belongs to when that is embedded (`within`: "the YJ therapeutic class").
    pub fn finding(&self, what: &What, within: Option<Embedded>) -> Finding {
        what.error(SyntaxProblem::Field {
            within,
            field: self.field.name,
            span: self.span,
            pattern: self.field.pattern,
            found: format!("{:?}", self.found),
        })
    }
}

impl Field {
    fn len(&self) -> usize {
        self.pattern.len()
    }
}

fn fits(class: char, c: char) -> bool {
    match class {
        '9' => c.is_ascii_digit(),
        'A' => c.is_ascii_uppercase(),
        'X' => c.is_ascii_digit() || c.is_ascii_uppercase(),
        _ => false,
    }
}

impl Layout {
    pub fn len(&self) -> usize {
        self.fields.iter().map(Field::len).sum()
    }

    /// The fields and their widths, for the length message.
    pub fn breakdown(&self) -> Vec<(CodeField, usize)> {
        self.fields.iter().map(|f| (f.name, f.len())).collect()
    }

    /// Findings for a code that should follow this layout alone.
    pub fn check(&self, code: &str) -> Vec<Finding> {
        let chars: Vec<char> = code.chars().collect();
        let what = What::new(self.label, code);
        if let Some(finding) = full_width(&what, &chars) {
            return vec![finding];
        }
        // A one-field code is the field: its messages point at the character instead.
        let single = match self.fields {
            [field] => Some(field),
            _ => None,
        };
        if chars.len() != self.len() {
            return vec![what.error(match single {
                None => SyntaxProblem::Length {
                    expected: self.len(),
                    breakdown: Breakdown::Fields(self.breakdown()),
                    found: chars.len(),
                },
                Some(field) => SyntaxProblem::LengthOf {
                    pattern: field.pattern,
                    found: chars.len(),
                },
            })];
        }
        self.field_errors(&chars, 0)
            .iter()
            .map(|e| match single {
                None => e.finding(&what, None),
                Some(field) => what.error(SyntaxProblem::CharacterOf {
                    pattern: field.pattern,
                    found: e.bad,
                    at: e.bad_at,
                }),
            })
            .collect()
    }

    /// The fields of `chars` (exactly [`Layout::len`] long) that do not match; `offset` is where
    /// `chars` starts in the whole code, for the positions reported.
    pub fn field_errors(&self, chars: &[char], offset: usize) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut start = 0;
        for field in self.fields {
            let end = (start + field.len()).min(chars.len());
            let part = chars.get(start..end).unwrap_or_default();
            let first_bad = field
                .pattern
                .chars()
                .zip(part)
                .position(|(p, &c)| !fits(p, c));
            if let Some(i) = first_bad {
                errors.push(FieldError {
                    field,
                    span: span(offset + start, field.len()),
                    found: part.iter().collect(),
                    bad: part[i],
                    bad_at: offset + start + i + 1,
                });
            }
            start = end;
        }
        errors
    }
}

/// One finding for a code typed in full-width characters (３Ａ０１５…, a common slip of
/// Japanese input), instead of one per field.
pub(super) fn full_width(what: &What, chars: &[char]) -> Option<Finding> {
    let i = chars
        .iter()
        .position(|c| matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}'))?;
    Some(what.error(SyntaxProblem::FullWidth {
        found: chars[i],
        at: i + 1,
    }))
}

/// The span of `len` characters from the 0-based `start`.
pub(super) fn span(start: usize, len: usize) -> Span {
    Span {
        first: start + 1,
        last: start + len,
    }
}

/// Longest value quoted in full in a message; longer ones are cut, so that a hostile value
/// cannot blow up a response.
const SHOWN_MAX: usize = 48;

/// A value as it appears in a message: bare when it is short and printable, else quoted with
/// escapes (an empty value, spaces, control characters) and cut to [`SHOWN_MAX`] characters.
pub(super) fn shown(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().count() <= SHOWN_MAX
        && value
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"');
    if plain {
        return value.to_string();
    }
    let cut: String = value.chars().take(SHOWN_MAX).collect();
    let more = if value.chars().count() > SHOWN_MAX {
        "…"
    } else {
        ""
    };
    format!("{cut:?}{more}")
}
