//! Number and quantity search values: the range a written number stands for, and quantities
//! brought to UCUM base units so `5.4|http://unitsofmeasure.org|mg` finds a stored `0.0054 g`.
//! Spec: <https://hl7.org/fhir/R4/search.html#number> and #quantity.
//!
//! A number searched for stands for the range of its precision: `100` for [99.5, 100.5),
//! `1e2` for [50, 150). Stored values are taken as exact, as the FHIR servers commonly do.

use super::Prefix;
use crate::validation::fhirpath::ucum;

/// The UCUM code system, the only one whose units are converted.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// A value in UCUM base units (gram, metre, second, mole) and the name of those units.
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// The base units' powers, e.g. `g.m-3` for mg/dL, `1` for `%`.
    pub unit: String,
    pub value: f64,
}

/// A number search value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberSearch {
    pub prefix: Prefix,
    pub value: f64,
    /// The implicit range of the written precision, `[low, high)`.
    pub low: f64,
    pub high: f64,
}

/// A quantity search value: the number, and the unit to compare in.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantitySearch {
    pub number: NumberSearch,
    pub unit: QuantityUnit,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuantityUnit {
    /// `number` or `number||`: the value alone.
    Any,
    /// `number|system|code` or `number||code` (`system` `None`): the unit as written.
    Code {
        system: Option<String>,
        code: String,
    },
    /// A UCUM unit the server understands: compared in base units. `number` is converted.
    Canonical { unit: String },
}

/// `[prefix]number` as the FHIR search syntax writes it.
pub fn parse_number(item: &str) -> Result<NumberSearch, String> {
    let (prefix, number) = split_prefix(item)?;
    let (value, half) = number_with_precision(number)?;
    Ok(NumberSearch {
        prefix,
        value,
        low: value - half,
        high: value + half,
    })
}

/// `[prefix]number[|system|code]`; a UCUM unit the server understands is converted to base
/// units, so every unit of one dimension compares with the others.
pub fn parse_quantity(item: &str, parts: &[String]) -> Result<QuantitySearch, String> {
    let number = parse_number(item)?;
    let unit = match parts {
        [] => QuantityUnit::Any,
        [system, code] if system.is_empty() && code.is_empty() => QuantityUnit::Any,
        [system, code] if code.is_empty() => {
            return Err(format!("system '{system}' without a unit code"));
        }
        [system, code] => {
            if system == UCUM
                && let Some((factor, unit)) = base_units(code)
            {
                let number = NumberSearch {
                    value: number.value * factor,
                    low: number.low * factor,
                    high: number.high * factor,
                    ..number
                };
                return Ok(QuantitySearch {
                    number,
                    unit: QuantityUnit::Canonical { unit },
                });
            }
            QuantityUnit::Code {
                system: (!system.is_empty()).then(|| system.clone()),
                code: code.clone(),
            }
        }
        _ => return Err("a quantity is number|system|code".to_string()),
    };
    Ok(QuantitySearch { number, unit })
}

/// The stored form of a Quantity's value in base units, when its unit is UCUM's and known.
pub fn canonical(value: f64, system: Option<&str>, code: Option<&str>) -> Option<Canonical> {
    if system != Some(UCUM) {
        return None;
    }
    let (factor, unit) = base_units(code?)?;
    let value = value * factor;
    value.is_finite().then_some(Canonical { unit, value })
}

/// The factor that takes a value in `unit` to base units, and the base units' name.
fn base_units(unit: &str) -> Option<(f64, String)> {
    let (factor, dims) = ucum::base_units(unit)?;
    let factor = factor.to_f64();
    if !factor.is_finite() || factor <= 0.0 {
        return None;
    }
    const NAMES: [&str; 4] = ["g", "m", "s", "mol"];
    let parts: Vec<String> = NAMES
        .iter()
        .zip(dims)
        .filter(|(_, power)| *power != 0)
        .map(|(name, power)| match power {
            1 => (*name).to_string(),
            p => format!("{name}{p}"),
        })
        .collect();
    let name = if parts.is_empty() {
        "1".to_string()
    } else {
        parts.join(".")
    };
    Some((factor, name))
}

fn split_prefix(item: &str) -> Result<(Prefix, &str), String> {
    let bytes = item.as_bytes();
    if bytes.len() > 2 && bytes[..2].iter().all(u8::is_ascii_lowercase) {
        let prefix = match &item[..2] {
            "eq" => Prefix::Eq,
            "ne" => Prefix::Ne,
            "gt" => Prefix::Gt,
            "lt" => Prefix::Lt,
            "ge" => Prefix::Ge,
            "le" => Prefix::Le,
            "sa" => Prefix::Sa,
            "eb" => Prefix::Eb,
            "ap" => Prefix::Ap,
            other => return Err(format!("unknown prefix '{other}'")),
        };
        return Ok((prefix, &item[2..]));
    }
    Ok((Prefix::Eq, item))
}

/// The value of a decimal as written, and half the unit of its last significant digit.
fn number_with_precision(text: &str) -> Result<(f64, f64), String> {
    let not_a_number = || format!("'{text}' is not a number");
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| not_a_number())?),
        None => (text, 0),
    };
    let digits = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || digits.ends_with('.') {
        return Err(not_a_number());
    }
    let value: f64 = text.parse().map_err(|_| not_a_number())?;
    let decimals = i32::try_from(fraction.len()).map_err(|_| not_a_number())?;
    let half = 0.5 * 10f64.powi(exponent.saturating_sub(decimals));
    if !value.is_finite() || !half.is_finite() {
        return Err(not_a_number());
    }
    Ok((value, half))
}

/// The value of a JSON number as stored, exactly as far as f64 goes.
pub fn stored_number(node: &serde_json::Value) -> Option<f64> {
    node.as_f64().filter(|v| v.is_finite())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn a_number_stands_for_the_range_of_its_precision() {
        let n = parse_number("100").unwrap();
        assert_eq!((n.prefix, n.low, n.high), (Prefix::Eq, 99.5, 100.5));
        let n = parse_number("gt5.4").unwrap();
        assert_eq!(n.prefix, Prefix::Gt);
        assert!(close(n.low, 5.35) && close(n.high, 5.45));
        let n = parse_number("1e2").unwrap();
        assert_eq!((n.value, n.low, n.high), (100.0, 50.0, 150.0));
        let n = parse_number("-0.001").unwrap();
        assert!(close(n.low, -0.0015) && close(n.high, -0.0005));
        for bad in [
            "", "abc", "1.", ".5", "1,5", "zz5", "5e", "1.2.3", "NaN", "inf",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ucum_units_reduce_to_base_units() {
        let (f, u) = base_units("mg").unwrap();
        assert!(close(f, 0.001));
        assert_eq!(u, "g");
        let (f, u) = base_units("mg/dL").unwrap();
        assert!(close(f, 10.0));
        assert_eq!(u, "g.m-3");
        assert_eq!(base_units("%").unwrap().1, "1");
        assert_eq!(base_units("mmol/L").unwrap().1, "m-3.mol");
        assert!(base_units("[IU]").is_none());
        assert!(base_units("Cel").is_none());
    }

    #[test]
    fn milligrams_searched_find_grams_stored() {
        let parts = [UCUM.to_string(), "mg".to_string()];
        let q = parse_quantity("5.4", &parts).unwrap();
        let QuantityUnit::Canonical { unit } = &q.unit else {
            panic!("{q:?}")
        };
        assert_eq!(unit, "g");
        let stored = canonical(0.0054, Some(UCUM), Some("g")).unwrap();
        assert_eq!(stored.unit, "g");
        assert!(q.number.low <= stored.value && stored.value < q.number.high);
        let other = canonical(0.0056, Some(UCUM), Some("g")).unwrap();
        assert!(other.value >= q.number.high);
        assert!(canonical(1.0, Some("http://example.org"), Some("g")).is_none());
        assert!(canonical(1.0, None, Some("g")).is_none());
    }

    #[test]
    fn quantity_units_as_written() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_quantity("5", &[]).unwrap().unit, QuantityUnit::Any);
        assert_eq!(
            parse_quantity("5", &s(&["", ""])).unwrap().unit,
            QuantityUnit::Any
        );
        assert_eq!(
            parse_quantity("5", &s(&["", "mg"])).unwrap().unit,
            QuantityUnit::Code {
                system: None,
                code: "mg".into()
            }
        );
        assert_eq!(
            parse_quantity("5", &s(&["http://x", "pill"])).unwrap().unit,
            QuantityUnit::Code {
                system: Some("http://x".into()),
                code: "pill".into()
            }
        );
        assert_eq!(
            parse_quantity("5", &s(&[UCUM, "[IU]"])).unwrap().unit,
            QuantityUnit::Code {
                system: Some(UCUM.into()),
                code: "[IU]".into()
            }
        );
        assert!(parse_quantity("5", &s(&["http://x", ""])).is_err());
        assert!(parse_quantity("5", &s(&["a", "b", "c"])).is_err());
    }
}
