//! Snapshot generation: the full element list of a StructureDefinition that ships only its
//! differential, built from its base's snapshot and the differential as
//! <https://hl7.org/fhir/R4/profiling.html#snapshot> defines it. Each differential element, in
//! order, finds its place in the base's elements: an element the base has, a child of a
//! datatype or type profile unfolded under its parent, a child reused through
//! `contentReference`, a new slice (a copy of the sliced element as constrained so far, placed
//! after the sliced element and its earlier slices), a re-slice, or a choice element named for
//! one of its types (`valueQuantity`: the type slice `value[x]:valueQuantity`). The
//! differential's constraints are then laid over it (`merge`): cardinality, types, fixed and
//! pattern values, bindings, added invariants.
//!
//! A base (or a type whose children are unfolded) comes from a [`Source`]: the published
//! snapshot when its package has one, else one generated the same way, recursively; the
//! validator's [`SnapshotCache`] generates each once per package set, when first needed.

mod cache;
mod merge;
mod model_sd;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_examples;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

pub use cache::SnapshotCache;
pub use model_sd::structure_definition_of;

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}: StructureDefinition has neither a snapshot nor a differential")]
    NoDifferential(String),
    #[error("{0}: no baseDefinition to generate its snapshot from")]
    NoBase(String),
    #[error("{url}: its base {base} is not known")]
    BaseNotFound { url: String, base: String },
    #[error("{url}: only constraints have generated snapshots, not a {derivation}")]
    NotAConstraint { url: String, derivation: String },
    #[error("{url}: differential element {id}: {reason}")]
    Element {
        url: String,
        id: String,
        reason: String,
    },
    #[error("{0}: its base definitions form a cycle or are nested too deeply")]
    TooDeep(String),
    #[error("{0}: no loaded package defines it")]
    Unknown(String),
}

/// Where the generator finds other StructureDefinitions (bases, datatypes, type profiles), each
/// with a snapshot.
pub trait Source {
    /// The definition with its snapshot; [`SnapshotError::Unknown`] when nothing defines it.
    fn structure_definition(&self, canonical: &str) -> Result<Arc<Value>, SnapshotError>;
}

/// The snapshot elements of `sd` generated from its differential over its base.
pub fn generate(sd: &Value, source: &dyn Source) -> Result<Vec<Value>, SnapshotError> {
    let url = text(sd, "url").unwrap_or_default().to_string();
    let derivation = text(sd, "derivation").unwrap_or("constraint");
    if derivation != "constraint" {
        return Err(SnapshotError::NotAConstraint {
            url,
            derivation: derivation.to_string(),
        });
    }
    let diff = sd
        .pointer("/differential/element")
        .and_then(Value::as_array)
        .ok_or_else(|| SnapshotError::NoDifferential(url.clone()))?;
    let base_url = text(sd, "baseDefinition").ok_or_else(|| SnapshotError::NoBase(url.clone()))?;
    // A base that cannot be generated says why (a cycle, an element it lacks), not just
    // that it is missing.
    let base_sd = source.structure_definition(base_url).map_err(|e| match e {
        SnapshotError::Unknown(_) => SnapshotError::BaseNotFound {
            url: url.clone(),
            base: base_url.to_string(),
        },
        other => other,
    })?;
    let base = elements(&base_sd).ok_or_else(|| SnapshotError::BaseNotFound {
        url: url.clone(),
        base: base_url.to_string(),
    })?;
    let mut work = Work::new(base, source);
    for element in diff {
        let id = element_id(element).ok_or_else(|| SnapshotError::Element {
            url: url.clone(),
            id: String::new(),
            reason: "has neither id nor path".to_string(),
        })?;
        let at = work.locate(&id).map_err(|reason| SnapshotError::Element {
            url: url.clone(),
            id: id.clone(),
            reason,
        })?;
        merge::merge(&mut work.elements[at], element, &url);
    }
    Ok(work.elements)
}

/// The snapshot elements of a StructureDefinition, if it has them.
pub fn elements(sd: &Value) -> Option<&Vec<Value>> {
    sd.pointer("/snapshot/element").and_then(Value::as_array)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A differential element's id; R4 allows elements without one, named then by path and slice.
fn element_id(element: &Value) -> Option<String> {
    if let Some(id) = text(element, "id") {
        return Some(id.to_string());
    }
    let path = text(element, "path")?;
    Some(match text(element, "sliceName") {
        Some(slice) => format!("{path}:{slice}"),
        None => path.to_string(),
    })
}

/// The snapshot under construction, and beside it each element as it stood before the
/// differential touched it: a `contentReference` reuses the definition as the base has it.
struct Work<'a> {
    elements: Vec<Value>,
    pristine: Vec<Value>,
    /// Element id → position in both lists.
    index: HashMap<String, usize>,
    /// A choice's typed name (`Observation.valueQuantity`) → its type slice's id.
    aliases: Vec<(String, String)>,
    /// Slice id → the id of the element it slices.
    slice_of: Vec<(String, String)>,
    source: &'a dyn Source,
}

impl<'a> Work<'a> {
    fn new(base: &[Value], source: &'a dyn Source) -> Self {
        let elements: Vec<Value> = base.iter().map(with_base).collect();
        let mut work = Work {
            pristine: elements.clone(),
            elements,
            index: HashMap::new(),
            aliases: Vec::new(),
            slice_of: Vec::new(),
            source,
        };
        work.reindex();
        work
    }

    /// Ids never change once placed (merging skips them): only insertions move positions.
    fn reindex(&mut self) {
        self.index = self
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| (own_id(e).to_string(), i))
            .collect();
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The index of element `id`, adding it (and whatever it hangs from) when the base does not
    /// have it yet.
    fn locate(&mut self, id: &str) -> Result<usize, String> {
        let id = &self.aliased(id);
        if let Some(at) = self.find(id) {
            return Ok(at);
        }
        let (parent, last) = split_last(id);
        if let Some((name, slice)) = last.split_once(':') {
            return self.add_slice(parent, name, slice);
        }
        let Some(parent) = parent else {
            return Err("the root of the differential is not the base's root".to_string());
        };
        let p = self.locate(parent)?;
        if let Some(at) = self.find(id) {
            return Ok(at);
        }
        if !self.has_children(p) {
            self.unfold(p)?;
            if let Some(at) = self.find(id) {
                return Ok(at);
            }
        }
        self.choice_named(p, last)
    }

    fn has_children(&self, p: usize) -> bool {
        let prefix = format!("{}.", own_id(&self.elements[p]));
        self.elements
            .get(p + 1)
            .is_some_and(|e| own_id(e).starts_with(&prefix))
    }

    /// `valueQuantity` under `p` when the element is `value[x]`: the type slice
    /// `value[x]:valueQuantity`, as R4 snapshots spell a choice constrained by its typed name
    /// (the choice element gets a closed type slicing if it has none). Later ids that start
    /// with the typed name are read as the slice's.
    fn choice_named(&mut self, p: usize, last: &str) -> Result<usize, String> {
        let parent_id = own_id(&self.elements[p]).to_string();
        let found = self.children_of(p).into_iter().find_map(|c| {
            let id = own_id(&self.elements[c]);
            let name = id.strip_prefix(&parent_id)?.strip_prefix('.')?;
            let stem = name.strip_suffix("[x]")?;
            let suffix = last.strip_prefix(stem)?;
            let ty = type_codes(&self.elements[c])
                .into_iter()
                .find(|t| upper_first(t) == suffix)?;
            Some((c, name.to_string(), ty))
        });
        let Some((c, name, ty)) = found else {
            return Err(format!("{parent_id} has no element {last}"));
        };
        self.aliases.push((
            format!("{parent_id}.{last}"),
            format!("{parent_id}.{name}:{last}"),
        ));
        if let Some(object) = self.elements[c].as_object_mut()
            && !object.contains_key("slicing")
        {
            object.insert(
                "slicing".to_string(),
                json!({"discriminator": [{"type": "type", "path": "$this"}], "ordered": false, "rules": "closed"}),
            );
        }
        let at = self.add_slice(Some(&parent_id), &name, last)?;
        if let Some(types) = self.elements[at]
            .get_mut("type")
            .and_then(Value::as_array_mut)
        {
            types.retain(|t| text(t, "code") == Some(ty.as_str()));
        }
        // The closed slicing allows the named types only: the choice says so too.
        let slices = format!("{parent_id}.{name}:");
        let named: Vec<String> = self
            .elements
            .iter()
            .filter(|e| {
                own_id(e)
                    .strip_prefix(&slices)
                    .is_some_and(|s| !s.contains('.'))
            })
            .flat_map(type_codes)
            .collect();
        if let Some(types) = self.elements[c]
            .get_mut("type")
            .and_then(Value::as_array_mut)
        {
            types.retain(|t| text(t, "code").is_some_and(|code| named.iter().any(|n| n == code)));
        }
        Ok(at)
    }

    /// `id` with a choice's typed name read as its type slice (see [`Work::choice_named`]).
    fn aliased(&self, id: &str) -> String {
        for (from, to) in &self.aliases {
            if let Some(rest) = id.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('.') || rest.starts_with(':'))
            {
                return format!("{to}{rest}");
            }
        }
        id.to_string()
    }

    /// Direct children of element `p` (not its slices, not grandchildren).
    fn children_of(&self, p: usize) -> Vec<usize> {
        let prefix = format!("{}.", own_id(&self.elements[p]));
        (p + 1..self.elements.len())
            .take_while(|&i| own_id(&self.elements[i]).starts_with(&prefix))
            .filter(|&i| !own_id(&self.elements[i])[prefix.len()..].contains('.'))
            .collect()
    }

    /// Puts the children of element `p` right after it: from its `contentReference`, from the
    /// element it slices when that one has children here (a slice inherits what the
    /// differential said of them), or from the snapshot of its (single) type or type profile.
    fn unfold(&mut self, p: usize) -> Result<(), String> {
        let parent = self.elements[p].clone();
        let parent_id = own_id(&parent).to_string();
        let parent_path = text(&parent, "path").unwrap_or_default().to_string();
        let sliced = self
            .slice_of
            .iter()
            .find(|(slice, _)| *slice == parent_id)
            .and_then(|(_, sliced)| self.find(sliced))
            .filter(|&s| self.has_children(s));
        let (children, root_id, root_path): (Vec<Value>, String, String) =
            match (text(&parent, "contentReference"), sliced) {
                (Some(reference), _) => {
                    let target = reference.rsplit('#').next().unwrap_or(reference);
                    let start = self.find(target).ok_or_else(|| {
                        format!("contentReference {reference} is not in the base")
                    })?;
                    let path = text(&self.pristine[start], "path").unwrap_or(target);
                    let found = descendants(&self.pristine, start);
                    (found, target.to_string(), path.to_string())
                }
                (None, Some(s)) => (
                    descendants(&self.elements, s),
                    own_id(&self.elements[s]).to_string(),
                    text(&self.elements[s], "path")
                        .unwrap_or_default()
                        .to_string(),
                ),
                (None, None) => {
                    let canonical = type_to_unfold(&parent)?;
                    let sd = self
                        .source
                        .structure_definition(&canonical)
                        .map_err(|e| format!("its type {canonical}: {e}"))?;
                    let list =
                        elements(&sd).ok_or_else(|| format!("{canonical} has no snapshot"))?;
                    let Some(root) = list.first() else {
                        return Err(format!("{canonical} has an empty snapshot"));
                    };
                    let children = list.iter().skip(1).map(with_base).collect();
                    let path = text(root, "path").unwrap_or_default().to_string();
                    (children, own_id(root).to_string(), path)
                }
            };
        let mut added = Vec::with_capacity(children.len());
        for mut child in children {
            let id = own_id(&child).to_string();
            let path = text(&child, "path").unwrap_or_default().to_string();
            let (Some(id_rest), Some(path_rest)) =
                (id.strip_prefix(&root_id), path.strip_prefix(&root_path))
            else {
                continue;
            };
            child["id"] = json!(format!("{parent_id}{id_rest}"));
            child["path"] = json!(format!("{parent_path}{path_rest}"));
            added.push(child);
        }
        self.insert(p + 1, added);
        Ok(())
    }

    fn insert(&mut self, at: usize, added: Vec<Value>) {
        let count = added.len();
        // Shifting positions costs no allocation; a slice-heavy profile inserts hundreds of
        // times into thousands of elements.
        for i in self.index.values_mut() {
            if *i >= at {
                *i += count;
            }
        }
        for (k, e) in added.iter().enumerate() {
            self.index.insert(own_id(e).to_string(), at + k);
        }
        self.pristine.splice(at..at, added.iter().cloned());
        self.elements.splice(at..at, added);
    }

    /// A new slice `slice` of element `name` under `parent` (a re-slice when `slice` is
    /// `a/b`): a copy of the sliced element as the differential has constrained it so far
    /// (slices inherit those constraints), placed after the sliced element's children and
    /// earlier slices. Its children are copied when the differential reaches them.
    fn add_slice(
        &mut self,
        parent: Option<&str>,
        name: &str,
        slice: &str,
    ) -> Result<usize, String> {
        let stem = match parent {
            Some(p) => format!("{p}.{name}"),
            None => name.to_string(),
        };
        // `a/b` re-slices `a` when there is such a slice (JP-CLINS also names plain slices
        // with a `/`).
        let sliced_id = match slice.rsplit_once('/') {
            Some((before, _)) if self.find(&format!("{stem}:{before}")).is_some() => {
                format!("{stem}:{before}")
            }
            _ => stem.clone(),
        };
        let s = self.locate(&sliced_id)?;
        let new_id = format!("{stem}:{slice}");
        let end = self.region_end(s, &sliced_id);
        let mut copy = self.elements[s].clone();
        if let Some(object) = copy.as_object_mut() {
            object.remove("slicing");
        }
        copy["id"] = json!(new_id);
        copy["sliceName"] = json!(slice);
        self.slice_of.push((new_id, sliced_id));
        self.insert(end, vec![copy]);
        Ok(end)
    }

    /// One past the last element that belongs to `id` at `s`: its children, its slices and
    /// theirs.
    fn region_end(&self, s: usize, id: &str) -> usize {
        let (child, slice, reslice) = (format!("{id}."), format!("{id}:"), format!("{id}/"));
        let mut end = s + 1;
        while let Some(e) = self.elements.get(end) {
            let other = own_id(e);
            if other.starts_with(&child) || other.starts_with(&slice) || other.starts_with(&reslice)
            {
                end += 1;
            } else {
                break;
            }
        }
        end
    }
}

/// The elements below the one at `start` (its children and theirs, its children's slices).
fn descendants(list: &[Value], start: usize) -> Vec<Value> {
    let prefix = format!("{}.", own_id(&list[start]));
    list[start + 1..]
        .iter()
        .take_while(|e| own_id(e).starts_with(&prefix))
        .cloned()
        .collect()
}

/// The canonical whose snapshot holds the children of `element`: its single type's profile, or
/// the base definition of that type.
fn type_to_unfold(element: &Value) -> Result<String, String> {
    let types = element
        .get("type")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [single] = types else {
        return Err(format!(
            "its children cannot be unfolded from {} types",
            types.len()
        ));
    };
    let profiles: Vec<&str> = single
        .get("profile")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let [profile] = profiles.as_slice() {
        return Ok((*profile).to_string());
    }
    let code = text(single, "code").ok_or("a type without a code")?;
    Ok(if code.contains(':') {
        code.to_string()
    } else {
        format!("{CORE_PREFIX}{code}")
    })
}

fn type_codes(element: &Value) -> Vec<String> {
    element
        .get("type")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| text(t, "code").map(str::to_string))
        .collect()
}

/// The element's id, or its path where it has none (R4 core datatypes have ids throughout).
fn own_id(e: &Value) -> &str {
    text(e, "id")
        .or_else(|| text(e, "path"))
        .unwrap_or_default()
}

/// An element id split at its last `.` (slice names here hold none).
fn split_last(id: &str) -> (Option<&str>, &str) {
    match id.rsplit_once('.') {
        Some((parent, last)) => (Some(parent), last),
        None => (None, id),
    }
}

/// A copy of a base element with its `base` filled in when the source lacks it (an element
/// of the base type itself: its own path and cardinality).
fn with_base(e: &Value) -> Value {
    let mut e = e.clone();
    if e.get("base").is_none()
        && let Some(object) = e.as_object_mut()
    {
        let mut base = Map::new();
        for key in ["path", "min", "max"] {
            if let Some(v) = object.get(key) {
                base.insert(key.to_string(), v.clone());
            }
        }
        object.insert("base".to_string(), Value::Object(base));
    }
    e
}

fn upper_first(s: &str) -> String {
    crate::model::upper_first(s)
}
