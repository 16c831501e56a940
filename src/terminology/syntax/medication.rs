//! Drug codes: the YJ code (薬価基準収載医薬品コード-compatible, 12 characters with a check digit)
//! and the 一般名処方 code (the YJ code's first 9 characters and `ZZZ`).
//!
//! The check digit follows DESIGN §7 exactly, and the data bears it out: all 12,434 codes of the
//! MHLW price list (2025-07-16) pass, and 11 of the 19,558 YJ codes of the MEDIS HOT9 master
//! (2003) fail — historic codes, hence a warning. The weight of position 8 (5) is invertible
//! modulo 11, so a wrong value for any letter would have shown as failures of that letter; all
//! 23 letters in use occur in the price list.

use super::fields::{Field, Layout, full_width};
use super::{Finding, What};
use crate::messages::codes::{Breakdown, CodeField, Coded, Embedded, SyntaxProblem};

/// The fields YJ and 一般名処方 codes share: the first 8 characters.
const CLASS: Field = Field {
    name: CodeField::TherapeuticClass,
    pattern: "9999",
};
const INGREDIENT: Field = Field {
    name: CodeField::Ingredient,
    pattern: "999",
};
const FORM: Field = Field {
    name: CodeField::DosageForm,
    pattern: "A",
};

/// The YJ code's first 11 characters; the check digit is checked apart, as a warning.
const YJ_BODY: Layout = Layout {
    label: Coded::Yj,
    fields: &[
        CLASS,
        INGREDIENT,
        FORM,
        Field {
            name: CodeField::Strength,
            pattern: "9",
        },
        Field {
            name: CodeField::Brand,
            pattern: "99",
        },
    ],
};

/// The 一般名処方 code's first 9 characters. Position 9 is a letter in the master's 27 例外コード
/// (e.g. `2649729SAZZZ`), so it admits letters where the YJ code has a digit.
const GENERAL_BODY: Layout = Layout {
    label: Coded::GeneralName,
    fields: &[
        CLASS,
        INGREDIENT,
        FORM,
        Field {
            name: CodeField::Strength,
            pattern: "X",
        },
    ],
};

const WEIGHTS: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// The YJ check digit (position 12) computed from the first 11 characters, `None` if they are
/// malformed (fewer than 11 characters, or not 7 digits, an uppercase letter and 3 digits).
pub fn yj_check_digit(code: &str) -> Option<char> {
    let body: Vec<char> = code.chars().take(11).collect();
    if body.len() != 11 || !YJ_BODY.field_errors(&body, 0).is_empty() {
        return None;
    }
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| w * c.to_digit(10).unwrap_or_else(|| letter_value(c)))
        .sum();
    let digit = (11 - sum % 11) % 11 % 10;
    char::from_digit(digit, 10)
}

/// A–I → 1–9, J–R → 1–9, S–Z → 2–9 (the letters in three rows of nine, the last row shifted by
/// one).
fn letter_value(c: char) -> u32 {
    let i = u32::from(c) - u32::from('A');
    match i {
        0..=8 => i + 1,
        9..=17 => i - 8,
        _ => i - 16,
    }
}

pub(super) fn check_yj(code: &str) -> Vec<Finding> {
    let chars: Vec<char> = code.chars().collect();
    let what = What::new(Coded::Yj, code);
    if let Some(finding) = full_width(&what, &chars) {
        return vec![finding];
    }
    yj_findings(&what, None, &chars, 0)
}

/// Findings for a YJ code at `offset` in `chars`, which must then be 12 characters long, about
/// `what` and naming fields after the code they are `within` when it is embedded.
pub(super) fn yj_findings(
    what: &What,
    within: Option<Embedded>,
    chars: &[char],
    offset: usize,
) -> Vec<Finding> {
    let part = chars.get(offset..).unwrap_or_default();
    if part.len() != 12 {
        return vec![length_error(what, part.len())];
    }
    let mut findings: Vec<Finding> = YJ_BODY
        .field_errors(&part[..11], offset)
        .iter()
        .map(|e| e.finding(what, within))
        .collect();
    let check = part[11];
    if !check.is_ascii_digit() {
        findings.push(what.error(SyntaxProblem::CheckDigitNotDigit {
            within,
            at: offset + 12,
            found: check,
        }));
    } else if findings.is_empty() {
        let body: String = part[..11].iter().collect();
        if let Some(expected) = yj_check_digit(&body).filter(|&expected| expected != check) {
            findings.push(what.warning(SyntaxProblem::CheckDigitWrong {
                within,
                found: check,
                expected,
            }));
        }
    }
    findings
}

/// Callers embedding a code (J-FAGY) check the whole length first, so this reads as the
/// standalone code's length.
fn length_error(what: &What, len: usize) -> Finding {
    what.error(SyntaxProblem::Length {
        expected: 12,
        breakdown: Breakdown::None,
        found: len,
    })
}

pub(super) fn check_general_name(code: &str) -> Vec<Finding> {
    let chars: Vec<char> = code.chars().collect();
    let what = What::new(Coded::GeneralName, code);
    if let Some(finding) = full_width(&what, &chars) {
        return vec![finding];
    }
    general_name_findings(&what, None, &chars, 0, false)
}

/// Findings for a 一般名処方 code at `offset` in `chars`; `strict` makes a suffix other than
/// `ZZZ` an error (J-FAGY's GCM codes) rather than a warning (a few real codes use other
/// letters there).
pub(super) fn general_name_findings(
    what: &What,
    within: Option<Embedded>,
    chars: &[char],
    offset: usize,
    strict: bool,
) -> Vec<Finding> {
    let part = chars.get(offset..).unwrap_or_default();
    if part.len() != 12 {
        return vec![length_error(what, part.len())];
    }
    let mut findings: Vec<Finding> = GENERAL_BODY
        .field_errors(&part[..9], offset)
        .iter()
        .map(|e| e.finding(what, within))
        .collect();
    let suffix: String = part[9..].iter().collect();
    if suffix != "ZZZ" {
        let letters = suffix.chars().all(|c| c.is_ascii_uppercase());
        let strict = strict || !letters;
        let problem = SyntaxProblem::Suffix {
            within,
            span: super::fields::span(offset + 9, 3),
            found: format!("{suffix:?}"),
            strict,
        };
        findings.push(if strict {
            what.error(problem)
        } else {
            what.warning(problem)
        });
    }
    findings
}
