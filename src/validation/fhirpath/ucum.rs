//! UCUM units as far as quantity comparison needs them: a unit expression (`mg`, `mmol/L`,
//! `kg/m2`, `10*3/uL`, `[lb_av]`) reduced to a factor over base units and the powers of those
//! base units, so `4 'g' = 4000 'mg'` and a Range of 5 g to 1000 mg (rng-2) are decided.
//!
//! Covered: the SI prefixes on metric atoms, mass, length, volume, time, amount of substance,
//! the common customary units, `%` and annotations (`{cells}`). Not covered, so left
//! incomparable (the comparison is empty, never a guess): temperatures (`Cel` and `[degF]` are
//! not proportional), parenthesised terms, arbitrary units such as `[IU]`.
//!
//! FHIRPath's calendar durations (`1 week`, `2 days`) compare with the UCUM units of fixed
//! length (`wk`, `d`, `h`, `min`, `s`, `ms`); `year` and `month` do not compare with `a` and
//! `mo`, whose UCUM lengths are averages (FHIRPath N1, "Time-valued quantities").

use super::decimal::Decimal;

/// Powers of gram, metre, second and mole.
pub(crate) type Dims = [i8; 4];

const MASS: Dims = [1, 0, 0, 0];
const LENGTH: Dims = [0, 1, 0, 0];
const TIME: Dims = [0, 0, 1, 0];
const AMOUNT: Dims = [0, 0, 0, 1];
const VOLUME: Dims = [0, 3, 0, 0];
const NONE: Dims = [0, 0, 0, 0];

/// A unit as `num / den` × base units raised to `dims`. The factor is kept as a fraction so
/// that `60 '/min' = 1 '/s'` holds exactly: a decimal `1/60` would not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Canonical {
    num: Decimal,
    den: Decimal,
    dims: Dims,
}

impl Canonical {
    fn new(factor: Decimal, dims: Dims) -> Canonical {
        Canonical {
            num: factor,
            den: Decimal::from_i64(1),
            dims,
        }
    }

    fn times(&self, other: &Canonical) -> Option<Canonical> {
        let mut dims = self.dims;
        for (t, d) in dims.iter_mut().zip(other.dims) {
            *t = t.checked_add(d)?;
        }
        Some(Canonical {
            num: self.num.mul(&other.num)?,
            den: self.den.mul(&other.den)?,
            dims,
        })
    }
}

struct Atom {
    code: &'static str,
    /// Factor over the base units, as decimal text.
    factor: &'static str,
    dims: Dims,
    /// Whether SI prefixes apply.
    metric: bool,
}

const fn atom(code: &'static str, factor: &'static str, dims: Dims, metric: bool) -> Atom {
    Atom {
        code,
        factor,
        dims,
        metric,
    }
}

const ATOMS: &[Atom] = &[
    atom("g", "1", MASS, true),
    atom("m", "1", LENGTH, true),
    atom("s", "1", TIME, true),
    atom("mol", "1", AMOUNT, true),
    // Equivalents count amount of substance; one equivalent is taken as one mole of charge.
    atom("eq", "1", AMOUNT, true),
    atom("L", "0.001", VOLUME, true),
    atom("l", "0.001", VOLUME, true),
    atom("t", "1000000", MASS, true),
    atom("min", "60", TIME, false),
    atom("h", "3600", TIME, false),
    atom("d", "86400", TIME, false),
    atom("wk", "604800", TIME, false),
    atom("mo", "2629800", TIME, false),
    atom("a", "31557600", TIME, false),
    atom("[lb_av]", "453.59237", MASS, false),
    atom("[oz_av]", "28.349523125", MASS, false),
    atom("[gr]", "0.06479891", MASS, false),
    atom("[in_i]", "0.0254", LENGTH, false),
    atom("[ft_i]", "0.3048", LENGTH, false),
    atom("[yd_i]", "0.9144", LENGTH, false),
    atom("[mi_i]", "1609.344", LENGTH, false),
    atom("%", "0.01", NONE, false),
];

const PREFIXES: &[(&str, &str)] = &[
    ("da", "10"),
    ("Y", "1e24"),
    ("Z", "1e21"),
    ("E", "1e18"),
    ("P", "1e15"),
    ("T", "1e12"),
    ("G", "1e9"),
    ("M", "1e6"),
    ("k", "1e3"),
    ("h", "1e2"),
    ("d", "1e-1"),
    ("c", "1e-2"),
    ("m", "1e-3"),
    ("u", "1e-6"),
    ("n", "1e-9"),
    ("p", "1e-12"),
    ("f", "1e-15"),
    ("a", "1e-18"),
];

/// The UCUM code a FHIRPath calendar duration keyword stands for, when it has a fixed length.
pub(crate) fn calendar_as_ucum(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "week" | "weeks" => "wk",
        "day" | "days" => "d",
        "hour" | "hours" => "h",
        "minute" | "minutes" => "min",
        "second" | "seconds" => "s",
        "millisecond" | "milliseconds" => "ms",
        _ => return None,
    })
}

/// Whether `unit` is a FHIRPath calendar keyword of variable length (`year`, `months`).
pub(crate) fn is_variable_calendar(unit: &str) -> bool {
    matches!(unit, "year" | "years" | "month" | "months")
}

fn lookup(code: &str) -> Option<Canonical> {
    let found = |a: &Atom| Some(Canonical::new(Decimal::parse(a.factor)?, a.dims));
    if let Some(a) = ATOMS.iter().find(|a| a.code == code) {
        return found(a);
    }
    PREFIXES.iter().find_map(|(p, f)| {
        let a = ATOMS
            .iter()
            .find(|a| a.metric && code.strip_prefix(p) == Some(a.code))?;
        found(a)?.times(&Canonical::new(Decimal::parse(f)?, NONE))
    })
}

/// One component: an atom with an optional integer exponent (`m2`, `s-1`), `10*3`, or a number.
fn component(text: &str) -> Option<Canonical> {
    if text.is_empty() {
        return None;
    }
    if let Some(exp) = text
        .strip_prefix("10*")
        .or_else(|| text.strip_prefix("10^"))
    {
        let e: i32 = exp.parse().ok()?;
        return Some(Canonical::new(Decimal::parse(&format!("1e{e}"))?, NONE));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Canonical::new(Decimal::parse(text)?, NONE));
    }
    // A trailing signed integer is the exponent, unless it closes a bracketed atom.
    let split = text
        .rfind(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
        .map_or(0, |i| i + 1);
    let (code, exp) = text.split_at(split);
    let exp: i32 = if exp.is_empty() { 1 } else { exp.parse().ok()? };
    let base = lookup(code)?;
    power(base, exp)
}

fn power(base: Canonical, exp: i32) -> Option<Canonical> {
    let mut out = Canonical::new(Decimal::from_i64(1), NONE);
    for _ in 0..exp.unsigned_abs() {
        out = out.times(&base)?;
    }
    if exp < 0 {
        std::mem::swap(&mut out.num, &mut out.den);
        for d in &mut out.dims {
            *d = d.checked_neg()?;
        }
    }
    Some(out)
}

/// Strips `{annotations}`; an annotation standing alone (`{cells}`, `/{beats}`) is the unit `1`.
pub(crate) fn without_annotations(unit: &str) -> Option<String> {
    let mut out = String::with_capacity(unit.len());
    let mut rest = unit;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        out.push_str(&rest[..open]);
        if matches!(out.chars().last(), None | Some('.' | '/')) {
            out.push('1');
        }
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// The canonical form of a UCUM unit expression or a FHIRPath calendar keyword; `None` for
/// units this module does not know, which then compare only with the same unit.
pub(crate) fn canonical(unit: &str) -> Option<Canonical> {
    if is_variable_calendar(unit) {
        return None;
    }
    let unit = calendar_as_ucum(unit).unwrap_or(unit);
    let text = without_annotations(unit)?;
    if text.contains(['(', ')', ' ']) {
        return None;
    }
    let mut total = Canonical::new(Decimal::from_i64(1), NONE);
    let mut rest = text.as_str();
    let mut divide = false;
    if let Some(r) = rest.strip_prefix('/') {
        rest = r;
        divide = true;
    }
    loop {
        let end = rest.find(['.', '/']).unwrap_or(rest.len());
        let c = component(&rest[..end])?;
        let c = if divide { power(c, -1)? } else { c };
        total = total.times(&c)?;
        if end == rest.len() {
            return Some(total);
        }
        divide = rest[end..].starts_with('/');
        rest = &rest[end + 1..];
    }
}

/// The powers of gram, metre, second and mole a unit stands for.
pub(crate) fn dimensions(unit: &str) -> Option<[i8; 4]> {
    canonical(unit).map(|c| c.dims)
}

/// The values of two quantities expressed in one unit, for comparison; `None` when the units
/// measure different things or either is unknown.
pub(crate) fn comparable_values(
    x: Decimal,
    u: &str,
    y: Decimal,
    v: &str,
) -> Option<(Decimal, Decimal)> {
    let (cu, cv) = (canonical(u)?, canonical(v)?);
    if cu.dims != cv.dims {
        return None;
    }
    // x·nu/du against y·nv/dv, both multiplied by du·dv: no division, so no rounding.
    Some((x.mul(&cu.num)?.mul(&cv.den)?, y.mul(&cv.num)?.mul(&cu.den)?))
}

/// The factor taking a value in `unit` to base units, and the powers of gram, metre, second
/// and mole those are: what search indexes a Quantity by, so any two units of one kind meet.
pub(crate) fn base_units(unit: &str) -> Option<(Decimal, Dims)> {
    let c = canonical(unit)?;
    Some((c.num.div(&c.den)?, c.dims))
}

/// `y` (in unit `v`) expressed in unit `u`.
pub(crate) fn convert(y: Decimal, v: &str, u: &str) -> Option<Decimal> {
    let (cu, cv) = (canonical(u)?, canonical(v)?);
    if cu.dims != cv.dims {
        return None;
    }
    y.mul(&cv.num)?.mul(&cu.den)?.div(&cu.num.mul(&cv.den)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn factor(unit: &str) -> String {
        let c = canonical(unit).unwrap();
        c.num.div(&c.den).unwrap().normalized().to_string()
    }

    #[test]
    fn prefixes_and_atoms_reduce_to_base_units() {
        assert_eq!(factor("mg"), "0.001");
        assert_eq!(factor("kg"), "1000");
        assert_eq!(factor("ug"), "0.000001");
        assert_eq!(factor("dL"), "0.0001");
        assert_eq!(factor("mL"), "0.000001");
        assert_eq!(factor("min"), "60");
        assert_eq!(factor("mmol"), "0.001");
        assert_eq!(factor("[lb_av]"), "453.59237");
        assert_eq!(canonical("m2").unwrap().dims, [0, 2, 0, 0]);
        assert_eq!(canonical("kg/m2").unwrap().dims, [1, -2, 0, 0]);
        assert_eq!(factor("kg/m2"), "1000");
        assert_eq!(canonical("mmol/L").unwrap().dims, [0, -3, 0, 1]);
        assert_eq!(factor("10*3/uL"), "1000000000000");
        assert_eq!(canonical("/min").unwrap().dims, [0, 0, -1, 0]);
        assert_eq!(canonical("{beats}/min").unwrap().dims, [0, 0, -1, 0]);
        assert_eq!(factor("%"), "0.01");
        assert_eq!(factor("1"), "1");
    }

    #[test]
    fn unknown_and_unsupported_units_are_not_comparable() {
        for unit in [
            "Cel", "[degF]", "[IU]", "U/(24.h)", "xyz", "year", "months", "mg{",
        ] {
            assert!(canonical(unit).is_none(), "{unit}");
        }
        // Calendar durations of fixed length are their UCUM units.
        assert_eq!(factor("week"), "604800");
        assert_eq!(factor("milliseconds"), "0.001");
    }

    #[test]
    fn conversion_between_units_of_one_kind() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(convert(d("4000"), "mg", "g").unwrap(), d("4"));
        assert_eq!(convert(d("1"), "h", "min").unwrap(), d("60"));
        assert_eq!(convert(d("7"), "days", "wk").unwrap(), d("1"));
        assert!(convert(d("1"), "g", "m").is_none());
        let (a, b) = comparable_values(d("5"), "g", d("1000"), "mg").unwrap();
        assert!(a.cmp_value(&b).is_gt());
    }
}
