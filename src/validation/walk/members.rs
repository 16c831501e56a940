//! The members of a JSON object against the children of a node: names no child has (and choice
//! names of a type not allowed), each child's occurrences gathered from its JSON keys with
//! their shape checked (arrays, nulls, the `_x` halves of primitives), and cardinality.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::location::{indexed, joined, member};
use super::plan::Plan;
use super::walker::{Item, Walker};
use crate::fhir::{Issue, IssueType};
use crate::messages::ValidationMessage;

impl<'v> Walker<'_, 'v> {
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
        // One pass over the members the JSON has, each looked up once among the node's keys:
        // a choice element has a JSON name per type (fifty for `Extension.value[x]`), so asking
        // the object for every name the definition allows costs far more than the few it holds.
        let mut found: Vec<Found<'v>> = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            if self.full(out) {
                return;
            }
            if k == "fhir_comments" || (k == "resourceType" && n == 0) {
                continue;
            }
            let (base, ext) = match k.strip_prefix('_') {
                Some(b) => (b, true),
                None => (k.as_str(), false),
            };
            if let Some(&(c, t)) = node.keys.get(base) {
                found.push(Found {
                    child: c,
                    key: t.unwrap_or(0),
                    ext,
                    value: v,
                });
                continue;
            }
            let wrong_choice = node.children.iter().copied().find(|&c| {
                let ch = &plan.nodes[c];
                ch.choice
                    && base
                        .strip_prefix(ch.name.as_str())
                        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            });
            let at = member(path, k);
            out.push(match wrong_choice {
                Some(c) => {
                    let name = &plan.nodes[c].name;
                    let text = ValidationMessage::ChoiceTypeNotAllowed {
                        key: k.to_string(),
                        name: name.clone(),
                    };
                    plan.error(c, IssueType::Structure, text, at)
                }
                None => {
                    let text = ValidationMessage::UnknownElement {
                        name: k.to_string(),
                    };
                    plan.error(n, IssueType::Structure, text, at)
                }
            });
        }
        found.sort_unstable_by_key(|f| (f.child, f.key, f.ext));
        for ci in 0..plan.nodes[n].children.len() {
            let c = plan.nodes[n].children[ci];
            let from = found.partition_point(|f| f.child < c);
            let to = found.partition_point(|f| f.child <= c);
            let mine = &found[from..to];
            let items = if mine.is_empty() {
                Vec::new()
            } else {
                self.gather(plan, (n, c), mine, path, out)
            };
            if self.stopped {
                // A partial gather would miscount the occurrences.
                return;
            }
            let child = &plan.nodes[c];
            let count = items.len();
            // A member that is there but malformed was reported as such: it is not also missing.
            if count == 0 && child.def.min > 0 && mine.is_empty() {
                let at = member(path, &child.name);
                let text = ValidationMessage::RequiredMissing { path: at.clone() };
                out.push(plan.error(c, IssueType::Required, text, at));
            } else if count < child.def.min as usize && count > 0 {
                let text = ValidationMessage::TooFew {
                    id: child.id.clone(),
                    min: child.def.min,
                    count,
                };
                out.push(plan.error(c, IssueType::Required, text, path));
            }
            // Several types of one choice (`valueString` and `valueQuantity`) were reported as
            // such by `gather`; a second issue about the count would say the same less clearly.
            let several_types = child.choice && count > 1;
            if let Some(max) = child.max()
                && count > max as usize
                && !(several_types && max == 1)
            {
                let text = ValidationMessage::TooMany {
                    id: child.id.clone(),
                    max,
                    count,
                };
                let at = member(path, &child.name);
                out.push(plan.error(c, IssueType::Structure, text, at));
            }
            if !items.is_empty() && matches!(child.name.as_str(), "extension" | "modifierExtension")
            {
                self.extension_contexts(&items, obj, path, res, out);
            }
            if !items.is_empty() || !child.slices.is_empty() {
                let at = member(path, &child.name);
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

    /// The occurrences of child `c` from its members `mine` (sorted by JSON name, value half
    /// before `_` half), with JSON-shape errors reported.
    fn gather(
        &mut self,
        plan: &Arc<Plan>,
        (n, c): (usize, usize),
        mine: &[Found<'v>],
        path: &str,
        out: &mut Vec<Issue>,
    ) -> Vec<Item<'v>> {
        let child = &plan.nodes[c];
        // Sized once: growing them member by member was the walk's most frequent allocation.
        let mut items = Vec::with_capacity(mine.len());
        let mut found_keys = Vec::with_capacity(mine.len());
        for halves in mine.chunk_by(|a, b| a.key == b.key) {
            let Some(k) = child.json_keys.get(halves[0].key) else {
                continue;
            };
            let v = halves.iter().find(|f| !f.ext).map(|f| f.value);
            let e = halves.iter().find(|f| f.ext).map(|f| f.value);
            let key = &k.key;
            let at = joined(path, &k.suffix);
            let mut ty = k.ty;
            // R4 types `Resource.id` as a System.String, yet it must be a valid id.
            if !child.choice
                && child.name == "id"
                && n == 0
                && self.engine.model.is_resource(&plan.type_name)
            {
                ty = "id";
            }
            found_keys.push(key.as_str());
            let error =
                |text: ValidationMessage, at: &str| plan.error(c, IssueType::Structure, text, at);
            let mut e = e;
            if e.is_some() && !ty.is_empty() && !self.engine.primitives.is_primitive(ty) {
                let text = ValidationMessage::ExtensionPartOnComplex {
                    ext_key: k.ext_key.clone(),
                    key: key.clone(),
                    ty: ty.to_string(),
                };
                out.push(error(text, &at));
                e = None;
            }
            if child.array {
                let va = as_array(v, &at, &error, out);
                let ea = as_array(e, &at, &error, out);
                let len = va.len().max(ea.len());
                if len == 0 {
                    out.push(error(ValidationMessage::EmptyArray, &at));
                }
                // The halves line up position by position, `null` filling the gaps (R4 JSON).
                if !va.is_empty() && !ea.is_empty() && va.len() != ea.len() {
                    let text = ValidationMessage::ExtensionPartLength {
                        key: key.clone(),
                        ext_key: k.ext_key.clone(),
                        values: va.len(),
                        parts: ea.len(),
                    };
                    out.push(error(text, &at));
                }
                for i in 0..len {
                    if self.full(out) {
                        break;
                    }
                    let vi = va.get(i).filter(|x| !x.is_null());
                    let ei = ea.get(i).filter(|x| !x.is_null());
                    let ipath = indexed(&at, i);
                    if vi.is_none() && ei.is_none() {
                        out.push(error(ValidationMessage::NullInArray, &ipath));
                        continue;
                    }
                    items.push(Item {
                        ty: item_type(ty, vi),
                        value: vi,
                        ext: ei,
                        path: ipath,
                    });
                }
            } else {
                if v.is_some_and(Value::is_array) || e.is_some_and(Value::is_array) {
                    let which = if v.is_some_and(Value::is_array) {
                        key
                    } else {
                        &k.ext_key
                    };
                    let text = ValidationMessage::NotAnArray { key: which.clone() };
                    out.push(error(text, &at));
                    continue;
                }
                let vi = v.filter(|x| !x.is_null());
                if v.is_some_and(Value::is_null) {
                    out.push(error(ValidationMessage::NullValue, &at));
                }
                items.push(Item {
                    ty: item_type(ty, vi),
                    value: vi,
                    ext: e,
                    path: at,
                });
            }
        }
        if found_keys.len() > 1 {
            let text = ValidationMessage::ChoiceWithSeveralTypes {
                name: child.name.clone(),
                keys: found_keys.iter().map(|k| k.to_string()).collect(),
            };
            let at = member(path, &child.name);
            out.push(plan.error(c, IssueType::Structure, text, at));
        }
        items
    }
}

/// A member of the object being walked, placed: the child it belongs to, which of the child's
/// JSON names (`JsonKey`) it is, and whether it is the `_` half of a primitive.
struct Found<'v> {
    child: usize,
    key: usize,
    ext: bool,
    value: &'v Value,
}

/// The declared type, or for a resource slot the `resourceType` the JSON shows.
fn item_type<'v>(declared: &'static str, value: Option<&'v Value>) -> &'v str {
    if declared.is_empty() || declared == "Resource" {
        if let Some(rt) = value
            .and_then(|v| v.get("resourceType"))
            .and_then(Value::as_str)
        {
            return rt;
        }
        if declared.is_empty() {
            return "Reference";
        }
    }
    declared
}

/// The values of an array member, borrowed; a single value where an array belongs is reported
/// and taken as an array of one.
fn as_array<'v>(
    v: Option<&'v Value>,
    at: &str,
    error: &dyn Fn(ValidationMessage, &str) -> Issue,
    out: &mut Vec<Issue>,
) -> &'v [Value] {
    match v {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(other) => {
            out.push(error(ValidationMessage::MustBeArray, at));
            std::slice::from_ref(other)
        }
    }
}
