//! Hand-offs from one definition to another: a resource inside a resource (contained, a Bundle
//! entry) checked against its slot's profiles or its base type, and an item checked against the
//! type profiles its element names. Extensions found by URL are in `extensions`.

use std::sync::Arc;

use serde_json::Value;

use super::plan::Plan;
use super::walker::{Item, Walker, has_error};
use crate::fhir::{Issue, IssueType};

impl<'v> Walker<'_, 'v> {
    pub(super) fn nested_resource(
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
            let text = "a resource must have a resourceType";
            out.push(plan.error(n, IssueType::Structure, text, &item.path));
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
                None => {
                    let text = format!("unknown resource type {rt}");
                    out.push(plan.error(n, IssueType::Structure, text, &item.path));
                }
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
    pub(super) fn against_profiles(
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
                None => {
                    let text =
                        format!("profile {p} is not loaded: checked against the base type only");
                    out.push(plan.warning(n, IssueType::NotSupported, text, path));
                }
            }
        }
        match plans.as_slice() {
            [] => {
                if let (Some(t), true) = (ty, !profiles.is_empty()) {
                    let named = profiles.join(", ");
                    let text = format!("a {t} cannot conform to any of {named}");
                    out.push(plan.error(n, IssueType::Structure, text, path));
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
}
