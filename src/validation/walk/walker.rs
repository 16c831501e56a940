//! The walk itself: a JSON instance gone through node by node against a plan — the walk state,
//! a resource's entry checks, and the dispatch of each item by kind (primitive, resource,
//! complex). Object members are in `members`, hand-offs to other definitions in `profiles` and
//! `extensions`.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::super::questionnaire::check_response;
use super::plan::Plan;
use super::references::EntryIndex;
use super::{Engine, JudgedElsewhere};
use crate::fhir::{Issue, IssueType};
use crate::messages::values::JsonKind;
use crate::messages::{ValidationMessage, ValueMessage};

/// Recursion guard: FHIR instances are never this deep; a cycle of profiles would be.
const MAX_DEPTH: usize = 48;

/// One occurrence of an element: its value half, its `_x` half (primitives), its type.
#[derive(Clone)]
pub(crate) struct Item<'v> {
    pub value: Option<&'v Value>,
    pub ext: Option<&'v Value>,
    /// A name from the definitions (interned) or the instance's own `resourceType`.
    pub ty: &'v str,
    pub path: String,
}

/// State of one `validate_against` call.
pub(crate) struct Walker<'e, 'v> {
    pub engine: &'e Engine,
    /// The top-level instance: references resolve among its entries and contained resources.
    pub root: &'v Value,
    depth: usize,
    /// (address of a target resource, profile) → whether it conforms; a Patient referenced by
    /// twenty Observations is checked once.
    pub conforms: HashMap<(usize, String), bool>,
    /// Address of a contained resource → its container (`%rootResource`).
    pub containers: HashMap<usize, &'v Value>,
    /// The object whose members are being walked: a Coding's `code` is bound together with
    /// its sibling `system`.
    pub parent: Option<&'v Map<String, Value>>,
    /// Issues of a resource already walked against a profile to match a slice, by (address,
    /// profile), with the location they were found at: the slice's own walk reuses them.
    pub reports: HashMap<(usize, String), (String, Vec<Issue>)>,
    /// Location of the resource being walked: element locations below it map back to
    /// definition paths (extension contexts).
    pub resource_at: String,
    /// Issues after which the walk goes no further (`--max-issues`).
    pub limit: usize,
    /// Whether the walk stopped at `limit` with elements left unchecked.
    pub stopped: bool,
    /// Resources another context judges against some of their profiles (see [`JudgedElsewhere`]).
    pub elsewhere: &'e JudgedElsewhere,
    /// The root Bundle's entries, indexed on the first reference that looks there.
    pub entries: OnceCell<EntryIndex<'v>>,
    /// Stored Questionnaires the caller may read (see [`super::Scope`]).
    pub questionnaires: &'e [Value],
    /// Reused to build the slice-index key of each item.
    pub slice_key: String,
}

pub(crate) fn has_error(issues: &[Issue]) -> bool {
    issues
        .iter()
        .any(|i| i.severity == crate::fhir::IssueSeverity::Error)
}

impl<'e, 'v> Walker<'e, 'v> {
    pub fn new(engine: &'e Engine, root: &'v Value, elsewhere: &'e JudgedElsewhere) -> Self {
        Walker {
            engine,
            root,
            depth: 0,
            conforms: HashMap::new(),
            containers: HashMap::new(),
            parent: None,
            reports: HashMap::new(),
            resource_at: String::new(),
            limit: usize::MAX,
            stopped: false,
            elsewhere,
            entries: OnceCell::new(),
            questionnaires: &[],
            slice_key: String::new(),
        }
    }

    /// Whether `out` holds as many issues as the walk may report; checked before each element,
    /// so the work done stays in proportion to the issues kept.
    pub fn full(&mut self, out: &[Issue]) -> bool {
        if out.len() >= self.limit {
            self.stopped = true;
        }
        self.stopped
    }

    /// A resource (top-level, entry or contained) against a plan of its type.
    pub fn resource(&mut self, res: &'v Value, plan: &Arc<Plan>, path: &str, out: &mut Vec<Issue>) {
        if self.elsewhere.verdict(res, &plan.url).is_some() {
            // Another context's walk holds it to this profile and reports what it finds.
            return;
        }
        let key = (std::ptr::from_ref(res) as usize, plan.url.clone());
        if self.reports.get(&key).is_some_and(|(at, _)| at == path)
            && let Some((_, issues)) = self.reports.remove(&key)
        {
            out.extend(issues);
            return;
        }
        let Some(rt) = res.get("resourceType").and_then(Value::as_str) else {
            let text = ValidationMessage::NoResourceType;
            out.push(plan.error(0, IssueType::Structure, text, path));
            return;
        };
        if !self.engine.model.is_resource(rt) {
            let text = ValidationMessage::UnknownResourceType {
                name: rt.to_string(),
            };
            out.push(plan.error(0, IssueType::Structure, text, path));
            return;
        }
        if plan.type_name != rt && !matches!(plan.type_name.as_str(), "Resource" | "DomainResource")
        {
            let text = ValidationMessage::WrongProfileType {
                res_type: rt.to_string(),
                profile: plan.url.clone(),
                profile_type: plan.type_name.clone(),
            };
            out.push(plan.error(0, IssueType::Structure, text, path));
            return;
        }
        let item = Item {
            value: Some(res),
            ext: None,
            ty: rt,
            path: path.to_string(),
        };
        if rt == "Bundle" {
            super::bundle::check(self.engine.model, res, path, out, self.limit);
        }
        self.register_contained(res);
        let outer = std::mem::replace(&mut self.resource_at, item.path.clone());
        self.complex(plan, 0, &item, res, out);
        self.resource_at = outer;
        if rt == "QuestionnaireResponse" {
            let engine = self.engine;
            let found = super::super::questionnaire::Sources {
                root: self.root,
                packages: &engine.packages,
                stored: self.questionnaires,
            };
            check_response(res, &found, engine.bindings.as_ref(), path, out);
        }
    }

    /// Records `res` as the container (`%rootResource`) of each of its contained resources
    /// before any member is walked: a reference from one contained resource to another that
    /// comes later in `contained` must already see their common container.
    fn register_contained(&mut self, res: &'v Value) {
        let Some(list) = res.get("contained").and_then(Value::as_array) else {
            return;
        };
        let container = self
            .containers
            .get(&(std::ptr::from_ref(res) as usize))
            .copied()
            .unwrap_or(res);
        for c in list {
            self.containers
                .insert(std::ptr::from_ref(c) as usize, container);
        }
    }

    /// One item against node `n` of `plan`; `res` is the resource that holds it.
    pub fn element(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        if self.depth > MAX_DEPTH || self.full(out) {
            return;
        }
        self.depth += 1;
        if self.engine.primitives.is_primitive(item.ty) {
            self.primitive(plan, n, item, res, out);
        } else if self.engine.model.is_resource(item.ty) || item.ty == "Resource" {
            self.nested_resource(plan, n, item, out);
        } else {
            self.complex(plan, n, item, res, out);
        }
        self.depth -= 1;
    }

    fn primitive(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let engine = self.engine;
        if let Some(v) = item.value {
            if let Err(why) = engine.primitives.check(item.ty, v) {
                let text = ValueMessage::Invalid(why);
                out.push(plan.error(n, IssueType::Value, text, &item.path));
            } else {
                super::values::leaf_checks(plan, n, v, &item.path, out);
                self.binding(plan, n, item, out);
            }
        }
        if let Some(e) = item.ext {
            match e.as_object() {
                // ele-1: an `id` alone is neither a value nor a child.
                Some(obj) if item.value.is_none() && !obj.contains_key("extension") => {
                    out.push(ele_1(plan, ValidationMessage::PrimitiveWithoutValue, item))
                }
                Some(obj) if !obj.is_empty() => {
                    if let Some(pplan) = engine.base_plan(item.ty) {
                        self.object(&pplan, 0, obj, &item.path, res, out);
                    }
                }
                _ => out.push(plan.error(
                    n,
                    IssueType::Structure,
                    ValidationMessage::PrimitiveExtensionNotObject,
                    &item.path,
                )),
            }
        }
        if let Some(v) = item.value {
            self.invariants(plan, n, v, item.ty, &item.path, res, &[], out);
        }
    }

    fn complex(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let Some(value) = item.value else { return };
        let Some(obj) = value.as_object() else {
            let text = ValidationMessage::NotAnObject {
                ty: item.ty.to_string(),
                found: JsonKind::of(value),
            };
            out.push(plan.error(n, IssueType::Structure, text, &item.path));
            return;
        };
        // ele-1 is about elements: a resource with nothing but its type is empty but valid.
        if obj.keys().all(|k| k == "fhir_comments") {
            out.push(ele_1(plan, ValidationMessage::EmptyElement, item));
            return;
        }
        super::values::leaf_checks(plan, n, value, &item.path, out);
        self.binding(plan, n, item, out);
        self.coded_value(plan, n, item, out);
        if item.ty == "Reference" {
            self.reference_target(plan, n, value, &item.path, res, out);
        }
        let node = &plan.nodes[n];
        if !node.children.is_empty() {
            self.object(plan, n, obj, &item.path, res, out);
            self.invariants(plan, n, value, item.ty, &item.path, res, &[], out);
            return;
        }
        if let Some(cr) = node.content_ref {
            self.object(plan, cr, obj, &item.path, res, out);
            self.invariants(plan, n, value, item.ty, &item.path, res, &[], out);
            self.invariants(plan, cr, value, item.ty, &item.path, res, &[], out);
            return;
        }
        self.invariants(plan, n, value, item.ty, &item.path, res, &[], out);
        let own = &node.invariants[..];
        let typed = |t: &&crate::model::TypeRef| t.code == item.ty;
        if node
            .def
            .types
            .iter()
            .filter(typed)
            .any(|t| !t.profile.is_empty())
        {
            let profiles: Vec<String> = node
                .def
                .types
                .iter()
                .filter(typed)
                .flat_map(|t| t.profile.iter().cloned())
                .collect();
            self.against_profiles(&profiles, None, (plan, n, &item.path), out, |w, p, o| {
                w.object(p, 0, obj, &item.path, res, o);
                w.invariants(p, 0, value, item.ty, &item.path, res, own, o);
            });
            return;
        }
        let type_plan = if item.ty == "Extension" {
            self.extension_plan(plan, n, obj, &item.path, out)
        } else {
            None
        };
        let Some(tp) = type_plan.or_else(|| self.engine.base_plan(item.ty)) else {
            let text = ValidationMessage::UnknownType {
                ty: item.ty.to_string(),
            };
            out.push(plan.error(n, IssueType::Structure, text, &item.path));
            return;
        };
        self.object(&tp, 0, obj, &item.path, res, out);
        self.invariants(&tp, 0, value, item.ty, &item.path, res, own, out);
    }
}

/// ele-1 broken in the JSON's shape, said in words rather than as the failed expression.
fn ele_1(plan: &Plan, text: ValidationMessage, item: &Item<'_>) -> Issue {
    Issue::error(IssueType::Structure, text)
        .at(&item.path)
        .from_rule(format!("{}#ele-1", plan.url))
}
