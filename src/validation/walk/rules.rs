//! Rules beyond structure: FHIRPath invariants (an expression that cannot be evaluated is a
//! counted warning, never a pass) and terminology bindings through [`BindingCheck`].

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::super::binding_check::{BindingCheck, CodedPart, CodedValue, Membership};
use super::super::fhirpath::{Env, Item as PathItem, Terminology, evaluate_bool};
use super::plan::{Invariant, Plan};
use super::walker::{Item, Walker};
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::messages::{ConformanceMessage as M, ValidationMessage};
use crate::model::{BindingStrength, Severity};

/// `memberOf()` in invariants answered by the binding check; "unknown" stays unsupported.
struct Members<'a>(&'a dyn BindingCheck);

impl Terminology for Members<'_> {
    fn member_of(&self, item: &PathItem<'_>, value_set: &str) -> Option<bool> {
        let codes: Vec<CodedValue<'_>> = match item {
            PathItem::String(s) => vec![CodedValue {
                system: None,
                version: None,
                code: s,
                display: None,
            }],
            PathItem::Node(node) => node.value.map(codings).unwrap_or_default(),
            _ => return None,
        };
        let mut unknown = codes.is_empty();
        for c in codes {
            match self.0.check(value_set, c).membership {
                Membership::Member => return Some(true),
                Membership::Unknown(_) => unknown = true,
                Membership::NotMember => {}
            }
        }
        (!unknown).then_some(false)
    }
}

/// The codes a code, Coding or CodeableConcept carries.
fn codings(v: &Value) -> Vec<CodedValue<'_>> {
    fn one(c: &Value) -> Option<CodedValue<'_>> {
        Some(CodedValue {
            system: c.get("system").and_then(Value::as_str),
            version: c.get("version").and_then(Value::as_str),
            code: c.get("code")?.as_str()?,
            display: c.get("display").and_then(Value::as_str),
        })
    }
    match v {
        Value::String(s) => vec![CodedValue {
            system: None,
            version: None,
            code: s,
            display: None,
        }],
        Value::Object(o) => match o.get("coding").and_then(Value::as_array) {
            Some(list) => list.iter().filter_map(one).collect(),
            None => one(v).into_iter().collect(),
        },
        _ => Vec::new(),
    }
}

impl<'v> Walker<'_, 'v> {
    /// Evaluates the invariants of node `n` on `focus` (keys in `skip` were already evaluated
    /// for this item through another definition).
    #[allow(clippy::too_many_arguments)]
    pub fn invariants(
        &mut self,
        plan: &Plan,
        n: usize,
        focus: &'v Value,
        ty: &str,
        path: &str,
        res: &'v Value,
        skip: &[Invariant],
        out: &mut Vec<Issue>,
    ) {
        let node = &plan.nodes[n];
        if node.invariants.is_empty() {
            return;
        }
        let engine = self.engine;
        let members = Members(engine.bindings.as_ref());
        // %rootResource is the container of a contained resource, else the resource itself
        // (not the Bundle: `ref-1` looks in `%rootResource.contained`).
        let root = self
            .containers
            .get(&(std::ptr::from_ref(res) as usize))
            .copied()
            .unwrap_or(res);
        let env = Env {
            resource: res,
            root,
            model: Some(&engine.types),
            terminology: Some(&members),
            strict: false,
        };
        let focus_type = node.inline_type.as_deref().unwrap_or(ty);
        for inv in &node.invariants {
            if skip.iter().any(|s| s.key == inv.key) {
                continue;
            }
            let source = || format!("{}#{}", plan.url, inv.key);
            let outcome = match &inv.expr {
                // dom-3 walks `descendants()` four times per contained resource: the same
                // rule natively, in one pass.
                _ if inv.key == "dom-3" => Ok(Some(contained_are_referenced(focus))),
                Err(why) => Err(why.clone()),
                Ok(expr) => {
                    evaluate_bool(expr, focus, Some(focus_type), &env).map_err(|e| e.to_string())
                }
            };
            match outcome {
                // An empty result is no violation (`ref-1` on an identifier-only Reference).
                Ok(Some(true) | None) => {}
                Ok(Some(false)) => {
                    let text = ValidationMessage::ConstraintFailed {
                        key: inv.key.clone(),
                        expression: inv
                            .expr
                            .as_ref()
                            .map_or(String::new(), |e| e.source().to_string()),
                    };
                    out.push(
                        match inv.severity {
                            Severity::Error => Issue::error(IssueType::Invariant, text),
                            Severity::Warning => Issue::warning(IssueType::Invariant, text),
                        }
                        .at(path)
                        .from_rule(source())
                        .breaking(inv.rule.clone()),
                    );
                }
                Err(why) => {
                    engine.unevaluated.fetch_add(1, Ordering::Relaxed);
                    let text = ValidationMessage::ConstraintNotEvaluated {
                        key: inv.key.clone(),
                        why,
                    };
                    out.push(
                        Issue::warning(IssueType::NotSupported, text)
                            .at(path)
                            .from_rule(source())
                            .breaking(inv.rule.clone()),
                    );
                }
            }
        }
    }

    /// A Coding or Identifier on its own terms (code-system syntax, membership in a loaded
    /// system, display), whether or not anything binds it.
    pub fn coded_value(&mut self, plan: &Plan, n: usize, item: &Item<'v>, out: &mut Vec<Issue>) {
        let Some(v) = item.value else { return };
        let field = |k: &str| v.get(k).and_then(Value::as_str);
        let findings = match item.ty {
            "Coding" => match (field("system"), field("code")) {
                (Some(system), Some(code)) => self.engine.bindings.coding(CodedValue {
                    system: Some(system),
                    version: field("version"),
                    code,
                    display: field("display"),
                }),
                _ => return,
            },
            "Identifier" => match (field("system"), field("value")) {
                (Some(system), Some(value)) => self.engine.bindings.identifier(system, value),
                _ => return,
            },
            _ => return,
        };
        for f in findings {
            let at = match f.part {
                CodedPart::Code => format!("{}.code", item.path),
                CodedPart::Display => format!("{}.display", item.path),
                CodedPart::Value => format!("{}.value", item.path),
            };
            // Information is not a defect of the code: it is no code-invalid.
            let code = match f.severity {
                IssueSeverity::Information => IssueType::Informational,
                _ => IssueType::CodeInvalid,
            };
            out.push(
                Issue::new(f.severity, code, M::CodeFinding(f.message))
                    .at(at)
                    .from_rule(plan.source(n)),
            );
        }
    }

    /// Required and extensible bindings on code, Coding, CodeableConcept and coded Quantity.
    pub fn binding(&mut self, plan: &Plan, n: usize, item: &Item<'v>, out: &mut Vec<Issue>) {
        let node = &plan.nodes[n];
        let Some(b) = &node.def.binding else { return };
        let (Some(vs), Some(v)) = (&b.value_set, item.value) else {
            return;
        };
        if !matches!(
            b.strength,
            BindingStrength::Required | BindingStrength::Extensible
        ) {
            return;
        }
        let parent = self.parent;
        let codes: Vec<(CodedValue<'_>, String)> = match item.ty {
            // A Coding's `code` bound on its own: the sibling system and display belong to it.
            "code" if node.name == "code" && parent.is_some_and(|p| p.contains_key("system")) => {
                let field = |k: &str| parent.and_then(|p| p.get(k)).and_then(Value::as_str);
                vec![(
                    CodedValue {
                        system: field("system"),
                        version: field("version"),
                        code: v.as_str().unwrap_or_default(),
                        display: field("display"),
                    },
                    item.path.clone(),
                )]
            }
            "code" | "string" | "uri" => codings(v)
                .into_iter()
                .map(|c| (c, item.path.clone()))
                .collect(),
            "Coding" => codings(v)
                .into_iter()
                .map(|c| (c, format!("{}.code", item.path)))
                .collect(),
            "Quantity" if v.get("system").is_some() => codings(v)
                .into_iter()
                .map(|c| (c, format!("{}.code", item.path)))
                .collect(),
            "CodeableConcept" => v
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, c)| {
                    let coded = codings(c).into_iter().next()?;
                    Some((coded, format!("{}.coding[{i}].code", item.path)))
                })
                .collect(),
            _ => return,
        };
        let required = b.strength == BindingStrength::Required;
        let strength = if required { "required" } else { "extensible" };
        if codes.is_empty() {
            if required && item.ty == "CodeableConcept" {
                let text = M::NoCodeForRequiredBinding {
                    value_set: vs.clone(),
                };
                out.push(plan.warning(n, IssueType::CodeInvalid, text, &item.path));
            }
            return;
        }
        let mut member = false;
        let mut unknown = Vec::new();
        let mut not_member = Vec::new();
        for (c, at) in &codes {
            let answer = self.engine.bindings.check(vs, *c);
            match answer.membership {
                Membership::Member => member = true,
                Membership::NotMember => not_member.push((c, at)),
                Membership::Unknown(why) => unknown.push((c, at, why)),
            }
        }
        if member {
            return;
        }
        for (c, at, why) in &unknown {
            let text = M::CodeUnchecked {
                code: c.code.to_string(),
                value_set: vs.clone(),
                strength: strength.to_string(),
                why: why.clone(),
            };
            out.push(plan.warning(n, IssueType::NotSupported, text, at.as_str()));
        }
        if !unknown.is_empty() {
            return;
        }
        for (c, at) in not_member {
            let system = c.system.map(|s| format!("{s}#")).unwrap_or_default();
            let text = M::NotInValueSet {
                code: format!("{system}{}", c.code),
                value_set: vs.clone(),
                strength: strength.to_string(),
            };
            out.push(if required {
                plan.error(n, IssueType::CodeInvalid, text, at.as_str())
            } else {
                plan.warning(n, IssueType::CodeInvalid, text, at.as_str())
            });
        }
    }
}

/// `dom-3`: every contained resource is referenced (`#id`) from elsewhere in the resource, or
/// itself refers to its container (`#`).
fn contained_are_referenced(resource: &Value) -> bool {
    let Some(contained) = resource.get("contained").and_then(Value::as_array) else {
        return true;
    };
    let mut refs = std::collections::HashSet::new();
    collect_local_refs(resource, &mut refs);
    contained.iter().all(|c| {
        let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
        refs.contains(&format!("#{id}").as_str()) || {
            let mut own = std::collections::HashSet::new();
            collect_local_refs(c, &mut own);
            own.contains("#")
        }
    })
}

fn collect_local_refs<'a>(v: &'a Value, out: &mut std::collections::HashSet<&'a str>) {
    match v {
        Value::String(s) if s.starts_with('#') => {
            out.insert(s.as_str());
        }
        Value::Array(a) => a.iter().for_each(|x| collect_local_refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_local_refs(x, out)),
        _ => {}
    }
}
