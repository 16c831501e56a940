//! Generated snapshots, kept per package set: a StructureDefinition without a snapshot gets one
//! the first time something asks for it (a validation naming the profile, a profile based on
//! it), and keeps it. Generating lazily costs start-up nothing: the official packages all ship
//! snapshots, and a package of differentials pays only for the profiles it uses.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use super::super::model::BaseModel;
use super::super::packages::PackageSet;
use super::{CORE_PREFIX, Source, elements, generate, structure_definition_of};

/// How many bases deep generation follows before it calls the chain a cycle.
const MAX_DEPTH: usize = 32;

pub struct SnapshotCache {
    packages: Arc<PackageSet>,
    model: &'static BaseModel,
    /// Canonical (as asked) → the definition with its generated snapshot; `None` remembers one
    /// that cannot be generated (already reported).
    generated: RwLock<HashMap<String, Option<Arc<Value>>>>,
}

impl SnapshotCache {
    pub fn new(packages: Arc<PackageSet>, model: &'static BaseModel) -> Self {
        SnapshotCache {
            packages,
            model,
            generated: RwLock::new(HashMap::new()),
        }
    }

    fn resolve(&self, canonical: &str, depth: usize) -> Option<Arc<Value>> {
        if let Some(sd) = self.packages.resolve_in("StructureDefinition", canonical)
            && elements(&sd.json).is_some()
        {
            return Some(Arc::clone(&sd.json));
        }
        if let Ok(cache) = self.generated.read()
            && let Some(found) = cache.get(canonical)
        {
            return found.clone();
        }
        let made = self.make(canonical, depth);
        if let Ok(mut cache) = self.generated.write() {
            cache.insert(canonical.to_string(), made.clone());
        }
        made
    }

    fn make(&self, canonical: &str, depth: usize) -> Option<Arc<Value>> {
        let Some(sd) = self.packages.resolve_in("StructureDefinition", canonical) else {
            let url = canonical.split('|').next().unwrap_or(canonical);
            let def = self.model.type_def(url.strip_prefix(CORE_PREFIX)?)?;
            return Some(Arc::new(structure_definition_of(def)));
        };
        if depth > MAX_DEPTH {
            tracing::warn!("{canonical}: its base definitions form a cycle or nest too deeply");
            return None;
        }
        let nested = Nested {
            cache: self,
            depth: depth + 1,
        };
        match generate(&sd.json, &nested) {
            Ok(snapshot) => {
                let mut with = (*sd.json).clone();
                with["snapshot"] = json!({ "element": snapshot });
                Some(Arc::new(with))
            }
            Err(e) => {
                tracing::warn!("cannot generate the snapshot of {canonical}: {e}");
                None
            }
        }
    }
}

impl Source for SnapshotCache {
    fn structure_definition(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resolve(canonical, 0)
    }
}

/// The cache as seen from inside one generation, counting how deep it is.
struct Nested<'a> {
    cache: &'a SnapshotCache,
    depth: usize,
}

impl Source for Nested<'_> {
    fn structure_definition(&self, canonical: &str) -> Option<Arc<Value>> {
        self.cache.resolve(canonical, self.depth)
    }
}
