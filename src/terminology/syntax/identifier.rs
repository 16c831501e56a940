//! Identifier values: the 10-digit institution number, the Bundle-ID (報告単位ID), resource
//! identifiers and the patient's insurance / public-payer member ids.
//!
//! Resource identifiers: DESIGN §3 gives `<institution>^<year>^<local id>`, but none of the
//! official JP-CLINS examples follows it (`1318814790-9990767-0A17…-1`, `102934701`,
//! `1311234567-2021-12345678`; the Composition profile's own example uses hyphens where its text
//! says ^), so only a value that does use ^ is held to that form, and then with warnings.

use super::Finding;
use super::fields::{characters, shown};
use super::id_systems::{BUNDLE, INSTITUTION, INSURANCE_MEMBER, PUBLIC_PAYER_MEMBER, RESOURCE};

/// Findings for an Identifier value under `system` (institution number, Bundle-ID, resource
/// identifiers, insurance and public-payer member ids). Empty when fine or the system unknown.
pub fn check_identifier(system: &str, value: &str) -> Vec<Finding> {
    match system {
        INSTITUTION => institution_problems(value)
            .into_iter()
            .map(|p| Finding::error(format!("institution number {}: {p}", shown(value))))
            .collect(),
        BUNDLE => bundle_id(value),
        RESOURCE => resource_identifier(value),
        INSURANCE_MEMBER => insurance_member(value),
        PUBLIC_PAYER_MEMBER => public_payer_member(value),
        _ => Vec::new(),
    }
}

/// What is wrong with an institution number: prefecture (01–47) + fee-table code (1 医科,
/// 2, 3 歯科 as JP-CLINS's pattern `[1-3]` allows) + 7 digits.
fn institution_problems(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() != 10 {
        return vec![format!(
            "must be 10 digits, found {}",
            characters(chars.len())
        )];
    }
    if let Some(i) = chars.iter().position(|c| !c.is_ascii_digit()) {
        return vec![format!(
            "must be 10 digits, found \"{}\" at character {}",
            chars[i].escape_debug(),
            i + 1
        )];
    }
    let mut problems = Vec::new();
    let prefecture: String = chars[..2].iter().collect();
    if !matches!(prefecture.parse::<u8>(), Ok(1..=47)) {
        problems.push(format!(
            "the prefecture (characters 1–2) must be 01–47, found \"{prefecture}\""
        ));
    }
    if !matches!(chars[2], '1'..='3') {
        problems.push(format!(
            "the fee-table code (character 3) must be 1, 2 or 3, found \"{}\"",
            chars[2]
        ));
    }
    problems
}

/// DESIGN §3 / JP-CLINS R2152: `^[0-4][0-9][1-3][0-9]{7}\^20[2-3][0-9]\^[A-Za-z0-9-]{1,36}$`,
/// with the prefecture held to 01–47 (the pattern lets 00 and 48–49 through).
fn bundle_id(value: &str) -> Vec<Finding> {
    let what = format!("Bundle-ID {}", shown(value));
    let parts: Vec<&str> = value.split('^').collect();
    let [institution, year, local] = parts[..] else {
        return vec![Finding::error(format!(
            "{what}: must be <institution number>^<year>^<local id> (3 parts joined by ^), \
             found {} part{}",
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ))];
    };
    let mut findings: Vec<Finding> = institution_problems(institution)
        .into_iter()
        .map(|p| {
            Finding::error(format!(
                "{what}: institution number {} (part 1): {p}",
                shown(institution)
            ))
        })
        .collect();
    let year_ok = year.len() == 4
        && year.starts_with("20")
        && matches!(year.as_bytes()[2], b'2'..=b'3')
        && year.as_bytes()[3].is_ascii_digit();
    if !year_ok {
        findings.push(Finding::error(format!(
            "{what}: the year (part 2) must be 2020–2039, found {}",
            quoted(year)
        )));
    }
    if let Some(problem) = local_id_problem(local) {
        findings.push(Finding::error(format!(
            "{what}: the local id (part 3) must be 1–36 characters of A–Z, a–z, 0–9 and -, \
             found {problem}"
        )));
    }
    findings
}

fn local_id_problem(local: &str) -> Option<String> {
    let n = local.chars().count();
    if n == 0 || n > 36 {
        return Some(characters(n));
    }
    local
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || c == '-'))
        .and_then(|i| {
            local
                .chars()
                .nth(i)
                .map(|c| format!("\"{}\" at character {}", c.escape_debug(), i + 1))
        })
}

fn resource_identifier(value: &str) -> Vec<Finding> {
    if !value.contains('^') {
        return Vec::new();
    }
    let what = format!("resource identifier {}", shown(value));
    let form = "JP-CLINS's <institution number>^<year>^<local id>";
    let parts: Vec<&str> = value.split('^').collect();
    let [institution, year, local] = parts[..] else {
        return vec![Finding::warning(format!(
            "{what}: uses ^ but is not {form} (3 parts), found {} parts",
            parts.len()
        ))];
    };
    let mut findings: Vec<Finding> = institution_problems(institution)
        .into_iter()
        .map(|p| {
            Finding::warning(format!(
                "{what}: as {form}, institution number {} (part 1): {p}",
                shown(institution)
            ))
        })
        .collect();
    if !(year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())) {
        findings.push(Finding::warning(format!(
            "{what}: as {form}, the year (part 2) must be 4 digits, found {}",
            quoted(year)
        )));
    }
    if local.is_empty() {
        findings.push(Finding::warning(format!(
            "{what}: as {form}, the local id (part 3) is empty"
        )));
    }
    findings
}

/// JP-CLINS R1013: `^[0-9]{8}:[^:^\s　]*:[^:^\s　]*:(|[0-9]{2})$` — symbol and number may be
/// empty, half- or full-width, without spaces or ^.
fn insurance_member(value: &str) -> Vec<Finding> {
    let what = format!("insurance member id {}", shown(value));
    let Some([insurer, symbol, number, branch]) = four_parts(value) else {
        return vec![parts_error(&what, "insurer:symbol:number:branch", value)];
    };
    let mut problems = Vec::new();
    if !is_digits(insurer, 8) {
        let padding = if is_digits(insurer, 6) {
            " (a 6-digit 国民健康保険 insurer number is written with two leading zeros)"
        } else {
            ""
        };
        problems.push(format!(
            "the insurer number (part 1) must be 8 digits, found {}{padding}",
            quoted(insurer)
        ));
    }
    for (name, part) in [("symbol (part 2)", symbol), ("number (part 3)", number)] {
        // U+3000 is whitespace too; named, since it is invisible in a message.
        if let Some(c) = part.chars().find(|&c| c.is_whitespace() || c == '^') {
            let c = match c {
                '^' => "^".to_string(),
                ' ' => "a space".to_string(),
                '\u{3000}' => "a full-width space (U+3000)".to_string(),
                other => format!("U+{:04X}", u32::from(other)),
            };
            problems.push(format!(
                "the {name} must not contain spaces or ^, found {c} in {}",
                quoted(part)
            ));
        }
    }
    if !(branch.is_empty() || is_digits(branch, 2)) {
        problems.push(format!(
            "the branch number (part 4) must be empty or 2 digits, found {}",
            quoted(branch)
        ));
    }
    errors(&what, problems)
}

/// DESIGN §4: `payer(8)::recipient(7):`.
fn public_payer_member(value: &str) -> Vec<Finding> {
    let what = format!("public payer member id {}", shown(value));
    let Some([payer, symbol, recipient, branch]) = four_parts(value) else {
        return vec![parts_error(&what, "payer::recipient:", value)];
    };
    let mut problems = Vec::new();
    if !is_digits(payer, 8) {
        problems.push(format!(
            "the payer number (part 1) must be 8 digits, found {}",
            quoted(payer)
        ));
    }
    if !symbol.is_empty() {
        problems.push(format!(
            "the symbol (part 2) must be empty, found {}",
            quoted(symbol)
        ));
    }
    if !is_digits(recipient, 7) {
        problems.push(format!(
            "the recipient number (part 3) must be 7 digits, found {}",
            quoted(recipient)
        ));
    }
    if !branch.is_empty() {
        problems.push(format!(
            "the branch number (part 4) must be empty, found {}",
            quoted(branch)
        ));
    }
    errors(&what, problems)
}

fn four_parts(value: &str) -> Option<[&str; 4]> {
    let parts: Vec<&str> = value.split(':').collect();
    <[&str; 4]>::try_from(parts).ok()
}

fn parts_error(what: &str, form: &str, value: &str) -> Finding {
    Finding::error(format!(
        "{what}: must be {form} (4 parts joined by :), found {} parts",
        value.split(':').count()
    ))
}

fn errors(what: &str, problems: Vec<String>) -> Vec<Finding> {
    problems
        .into_iter()
        .map(|p| Finding::error(format!("{what}: {p}")))
        .collect()
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
