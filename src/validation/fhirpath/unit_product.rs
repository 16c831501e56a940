//! Multiplying and dividing quantities: the units combine as UCUM terms (`2 'm' * 3 'm'` is
//! `6 'm2'`, `4 'g' / 2 'g'` is `2 '1'`, `12 'cm2' / 3 'cm'` is `4 'cm'`). A term of the right
//! operand that measures what a term of the left one does (`m` against `cm`) is converted to
//! the left one's unit first, so `2 'cm' * 2 'm'` is `400 'cm2'` (equal to the spec's
//! `0.04 'm2'`, which compares the same through UCUM).
//!
//! Units the module cannot split into terms (parenthesised expressions) and the calendar
//! durations of variable length (`year`, `month`) give no product: the result is empty.

use super::decimal::Decimal;
use super::ucum;

/// One term of a unit: an atom (with its prefix) or a number, and its exponent.
type Term = (String, i32);

/// `x u * y v`, or `x u / y v` when `divide`: the value and the unit of the result; `None`
/// when the units cannot be combined or the value leaves the decimal range (or `y` is zero).
pub(crate) fn product(
    x: Decimal,
    u: &str,
    y: Decimal,
    v: &str,
    divide: bool,
) -> Option<(Decimal, String)> {
    let mut terms = terms(u)?;
    let mut value = if divide { x.div(&y)? } else { x.mul(&y)? };
    for (code, exp) in terms_of_right(v, divide)? {
        if let Some(t) = terms.iter_mut().find(|(c, _)| *c == code) {
            t.1 = t.1.checked_add(exp)?;
            continue;
        }
        let same_kind = terms.iter_mut().find(|(c, _)| commensurable(c, &code));
        match same_kind {
            Some(t) => {
                // `exp` powers of `code` become `exp` powers of the left term's unit.
                let one = ucum::convert(Decimal::from_i64(1), &code, &t.0)?;
                for _ in 0..exp.unsigned_abs() {
                    value = if exp > 0 {
                        value.mul(&one)?
                    } else {
                        value.div(&one)?
                    };
                }
                t.1 = t.1.checked_add(exp)?;
            }
            None => terms.push((code, exp)),
        }
    }
    terms.retain(|(_, e)| *e != 0);
    Some((value, format_unit(&terms)))
}

fn terms_of_right(v: &str, divide: bool) -> Option<Vec<Term>> {
    let mut t = terms(v)?;
    if divide {
        for (_, e) in &mut t {
            *e = e.checked_neg()?;
        }
    }
    Some(t)
}

/// Whether two atoms measure the same thing (and so one converts to the other).
fn commensurable(a: &str, b: &str) -> bool {
    ucum::dimensions(a).is_some_and(|d| d != [0; 4] && ucum::dimensions(b) == Some(d))
}

/// The terms of a unit expression, with equal atoms merged; the unit `1` has none.
fn terms(unit: &str) -> Option<Vec<Term>> {
    if ucum::is_variable_calendar(unit) {
        return None;
    }
    let unit = ucum::calendar_as_ucum(unit).unwrap_or(unit);
    let text = ucum::without_annotations(unit)?;
    if text.contains(['(', ')', ' ']) || text.is_empty() {
        return None;
    }
    let mut out: Vec<Term> = Vec::new();
    let (mut rest, mut divide) = match text.strip_prefix('/') {
        Some(r) => (r, true),
        None => (text.as_str(), false),
    };
    loop {
        let end = rest.find(['.', '/']).unwrap_or(rest.len());
        let (code, exp) = split_exponent(&rest[..end])?;
        let exp = if divide { exp.checked_neg()? } else { exp };
        if code != "1" {
            match out.iter_mut().find(|(c, _)| c == code) {
                Some(t) => t.1 = t.1.checked_add(exp)?,
                None => out.push((code.to_string(), exp)),
            }
        }
        if end == rest.len() {
            return Some(out);
        }
        divide = rest[end..].starts_with('/');
        rest = &rest[end + 1..];
    }
}

/// `m2` → (`m`, 2), `s-1` → (`s`, -1); a number (`1`, `10*3`) is its own code with exponent 1.
fn split_exponent(component: &str) -> Option<(&str, i32)> {
    if component.is_empty() {
        return None;
    }
    if component.bytes().all(|b| b.is_ascii_digit()) || component.starts_with("10*") {
        return Some((component, 1));
    }
    let split = component
        .rfind(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
        .map_or(0, |i| i + 1);
    let (code, exp) = component.split_at(split);
    if code.is_empty() {
        return None;
    }
    Some((code, if exp.is_empty() { 1 } else { exp.parse().ok()? }))
}

/// Terms as UCUM text: the positive powers joined by `.`, then each negative one after `/`;
/// `1` when nothing is left.
fn format_unit(terms: &[Term]) -> String {
    let power = |code: &str, e: i32| match e.unsigned_abs() {
        1 => code.to_string(),
        n => format!("{code}{n}"),
    };
    let mut out = terms
        .iter()
        .filter(|(_, e)| *e > 0)
        .map(|(c, e)| power(c, *e))
        .collect::<Vec<_>>()
        .join(".");
    for (c, e) in terms.iter().filter(|(_, e)| *e < 0) {
        out.push('/');
        out.push_str(&power(c, *e));
    }
    if out.is_empty() {
        out.push('1');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(x: &str, u: &str, y: &str, v: &str, divide: bool) -> Option<(String, String)> {
        let d = |s: &str| Decimal::parse(s).unwrap();
        product(d(x), u, d(y), v, divide).map(|(d, u)| (d.normalized().to_string(), u))
    }

    fn s(value: &str, unit: &str) -> Option<(String, String)> {
        Some((value.to_string(), unit.to_string()))
    }

    #[test]
    fn units_multiply_and_divide_as_ucum_terms() {
        assert_eq!(p("2", "m", "3", "m", false), s("6", "m2"));
        assert_eq!(p("4", "g", "2", "g", true), s("2", "1"));
        assert_eq!(p("12", "cm2", "3", "cm", true), s("4", "cm"));
        assert_eq!(p("2.0", "cm", "2.0", "m", false), s("400", "cm2"));
        assert_eq!(p("10", "mg", "2", "dL", true), s("5", "mg/dL"));
        assert_eq!(p("70", "kg", "2", "m2", true), s("35", "kg/m2"));
        assert_eq!(p("3", "1", "2", "s", true), s("1.5", "/s"));
        assert_eq!(p("2", "m/s", "3", "s", false), s("6", "m"));
        assert_eq!(p("1", "[IU]", "2", "[IU]", false), s("2", "[IU]2"));
        assert_eq!(p("2", "{cells}/uL", "3", "uL", false), s("6", "1"));
        assert_eq!(p("1", "day", "2", "wk", false), s("14", "d2"));
    }

    #[test]
    fn units_that_do_not_combine_give_nothing() {
        assert_eq!(p("1", "year", "2", "m", false), None);
        assert_eq!(p("1", "U/(24.h)", "2", "h", false), None);
        assert_eq!(p("1", "g", "0", "g", true), None);
    }
}
