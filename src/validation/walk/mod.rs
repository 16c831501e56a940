//! The authoritative pass: an instance checked against compiled StructureDefinition plans
//! (cardinality, types, fixed/pattern, slicing, bindings, invariants, extensions, references).
//!
//! Module map: `plan` compiles definitions once (cached here by canonical); `walker` goes through
//! the JSON, with `members` for an object's members, `profiles` for the hand-offs to other
//! definitions and `extensions` for extensions by URL and their contexts; `values` holds the leaf checks (primitives, fixed/pattern, ranges); `slicing`
//! matches items to slices by what `discriminators` works out; `rules` holds invariants and
//! bindings, `references` the reference targets; `bundle` the Bundle rules beyond its
//! invariants (fullUrl, references that must resolve inside it); `narrative` the XHTML rules.
//! [`JudgedElsewhere`] names the resources of an instance another IG context judges (a Bundle
//! entry that pins its profile to another release): the walk leaves them to it.

mod bundle;
mod calendar;
mod discriminators;
mod extensions;
mod location;
mod members;
mod narrative;
mod plan;
mod profiles;
mod references;
mod rules;
mod slicing;
mod type_names;
mod types;
mod values;
mod walker;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_bundle;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_contained;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_defects;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_display;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_examples;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_extensions;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_false_rejections;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_invariants_jp;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_languages;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_mutations;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_references;
#[cfg(test)]
mod tests_structure;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests_support;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_synthetic;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::binding_check::BindingCheck;
use super::snapshot::{SnapshotCache, Source, elements};
use crate::fhir::outcome::Text;
use crate::fhir::{Issue, IssueType};
use crate::messages::{ConformanceMessage, ValidationMessage};
use crate::model::BaseModel;
use crate::packages::PackageSet;
use plan::Plan;
use types::{ModelTypes, Primitives};

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

/// Where a walk happens: the top-level instance references resolve in, the resources in it
/// that another context judges, and the Questionnaires the server holds for the caller.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub root: &'a Value,
    pub elsewhere: &'a JudgedElsewhere,
    /// Stored Questionnaires the caller may read: where a QuestionnaireResponse's
    /// Questionnaire is looked for when neither the request nor a package has it.
    pub questionnaires: &'a [Value],
}

/// Resources of an instance that another IG context judges against some of their profiles: a
/// Bundle entry that pins `url|version` to a release other than the one walking the Bundle. The
/// walk does not hold such a resource to those profiles (the other context's walk reports what
/// is wrong with it, once), and where the walk must know whether it conforms to one of them —
/// the slice a Bundle profile matches entries to by profile, a reference target — it takes the
/// other context's verdict: a definition's unversioned canonical (a slot's profile, a
/// `targetProfile`) is met by the version the resource pins, not held to the walk's own.
#[derive(Debug, Default)]
pub struct JudgedElsewhere {
    /// Address of the resource → (profile url, whether the resource conforms to it there).
    verdicts: HashMap<usize, Vec<(String, bool)>>,
}

impl JudgedElsewhere {
    /// `resource` (a value inside the instance about to be walked) is judged against `url`
    /// elsewhere, with that verdict.
    pub fn insert(&mut self, resource: &Value, url: &str, conforms: bool) {
        let list = self
            .verdicts
            .entry(std::ptr::from_ref(resource) as usize)
            .or_default();
        match list.iter_mut().find(|(u, _)| u == url) {
            Some((_, ok)) => *ok &= conforms,
            None => list.push((url.to_string(), conforms)),
        }
    }

    /// Whether `resource` conforms to the profile `url`, when another context judges that.
    pub(crate) fn verdict(&self, resource: &Value, url: &str) -> Option<bool> {
        let list = self
            .verdicts
            .get(&(std::ptr::from_ref(resource) as usize))?;
        list.iter().find(|(u, _)| u == url).map(|(_, ok)| *ok)
    }

    /// Whether another context judges `resource` against any of its profiles.
    pub(crate) fn holds(&self, resource: &Value) -> bool {
        self.verdicts
            .contains_key(&(std::ptr::from_ref(resource) as usize))
    }
}

pub struct Engine {
    packages: Arc<PackageSet>,
    model: &'static BaseModel,
    bindings: Arc<dyn BindingCheck>,
    /// Snapshots generated for definitions that ship only a differential.
    snapshots: SnapshotCache,
    types: ModelTypes,
    primitives: Primitives,
    /// Canonical (as asked) → compiled plan; `None` remembers a canonical nothing defines.
    plans: RwLock<HashMap<String, Option<Arc<Plan>>>>,
    /// Base type name → plan: the walk asks for datatypes at every element.
    base_plans: RwLock<HashMap<String, Option<Arc<Plan>>>>,
    /// Invariants that could not be evaluated (reported as warnings), since the engine started.
    unevaluated: AtomicUsize,
}

impl Engine {
    pub fn new(
        packages: Arc<PackageSet>,
        model: &'static BaseModel,
        bindings: Arc<dyn BindingCheck>,
    ) -> Self {
        Engine {
            snapshots: SnapshotCache::new(Arc::clone(&packages), model),
            packages,
            types: ModelTypes::new(model),
            primitives: Primitives::new(model),
            model,
            bindings,
            plans: RwLock::new(HashMap::new()),
            base_plans: RwLock::new(HashMap::new()),
            unevaluated: AtomicUsize::new(0),
        }
    }

    /// Whether `profile` (a canonical, `|version` allowed) names a StructureDefinition this engine
    /// can check: a loaded package's, or a base type of the embedded model.
    pub fn knows_profile(&self, profile: &str) -> bool {
        let url = profile.split('|').next().unwrap_or(profile);
        self.packages.resolve(profile).is_some()
            || url
                .strip_prefix(CORE_PREFIX)
                .is_some_and(|t| self.model.type_def(t).is_some())
    }

    /// How many invariant evaluations could not be decided (each was reported as a warning).
    pub fn unevaluated_count(&self) -> usize {
        self.unevaluated.load(Ordering::Relaxed)
    }

    /// Checks `resource` against `profile` and appends what is wrong to `out`; expressions start
    /// with `path` (e.g. `Bundle.entry[2].resource` or the resource type).
    pub fn validate_against(
        &self,
        resource: &Value,
        profile: &str,
        path: &str,
        out: &mut Vec<Issue>,
    ) {
        self.validate_within(resource, profile, path, out, usize::MAX);
    }

    /// As [`Engine::validate_against`], but the walk stops once `out` holds `limit` issues, so a
    /// hostile instance costs no more than that many issues' worth of work. Returns whether it
    /// stopped before the end of the instance.
    pub fn validate_within(
        &self,
        resource: &Value,
        profile: &str,
        path: &str,
        out: &mut Vec<Issue>,
        limit: usize,
    ) -> bool {
        let nothing = JudgedElsewhere::default();
        let scope = Scope {
            root: resource,
            elsewhere: &nothing,
            questionnaires: &[],
        };
        self.validate_in(scope, resource, profile, path, out, limit)
    }

    /// As [`Engine::validate_within`], for `resource` inside `scope.root` (an entry inside its
    /// Bundle: its references resolve among the other entries), leaving the resources of
    /// `scope.elsewhere` to the context that judges them.
    pub fn validate_in(
        &self,
        scope: Scope<'_>,
        resource: &Value,
        profile: &str,
        path: &str,
        out: &mut Vec<Issue>,
        limit: usize,
    ) -> bool {
        let Some(plan) = self.plan(profile) else {
            let text: Text = match self.snapshots.failure(profile) {
                Some(why) => ConformanceMessage::ProfileUnusable {
                    profile: profile.to_string(),
                    why: why.to_string(),
                }
                .into(),
                None => ValidationMessage::ProfileNotKnown {
                    profile: profile.to_string(),
                }
                .into(),
            };
            out.push(Issue::error(IssueType::NotSupported, text).at(path));
            return false;
        };
        let mut walker = walker::Walker::new(self, scope.root, scope.elsewhere);
        walker.limit = limit;
        walker.questionnaires = scope.questionnaires;
        walker.resource(resource, &plan, path, out);
        walker.stopped
    }

    /// The compiled plan of a canonical: base types come from the embedded model (so they work
    /// without the core package), everything else from the loaded packages.
    pub(crate) fn plan(&self, canonical: &str) -> Option<Arc<Plan>> {
        if let Ok(cache) = self.plans.read()
            && let Some(found) = cache.get(canonical)
        {
            return found.clone();
        }
        let compiled = self.compile(canonical).map(Arc::new);
        if let Ok(mut cache) = self.plans.write() {
            cache.insert(canonical.to_string(), compiled.clone());
        }
        compiled
    }

    fn compile(&self, canonical: &str) -> Option<Plan> {
        let url = canonical.split('|').next().unwrap_or(canonical);
        if let Some(t) = url.strip_prefix(CORE_PREFIX)
            && let Some(def) = self.model.type_def(t)
        {
            return Some(Plan::build(
                url,
                &def.name,
                def.elements.clone(),
                self.model,
            ));
        }
        let sd = self.packages.resolve_in("StructureDefinition", canonical)?;
        let sd = if elements(sd.json()).is_some() {
            Arc::clone(sd.json())
        } else {
            self.snapshots.structure_definition(canonical).ok()?
        };
        match Plan::from_structure_definition(&sd, self.model) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("cannot compile {canonical}: {e}");
                None
            }
        }
    }

    /// The plan of a base type by name.
    pub(crate) fn base_plan(&self, type_name: &str) -> Option<Arc<Plan>> {
        if let Ok(cache) = self.base_plans.read()
            && let Some(found) = cache.get(type_name)
        {
            return found.clone();
        }
        let found = self
            .model
            .type_def(type_name)
            .and_then(|_| self.plan(&format!("{CORE_PREFIX}{type_name}")));
        if let Ok(mut cache) = self.base_plans.write() {
            cache.insert(type_name.to_string(), found.clone());
        }
        found
    }
}
