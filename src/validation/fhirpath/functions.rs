//! The function library's dispatch, and the collection functions: existence, filtering and
//! projection, subsetting, combining, `iif`, `not`, `trace`, `aggregate`, clock functions.
//! String, conversion/math and FHIR-specific functions live in `strings`, `convert`, `fhir`.

use std::cmp::Ordering;

use super::EvalError;
use super::ast::{Ast, Call, Func};
use super::eval::{Coll, Ctx, Scope};
use super::temporal::{Temporal, TemporalKind};
use super::value::{self, Item, Prim, Str, TypeInfo};
use super::{boundary, convert, fhir, nav, strings};

/// The argument's syntax tree (arity was checked when parsing).
pub(crate) fn arg_ast(call: &Call, i: usize) -> Result<&Ast, EvalError> {
    call.args
        .get(i)
        .ok_or_else(|| EvalError::Type(format!("{}() is missing argument {}", call.name, i + 1)))
}

/// Evaluates a plain (non-iterating) argument: relative to `$this`, or the evaluation's focus
/// outside any iteration.
pub(crate) fn arg<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    i: usize,
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    let input = match scope.this {
        Some(t) => std::slice::from_ref(t),
        None => cx.context,
    };
    cx.eval(arg_ast(call, i)?, input, scope)
}

/// A plain argument that must be a single integer (`skip`, `take`, `substring`).
pub(crate) fn int_arg<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    i: usize,
    scope: Scope<'a, '_>,
) -> Result<Option<i64>, EvalError> {
    let v = arg(cx, call, i, scope)?;
    match value::singleton(&v, &call.name)?.map(Item::prim) {
        None | Some(Prim::Absent) => Ok(None),
        Some(Prim::Int(n)) => Ok(Some(n)),
        Some(_) => Err(EvalError::Type(format!(
            "{}() needs an integer argument",
            call.name
        ))),
    }
}

/// Evaluates `ast` once per item with `$this`/`$index` bound.
fn per_item<'a>(
    cx: &Ctx<'a, '_>,
    ast: &Ast,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
    mut f: impl FnMut(&Item<'a>, Coll<'a>) -> Result<bool, EvalError>,
) -> Result<(), EvalError> {
    for (i, item) in focus.iter().enumerate() {
        let s = Scope {
            this: Some(item),
            index: Some(i),
            total: scope.total,
        };
        let r = cx.eval(ast, std::slice::from_ref(item), s)?;
        if !f(item, r)? {
            break;
        }
    }
    Ok(())
}

/// `sort(key, -key…)`: stable; a key written with a leading `-` sorts descending, and without
/// keys the items sort by themselves. Empty keys sort first; keys that cannot be ordered
/// against each other (different precision) keep the items' relative order.
fn sort<'a>(
    cx: &Ctx<'a, '_>,
    args: &[Ast],
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    let keys: Vec<(&Ast, bool)> = args
        .iter()
        .map(|a| match a {
            Ast::Negate(inner) => (&**inner, true),
            a => (a, false),
        })
        .collect();
    let mut keyed: Vec<(Vec<Option<Item<'a>>>, Item<'a>)> = focus
        .iter()
        .map(|it| {
            let own = keys.is_empty().then(|| it.clone());
            (own.into_iter().map(Some).collect(), it.clone())
        })
        .collect();
    for (ast, _) in &keys {
        let mut row = keyed.iter_mut();
        per_item(cx, ast, focus, scope, |_, r| {
            if let Some((ks, _)) = row.next() {
                ks.push(value::singleton(&r, "a sort key")?.cloned());
            }
            Ok(true)
        })?;
    }
    let mut failure = None;
    keyed.sort_by(|(ka, _), (kb, _)| {
        for (i, (x, y)) in ka.iter().zip(kb).enumerate() {
            let o = match (x, y) {
                (Some(x), Some(y)) => match value::compare(x, y) {
                    Ok(o) => o.unwrap_or(Ordering::Equal),
                    Err(e) => {
                        failure.get_or_insert(e);
                        Ordering::Equal
                    }
                },
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let descending = keys.get(i).is_some_and(|(_, d)| *d);
            let o = if descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(keyed.into_iter().map(|(_, it)| it).collect()),
    }
}

/// `iif`'s criterion is a Boolean or empty: unlike singleton evaluation elsewhere, a single
/// string or number is an error, not `true` (FHIRPath N1, `iif`).
fn iif_criterion(crit: &[Item<'_>]) -> Result<Option<bool>, EvalError> {
    let Some(it) = value::singleton(crit, "the iif() criterion")? else {
        return Ok(None);
    };
    match it.prim() {
        Prim::Bool(b) => Ok(Some(b)),
        Prim::Absent => Ok(None),
        _ => Err(EvalError::Type(format!(
            "the iif() criterion must be a Boolean, not {}",
            it.type_name().unwrap_or("an untyped value")
        ))),
    }
}

/// `type()`: FHIR types for elements of the instance, System types for computed values.
fn type_info<'a>(it: &Item<'a>) -> Result<Item<'a>, EvalError> {
    let (namespace, name) = match it {
        Item::Node(n) => {
            let name = match (&n.ty, nav::json_primitive_type(n.value)) {
                (Some(t), _) => t.clone(),
                (None, Some(t)) => Str::Borrowed(t),
                (None, None) => {
                    return Err(EvalError::Unsupported(
                        "type() of an element whose type neither the model nor the JSON shows"
                            .into(),
                    ));
                }
            };
            ("FHIR", name)
        }
        Item::Boolean(_) => ("System", Str::Borrowed("Boolean")),
        Item::String(_) => ("System", Str::Borrowed("String")),
        Item::Integer(_) => ("System", Str::Borrowed("Integer")),
        Item::Decimal(_) => ("System", Str::Borrowed("Decimal")),
        Item::Quantity(..) => ("System", Str::Borrowed("Quantity")),
        Item::Temporal(t) => (
            "System",
            Str::Borrowed(match t.kind {
                TemporalKind::Date => "Date",
                TemporalKind::DateTime => "DateTime",
                TemporalKind::Time => "Time",
            }),
        ),
        Item::Type(_) => ("System", Str::Borrowed("TypeInfo")),
    };
    Ok(Item::Type(TypeInfo { namespace, name }))
}

fn boolean<'a>(b: bool) -> Result<Coll<'a>, EvalError> {
    Ok(vec![Item::Boolean(b)])
}

fn contains_item(coll: &[Item<'_>], x: &Item<'_>) -> bool {
    coll.iter().any(|c| value::same_item(c, x))
}

pub(crate) fn call<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    match call.func {
        F::Unknown => Err(EvalError::Unsupported(format!("function {}()", call.name))),
        F::StartsWith
        | F::EndsWith
        | F::Contains
        | F::Matches
        | F::MatchesFull
        | F::ReplaceMatches
        | F::IndexOf
        | F::Substring
        | F::Length
        | F::Upper
        | F::Lower
        | F::Replace
        | F::Split
        | F::Trim
        | F::Join
        | F::ToChars
        | F::Encode
        | F::Decode
        | F::Escape
        | F::Unescape => strings::call(cx, call, focus, scope),
        F::Precision | F::LowBoundary | F::HighBoundary | F::Comparable => {
            let Some(it) = value::singleton(focus, &call.name)? else {
                return Ok(Vec::new());
            };
            let argument = match call.args.is_empty() {
                true => None,
                false => Some(arg(cx, call, 0, scope)?),
            };
            boundary::apply(call, it, argument.as_deref())
        }
        F::ToBoolean
        | F::ConvertsToBoolean
        | F::ToInteger
        | F::ConvertsToInteger
        | F::ToDecimal
        | F::ConvertsToDecimal
        | F::ToString
        | F::ConvertsToString
        | F::ToDate
        | F::ConvertsToDate
        | F::ToDateTime
        | F::ConvertsToDateTime
        | F::ToTime
        | F::ConvertsToTime
        | F::ToQuantity
        | F::ConvertsToQuantity
        | F::Abs
        | F::Ceiling
        | F::Floor
        | F::Round
        | F::Sqrt
        | F::Truncate
        | F::Exp
        | F::Ln
        | F::Log
        | F::Power => convert::call(cx, call, focus, scope),
        F::Children
        | F::Descendants
        | F::HasValue
        | F::GetValue
        | F::Resolve
        | F::Extension
        | F::HasExtension
        | F::MemberOf
        | F::ConformsTo
        | F::HtmlChecks => fhir::call(cx, call, focus, scope),
        _ => collection_fn(cx, call, focus, scope),
    }
}

fn collection_fn<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    match call.func {
        F::Empty => boolean(focus.is_empty()),
        F::Exists if call.args.is_empty() => boolean(!focus.is_empty()),
        F::Exists => {
            let mut found = false;
            per_item(cx, arg_ast(call, 0)?, focus, scope, |_, r| {
                found = value::singleton_bool(&r)? == Some(true);
                Ok(!found)
            })?;
            boolean(found)
        }
        F::All => {
            let mut all = true;
            per_item(cx, arg_ast(call, 0)?, focus, scope, |_, r| {
                all = value::singleton_bool(&r)? == Some(true);
                Ok(all)
            })?;
            boolean(all)
        }
        F::AllTrue | F::AnyTrue | F::AllFalse | F::AnyFalse => {
            let want = matches!(call.func, F::AllTrue | F::AnyTrue);
            let mut hits = 0;
            for it in focus {
                match it.prim() {
                    Prim::Bool(b) if b == want => hits += 1,
                    Prim::Bool(_) | Prim::Absent => {}
                    _ => return Err(EvalError::Type(format!("{}() needs booleans", call.name))),
                }
            }
            boolean(if matches!(call.func, F::AllTrue | F::AllFalse) {
                hits == focus.len()
            } else {
                hits > 0
            })
        }
        F::SubsetOf | F::SupersetOf => {
            let other = arg(cx, call, 0, scope)?;
            let (small, big) = if call.func == F::SubsetOf {
                (focus, &other[..])
            } else {
                (&other[..], focus)
            };
            boolean(small.iter().all(|x| contains_item(big, x)))
        }
        F::Count => Ok(vec![Item::Integer(
            i64::try_from(focus.len()).unwrap_or(i64::MAX),
        )]),
        F::Distinct => Ok(value::dedup(focus.to_vec())),
        F::IsDistinct => boolean(value::dedup(focus.to_vec()).len() == focus.len()),
        F::Where => {
            let mut out = Vec::new();
            per_item(cx, arg_ast(call, 0)?, focus, scope, |item, r| {
                if value::singleton_bool(&r)? == Some(true) {
                    out.push(item.clone());
                }
                Ok(true)
            })?;
            Ok(out)
        }
        F::Select => {
            let mut out = Vec::new();
            per_item(cx, arg_ast(call, 0)?, focus, scope, |_, r| {
                out.extend(r);
                Ok(true)
            })?;
            Ok(out)
        }
        F::Repeat => {
            let ast = arg_ast(call, 0)?;
            let mut out: Coll<'a> = Vec::new();
            let mut queue = focus.to_vec();
            while !queue.is_empty() {
                let mut next = Vec::new();
                per_item(cx, ast, &queue, scope, |_, r| {
                    for x in r {
                        if !contains_item(&out, &x) {
                            out.push(x.clone());
                            next.push(x);
                        }
                    }
                    Ok(true)
                })?;
                queue = next;
            }
            Ok(out)
        }
        F::OfType | F::As => {
            let Ast::TypeName(spec) = arg_ast(call, 0)? else {
                return Err(EvalError::Type(format!(
                    "{}() needs a type name",
                    call.name
                )));
            };
            if call.func == F::As {
                cx.check_as_input(focus)?;
            }
            Ok(focus
                .iter()
                .filter(|i| nav::is_type(i, spec))
                .cloned()
                .collect())
        }
        F::Is => {
            let Ast::TypeName(spec) = arg_ast(call, 0)? else {
                return Err(EvalError::Type("is() needs a type name".into()));
            };
            Ok(match value::singleton(focus, "is()")? {
                None => Vec::new(),
                Some(it) => vec![Item::Boolean(nav::is_type(it, spec))],
            })
        }
        F::First => Ok(focus.first().cloned().into_iter().collect()),
        F::Last => Ok(focus.last().cloned().into_iter().collect()),
        F::Tail => Ok(focus.iter().skip(1).cloned().collect()),
        F::Skip | F::Take => {
            let n = int_arg(cx, call, 0, scope)?.unwrap_or(0).max(0);
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            Ok(if call.func == F::Skip {
                focus.iter().skip(n).cloned().collect()
            } else {
                focus.iter().take(n).cloned().collect()
            })
        }
        F::Single => Ok(value::singleton(focus, "single()")?
            .cloned()
            .into_iter()
            .collect()),
        F::Union | F::Combine => {
            let mut all = focus.to_vec();
            all.extend(arg(cx, call, 0, scope)?);
            Ok(if call.func == F::Union {
                value::dedup(all)
            } else {
                all
            })
        }
        F::Intersect => {
            let other = arg(cx, call, 0, scope)?;
            let hits = focus
                .iter()
                .filter(|x| contains_item(&other, x))
                .cloned()
                .collect();
            Ok(value::dedup(hits))
        }
        F::Exclude => {
            let other = arg(cx, call, 0, scope)?;
            Ok(focus
                .iter()
                .filter(|x| !contains_item(&other, x))
                .cloned()
                .collect())
        }
        F::Iif => {
            if focus.len() > 1 {
                return Err(EvalError::Type(format!(
                    "iif() applies to one item at most, got {}",
                    focus.len()
                )));
            }
            // Criterion and results are evaluated on the input collection (`x.iif(empty(), …)`).
            let s = Scope {
                this: match focus {
                    [one] => Some(one),
                    _ => scope.this,
                },
                ..scope
            };
            let crit = cx.eval(arg_ast(call, 0)?, focus, s)?;
            if iif_criterion(&crit)? == Some(true) {
                cx.eval(arg_ast(call, 1)?, focus, s)
            } else if call.args.len() > 2 {
                cx.eval(arg_ast(call, 2)?, focus, s)
            } else {
                Ok(Vec::new())
            }
        }
        F::Not => Ok(value::singleton_bool(focus)?
            .map(|b| Item::Boolean(!b))
            .into_iter()
            .collect()),
        // Logging is the caller's business; the projection is not evaluated.
        F::Trace => Ok(focus.to_vec()),
        F::Type => focus.iter().map(type_info).collect(),
        F::Sort => sort(cx, &call.args, focus, scope),
        F::Today => Ok(vec![Item::Temporal(Temporal::today())]),
        F::Now => Ok(vec![Item::Temporal(Temporal::now())]),
        F::TimeOfDay => Ok(vec![Item::Temporal(Temporal::time_of_day())]),
        F::Aggregate => {
            let ast = arg_ast(call, 0)?;
            let mut total = if call.args.len() > 1 {
                arg(cx, call, 1, scope)?
            } else {
                Vec::new()
            };
            for (i, item) in focus.iter().enumerate() {
                let s = Scope {
                    this: Some(item),
                    index: Some(i),
                    total: Some(&total),
                };
                total = cx.eval(ast, std::slice::from_ref(item), s)?;
            }
            Ok(total)
        }
        _ => Err(EvalError::Unsupported(format!("function {}()", call.name))),
    }
}
