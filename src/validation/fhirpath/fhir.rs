//! FHIR's additions to FHIRPath: `extension(url)`, `hasValue()`, `getValue()`, `children()`,
//! `descendants()`, `resolve()`, and the calls out to the caller's services (`memberOf`,
//! `conformsTo`); `htmlChecks()` is true here because the narrative rules it stands for (txt-1,
//! txt-2) are applied to every `xhtml` value by the walk's primitive check, which names the
//! rule broken; failing here too would only repeat that as a bare "txt-1 failed".

use serde_json::Value;

use super::EvalError;
use super::ast::{Call, Func};
use super::eval::{Coll, Ctx, Scope};
use super::functions::arg;
use super::value::{self, Item, Node, Prim, Str};
use super::{Env, nav};

pub(crate) fn call<'a>(
    cx: &Ctx<'a, '_>,
    call: &Call,
    focus: &[Item<'a>],
    scope: Scope<'a, '_>,
) -> Result<Coll<'a>, EvalError> {
    use Func as F;
    let model = cx.env.model;
    match call.func {
        F::Children => {
            let mut out = Vec::new();
            for it in focus {
                if let Item::Node(n) = it {
                    nav::children(n, model, &mut out);
                }
            }
            Ok(out)
        }
        F::Descendants => {
            let mut out = Vec::new();
            let mut level: Vec<Item<'a>> = focus.to_vec();
            while !level.is_empty() {
                let mut next = Vec::new();
                for it in &level {
                    if let Item::Node(n) = it {
                        nav::children(n, model, &mut next);
                    }
                }
                out.extend(next.iter().cloned());
                level = next;
            }
            Ok(out)
        }
        F::HasValue => Ok(vec![Item::Boolean(match focus {
            [Item::Node(n)] => n.is_primitive() && n.value.is_some_and(|v| !v.is_null()),
            [one] => !matches!(one.prim(), Prim::Absent | Prim::Complex(_)),
            _ => false,
        })]),
        F::GetValue => Ok(match value::singleton(focus, "getValue()")? {
            Some(Item::Node(n)) if n.is_primitive() => system_value(n).into_iter().collect(),
            Some(Item::Node(_)) | None => Vec::new(),
            Some(other) => vec![other.clone()],
        }),
        F::Extension | F::HasExtension => {
            let url = arg(cx, call, 0, scope)?;
            let Some(url) = value::singleton(&url, "extension()")?.and_then(Item::to_text) else {
                return Ok(Vec::new());
            };
            let mut exts = Vec::new();
            for it in focus {
                if let Item::Node(n) = it {
                    nav::child_items(n, "extension", model, &mut exts);
                }
            }
            let matching = exts.into_iter().filter(|e| {
                e.as_json()
                    .and_then(|v| v.get("url"))
                    .and_then(Value::as_str)
                    .is_some_and(|u| u == url)
            });
            Ok(if call.func == F::HasExtension {
                vec![Item::Boolean(matching.count() > 0)]
            } else {
                matching.collect()
            })
        }
        F::Resolve => {
            let mut out = Vec::new();
            for it in focus {
                if let Some(target) = reference_of(it).and_then(|r| find_target(cx.env, &r)) {
                    out.push(nav::resource_node(target));
                }
            }
            Ok(out)
        }
        F::MemberOf => {
            let vs = arg(cx, call, 0, scope)?;
            let Some(vs) = value::singleton(&vs, "memberOf()")?.and_then(Item::to_text) else {
                return Ok(Vec::new());
            };
            let Some(it) = value::singleton(focus, "memberOf()")? else {
                return Ok(Vec::new());
            };
            let Some(t) = cx.env.terminology else {
                return Err(EvalError::Unsupported(format!(
                    "memberOf('{vs}'): no terminology service"
                )));
            };
            match t.member_of(it, &vs) {
                Some(b) => Ok(vec![Item::Boolean(b)]),
                None => Err(EvalError::Unsupported(format!("memberOf('{vs}')"))),
            }
        }
        F::ConformsTo => {
            let p = arg(cx, call, 0, scope)?;
            let Some(profile) = value::singleton(&p, "conformsTo()")?.and_then(Item::to_text)
            else {
                return Ok(Vec::new());
            };
            let Some(res) = value::singleton(focus, "conformsTo()")?.and_then(Item::as_json) else {
                return Ok(Vec::new());
            };
            match cx
                .env
                .terminology
                .and_then(|t| t.conforms_to(res, &profile))
            {
                Some(b) => Ok(vec![Item::Boolean(b)]),
                None => Err(EvalError::Unsupported(format!("conformsTo('{profile}')"))),
            }
        }
        F::HtmlChecks => Ok(vec![Item::Boolean(true)]),
        _ => Err(EvalError::Unsupported(format!("function {}()", call.name))),
    }
}

/// The System value of a primitive node, borrowing its text.
fn system_value<'a>(n: &Node<'a>) -> Option<Item<'a>> {
    match n.value? {
        Value::String(s) => match Item::Node(n.clone()).prim() {
            Prim::Temp(t) => Some(Item::Temporal(t)),
            _ => Some(Item::String(Str::Borrowed(s))),
        },
        _ => match Item::Node(n.clone()).prim() {
            Prim::Bool(b) => Some(Item::Boolean(b)),
            Prim::Int(i) => Some(Item::Integer(i)),
            Prim::Dec(d) => Some(Item::Decimal(d)),
            _ => None,
        },
    }
}

/// The reference text of a Reference node, or of a uri/canonical/string item.
fn reference_of(it: &Item<'_>) -> Option<String> {
    match it {
        Item::Node(n) => match n.value? {
            Value::Object(o) => o.get("reference")?.as_str().map(str::to_string),
            Value::String(s) => Some(s.clone()),
            _ => None,
        },
        Item::String(s) => Some(s.to_string()),
        _ => None,
    }
}

/// `Type/id` of a relative (or absolute RESTful) reference, ignoring `/_history/…`.
fn type_and_id(reference: &str) -> Option<(&str, &str)> {
    let path = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let mut parts = path.rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    ty.starts_with(|c: char| c.is_ascii_uppercase())
        .then_some((ty, id))
}

fn is_resource(v: &Value, ty: &str, id: &str) -> bool {
    v.get("resourceType").and_then(Value::as_str) == Some(ty)
        && v.get("id").and_then(Value::as_str) == Some(id)
}

/// Finds what `reference` points to among the resources the environment holds.
fn find_target<'a>(env: &Env<'a>, reference: &str) -> Option<&'a Value> {
    if let Some(id) = reference.strip_prefix('#') {
        if id.is_empty() {
            return Some(env.root);
        }
        return [env.resource, env.root].into_iter().find_map(|c| {
            c.get("contained")?
                .as_array()?
                .iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
        });
    }
    let relative = !reference.contains("://") && !reference.starts_with("urn:");
    let tid = type_and_id(reference);
    for holder in [env.root, env.resource] {
        if holder.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            continue;
        }
        let entries = holder.get("entry").and_then(Value::as_array);
        for e in entries.into_iter().flatten() {
            if e.get("fullUrl").and_then(Value::as_str) == Some(reference) {
                return e.get("resource");
            }
        }
        if let (true, Some((ty, id))) = (relative, tid) {
            for e in entries.into_iter().flatten() {
                if let Some(r) = e.get("resource").filter(|r| is_resource(r, ty, id)) {
                    return Some(r);
                }
            }
        }
    }
    let (ty, id) = tid?;
    [env.resource, env.root]
        .into_iter()
        .find(|r| relative && is_resource(r, ty, id))
}
