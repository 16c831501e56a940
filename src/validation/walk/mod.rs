//! The authoritative pass: an instance checked against compiled StructureDefinition plans
//! (cardinality, types, fixed/pattern, slicing, bindings, invariants). Stub: filled by the
//! snapshot-walk work; the API below is what the validator facade calls.

use std::sync::Arc;

use serde_json::Value;

use super::binding_check::BindingCheck;
use super::model::BaseModel;
use super::packages::PackageSet;
use crate::fhir::Issue;

pub struct Engine {
    #[allow(dead_code)]
    packages: Arc<PackageSet>,
    #[allow(dead_code)]
    model: &'static BaseModel,
    #[allow(dead_code)]
    bindings: Arc<dyn BindingCheck>,
}

impl Engine {
    pub fn new(
        packages: Arc<PackageSet>,
        model: &'static BaseModel,
        bindings: Arc<dyn BindingCheck>,
    ) -> Self {
        Engine {
            packages,
            model,
            bindings,
        }
    }

    /// Whether `profile` (a canonical, `|version` allowed) names a StructureDefinition this engine
    /// can check: a loaded package's, or a base type of the embedded model.
    pub fn knows_profile(&self, profile: &str) -> bool {
        let url = profile.split('|').next().unwrap_or(profile);
        self.packages.resolve(profile).is_some()
            || url
                .strip_prefix("http://hl7.org/fhir/StructureDefinition/")
                .is_some_and(|t| self.model.type_def(t).is_some())
    }

    /// Checks `resource` against `profile` and appends what is wrong to `out`; expressions start
    /// with `path` (e.g. `Bundle.entry[2].resource` or the resource type).
    pub fn validate_against(
        &self,
        _resource: &Value,
        _profile: &str,
        _path: &str,
        _out: &mut Vec<Issue>,
    ) {
    }
}
