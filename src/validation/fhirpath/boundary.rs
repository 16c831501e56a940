//! The functions about a value's precision: `precision()`, `lowBoundary()` and
//! `highBoundary()` (the range a decimal, quantity or partial date/time may stand for), and
//! `comparable()` for quantities. FHIRPath 2.0 functions that FHIR invariants written for
//! newer engines use, e.g. `start.lowBoundary() <= end.highBoundary()` for a Period.

use super::EvalError;
use super::ast::{Call, Func};
use super::decimal::Decimal;
use super::eval::Coll;
use super::ucum;
use super::value::{self, Item, Prim, Str};

/// Digits a decimal boundary has when none are asked for.
const DEFAULT_DECIMAL_DIGITS: i64 = 8;
/// More digits than a decimal holds make the boundary empty.
const MAX_DECIMAL_DIGITS: i64 = 28;

/// The function `call` on `it`, the single item of its input, with its evaluated argument.
pub(crate) fn apply<'a>(
    call: &Call,
    it: &Item<'a>,
    argument: Option<&[Item<'a>]>,
) -> Result<Coll<'a>, EvalError> {
    let p = it.prim();
    let single = value::singleton(argument.unwrap_or_default(), &call.name)?;
    if call.func == Func::Comparable {
        let Some(o) = single else {
            return Ok(Vec::new());
        };
        return match (p, o.prim()) {
            (Prim::Qty(_, u), Prim::Qty(_, v)) => Ok(vec![Item::Boolean(
                u == v
                    || ucum::comparable_values(Decimal::default(), u, Decimal::default(), v)
                        .is_some(),
            )]),
            _ => Err(EvalError::Type(
                "comparable() compares two quantities".into(),
            )),
        };
    }
    if call.func == Func::Precision {
        let digits = match p {
            Prim::Dec(d) => d.scale(),
            Prim::Int(_) => 0,
            Prim::Temp(t) => t.precision_digits(),
            Prim::Absent => return Ok(Vec::new()),
            _ => return Err(needs(call)),
        };
        return Ok(vec![Item::Integer(i64::from(digits))]);
    }
    let high = call.func == Func::HighBoundary;
    let digits = match (argument, single.map(Item::prim)) {
        (None, _) => None,
        (Some(_), Some(Prim::Int(n))) => Some(n),
        (Some(_), None | Some(Prim::Absent)) => return Ok(Vec::new()),
        (Some(_), Some(_)) => {
            return Err(EvalError::Type(format!(
                "{}() needs an integer argument",
                call.name
            )));
        }
    };
    let decimal = |d: Decimal| -> Option<Decimal> {
        // "At least 8" digits by default, and enough to keep the exact boundary of a value
        // written with more: 1.123456789 stands for 1.1234567885 to 1.1234567895.
        let digits = digits.unwrap_or_else(|| {
            DEFAULT_DECIMAL_DIGITS
                .max(i64::from(d.scale()) + 1)
                .min(MAX_DECIMAL_DIGITS)
        });
        if !(0..=MAX_DECIMAL_DIGITS).contains(&digits) {
            return None;
        }
        // Half a unit of the last written digit either way, then rounded outward.
        let half = Decimal::parse(&format!("5e-{}", d.scale() + 1))?;
        let edge = if high { d.add(&half)? } else { d.sub(&half)? };
        edge.round_toward(u32::try_from(digits).ok()?, high)
    };
    let out = match p {
        Prim::Int(i) => decimal(Decimal::from_i64(i)).map(Item::Decimal),
        Prim::Dec(d) => decimal(d).map(Item::Decimal),
        Prim::Qty(d, u) => decimal(d).map(|b| Item::Quantity(b, Str::from(u.to_string()))),
        Prim::Temp(t) => {
            let digits =
                digits.map_or(Some(default_temporal_digits(&t)), |n| u32::try_from(n).ok());
            digits.and_then(|n| t.boundary(n, high)).map(Item::Temporal)
        }
        Prim::Absent => None,
        _ => return Err(needs(call)),
    };
    Ok(out.into_iter().collect())
}

fn default_temporal_digits(t: &super::temporal::Temporal) -> u32 {
    match t.kind {
        super::temporal::TemporalKind::Date => 8,
        super::temporal::TemporalKind::DateTime => 17,
        super::temporal::TemporalKind::Time => 9,
    }
}

fn needs(call: &Call) -> EvalError {
    EvalError::Type(format!(
        "{}() applies to a decimal, quantity, date, date-time or time",
        call.name
    ))
}
