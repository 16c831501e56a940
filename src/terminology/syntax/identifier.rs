//! Identifier values: the 10-digit institution number, the Bundle-ID (報告単位ID), resource
//! identifiers and the patient's insurance / public-payer member ids.
//!
//! Resource identifiers: DESIGN §3 gives `<institution>^<year>^<local id>`, but none of the
//! official JP-CLINS examples follows it (`1318814790-9990767-0A17…-1`, `102934701`,
//! `1311234567-2021-12345678`; the Composition profile's own example uses hyphens where its text
//! says ^), so only a value that does use ^ is held to that form, and then with warnings.

use super::fields::shown;
use super::id_systems::{BUNDLE, INSTITUTION, INSURANCE_MEMBER, PUBLIC_PAYER_MEMBER, RESOURCE};
use super::{Finding, What};
use crate::messages::codes::{Blank, Coded, Form, LocalIdFound, Part, SyntaxProblem};

/// An institution number: 10 digits.
const TEN_DIGITS: &str = "9999999999";

/// Findings for an Identifier value under `system` (institution number, Bundle-ID, resource
/// identifiers, insurance and public-payer member ids). Empty when fine or the system unknown.
pub fn check_identifier(system: &str, value: &str) -> Vec<Finding> {
    match system {
        INSTITUTION => {
            let what = What::new(Coded::Institution, value);
            institution_problems(value)
                .into_iter()
                .map(|p| what.error(p))
                .collect()
        }
        BUNDLE => bundle_id(value),
        RESOURCE => resource_identifier(value),
        INSURANCE_MEMBER => insurance_member(value),
        PUBLIC_PAYER_MEMBER => public_payer_member(value),
        _ => Vec::new(),
    }
}

/// What is wrong with an institution number: prefecture (01–47) + fee-table code (1 医科,
/// 2, 3 歯科 as JP-CLINS's pattern `[1-3]` allows) + 7 digits.
fn institution_problems(value: &str) -> Vec<SyntaxProblem> {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() != 10 {
        return vec![SyntaxProblem::LengthOf {
            pattern: TEN_DIGITS,
            found: chars.len(),
        }];
    }
    if let Some(i) = chars.iter().position(|c| !c.is_ascii_digit()) {
        return vec![SyntaxProblem::CharacterOf {
            pattern: TEN_DIGITS,
            found: chars[i],
            at: i + 1,
        }];
    }
    let mut problems = Vec::new();
    let prefecture: String = chars[..2].iter().collect();
    if !matches!(prefecture.parse::<u8>(), Ok(1..=47)) {
        problems.push(SyntaxProblem::Prefecture { found: prefecture });
    }
    if !matches!(chars[2], '1'..='3') {
        problems.push(SyntaxProblem::FeeTable { found: chars[2] });
    }
    problems
}

/// The problems of an institution number that is part 1 of a `^`-joined identifier.
fn institution_part(institution: &str) -> impl Iterator<Item = SyntaxProblem> {
    let value = shown(institution);
    institution_problems(institution)
        .into_iter()
        .map(move |p| SyntaxProblem::InstitutionPart {
            value: value.clone(),
            problem: Box::new(p),
        })
}

/// DESIGN §3 / JP-CLINS R2152: `^[0-4][0-9][1-3][0-9]{7}\^20[2-3][0-9]\^[A-Za-z0-9-]{1,36}$`,
/// with the prefecture held to 01–47 (the pattern lets 00 and 48–49 through).
fn bundle_id(value: &str) -> Vec<Finding> {
    let what = What::new(Coded::BundleId, value);
    let parts: Vec<&str> = value.split('^').collect();
    let [institution, year, local] = parts[..] else {
        return vec![what.error(SyntaxProblem::Parts {
            form: Form::Clins,
            found: parts.len(),
        })];
    };
    let mut findings: Vec<Finding> = institution_part(institution)
        .map(|p| what.error(p))
        .collect();
    let year_ok = year.len() == 4
        && year.starts_with("20")
        && matches!(year.as_bytes()[2], b'2'..=b'3')
        && year.as_bytes()[3].is_ascii_digit();
    if !year_ok {
        findings.push(what.error(SyntaxProblem::YearRange {
            found: quoted(year),
        }));
    }
    if let Some(problem) = local_id_problem(local) {
        findings.push(what.error(SyntaxProblem::LocalId(problem)));
    }
    findings
}

fn local_id_problem(local: &str) -> Option<LocalIdFound> {
    let n = local.chars().count();
    if n == 0 || n > 36 {
        return Some(LocalIdFound::Length(n));
    }
    local
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
        .map(|(i, found)| LocalIdFound::Character { found, at: i + 1 })
}

fn resource_identifier(value: &str) -> Vec<Finding> {
    if !value.contains('^') {
        return Vec::new();
    }
    let what = What::new(Coded::ResourceIdentifier, value);
    let parts: Vec<&str> = value.split('^').collect();
    let [institution, year, local] = parts[..] else {
        return vec![what.warning(SyntaxProblem::NotClinsForm { found: parts.len() })];
    };
    let mut problems: Vec<SyntaxProblem> = institution_part(institution).collect();
    if !(year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())) {
        problems.push(SyntaxProblem::PartDigits {
            part: Part::Year,
            digits: 4,
            found: quoted(year),
            padding: false,
        });
    }
    if local.is_empty() {
        problems.push(SyntaxProblem::PartEmpty {
            part: Part::LocalId,
        });
    }
    problems
        .into_iter()
        .map(|p| what.warning(SyntaxProblem::AsClinsForm(Box::new(p))))
        .collect()
}

/// JP-CLINS R1013: `^[0-9]{8}:[^:^\s　]*:[^:^\s　]*:(|[0-9]{2})$` — symbol and number may be
/// empty, half- or full-width, without spaces or ^.
fn insurance_member(value: &str) -> Vec<Finding> {
    let what = What::new(Coded::InsuranceMember, value);
    let Some([insurer, symbol, number, branch]) = four_parts(value) else {
        return vec![parts_error(&what, Form::InsuranceMember, value)];
    };
    let mut problems = Vec::new();
    if !is_digits(insurer, 8) {
        problems.push(SyntaxProblem::PartDigits {
            part: Part::InsurerNumber,
            digits: 8,
            found: quoted(insurer),
            padding: is_digits(insurer, 6),
        });
    }
    for (part, text) in [(Part::Symbol, symbol), (Part::Number, number)] {
        // U+3000 is whitespace too; named, since it is invisible in a message.
        if let Some(c) = text.chars().find(|&c| c.is_whitespace() || c == '^') {
            let found = match c {
                '^' => Blank::Caret,
                ' ' => Blank::Space,
                '\u{3000}' => Blank::FullWidthSpace,
                other => Blank::Other(u32::from(other)),
            };
            problems.push(SyntaxProblem::PartBlank {
                part,
                found,
                value: quoted(text),
            });
        }
    }
    if !(branch.is_empty() || is_digits(branch, 2)) {
        problems.push(SyntaxProblem::PartEmptyOrDigits {
            part: Part::Branch,
            digits: 2,
            found: quoted(branch),
        });
    }
    errors(&what, problems)
}

/// DESIGN §4: `payer(8)::recipient(7):`.
fn public_payer_member(value: &str) -> Vec<Finding> {
    let what = What::new(Coded::PublicPayerMember, value);
    let Some([payer, symbol, recipient, branch]) = four_parts(value) else {
        return vec![parts_error(&what, Form::PublicPayerMember, value)];
    };
    let mut problems = Vec::new();
    if !is_digits(payer, 8) {
        problems.push(SyntaxProblem::PartDigits {
            part: Part::PayerNumber,
            digits: 8,
            found: quoted(payer),
            padding: false,
        });
    }
    if !symbol.is_empty() {
        problems.push(SyntaxProblem::PartNotEmpty {
            part: Part::Symbol,
            found: quoted(symbol),
        });
    }
    if !is_digits(recipient, 7) {
        problems.push(SyntaxProblem::PartDigits {
            part: Part::RecipientNumber,
            digits: 7,
            found: quoted(recipient),
            padding: false,
        });
    }
    if !branch.is_empty() {
        problems.push(SyntaxProblem::PartNotEmpty {
            part: Part::Branch,
            found: quoted(branch),
        });
    }
    errors(&what, problems)
}

fn four_parts(value: &str) -> Option<[&str; 4]> {
    let parts: Vec<&str> = value.split(':').collect();
    <[&str; 4]>::try_from(parts).ok()
}

fn parts_error(what: &What, form: Form, value: &str) -> Finding {
    what.error(SyntaxProblem::Parts {
        form,
        found: value.split(':').count(),
    })
}

fn errors(what: &What, problems: Vec<SyntaxProblem>) -> Vec<Finding> {
    problems.into_iter().map(|p| what.error(p)).collect()
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A part of a value in quotes, cut like [`shown`] values are.
fn quoted(part: &str) -> String {
    let s = shown(part);
    if s.starts_with('"') {
        s
    } else {
        format!("\"{s}\"")
    }
}
