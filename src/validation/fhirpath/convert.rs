//! Conversion functions (`toX()` and `convertsToX()`) and math functions. A conversion that
//! does not apply gives empty, as FHIRPath specifies, so `convertsToX()` is "toX() is not
//! empty".

use super::EvalError;
use super::ast::{Call, Func};
use super::decimal::Decimal;
use super::eval::{Coll, Ctx, Scope};
use super::functions::arg;
use super::temporal::{Temporal, TemporalKind};
use super::value::{self, Item, Prim, Str};

fn to_boolean(p: Prim<'_>) -> Option<bool> {
    match p {
        Prim::Bool(b) => Some(b),
        Prim::Int(1) => Some(true),
        Prim::Int(0) => Some(false),
        Prim::Dec(d) if d == Decimal::from_i64(1) => Some(true),
        Prim::Dec(d) if d.is_zero() => Some(false),
        Prim::Str(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(true),
            "false" | "f" | "no" | "n" | "0" | "0.0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn to_integer(p: Prim<'_>) -> Option<i64> {
    match p {
        Prim::Int(i) => Some(i),
        Prim::Bool(b) => Some(i64::from(b)),
        Prim::Str(s) if is_integer_text(s) => s.parse().ok(),
        _ => None,
    }
}

fn to_decimal(p: Prim<'_>) -> Option<Decimal> {
    match p {
        Prim::Int(i) => Some(Decimal::from_i64(i)),
        Prim::Dec(d) => Some(d),
        Prim::Bool(b) => Some(Decimal::from_i64(i64::from(b))),
        Prim::Str(s) if !s.contains(['e', 'E']) => Decimal::parse(s),
        _ => None,
    }
}

fn to_temporal(p: Prim<'_>, kind: TemporalKind) -> Option<Temporal> {
    match p {
        Prim::Temp(t) => t.with_kind(kind),
        Prim::Str(s) => match kind {
            TemporalKind::Date => Temporal::parse_date(s),
            TemporalKind::DateTime => Temporal::parse_datetime(s),
            TemporalKind::Time => Temporal::parse_time(s),
        },
        _ => None,
    }
}

/// `5 'mg'`, `5 days` or a bare number (unit `1`).
fn to_quantity(p: Prim<'_>) -> Option<(Decimal, String)> {
    match p {
        Prim::Qty(d, u) => Some((d, u.to_string())),
        Prim::Int(_) | Prim::Dec(_) => Some((to_decimal(p)?, "1".to_string())),
        Prim::Str(s) => {
            let s = s.trim();
            let (num, unit) = match s.find(' ') {
                Some(i) => (&s[..i], s[i + 1..].trim()),
                None => (s, ""),
            };
            let d = Decimal::parse(num)?;
            let unit = if unit.is_empty() {
                "1".to_string()
            } else if let Some(u) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
                u.to_string()
            } else {
                unit.strip_suffix('s').unwrap_or(unit).to_string()
            };
            Some((d, unit))
        }
        _ => None,
    }
}

fn converted<'a>(it: &Item<'a>, func: Func) -> Option<Item<'a>> {
    use Func as F;
    let p = it.prim();
    match func {
        F::ToBoolean | F::ConvertsToBoolean => to_boolean(p).map(Item::Boolean),
        F::ToInteger | F::ConvertsToInteger => to_integer(p).map(Item::Integer),
        F::ToDecimal | F::ConvertsToDecimal => to_decimal(p).map(Item::Decimal),
        F::ToString | F::ConvertsToString => it
            .to_text()
            .map(|t| Item::String(Str::from(t.into_owned()))),
        F::ToDate | F::ConvertsToDate => to_temporal(p, TemporalKind::Date).map(Item::Temporal),
        F::ToDateTime | F::ConvertsToDateTime => {
            to_temporal(p, TemporalKind::DateTime).map(Item::Temporal)
        }
        F::ToTime | F::ConvertsToTime => to_temporal(p, TemporalKind::Time).map(Item::Temporal),
        F::ToQuantity | F::ConvertsToQuantity => {
            to_quantity(p).map(|(d, u)| Item::Quantity(d, Str::from(u)))
        }
        _ => None,
    }
}

pub(crate) fn call<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    let Some(it) = value::singleton(focus, &call.name)? else {
        return Ok(Vec::new());
    };
    let converts = matches!(
        call.func,
        F::ConvertsToBoolean
            | F::ConvertsToInteger
            | F::ConvertsToDecimal
            | F::ConvertsToString
            | F::ConvertsToDate
            | F::ConvertsToDateTime
            | F::ConvertsToTime
            | F::ConvertsToQuantity
    );
    let is_conversion = converts
        || matches!(
            call.func,
            F::ToBoolean
                | F::ToInteger
                | F::ToDecimal
                | F::ToString
                | F::ToDate
                | F::ToDateTime
                | F::ToTime
                | F::ToQuantity
        );
    if is_conversion {
        if matches!(call.func, F::ToQuantity | F::ConvertsToQuantity) && !call.args.is_empty() {
            return Err(EvalError::Unsupported(
                "unit conversion in toQuantity(unit)".into(),
            ));
        }
        let r = converted(it, call.func);
        return Ok(if converts {
            vec![Item::Boolean(r.is_some())]
        } else {
            r.into_iter().collect()
        });
    }
    math(cx, call, it, scope)
}

fn math<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    it: &Item<'a>,
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    let p = it.prim();
    if let (F::Abs, Prim::Qty(d, u)) = (call.func, p) {
        return Ok(vec![Item::Quantity(d.abs(), Str::from(u.to_string()))]);
    }
    let x = match p {
        Prim::Absent => return Ok(Vec::new()),
        Prim::Int(i) => Decimal::from_i64(i),
        Prim::Dec(d) => d,
        _ => return Err(EvalError::Type(format!("{}() needs a number", call.name))),
    };
    let as_int = |d: Decimal| d.to_i64().map(Item::Integer);
    let from_f64 = |f: f64| Decimal::from_f64(f).map(Item::Decimal);
    let number_arg = |i: usize| -> Result<Option<Decimal>, EvalError> {
        let a = arg(cx, call, i, scope)?;
        match value::singleton(&a, &call.name)?.map(Item::prim) {
            None | Some(Prim::Absent) => Ok(None),
            Some(Prim::Int(n)) => Ok(Some(Decimal::from_i64(n))),
            Some(Prim::Dec(d)) => Ok(Some(d)),
            Some(_) => Err(EvalError::Type(format!("{}() needs a number", call.name))),
        }
    };
    let r = match call.func {
        F::Abs => match p {
            Prim::Int(i) => i.checked_abs().map(Item::Integer),
            _ => Some(Item::Decimal(x.abs())),
        },
        F::Ceiling => as_int(x.ceiling()),
        F::Floor => as_int(x.floor()),
        F::Truncate => as_int(x.truncate()),
        F::Round => {
            let digits = if call.args.is_empty() {
                0
            } else {
                match number_arg(0)?.and_then(|d| d.to_i64()) {
                    Some(n) if n >= 0 => u32::try_from(n).unwrap_or(u32::MAX),
                    Some(_) => {
                        return Err(EvalError::Type("round() needs a precision >= 0".into()));
                    }
                    None => return Ok(Vec::new()),
                }
            };
            Some(Item::Decimal(x.round(digits)))
        }
        F::Sqrt if x.cmp_value(&Decimal::default()).is_lt() => None,
        F::Sqrt => from_f64(x.to_f64().sqrt()),
        F::Exp => from_f64(x.to_f64().exp()),
        F::Ln if x.cmp_value(&Decimal::default()).is_le() => None,
        F::Ln => from_f64(x.to_f64().ln()),
        F::Log => match number_arg(0)? {
            Some(b) => from_f64(x.to_f64().log(b.to_f64())),
            None => None,
        },
        F::Power => match number_arg(0)? {
            Some(e) => match (p, e.to_i64()) {
                (Prim::Int(i), Some(n)) if n >= 0 => u32::try_from(n)
                    .ok()
                    .and_then(|n| i.checked_pow(n))
                    .map(Item::Integer),
                _ => from_f64(x.to_f64().powf(e.to_f64())),
            },
            None => None,
        },
        _ => return Err(EvalError::Unsupported(format!("function {}()", call.name))),
    };
    Ok(r.into_iter().collect())
}
