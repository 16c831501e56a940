//! Hand-offs from one definition to another: a resource inside a resource (contained, a Bundle
//! entry) checked against its slot's profiles or its base type, and an item checked against the
//! type profiles its element names. Extensions found by URL are in `extensions`.

use std::sync::Arc;

use serde_json::Value;

use super::plan::Plan;
use super::walker::{Item, Walker, has_error};
use crate::fhir::{Issue, IssueType};
use crate::messages::{ConformanceMessage, ValidationMessage};

impl<'v> Walker<'_, 'v> {
    pub(super) fn nested_resource(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        out: &mut Vec<Issue>,
    ) {
        let Some(v) = item.value else { return };
        let Some(rt) = v.get("resourceType").and_then(Value::as_str) else {
            let text = ValidationMessage::NoResourceType;
            out.push(plan.error(n, IssueType::Structure, text, &item.path));
            return;
        };
        let profiles: Vec<String> = plan.nodes[n]
            .def
            .types
            .iter()
            .flat_map(|t| t.profile.iter().cloned())
            .collect();
        // A contained resource answers for the profiles it claims, as a resource on its own
        // would. A Bundle's entries are held to the Bundle profile's slots; one that no
        // profiled slot claims (it failed them, or the slicing is open) answers for its own
        // claims, so its errors are reported rather than only "the slot is missing".
        let declared = if plan.nodes[n].name == "contained" || profiles.is_empty() {
            self.declared_profiles(v, &profiles, (plan, n, &item.path), out)
        } else {
            Vec::new()
        };
        for p in &declared {
            self.resource(v, p, &item.path, out);
        }
        if profiles.is_empty() {
            if !declared.is_empty() || self.elsewhere.holds(v) {
                // Each declared profile constrains the base type: its walk holds all of it,
                // here or in the context that judges the resource.
                return;
            }
            match self.engine.base_plan(rt) {
                Some(p) => self.resource(v, &p, &item.path, out),
                None => {
                    let text = ValidationMessage::UnknownResourceType {
                        name: rt.to_string(),
                    };
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

    /// The plans of the profiles `v` declares in `meta.profile` (the exact `|version` when
    /// loaded, else the newest), leaving out those its slot already requires (`slot`); one no
    /// package defines is a warning at its `meta.profile[i]`.
    fn declared_profiles(
        &mut self,
        v: &Value,
        slot: &[String],
        (plan, n, path): (&Arc<Plan>, usize, &str),
        out: &mut Vec<Issue>,
    ) -> Vec<Arc<Plan>> {
        let mut plans: Vec<Arc<Plan>> = Vec::new();
        let declared = v.pointer("/meta/profile").and_then(Value::as_array);
        for (i, p) in declared.into_iter().flatten().enumerate() {
            let Some(p) = p.as_str() else { continue };
            let url = p.split('|').next().unwrap_or(p);
            if self.elsewhere.verdict(v, url).is_some() {
                // Pinned to a release another context judges it in: not this walk's to resolve.
                continue;
            }
            match self.engine.plan(p).or_else(|| self.engine.plan(url)) {
                Some(dp) if !slot.contains(&dp.url) && plans.iter().all(|q| q.url != dp.url) => {
                    plans.push(dp);
                }
                Some(_) => {}
                None => {
                    let text = ConformanceMessage::ProfileNotLoadedBaseDefinition {
                        profile: p.to_string(),
                    };
                    let at = format!("{path}.meta.profile[{i}]");
                    out.push(plan.warning(n, IssueType::NotSupported, text, at));
                }
            }
        }
        plans
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
                    let text = ConformanceMessage::ProfileNotLoadedBaseType {
                        profile: p.to_string(),
                    };
                    out.push(plan.warning(n, IssueType::NotSupported, text, path));
                }
            }
        }
        match plans.as_slice() {
            [] => {
                if let (Some(t), true) = (ty, !profiles.is_empty()) {
                    let named = profiles.join(", ");
                    let text = ConformanceMessage::ConformsToNone {
                        res_type: t.to_string(),
                        profiles: named,
                    };
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
