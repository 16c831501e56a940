//! The evaluator: paths, variables, indexers and operators over collections, with FHIRPath's
//! empty propagation, singleton rules and three-valued logic. Functions live in `functions`.

use std::cmp::Ordering;

use super::ast::{Ast, BinOp, TypeOp};
use super::decimal::Decimal;
use super::value::{self, Item, Prim, Str};
use super::{Env, EvalError, nav, ucum, unit_product};

/// What stays fixed during one evaluation.
pub(crate) struct Ctx<'a, 'e> {
    pub env: &'e Env<'a>,
    /// `%context`: the focus the evaluation started from.
    pub context: &'e [Item<'a>],
}

/// The iteration variables in force.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a, 's> {
    pub this: Option<&'s Item<'a>>,
    pub index: Option<usize>,
    pub total: Option<&'s [Item<'a>]>,
}

pub(crate) type Coll<'a> = Vec<Item<'a>>;

fn arith_err(op: &str, a: &Item<'_>, b: &Item<'_>) -> EvalError {
    EvalError::Type(format!(
        "cannot apply '{op}' to {} and {}",
        a.type_name().unwrap_or("an untyped value"),
        b.type_name().unwrap_or("an untyped value")
    ))
}

impl<'a, 'e> Ctx<'a, 'e> {
    pub(crate) fn new(env: &'e Env<'a>, context: &'e [Item<'a>]) -> Self {
        Ctx { env, context }
    }

    pub(crate) fn eval_root(&self, ast: &Ast, focus: &[Item<'a>]) -> Result<Coll<'a>, EvalError> {
        let scope = Scope {
            this: match focus {
                [one] => Some(one),
                _ => None,
            },
            index: None,
            total: None,
        };
        self.eval(ast, focus, scope)
    }

    pub(crate) fn eval(
        &self,
        ast: &Ast,
        input: &[Item<'a>],
        scope: Scope<'a, '_>,
    ) -> Result<Coll<'a>, EvalError> {
        match ast {
            Ast::Empty => Ok(Vec::new()),
            Ast::Literal(item) => Ok(vec![item.clone()]),
            Ast::Ident(name) => Ok(self.member(input, name, true)),
            Ast::This => Ok(scope.this.into_iter().cloned().collect()),
            Ast::Index => Ok(scope
                .index
                .and_then(|i| i64::try_from(i).ok())
                .map(Item::Integer)
                .into_iter()
                .collect()),
            Ast::Total => Ok(scope.total.map(<[Item<'a>]>::to_vec).unwrap_or_default()),
            Ast::Var(name) => self.variable(name),
            Ast::Member(target, name) => {
                let base = self.eval(target, input, scope)?;
                Ok(self.member(&base, name, false))
            }
            Ast::Invoke(target, call) => match target {
                Some(t) => {
                    let base = self.eval(t, input, scope)?;
                    super::functions::call(self, call, &base, scope)
                }
                None => super::functions::call(self, call, input, scope),
            },
            Ast::Indexer(target, index) => {
                let base = self.eval(target, input, scope)?;
                let idx = self.eval(index, input, scope)?;
                let i = match value::singleton(&idx, "an indexer")?.map(Item::prim) {
                    None => return Ok(Vec::new()),
                    Some(Prim::Int(i)) => i,
                    Some(_) => return Err(EvalError::Type("an index must be an integer".into())),
                };
                Ok(usize::try_from(i)
                    .ok()
                    .and_then(|i| base.into_iter().nth(i))
                    .into_iter()
                    .collect())
            }
            Ast::Negate(inner) => {
                let v = self.eval(inner, input, scope)?;
                let Some(it) = value::singleton(&v, "unary '-'")? else {
                    return Ok(Vec::new());
                };
                Ok(vec![match it.prim() {
                    Prim::Int(i) => Item::Integer(-i),
                    Prim::Dec(d) => Item::Decimal(d.neg()),
                    Prim::Qty(d, u) => Item::Quantity(d.neg(), Str::from(u.to_string())),
                    Prim::Absent => return Ok(Vec::new()),
                    _ => return Err(EvalError::Type("unary '-' needs a number".into())),
                }])
            }
            Ast::TypeOp(op, inner, spec) => {
                let v = self.eval(inner, input, scope)?;
                match op {
                    TypeOp::Is => Ok(match value::singleton(&v, "'is'")? {
                        None => Vec::new(),
                        Some(it) => vec![Item::Boolean(nav::is_type(it, spec))],
                    }),
                    TypeOp::As => {
                        self.check_as_input(&v)?;
                        Ok(v.into_iter().filter(|i| nav::is_type(i, spec)).collect())
                    }
                }
            }
            Ast::TypeName(spec) => Err(EvalError::Type(format!(
                "type name '{}' used as a value",
                spec.name
            ))),
            Ast::Binary(op, l, r) => self.binary(*op, l, r, input, scope),
        }
    }

    /// `as` takes one item (FHIRPath N1); outside strict mode several are filtered, as the
    /// reference validators do and R4's own invariants rely on (`descendants().as(canonical)`).
    /// A single item of another type gives empty either way.
    pub(crate) fn check_as_input(&self, input: &[Item<'a>]) -> Result<(), EvalError> {
        if self.env.strict && input.len() > 1 {
            return Err(EvalError::Type(format!(
                "'as' expects a single item, got {}",
                input.len()
            )));
        }
        Ok(())
    }

    /// Children named `name` of every item; at the start of a path a type name selects the
    /// focus itself.
    pub(crate) fn member(&self, input: &[Item<'a>], name: &str, at_start: bool) -> Coll<'a> {
        let mut out = Vec::new();
        for item in input {
            match item {
                _ if at_start && nav::names_type_of(item, name) => out.push(item.clone()),
                Item::Node(n) => nav::child_items(n, name, self.env.model, &mut out),
                Item::Type(t) => match name {
                    "namespace" => out.push(Item::String(Str::Borrowed(t.namespace))),
                    "name" => out.push(Item::String(t.name.clone())),
                    _ => {}
                },
                _ => {}
            }
        }
        out
    }

    fn variable(&self, name: &str) -> Result<Coll<'a>, EvalError> {
        let s = |v: Str<'a>| Ok(vec![Item::String(v)]);
        match name {
            "resource" => Ok(vec![nav::resource_node(self.env.resource)]),
            "rootResource" => Ok(vec![nav::resource_node(self.env.root)]),
            "context" => Ok(self.context.to_vec()),
            "ucum" => s(Str::Borrowed("http://unitsofmeasure.org")),
            "sct" => s(Str::Borrowed("http://snomed.info/sct")),
            "loinc" => s(Str::Borrowed("http://loinc.org")),
            n => {
                if let Some(vs) = n.strip_prefix("vs-") {
                    s(Str::from(format!("http://hl7.org/fhir/ValueSet/{vs}")))
                } else if let Some(ext) = n.strip_prefix("ext-") {
                    s(Str::from(format!(
                        "http://hl7.org/fhir/StructureDefinition/{ext}"
                    )))
                } else {
                    Err(EvalError::Unsupported(format!("variable %{n}")))
                }
            }
        }
    }

    fn binary(
        &self,
        op: BinOp,
        l: &Ast,
        r: &Ast,
        input: &[Item<'a>],
        scope: Scope<'a, '_>,
    ) -> Result<Coll<'a>, EvalError> {
        let bool_out = |b: Option<bool>| Ok(b.map(Item::Boolean).into_iter().collect());
        // Logic operators decide from the left operand alone when they can.
        match op {
            BinOp::And | BinOp::Or | BinOp::Implies | BinOp::Xor => {
                let a = value::singleton_bool(&self.eval(l, input, scope)?)?;
                let decided = match (op, a) {
                    (BinOp::And, Some(false)) => Some(false),
                    (BinOp::Or, Some(true)) => Some(true),
                    (BinOp::Implies, Some(false)) => Some(true),
                    _ => None,
                };
                if decided.is_some() {
                    return bool_out(decided);
                }
                let b = value::singleton_bool(&self.eval(r, input, scope)?)?;
                return bool_out(match op {
                    BinOp::And => match (a, b) {
                        (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    },
                    BinOp::Or => match (a, b) {
                        (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    BinOp::Implies => match (a, b) {
                        (_, Some(true)) => Some(true),
                        (Some(true), Some(false)) => Some(false),
                        _ => None,
                    },
                    _ => a.zip(b).map(|(x, y)| x != y),
                });
            }
            _ => {}
        }
        let a = self.eval(l, input, scope)?;
        let b = self.eval(r, input, scope)?;
        match op {
            BinOp::Union => {
                let mut all = a;
                all.extend(b);
                Ok(value::dedup(all))
            }
            BinOp::Eq | BinOp::Ne => {
                let eq = collections_equal(&a, &b);
                bool_out(if op == BinOp::Eq { eq } else { eq.map(|e| !e) })
            }
            BinOp::Equiv | BinOp::NotEquiv => {
                let eq = collections_equivalent(&a, &b);
                bool_out(Some(if op == BinOp::Equiv { eq } else { !eq }))
            }
            BinOp::In | BinOp::Contains => {
                let (elem, coll) = if op == BinOp::In { (&a, &b) } else { (&b, &a) };
                match value::singleton(elem, "'in'/'contains'")? {
                    None => Ok(Vec::new()),
                    Some(x) => {
                        bool_out(Some(coll.iter().any(|c| value::equal(x, c) == Some(true))))
                    }
                }
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                let (Some(x), Some(y)) = (
                    value::singleton(&a, "a comparison")?,
                    value::singleton(&b, "a comparison")?,
                ) else {
                    return Ok(Vec::new());
                };
                bool_out(value::compare(x, y)?.map(|o| match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Gt => o == Ordering::Greater,
                    BinOp::Le => o != Ordering::Greater,
                    _ => o != Ordering::Less,
                }))
            }
            BinOp::Concat => {
                let text = |c: &Coll<'a>| -> Result<String, EvalError> {
                    Ok(value::singleton(c, "'&'")?
                        .and_then(Item::to_text)
                        .map(|t| t.into_owned())
                        .unwrap_or_default())
                };
                let s = text(&a)? + &text(&b)?;
                Ok(vec![Item::String(Str::from(s))])
            }
            _ => {
                let (Some(x), Some(y)) = (
                    value::singleton(&a, "an arithmetic operator")?,
                    value::singleton(&b, "an arithmetic operator")?,
                ) else {
                    return Ok(Vec::new());
                };
                Ok(arithmetic(op, x, y)?.into_iter().collect())
            }
        }
    }
}

fn collections_equal(a: &[Item<'_>], b: &[Item<'_>]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() != b.len() {
        return Some(false);
    }
    let mut result = Some(true);
    for (x, y) in a.iter().zip(b) {
        match value::equal(x, y) {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

fn collections_equivalent(a: &[Item<'_>], b: &[Item<'_>]) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| b.iter().any(|y| value::equivalent(x, y)))
        && b.iter().all(|y| a.iter().any(|x| value::equivalent(x, y)))
}

fn num(p: &Prim<'_>) -> Option<Decimal> {
    match p {
        Prim::Int(i) => Some(Decimal::from_i64(*i)),
        Prim::Dec(d) => Some(*d),
        _ => None,
    }
}

/// `+ - * / div mod` on single items; `Ok(None)` is the empty result (division by zero,
/// overflow, a value-less primitive).
fn arithmetic<'a>(op: BinOp, x: &Item<'a>, y: &Item<'a>) -> Result<Option<Item<'a>>, EvalError> {
    let (px, py) = (x.prim(), y.prim());
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::IntDiv => "div",
        _ => "mod",
    };
    Ok(match (px, py) {
        (Prim::Absent, _) | (_, Prim::Absent) => None,
        (Prim::Int(a), Prim::Int(b)) if op != BinOp::Div => match op {
            BinOp::Add => a.checked_add(b).map(Item::Integer),
            BinOp::Sub => a.checked_sub(b).map(Item::Integer),
            BinOp::Mul => a.checked_mul(b).map(Item::Integer),
            BinOp::IntDiv => a.checked_div(b).map(Item::Integer),
            _ => a.checked_rem(b).map(Item::Integer),
        },
        (Prim::Str(a), Prim::Str(b)) if op == BinOp::Add => {
            Some(Item::String(Str::from(format!("{a}{b}"))))
        }
        (Prim::Temp(t), Prim::Qty(d, u)) if matches!(op, BinOp::Add | BinOp::Sub) => {
            let n = d.trunc_i64().ok_or_else(|| arith_err(sym, x, y))?;
            let n = if op == BinOp::Sub { -n } else { n };
            Some(Item::Temporal(
                t.add(n, u).ok_or_else(|| arith_err(sym, x, y))?,
            ))
        }
        (Prim::Qty(a, u), Prim::Qty(b, v)) if matches!(op, BinOp::Add | BinOp::Sub) => {
            // Units of one kind add once `b` is in `a`'s unit; others give no sum.
            let b = if u == v {
                Some(b)
            } else {
                ucum::convert(b, v, u)
            };
            let Some(b) = b else {
                return Ok(None);
            };
            let r = if op == BinOp::Add {
                a.add(&b)
            } else {
                a.sub(&b)
            };
            r.map(|d| Item::Quantity(d, Str::from(u.to_string())))
        }
        (Prim::Qty(a, u), Prim::Qty(b, v)) if matches!(op, BinOp::Mul | BinOp::Div) => {
            unit_product::product(a, u, b, v, op == BinOp::Div)
                .map(|(d, unit)| Item::Quantity(d, Str::from(unit)))
        }
        (other, Prim::Qty(b, v)) if op == BinOp::Div => {
            let n = num(&other).ok_or_else(|| arith_err(sym, x, y))?;
            unit_product::product(n, "1", b, v, true)
                .map(|(d, unit)| Item::Quantity(d, Str::from(unit)))
        }
        (Prim::Qty(a, u), other) | (other, Prim::Qty(a, u)) if op == BinOp::Mul => {
            let n = num(&other).ok_or_else(|| arith_err(sym, x, y))?;
            a.mul(&n)
                .map(|d| Item::Quantity(d, Str::from(u.to_string())))
        }
        (Prim::Qty(a, u), other) if op == BinOp::Div => {
            let n = num(&other).ok_or_else(|| arith_err(sym, x, y))?;
            a.div(&n)
                .map(|d| Item::Quantity(d, Str::from(u.to_string())))
        }
        _ => {
            let (Some(a), Some(b)) = (num(&px), num(&py)) else {
                return Err(arith_err(sym, x, y));
            };
            match op {
                BinOp::Add => a.add(&b).map(Item::Decimal),
                BinOp::Sub => a.sub(&b).map(Item::Decimal),
                BinOp::Mul => a.mul(&b).map(Item::Decimal),
                BinOp::Div => a.div(&b).map(Item::Decimal),
                BinOp::IntDiv => a
                    .div_trunc(&b)
                    .and_then(|q| i64::try_from(q).ok())
                    .map(Item::Integer),
                _ => a.rem(&b).map(Item::Decimal),
            }
        }
    })
}
