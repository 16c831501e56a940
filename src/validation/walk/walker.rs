//! The walk itself: a JSON instance gone through node by node against a plan — JSON shape,
//! unknown elements, cardinality, the type of each item, and the hand-off to nested plans
//! (datatypes, type profiles, extensions by URL, contained and Bundle resources).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Engine;
use super::plan::Plan;
use crate::fhir::{Issue, IssueType};

/// Recursion guard: FHIR instances are never this deep; a cycle of profiles would be.
const MAX_DEPTH: usize = 48;

/// One occurrence of an element: its value half, its `_x` half (primitives), its type.
#[derive(Clone)]
pub(crate) struct Item<'v> {
    pub value: Option<&'v Value>,
    pub ext: Option<&'v Value>,
    pub ty: String,
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
}

pub(crate) fn has_error(issues: &[Issue]) -> bool {
    issues
        .iter()
        .any(|i| i.severity == crate::fhir::IssueSeverity::Error)
}

impl<'e, 'v> Walker<'e, 'v> {
    pub fn new(engine: &'e Engine, root: &'v Value) -> Self {
        Walker {
            engine,
            root,
            depth: 0,
            conforms: HashMap::new(),
            containers: HashMap::new(),
            parent: None,
            reports: HashMap::new(),
        }
    }

    /// A resource (top-level, entry or contained) against a plan of its type.
    pub fn resource(&mut self, res: &'v Value, plan: &Arc<Plan>, path: &str, out: &mut Vec<Issue>) {
        let key = (std::ptr::from_ref(res) as usize, plan.url.clone());
        if self.reports.get(&key).is_some_and(|(at, _)| at == path)
            && let Some((_, issues)) = self.reports.remove(&key)
        {
            out.extend(issues);
            return;
        }
        let Some(rt) = res.get("resourceType").and_then(Value::as_str) else {
            out.push(
                Issue::error(IssueType::Structure, "a resource must have a resourceType")
                    .at(path)
                    .from_rule(plan.source(0)),
            );
            return;
        };
        if !self.engine.model.is_resource(rt) {
            out.push(
                Issue::error(IssueType::Structure, format!("unknown resource type {rt}"))
                    .at(path)
                    .from_rule(plan.source(0)),
            );
            return;
        }
        if plan.type_name != rt && !matches!(plan.type_name.as_str(), "Resource" | "DomainResource")
        {
            out.push(
                Issue::error(
                    IssueType::Structure,
                    format!(
                        "a {rt} cannot conform to {} (a profile of {})",
                        plan.url, plan.type_name
                    ),
                )
                .at(path)
                .from_rule(plan.source(0)),
            );
            return;
        }
        let item = Item {
            value: Some(res),
            ext: None,
            ty: rt.to_string(),
            path: path.to_string(),
        };
        self.complex(plan, 0, &item, res, out);
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
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        if self.engine.primitives.is_primitive(&item.ty) {
            self.primitive(plan, n, item, res, out);
        } else if self.engine.model.is_resource(&item.ty) || item.ty == "Resource" {
            self.nested_resource(plan, n, item, res, out);
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
            if let Err(why) = engine.primitives.check(&item.ty, v) {
                out.push(
                    Issue::error(IssueType::Value, why)
                        .at(&item.path)
                        .from_rule(plan.source(n)),
                );
            } else {
                super::values::leaf_checks(plan, n, v, &item.path, out);
                self.binding(plan, n, item, out);
            }
        }
        if let Some(e) = item.ext {
            match e.as_object() {
                Some(obj) if !obj.is_empty() => {
                    if let Some(pplan) = engine.base_plan(&item.ty) {
                        self.object(&pplan, 0, obj, &item.path, res, out);
                    }
                }
                _ => out.push(
                    Issue::error(
                        IssueType::Structure,
                        "the extension part (`_`) of a primitive must be a non-empty object",
                    )
                    .at(&item.path)
                    .from_rule(plan.source(n)),
                ),
            }
        }
        if let Some(v) = item.value {
            self.invariants(plan, n, v, &item.ty, &item.path, res, &[], out);
        }
    }

    fn nested_resource(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let Some(v) = item.value else { return };
        if plan.nodes[n].name == "contained" {
            let container = self
                .containers
                .get(&(std::ptr::from_ref(res) as usize))
                .copied();
            self.containers
                .insert(std::ptr::from_ref(v) as usize, container.unwrap_or(res));
        }
        let Some(rt) = v.get("resourceType").and_then(Value::as_str) else {
            out.push(
                Issue::error(IssueType::Structure, "a resource must have a resourceType")
                    .at(&item.path)
                    .from_rule(plan.source(n)),
            );
            return;
        };
        let profiles: Vec<String> = plan.nodes[n]
            .def
            .types
            .iter()
            .flat_map(|t| t.profile.iter().cloned())
            .collect();
        if profiles.is_empty() {
            match self.engine.base_plan(rt) {
                Some(p) => self.resource(v, &p, &item.path, out),
                None => out.push(
                    Issue::error(IssueType::Structure, format!("unknown resource type {rt}"))
                        .at(&item.path)
                        .from_rule(plan.source(n)),
                ),
            }
            return;
        }
        self.against_profiles(
            &profiles,
            Some(rt),
            (plan, n, &item.path),
            out,
            |w, p, o| {
                w.resource(v, p, &item.path, o);
            },
        );
    }

    /// Runs `check` against each of `profiles` (those of type `ty` when given): the item must
    /// satisfy one; a profile no package defines is a warning and the base rules still apply.
    fn against_profiles(
        &mut self,
        profiles: &[String],
        ty: Option<&str>,
        (plan, n, path): (&Arc<Plan>, usize, &str),
        out: &mut Vec<Issue>,
        mut check: impl FnMut(&mut Self, &Arc<Plan>, &mut Vec<Issue>),
    ) {
        let mut plans = Vec::new();
        for p in profiles {
            match self.engine.plan(p) {
                Some(pp) if ty.is_none_or(|t| pp.type_name == t) => plans.push(pp),
                Some(_) => {}
                None => out.push(
                    Issue::warning(
                        IssueType::NotSupported,
                        format!("profile {p} is not loaded: checked against the base type only"),
                    )
                    .at(path)
                    .from_rule(plan.source(n)),
                ),
            }
        }
        match plans.as_slice() {
            [] => {
                if let (Some(t), true) = (ty, !profiles.is_empty()) {
                    let named = profiles.join(", ");
                    out.push(
                        Issue::error(
                            IssueType::Structure,
                            format!("a {t} cannot conform to any of {named}"),
                        )
                        .at(path)
                        .from_rule(plan.source(n)),
                    );
                }
            }
            [single] => check(self, single, out),
            several => {
                let mut first = None;
                for p in several {
                    let mut scratch = Vec::new();
                    check(self, p, &mut scratch);
                    if !has_error(&scratch) {
                        out.extend(scratch);
                        return;
                    }
                    first.get_or_insert(scratch);
                }
                out.extend(first.unwrap_or_default());
            }
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
            out.push(
                Issue::error(
                    IssueType::Structure,
                    format!("a {} must be a JSON object", item.ty),
                )
                .at(&item.path)
                .from_rule(plan.source(n)),
            );
            return;
        };
        // ele-1 is about elements: a resource with nothing but its type is empty but valid.
        if !obj.contains_key("resourceType") && obj.keys().all(|k| k == "fhir_comments") {
            out.push(
                Issue::error(
                    IssueType::Structure,
                    "an element must have a value or children (empty object)",
                )
                .at(&item.path)
                .from_rule(format!("{}#ele-1", plan.url)),
            );
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
            self.invariants(plan, n, value, &item.ty, &item.path, res, &[], out);
            return;
        }
        if let Some(cr) = node.content_ref {
            self.object(plan, cr, obj, &item.path, res, out);
            self.invariants(plan, n, value, &item.ty, &item.path, res, &[], out);
            self.invariants(plan, cr, value, &item.ty, &item.path, res, &[], out);
            return;
        }
        let profiles: Vec<String> = node
            .def
            .types
            .iter()
            .filter(|t| t.code == item.ty)
            .flat_map(|t| t.profile.iter().cloned())
            .collect();
        self.invariants(plan, n, value, &item.ty, &item.path, res, &[], out);
        let own: Vec<&str> = node.invariants.iter().map(|i| i.key.as_str()).collect();
        if !profiles.is_empty() {
            self.against_profiles(&profiles, None, (plan, n, &item.path), out, |w, p, o| {
                w.object(p, 0, obj, &item.path, res, o);
                w.invariants(p, 0, value, &item.ty, &item.path, res, &own, o);
            });
            return;
        }
        let type_plan = if item.ty == "Extension" {
            self.extension_plan(plan, n, obj, &item.path, out)
        } else {
            None
        };
        let Some(tp) = type_plan.or_else(|| self.engine.base_plan(&item.ty)) else {
            out.push(
                Issue::error(IssueType::Structure, format!("unknown type {}", item.ty))
                    .at(&item.path)
                    .from_rule(plan.source(n)),
            );
            return;
        };
        self.object(&tp, 0, obj, &item.path, res, out);
        self.invariants(&tp, 0, value, &item.ty, &item.path, res, &own, out);
    }

    /// An extension with no profile on its element: its definition is looked up by URL.
    fn extension_plan(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        obj: &Map<String, Value>,
        path: &str,
        out: &mut Vec<Issue>,
    ) -> Option<Arc<Plan>> {
        let url = obj.get("url").and_then(Value::as_str)?;
        let engine = self.engine;
        if url.contains(':')
            && engine
                .packages
                .resolve_in("StructureDefinition", url)
                .is_some()
            && let Some(p) = engine.plan(url)
        {
            return Some(p);
        }
        let modifier = plan.nodes[n].name == "modifierExtension";
        let text = format!("extension {url} is not known (no loaded package defines it)");
        out.push(
            if modifier {
                Issue::error(IssueType::Structure, format!("modifier {text}"))
            } else {
                Issue::warning(IssueType::Structure, text)
            }
            .at(path)
            .from_rule(plan.source(n)),
        );
        None
    }

    /// The members of a JSON object against the children of node `n`.
    pub fn object(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        obj: &'v Map<String, Value>,
        path: &str,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let node = &plan.nodes[n];
        for k in obj.keys() {
            if k == "fhir_comments" || (k == "resourceType" && n == 0) {
                continue;
            }
            let base = k.strip_prefix('_').unwrap_or(k);
            if node.keys.contains_key(base) {
                continue;
            }
            let wrong_choice = node.children.iter().copied().find(|&c| {
                let ch = &plan.nodes[c];
                ch.choice
                    && base
                        .strip_prefix(ch.name.as_str())
                        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            });
            let issue = match wrong_choice {
                Some(c) => Issue::error(
                    IssueType::Structure,
                    format!(
                        "{k}: this type is not allowed for {}[x] here",
                        plan.nodes[c].name
                    ),
                )
                .from_rule(plan.source(c)),
                None => Issue::error(IssueType::Structure, format!("unknown element {k}"))
                    .from_rule(plan.source(n)),
            };
            out.push(issue.at(format!("{path}.{k}")));
        }
        for ci in 0..plan.nodes[n].children.len() {
            let c = plan.nodes[n].children[ci];
            let items = self.gather(plan, (n, c), obj, path, out);
            let child = &plan.nodes[c];
            let count = items.len();
            if count < child.def.min as usize {
                out.push(
                    Issue::error(
                        IssueType::Required,
                        format!(
                            "{}: minimum required = {}, but only found {count}",
                            child.id, child.def.min
                        ),
                    )
                    .at(path)
                    .from_rule(plan.source(c)),
                );
            }
            if let Some(max) = child.max()
                && count > max as usize
            {
                out.push(
                    Issue::error(
                        IssueType::Structure,
                        format!("{}: maximum allowed = {max}, but found {count}", child.id),
                    )
                    .at(format!("{path}.{}", child.name))
                    .from_rule(plan.source(c)),
                );
            }
            if !items.is_empty() || !child.slices.is_empty() {
                let at = format!("{path}.{}", child.name);
                let saved = self.parent.replace(obj);
                self.group(plan, c, &items, &at, res, out);
                self.parent = saved;
            }
        }
    }

    /// Items of a group go to slices (when the element is sliced) or to the node itself.
    pub fn group(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        items: &[Item<'v>],
        at: &str,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        if plan.nodes[n].slices.is_empty() {
            for item in items {
                self.element(plan, n, item, res, out);
            }
        } else {
            self.slice(plan, n, items, at, res, out);
        }
    }

    /// The occurrences of child `c` in `obj`, with JSON-shape errors reported.
    fn gather(
        &mut self,
        plan: &Arc<Plan>,
        (n, c): (usize, usize),
        obj: &'v Map<String, Value>,
        path: &str,
        out: &mut Vec<Issue>,
    ) -> Vec<Item<'v>> {
        let child = &plan.nodes[c];
        let mut items = Vec::new();
        let mut found_keys = 0;
        for k in &child.json_keys {
            let v = obj.get(&k.key);
            let e = obj.get(&k.ext_key);
            if v.is_none() && e.is_none() {
                continue;
            }
            let key = &k.key;
            let at = format!("{path}{}", k.suffix);
            let mut ty = k.ty.clone();
            // R4 types `Resource.id` as a System.String, yet it must be a valid id.
            if !child.choice
                && child.name == "id"
                && n == 0
                && self.engine.model.is_resource(&plan.type_name)
            {
                ty = "id".to_string();
            }
            found_keys += 1;
            let source = || plan.source(c);
            if child.array {
                let va = as_array(v, &at, &source, out);
                let ea = as_array(e, &at, &source, out);
                let len = va.len().max(ea.len());
                if len == 0 {
                    out.push(
                        Issue::error(IssueType::Structure, "an array must not be empty")
                            .at(&at)
                            .from_rule(source()),
                    );
                }
                for i in 0..len {
                    let vi = va.get(i).copied().filter(|x| !x.is_null());
                    let ei = ea.get(i).copied().filter(|x| !x.is_null());
                    let ipath = format!("{at}[{i}]");
                    if vi.is_none() && ei.is_none() {
                        out.push(
                            Issue::error(IssueType::Structure, "null in an array")
                                .at(&ipath)
                                .from_rule(source()),
                        );
                        continue;
                    }
                    items.push(Item {
                        ty: item_type(&ty, vi),
                        value: vi,
                        ext: ei,
                        path: ipath,
                    });
                }
            } else {
                if v.is_some_and(Value::is_array) || e.is_some_and(Value::is_array) {
                    out.push(
                        Issue::error(
                            IssueType::Structure,
                            format!("{key} must be a single value, not an array"),
                        )
                        .at(&at)
                        .from_rule(source()),
                    );
                    continue;
                }
                let vi = v.filter(|x| !x.is_null());
                if v.is_some_and(Value::is_null) {
                    out.push(
                        Issue::error(IssueType::Structure, "null is not a value")
                            .at(&at)
                            .from_rule(source()),
                    );
                }
                items.push(Item {
                    ty: item_type(&ty, vi),
                    value: vi,
                    ext: e,
                    path: at,
                });
            }
        }
        if found_keys > 1 {
            out.push(
                Issue::error(
                    IssueType::Structure,
                    format!("{}[x] appears with more than one type", child.name),
                )
                .at(format!("{path}.{}", child.name))
                .from_rule(plan.source(c)),
            );
        }
        items
    }
}

/// The declared type, or for a resource slot the `resourceType` the JSON shows.
fn item_type(declared: &str, value: Option<&Value>) -> String {
    if declared.is_empty() || declared == "Resource" {
        if let Some(rt) = value
            .and_then(|v| v.get("resourceType"))
            .and_then(Value::as_str)
        {
            return rt.to_string();
        }
        if declared.is_empty() {
            return "Reference".to_string();
        }
    }
    declared.to_string()
}

fn as_array<'v>(
    v: Option<&'v Value>,
    at: &str,
    source: &dyn Fn() -> String,
    out: &mut Vec<Issue>,
) -> Vec<&'v Value> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => {
            out.push(
                Issue::error(
                    IssueType::Structure,
                    "this element repeats: it must be an array",
                )
                .at(at)
                .from_rule(source()),
            );
            vec![other]
        }
    }
}
