//! Generated snapshots, kept per package set: a StructureDefinition without a snapshot gets one
//! the first time something asks for it (a validation naming the profile, a profile based on
//! it), and keeps it. Generating lazily costs start-up nothing: the official packages all ship
//! snapshots, and a package of differentials pays only for the profiles it uses.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use super::{CORE_PREFIX, SnapshotError, Source, elements, generate, structure_definition_of};
use crate::model::BaseModel;
use crate::packages::PackageSet;

/// How many bases deep generation follows before it calls the chain a cycle.
const MAX_DEPTH: usize = 32;

pub struct SnapshotCache {
    packages: Arc<PackageSet>,
    model: &'static BaseModel,
    /// Canonical (as asked) → the definition with its generated snapshot, or why there is none.
    generated: RwLock<HashMap<String, Result<Arc<Value>, SnapshotError>>>,
}

impl SnapshotCache {
    pub fn new(packages: Arc<PackageSet>, model: &'static BaseModel) -> Self {
        SnapshotCache {
            packages,
            model,
            generated: RwLock::new(HashMap::new()),
        }
    }

    fn resolve(&self, canonical: &str, depth: usize) -> Result<Arc<Value>, SnapshotError> {
        if let Some(sd) = self.packages.resolve_in("StructureDefinition", canonical)
            && elements(sd.json()).is_some()
        {
            return Ok(Arc::clone(sd.json()));
        }
        if let Ok(cache) = self.generated.read()
            && let Some(found) = cache.get(canonical)
        {
            return found.clone();
        }
        let made = self.make(canonical, depth);
        if let Err(e) = &made
            && !matches!(e, SnapshotError::Unknown(_))
        {
            tracing::warn!("cannot generate a snapshot: {e}");
        }
        if let Ok(mut cache) = self.generated.write() {
            cache.insert(canonical.to_string(), made.clone());
        }
        made
    }

    /// Why `canonical`, defined by a loaded package, has no snapshot to validate against:
    /// `None` when it has one (published or generated) or is not defined at all.
    pub fn failure(&self, canonical: &str) -> Option<SnapshotError> {
        match self.structure_definition(canonical) {
            Err(SnapshotError::Unknown(_)) | Ok(_) => None,
            Err(e) => Some(e),
        }
    }

    fn make(&self, canonical: &str, depth: usize) -> Result<Arc<Value>, SnapshotError> {
        let unknown = || SnapshotError::Unknown(canonical.to_string());
        let Some(sd) = self.packages.resolve_in("StructureDefinition", canonical) else {
            let url = canonical.split('|').next().unwrap_or(canonical);
            let name = url.strip_prefix(CORE_PREFIX).ok_or_else(unknown)?;
            let def = self.model.type_def(name).ok_or_else(unknown)?;
            return Ok(Arc::new(structure_definition_of(def)));
        };
        if depth > MAX_DEPTH {
            return Err(SnapshotError::TooDeep(canonical.to_string()));
        }
        let nested = Nested {
            cache: self,
            depth: depth + 1,
        };
        let snapshot = generate(sd.json(), &nested)?;
        let mut with = (**sd.json()).clone();
        with["snapshot"] = json!({ "element": snapshot });
        Ok(Arc::new(with))
    }
}

impl Source for SnapshotCache {
    fn structure_definition(&self, canonical: &str) -> Result<Arc<Value>, SnapshotError> {
        self.resolve(canonical, 0)
    }
}

/// The cache as seen from inside one generation, counting how deep it is.
struct Nested<'a> {
    cache: &'a SnapshotCache,
    depth: usize,
}

impl Source for Nested<'_> {
    fn structure_definition(&self, canonical: &str) -> Result<Arc<Value>, SnapshotError> {
        self.cache.resolve(canonical, self.depth)
    }
}
