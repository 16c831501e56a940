//! Fixed-width code layouts: a code as a sequence of named fields, each a run of character
//! classes, checked field by field so that a finding can name the field that is wrong.

use super::Finding;

/// One field of a layout. `pattern` has one letter per character: `9` a digit, `A` an uppercase
/// letter, `X` an uppercase letter or a digit (ASCII only, as every master is).
#[derive(Debug)]
pub(super) struct Field {
    pub name: &'static str,
    pub pattern: &'static str,
    /// What the field must be, in words ("2 digits").
    pub expect: &'static str,
}

#[derive(Debug)]
pub(super) struct Layout {
    /// How a code is named in messages ("JLAC10 code").
    pub label: &'static str,
    /// The fields and their widths in words, for the length message; `None` for one-field codes.
    pub summary: Option<&'static str>,
    pub fields: &'static [Field],
}

/// A field that does not match its pattern.
#[derive(Debug)]
pub(super) struct FieldError {
    pub field: &'static Field,
    /// "character 8" or "characters 16–17", counted in the whole code.
    pub span: String,
    pub found: String,
    /// The first character that does not fit, and its 1-based position in the whole code.
    pub bad: char,
    pub bad_at: usize,
}

impl FieldError {
    /// "{what}: {article} analyte field (characters 1–5) must be …, found "…"", where `article`
    /// is "the", or names the embedded code ("the YJ").
    pub fn finding(&self, what: &str, article: &str) -> Finding {
        Finding::error(format!(
            "{what}: {article} {} field ({}) must be {}, found {:?}",
            self.field.name, self.span, self.field.expect, self.found
        ))
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

    /// Findings for a code that should follow this layout alone.
    pub fn check(&self, code: &str) -> Vec<Finding> {
        let chars: Vec<char> = code.chars().collect();
        let what = format!("{} {}", self.label, shown(code));
        if let Some(finding) = full_width(&what, &chars) {
            return vec![finding];
        }
        if chars.len() != self.len() {
            return vec![Finding::error(match self.summary {
                Some(summary) => format!(
                    "{what}: must be {} characters ({summary}), found {}",
                    self.len(),
                    chars.len()
                ),
                None => format!(
                    "{what}: must be {}, found {}",
                    self.fields.first().map_or("", |f| f.expect),
                    characters(chars.len())
                ),
            })];
        }
        self.field_errors(&chars, 0)
            .iter()
            .map(|e| {
                if self.summary.is_some() {
                    e.finding(&what, "the")
                } else {
                    // The whole code is the field: point at the character instead.
                    Finding::error(format!(
                        "{what}: must be {}, found \"{}\" at character {}",
                        e.field.expect,
                        e.bad.escape_debug(),
                        e.bad_at
                    ))
                }
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
pub(super) fn full_width(what: &str, chars: &[char]) -> Option<Finding> {
    let i = chars
        .iter()
        .position(|c| matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}'))?;
    Some(Finding::error(format!(
        "{what}: codes are half-width ASCII, found the full-width \"{}\" at character {}",
        chars[i],
        i + 1
    )))
}

/// "character 8" or "characters 16–17" for `len` characters from the 0-based `start`.
pub(super) fn span(start: usize, len: usize) -> String {
    if len == 1 {
        format!("character {}", start + 1)
    } else {
        format!("characters {}–{}", start + 1, start + len)
    }
}

/// "1 character" / "6 characters".
pub(super) fn characters(n: usize) -> String {
    if n == 1 {
        "1 character".to_string()
    } else {
        format!("{n} characters")
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
