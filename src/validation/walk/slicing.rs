//! Slicing: each item of a sliced element matched to its slice by the discriminators (value,
//! pattern, type, profile, exists), then per-slice cardinality, `ordered`, the rules (closed,
//! open, openAtEnd), and each group checked against its slice (re-slices recurse).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::super::model::{Discriminator, SlicingRules, upper_first};
use super::plan::Plan;
use super::values::{fixed_matches, pattern_matches};
use super::walker::{Item, Walker, has_error};
use crate::fhir::{Issue, IssueType};

/// The slice side of one discriminator, per slice.
pub(crate) struct DiscSpec {
    segs: Vec<Seg>,
    per_slice: Vec<Expect>,
}

pub(crate) struct SliceSpecs {
    discs: Vec<DiscSpec>,
    /// Discriminator values (as strings, in discriminator order) → slices, when every slice
    /// is identified by fixed strings.
    index: Option<HashMap<Vec<String>, Vec<usize>>>,
}

/// What a slice requires of the item at one discriminator path.
enum Expect {
    Never,
    Values { wanted: Vec<Value>, exact: bool },
    Subtree(Reached),
    Exists(Option<bool>),
    Types(Vec<String>),
    Profiles(Vec<String>),
}

/// One step of a discriminator path.
enum Seg {
    This,
    Name(String),
    Resolve,
    OfType(String),
    Extension(String),
}

fn parse_path(path: &str) -> Vec<Seg> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    for (i, ch) in path.char_indices() {
        match ch {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            '.' if !quoted && depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&path[start..]);
    let arg = |p: &str, f: &str| -> Option<String> {
        p.strip_prefix(f)?
            .strip_suffix(')')
            .map(|a| a.trim_matches('\'').to_string())
    };
    parts
        .into_iter()
        .map(|p| match p {
            "$this" => Seg::This,
            "resolve()" => Seg::Resolve,
            _ => {
                if let Some(t) = arg(p, "ofType(") {
                    Seg::OfType(t)
                } else if let Some(u) = arg(p, "extension(") {
                    Seg::Extension(u)
                } else {
                    Seg::Name(p.to_string())
                }
            }
        })
        .collect()
}

/// A node of some plan reached while following a discriminator path on the slice side.
type Reached = (Arc<Plan>, usize);

impl<'v> Walker<'_, 'v> {
    /// Distributes `items` of element `n` over its slices; `at` is the element's location.
    pub fn slice(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        items: &[Item<'v>],
        at: &str,
        res: &'v Value,
        out: &mut Vec<Issue>,
    ) {
        let node = &plan.nodes[n];
        let slices = node.slices.clone();
        let (ordered, rules) = match &node.def.slicing {
            Some(s) => (s.ordered, s.rules),
            None => (false, SlicingRules::Open),
        };
        let mut assigned: Vec<Option<usize>> = Vec::with_capacity(items.len());
        for item in items {
            let found = self.assign(plan, n, item, res);
            assigned.push(found);
        }
        for (si, &s) in slices.iter().enumerate() {
            let count = assigned.iter().filter(|a| **a == Some(si)).count();
            let def = &plan.nodes[s].def;
            if count < def.min as usize {
                out.push(
                    Issue::error(
                        IssueType::Required,
                        format!(
                            "slice {}: minimum required = {}, but only found {count}",
                            plan.nodes[s].id, def.min
                        ),
                    )
                    .at(at)
                    .from_rule(plan.source(s)),
                );
            }
            if let Some(max) = def.max_count()
                && count > max as usize
            {
                out.push(
                    Issue::error(
                        IssueType::Structure,
                        format!(
                            "slice {}: maximum allowed = {max}, but found {count}",
                            plan.nodes[s].id
                        ),
                    )
                    .at(at)
                    .from_rule(plan.source(s)),
                );
            }
        }
        let mut last = 0;
        let mut seen_unmatched = false;
        for (item, a) in items.iter().zip(&assigned) {
            match a {
                Some(si) => {
                    if ordered && *si < last {
                        out.push(
                            Issue::error(
                                IssueType::Structure,
                                format!(
                                    "slices are ordered: this item (slice {}) comes after slice {}",
                                    plan.nodes[slices[*si]].id, plan.nodes[slices[last]].id
                                ),
                            )
                            .at(&item.path)
                            .from_rule(plan.source(n)),
                        );
                    }
                    last = last.max(*si);
                    if rules == SlicingRules::OpenAtEnd && seen_unmatched {
                        out.push(
                            Issue::error(
                                IssueType::Structure,
                                "slicing is openAtEnd: items matching no slice must come last",
                            )
                            .at(&item.path)
                            .from_rule(plan.source(n)),
                        );
                    }
                }
                None => {
                    seen_unmatched = true;
                    if rules == SlicingRules::Closed {
                        out.push(
                            Issue::error(
                                IssueType::Structure,
                                format!(
                                    "slicing of {} is closed: this item matches no slice",
                                    node.id
                                ),
                            )
                            .at(&item.path)
                            .from_rule(plan.source(n)),
                        );
                    }
                }
            }
        }
        for (si, &s) in slices.iter().enumerate() {
            let group: Vec<Item<'v>> = items
                .iter()
                .zip(&assigned)
                .filter(|(_, a)| **a == Some(si))
                .map(|(i, _)| i.clone())
                .collect();
            if !group.is_empty() || !plan.nodes[s].slices.is_empty() {
                self.group(plan, s, &group, at, res, out);
            }
        }
        for (item, a) in items.iter().zip(&assigned) {
            if a.is_none() {
                self.element(plan, n, item, res, out);
            }
        }
    }

    /// The first slice (position in `slices`) whose discriminators `item` satisfies.
    fn assign(
        &mut self,
        plan: &Arc<Plan>,
        n: usize,
        item: &Item<'v>,
        res: &'v Value,
    ) -> Option<usize> {
        let specs = plan.nodes[n]
            .slice_specs
            .get_or_init(|| self.slice_specs(plan, n));
        let slices = &plan.nodes[n].slices;
        if specs.discs.is_empty() {
            // No discriminator: the slice whose definition the item satisfies.
            return (0..slices.len()).find(|&si| {
                let mut scratch = Vec::new();
                self.element(plan, slices[si], item, res, &mut scratch);
                !has_error(&scratch)
            });
        }
        let values: Vec<Vec<&'v Value>> = specs
            .discs
            .iter()
            .map(|d| self.instance_values(item, &d.segs, res))
            .collect();
        if let Some(index) = &specs.index {
            let key: Option<Vec<&str>> = values
                .iter()
                .map(|v| match v.as_slice() {
                    [one] => one.as_str(),
                    _ => None,
                })
                .collect();
            if let Some(key) = key {
                let key: Vec<String> = key.into_iter().map(str::to_string).collect();
                return index.get(&key).and_then(|found| found.first().copied());
            }
        }
        (0..slices.len()).find(|&si| {
            specs
                .discs
                .iter()
                .zip(&values)
                .all(|(d, vals)| self.satisfies(&d.per_slice[si], &d.segs, item, vals))
        })
    }

    fn satisfies(
        &mut self,
        expect: &Expect,
        segs: &[Seg],
        item: &Item<'v>,
        values: &[&'v Value],
    ) -> bool {
        match expect {
            Expect::Never => false,
            Expect::Values { wanted, exact } => wanted.iter().all(|w| {
                values.iter().any(|v| {
                    if *exact {
                        fixed_matches(w, v)
                    } else {
                        pattern_matches(w, v)
                    }
                })
            }),
            Expect::Subtree((p, node)) => values
                .iter()
                .any(|v| subtree_match(p, *node, v) == Some(true)),
            Expect::Exists(None) => true,
            Expect::Exists(Some(wanted)) => values.is_empty() != *wanted,
            Expect::Types(types) => {
                if segs.iter().all(|s| matches!(s, Seg::This)) {
                    return types.contains(&item.ty);
                }
                values
                    .iter()
                    .all(|v| match v.get("resourceType").and_then(Value::as_str) {
                        Some(rt) => types.iter().any(|t| t == rt),
                        None => true,
                    })
            }
            Expect::Profiles(profiles) => {
                let named = segs
                    .iter()
                    .map(|s| match s {
                        Seg::Name(n) => Some(format!(".{n}")),
                        Seg::This => Some(String::new()),
                        _ => None,
                    })
                    .collect::<Option<String>>()
                    .map(|suffix| format!("{}{suffix}", item.path));
                !values.is_empty()
                    && values.iter().all(|v| {
                        profiles
                            .iter()
                            .any(|p| self.conforms_to(v, p, named.clone()))
                    })
            }
        }
    }

    /// The slice side of every discriminator of element `n`, and a hash index when every slice
    /// is told apart by fixed strings (JP-CLINS slices `code.coding` hundreds of ways).
    fn slice_specs(&self, plan: &Arc<Plan>, n: usize) -> SliceSpecs {
        let node = &plan.nodes[n];
        let discriminators: &[Discriminator] = node
            .def
            .slicing
            .as_ref()
            .map_or(&[], |s| s.discriminator.as_slice());
        let discs: Vec<DiscSpec> = discriminators
            .iter()
            .map(|d| {
                let segs = parse_path(&d.path);
                let per_slice = node
                    .slices
                    .iter()
                    .map(|&s| self.expect(plan, s, &d.kind, &segs))
                    .collect();
                DiscSpec { segs, per_slice }
            })
            .collect();
        let mut index: Option<HashMap<Vec<String>, Vec<usize>>> =
            (!discs.is_empty()).then(HashMap::new);
        for si in 0..node.slices.len() {
            let Some(map) = index.as_mut() else { break };
            let key: Option<Vec<String>> = discs
                .iter()
                .map(|d| match &d.per_slice[si] {
                    Expect::Values { wanted, .. } => match wanted.as_slice() {
                        [Value::String(s)] => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            match key {
                Some(k) => map.entry(k).or_default().push(si),
                None => index = None,
            }
        }
        SliceSpecs { discs, index }
    }

    fn expect(&self, plan: &Arc<Plan>, s: usize, kind: &str, segs: &[Seg]) -> Expect {
        let chain = self.slice_chain(plan, s, segs);
        let Some((last, consumed)) = chain.last() else {
            return Expect::Never;
        };
        let complete = *consumed == segs.len();
        match kind {
            "value" | "pattern" => {
                for ((p, node), k) in chain.iter().rev() {
                    let def = &p.nodes[*node].def;
                    let (expected, exact) = match (&def.fixed, &def.pattern) {
                        (Some(f), _) => (&f.value, true),
                        (None, Some(pt)) => (&pt.value, false),
                        _ => continue,
                    };
                    let wanted: Vec<Value> = project(expected, &segs[*k..])
                        .into_iter()
                        .cloned()
                        .collect();
                    if wanted.is_empty() {
                        return Expect::Never;
                    }
                    return Expect::Values {
                        wanted,
                        exact: exact && *k == segs.len(),
                    };
                }
                // Nothing fixed on the path itself: the slice's fixed/pattern descendants
                // (a CodeableConcept slice fixing `coding.system` and `coding.code`).
                if complete {
                    Expect::Subtree(last.clone())
                } else {
                    Expect::Never
                }
            }
            _ if !complete => Expect::Never,
            "exists" => {
                let def = &last.0.nodes[last.1].def;
                Expect::Exists(if def.max == "0" {
                    Some(false)
                } else if def.min > 0 {
                    Some(true)
                } else {
                    None
                })
            }
            "type" => Expect::Types(
                last.0.nodes[last.1]
                    .def
                    .types
                    .iter()
                    .map(|t| t.fhir_type().to_string())
                    .collect(),
            ),
            "profile" => {
                let resolved = segs.iter().any(|s| matches!(s, Seg::Resolve));
                let profiles: Vec<String> = last.0.nodes[last.1]
                    .def
                    .types
                    .iter()
                    .flat_map(|t| {
                        if resolved {
                            &t.target_profile
                        } else {
                            &t.profile
                        }
                    })
                    .cloned()
                    .collect();
                if profiles.is_empty() {
                    Expect::Never
                } else {
                    Expect::Profiles(profiles)
                }
            }
            _ => Expect::Never,
        }
    }

    /// Whether a node (a resource, or a datatype value) satisfies profile `p`; memoised.
    /// `path` is the item's location when the discriminator path names it (`resource`), so
    /// the issues found here are kept and reused when the item is walked against its slice.
    fn conforms_to(&mut self, v: &'v Value, p: &str, path: Option<String>) -> bool {
        let Some(plan) = self.engine.plan(p) else {
            return false;
        };
        let rt = v.get("resourceType").and_then(Value::as_str);
        if rt.is_some_and(|rt| rt != plan.type_name) {
            return false;
        }
        let key = (std::ptr::from_ref(v) as usize, plan.url.clone());
        if let Some(&ok) = self.conforms.get(&key) {
            return ok;
        }
        self.conforms.insert(key.clone(), true);
        let mut scratch = Vec::new();
        let at = path.clone().unwrap_or_default();
        if rt.is_some() {
            self.resource(v, &plan, &at, &mut scratch);
        } else {
            let item = Item {
                value: Some(v),
                ext: None,
                ty: plan.type_name.clone(),
                path: at,
            };
            let res = self.root;
            self.element(&plan, 0, &item, res, &mut scratch);
        }
        let ok = !has_error(&scratch);
        if let (Some(path), Some(_)) = (path, rt) {
            self.reports.insert(key.clone(), (path, scratch));
        }
        self.conforms.insert(key, ok);
        ok
    }

    /// The slice-side nodes along a discriminator path, each with how many steps it consumed;
    /// the path continues into a type's profile (or base type) when the slice does not unfold it.
    fn slice_chain(&self, plan: &Arc<Plan>, s: usize, segs: &[Seg]) -> Vec<(Reached, usize)> {
        let mut chain = vec![((plan.clone(), s), 0)];
        let mut cur: Reached = (plan.clone(), s);
        for (i, seg) in segs.iter().enumerate() {
            match seg {
                Seg::This | Seg::OfType(_) => {}
                // A final `resolve()` stays on the Reference: its targetProfile is the answer.
                Seg::Resolve if i + 1 == segs.len() => {}
                Seg::Resolve | Seg::Extension(_) => break,
                Seg::Name(name) => {
                    let Some(next) = self.child_of(&cur, name) else {
                        break;
                    };
                    cur = next;
                }
            }
            chain.push((cur.clone(), i + 1));
        }
        chain
    }

    fn child_of(&self, (plan, n): &Reached, name: &str) -> Option<Reached> {
        if let Some(c) = plan.child_named(*n, name) {
            return Some((plan.clone(), c));
        }
        if !plan.nodes[*n].children.is_empty() {
            return None;
        }
        let t = plan.nodes[*n].def.types.first()?;
        let tp = match t.profile.first() {
            Some(p) => self.engine.plan(p),
            None => self.engine.base_plan(t.fhir_type()),
        }?;
        let c = tp.child_named(0, name)?;
        Some((tp, c))
    }

    fn instance_values(&self, item: &Item<'v>, segs: &[Seg], res: &'v Value) -> Vec<&'v Value> {
        let mut cur: Vec<&'v Value> = item.value.into_iter().collect();
        let mut i = 0;
        while i < segs.len() {
            let mut next = Vec::new();
            match &segs[i] {
                Seg::This => next = cur,
                Seg::Name(name) => {
                    let typed = match segs.get(i + 1) {
                        Some(Seg::OfType(t)) => {
                            i += 1;
                            Some(format!("{name}{}", upper_first(t)))
                        }
                        _ => None,
                    };
                    for v in cur {
                        let Some(o) = v.as_object() else { continue };
                        let found = match &typed {
                            Some(k) => o.get(k),
                            None => o.get(name).or_else(|| {
                                o.iter()
                                    .find(|(k, _)| {
                                        k.strip_prefix(name.as_str()).is_some_and(|r| {
                                            r.starts_with(|c: char| c.is_ascii_uppercase())
                                        })
                                    })
                                    .map(|(_, v)| v)
                            }),
                        };
                        match found {
                            Some(Value::Array(a)) => next.extend(a.iter()),
                            Some(x) => next.push(x),
                            None => {}
                        }
                    }
                }
                Seg::Resolve => {
                    for v in cur {
                        if let Some(t) = v
                            .get("reference")
                            .and_then(Value::as_str)
                            .and_then(|r| self.resolve(r, res))
                        {
                            next.push(t);
                        }
                    }
                }
                Seg::OfType(t) => {
                    next = cur
                        .into_iter()
                        .filter(|v| {
                            v.get("resourceType")
                                .and_then(Value::as_str)
                                .is_none_or(|rt| rt == t)
                        })
                        .collect();
                }
                Seg::Extension(url) => {
                    for v in cur {
                        if let Some(list) = v.get("extension").and_then(Value::as_array) {
                            next.extend(
                                list.iter()
                                    .filter(|x| x.get("url").and_then(Value::as_str) == Some(url)),
                            );
                        }
                    }
                }
            }
            cur = next;
            i += 1;
        }
        cur
    }
}

/// The parts of a fixed/pattern value at the rest of a discriminator path.
fn project<'a>(value: &'a Value, segs: &[Seg]) -> Vec<&'a Value> {
    let mut cur = vec![value];
    for seg in segs {
        match seg {
            Seg::This | Seg::OfType(_) => {}
            Seg::Name(name) => {
                let mut next = Vec::new();
                for v in cur {
                    match v.get(name) {
                        Some(Value::Array(a)) => next.extend(a.iter()),
                        Some(x) => next.push(x),
                        None => {}
                    }
                }
                cur = next;
            }
            Seg::Resolve | Seg::Extension(_) => return Vec::new(),
        }
    }
    cur
}

/// Whether `v` satisfies every fixed/pattern value in the subtree of node `n`; `None` when
/// the subtree fixes nothing.
fn subtree_match(plan: &Plan, n: usize, v: &Value) -> Option<bool> {
    let def = &plan.nodes[n].def;
    if let Some(f) = &def.fixed {
        return Some(fixed_matches(&f.value, v));
    }
    if let Some(p) = &def.pattern {
        return Some(pattern_matches(&p.value, v));
    }
    let mut constrained = None;
    for &c in &plan.nodes[n].children {
        let child = &plan.nodes[c];
        let Some(o) = v.as_object() else {
            return Some(false);
        };
        let vals: Vec<&Value> = o
            .iter()
            .filter(|(k, _)| {
                *k == &child.name
                    || (child.choice
                        && k.strip_prefix(child.name.as_str())
                            .is_some_and(|r| r.starts_with(|ch: char| ch.is_ascii_uppercase())))
            })
            .flat_map(|(_, x)| match x {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect();
        if !fixes_something(plan, c) {
            continue;
        }
        constrained = Some(true);
        if !vals
            .iter()
            .any(|cv| subtree_match(plan, c, cv) == Some(true))
        {
            return Some(false);
        }
    }
    constrained
}

fn fixes_something(plan: &Plan, n: usize) -> bool {
    let node = &plan.nodes[n];
    node.def.fixed.is_some()
        || node.def.pattern.is_some()
        || node.children.iter().any(|&c| fixes_something(plan, c))
}
