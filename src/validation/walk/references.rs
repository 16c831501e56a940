//! Reference targets: the type a literal reference names (`Patient/1`, an absolute URL ending
//! so) and `Reference.type` must be among the element's `targetProfile` types; a target found in
//! this instance (contained, or a Bundle entry) must also conform to one of those profiles.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::CORE_PREFIX;
use super::plan::Plan;
use super::walker::{Walker, has_error};
use crate::fhir::{Issue, IssueType};
use crate::messages::ConformanceMessage as M;

impl<'v> Walker<'_, 'v> {
    /// A Reference against the `targetProfile`s of node `n`: the type it names (literally or in
    /// `type`), and a target in this instance against the profiles themselves.
    pub fn reference_target(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        value: &'v Value,
        path: &str,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let targets: Vec<String> = plan.nodes[n]
            .def
            .types
            .iter()
            .filter(|t| t.code == "Reference")
            .flat_map(|t| t.target_profile.iter().cloned())
            .collect();
        if targets.is_empty() {
            return;
        }
        let allowed = plan.nodes[n]
            .target_types
            .get_or_init(|| self.target_types(&targets))
            .as_deref();
        let reference = value.get("reference").and_then(Value::as_str);
        let literal = reference.and_then(|r| self.literal_type(r));
        let declared = value.get("type").and_then(Value::as_str);
        if let Some(declared) = declared {
            self.declared_type(plan, n, declared, literal, allowed, path, out);
        }
        let Some(reference) = reference else { return };
        let Some(target) = self.resolve(reference, res) else {
            if let (Some(ty), Some(allowed)) = (literal, allowed)
                && !allowed.iter().any(|a| a == ty)
            {
                let text = M::ImpliedTypeNotAllowed {
                    path: path.to_string(),
                    res_type: ty.to_string(),
                    reference: reference.to_string(),
                    allowed: allowed.join(", "),
                };
                out.push(plan.error(n, IssueType::Structure, text, format!("{path}.reference")));
            }
            return;
        };
        let found = target.get("resourceType").and_then(Value::as_str);
        if let (Some(declared), Some(found)) = (declared, found)
            && literal.is_none()
            && declared.strip_prefix(CORE_PREFIX).unwrap_or(declared) != found
            && self
                .engine
                .model
                .is_resource(declared.strip_prefix(CORE_PREFIX).unwrap_or(declared))
        {
            let text = M::DeclaredTypeDisagreesWithTarget {
                path: path.to_string(),
                declared: declared.to_string(),
                reference: reference.to_string(),
                found: found.to_string(),
            };
            out.push(plan.error(n, IssueType::Structure, text, format!("{path}.type")));
        }
        self.resolved_target(plan, n, &targets, reference, target, path, out);
    }

    /// `Reference.type`: a resource type (or its core canonical) that agrees with the literal
    /// reference and that the element allows. A logical model's URL is not checked.
    #[allow(clippy::too_many_arguments)]
    fn declared_type(
        &self,
        plan: &Plan,
        n: usize,
        declared: &str,
        literal: Option<&str>,
        allowed: Option<&[String]>,
        path: &str,
        out: &mut Vec<Issue>,
    ) {
        let at = format!("{path}.type");
        let ty = declared.strip_prefix(CORE_PREFIX).unwrap_or(declared);
        if ty.contains(':') {
            return;
        }
        // The binding to resource types is extensible: the checkup IG's own samples write
        // `specimen`, which the reference validator lets through with a warning.
        if !self.engine.model.is_resource(ty) {
            let text = M::DeclaredTypeNotAResource {
                path: path.to_string(),
                declared: declared.to_string(),
            };
            out.push(plan.warning(n, IssueType::CodeInvalid, text, at));
            return;
        }
        if let Some(literal) = literal
            && literal != ty
        {
            let text = M::DeclaredTypeDisagreesWithReference {
                path: path.to_string(),
                declared: declared.to_string(),
                literal: literal.to_string(),
            };
            out.push(plan.error(n, IssueType::Structure, text, at));
            return;
        }
        if let Some(allowed) = allowed
            && !allowed.iter().any(|a| a == ty)
        {
            let text = M::TypeNotAllowed {
                path: path.to_string(),
                res_type: ty.to_string(),
                allowed: allowed.join(", "),
            };
            out.push(plan.error(n, IssueType::Structure, text, at));
        }
    }

    /// The resource types the `targetProfile`s allow, by each profile's base type; `None` when
    /// any resource may be the target, or when a profile is not loaded (its type is unknown).
    fn target_types(&self, targets: &[String]) -> Option<Vec<String>> {
        let mut types: Vec<String> = Vec::new();
        for t in targets {
            let ty = match self.engine.plan(t) {
                Some(p) => p.type_name.clone(),
                None => t
                    .split('|')
                    .next()
                    .and_then(|u| u.strip_prefix(CORE_PREFIX))
                    .filter(|ty| self.engine.model.is_resource(ty))?
                    .to_string(),
            };
            if matches!(ty.as_str(), "Resource" | "DomainResource") {
                return None;
            }
            if !types.contains(&ty) {
                types.push(ty);
            }
        }
        Some(types)
    }

    /// The resource type a literal reference names: `Type/id`, `Type/id/_history/v`, an absolute
    /// URL ending so, or a conditional `Type?query`. `#local`, `urn:` and anything whose type
    /// segment is no resource type name nothing.
    fn literal_type<'r>(&self, reference: &'r str) -> Option<&'r str> {
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return None;
        }
        if let Some((ty, _)) = reference.split_once('?') {
            return (!ty.contains('/') && self.engine.model.is_resource(ty)).then_some(ty);
        }
        let plain = reference.split("/_history/").next().unwrap_or(reference);
        let mut parts = plain.rsplit('/');
        let id = parts.next()?;
        let ty = parts.next()?;
        (!id.is_empty() && self.engine.model.is_resource(ty)).then_some(ty)
    }

    /// A target found in this instance: of a `targetProfile`'s type, and conforming to one.
    #[allow(clippy::too_many_arguments)]
    fn resolved_target(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        targets: &[String],
        reference: &str,
        target: &'v Value,
        path: &str,
        out: &mut Vec<Issue>,
    ) {
        let Some(rt) = target.get("resourceType").and_then(Value::as_str) else {
            return;
        };
        let mut candidates = Vec::new();
        for t in targets {
            match self.engine.plan(t) {
                Some(p) if p.type_name == rt || p.type_name == "Resource" => candidates.push(p),
                Some(_) => {}
                // An unloaded profile: its type is the URL's tail for core ones only.
                None if t.ends_with(&format!("/{rt}")) => return,
                None => {}
            }
        }
        let at = format!("{path}.reference");
        if candidates.is_empty() {
            let text = M::ReferenceWrongType {
                reference: reference.to_string(),
                res_type: rt.to_string(),
                targets: targets.join(", "),
            };
            out.push(plan.error(n, IssueType::Structure, text, at));
            return;
        }
        let key_of = |p: &Plan| (std::ptr::from_ref(target) as usize, p.url.clone());
        for p in &candidates {
            if self
                .engine
                .model
                .type_def(&p.type_name)
                .is_some_and(|t| t.url == p.url)
            {
                return;
            }
            if let Some(ok) = self.elsewhere.verdict(target, &p.url) {
                if ok {
                    return;
                }
                continue;
            }
            let key = key_of(p);
            let ok = match self.conforms.get(&key) {
                Some(&ok) => ok,
                None => {
                    // Optimistic while in progress, so reference cycles terminate.
                    self.conforms.insert(key.clone(), true);
                    let mut scratch = Vec::new();
                    let target_path = format!("{path}.resolve()");
                    self.resource(target, p, &target_path, &mut scratch);
                    let ok = !has_error(&scratch);
                    self.conforms.insert(key, ok);
                    ok
                }
            };
            if ok {
                return;
            }
        }
        let text = M::ReferenceNotConforming {
            reference: reference.to_string(),
            res_type: rt.to_string(),
            targets: targets.join(" or "),
        };
        out.push(plan.error(n, IssueType::Structure, text, at));
    }

    /// A reference inside this instance: `#id` in `contained`, else a Bundle entry by
    /// `fullUrl` or `Type/id`.
    pub fn resolve(&self, reference: &str, res: &'v Value) -> Option<&'v Value> {
        let by_id = |holder: &'v Value, id: &str| -> Option<&'v Value> {
            holder
                .get("contained")?
                .as_array()?
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
        };
        if let Some(id) = reference.strip_prefix('#') {
            return by_id(res, id).or_else(|| by_id(self.root, id));
        }
        let index = self.entries.get_or_init(|| EntryIndex::of(self.root));
        let plain = reference.split("/_history/").next().unwrap_or(reference);
        if let Some(found) = index.by_url.get(plain) {
            return *found;
        }
        let (ty, id) = {
            let mut parts = plain.rsplit('/');
            let id = parts.next()?;
            (parts.next()?, id)
        };
        index.by_key.get(&(ty, id)).copied()
    }
}

/// The root Bundle's entries by `fullUrl` and by `Type/id`, the first entry winning, built on
/// the first reference resolved: a document of thousands of entries, each referring to its
/// Patient, must not scan the entries once per reference.
#[derive(Default)]
pub(crate) struct EntryIndex<'v> {
    /// fullUrl → the resource of the first entry with it (`None` when that entry has none).
    by_url: HashMap<&'v str, Option<&'v Value>>,
    by_key: HashMap<(&'v str, &'v str), &'v Value>,
}

impl<'v> EntryIndex<'v> {
    fn of(root: &'v Value) -> Self {
        let mut index = EntryIndex::default();
        if root.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return index;
        }
        let Some(entries) = root.get("entry").and_then(Value::as_array) else {
            return index;
        };
        for e in entries {
            let resource = e.get("resource");
            if let Some(url) = e.get("fullUrl").and_then(Value::as_str) {
                index.by_url.entry(url).or_insert(resource);
            }
            let Some(r) = resource else { continue };
            let ty = r.get("resourceType").and_then(Value::as_str);
            let id = r.get("id").and_then(Value::as_str);
            if let (Some(ty), Some(id)) = (ty, id) {
                index.by_key.entry((ty, id)).or_insert(r);
            }
        }
        index
    }
}
