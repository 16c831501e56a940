//! Discriminators: a discriminator path parsed once, what each slice expects at it (fixed or
//! pattern values, a type, a profile, existence), worked out once per sliced element with a hash
//! index when fixed strings tell every slice apart, and the values an instance has at it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::plan::Plan;
use super::values::{fixed_matches, pattern_matches};
use super::walker::{Item, Walker};
use crate::model::{Discriminator, upper_first};

/// The slice side of one discriminator, per slice.
pub(crate) struct DiscSpec {
    pub segs: Vec<Seg>,
    pub per_slice: Vec<Expect>,
}

pub(crate) struct SliceSpecs {
    pub discs: Vec<DiscSpec>,
    /// Discriminator values (as strings, in discriminator order, joined by [`KEY_SEP`]) →
    /// slices, when every slice is identified by fixed strings. One string rather than a list
    /// of them: an item's key is then built in a reused buffer, not allocated per item.
    pub index: Option<HashMap<String, Vec<usize>>>,
}

/// Joins the discriminator values of an index key; no profile fixes a value holding it, and an
/// instance value that does is looked up by scanning instead.
pub(crate) const KEY_SEP: char = '\0';

/// What a slice requires of the item at one discriminator path.
pub(crate) enum Expect {
    Never,
    Values { wanted: Vec<Value>, exact: bool },
    Subtree(Reached),
    Exists(Option<bool>),
    Types(Vec<String>),
    Profiles(Vec<String>),
}

/// One step of a discriminator path.
pub(crate) enum Seg {
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
pub(crate) type Reached = (Arc<Plan>, usize);

impl<'v> Walker<'_, 'v> {
    /// The slice side of every discriminator of element `n`, and a hash index when every slice
    /// is told apart by fixed strings (JP-CLINS slices `code.coding` hundreds of ways).
    pub(super) fn slice_specs(&self, plan: &Arc<Plan>, n: usize) -> SliceSpecs {
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
        let mut index: Option<HashMap<String, Vec<usize>>> = (!discs.is_empty()).then(HashMap::new);
        for si in 0..node.slices.len() {
            let Some(map) = index.as_mut() else { break };
            let key: Option<Vec<&str>> = discs
                .iter()
                .map(|d| match &d.per_slice[si] {
                    Expect::Values { wanted, .. } => match wanted.as_slice() {
                        [Value::String(s)] if !s.contains(KEY_SEP) => Some(s.as_str()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            let key = key.map(|parts| parts.join(KEY_SEP.encode_utf8(&mut [0; 4])));
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

    pub(super) fn instance_values(
        &self,
        item: &Item<'v>,
        segs: &[Seg],
        res: &'v Value,
    ) -> Vec<&'v Value> {
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
pub(super) fn subtree_match(plan: &Plan, n: usize, v: &Value) -> Option<bool> {
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
