//! The validator as the rest of the server sees it: an instance in, issues out. It runs the fast
//! structural pass (per-type JSON Schema) and, when that passes, the authoritative profile walk
//! against every profile that applies — `meta.profile` (version suffix stripped), an explicit
//! profile, or else the base type.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::binding_check::BindingCheck;
use super::model::{BaseModel, StructuralSchemas};
use super::packages::{Detail, PackageError, PackageSet, PackageStore};
use super::valuesets::ValueSetEngine;
use super::walk::Engine;
use crate::fhir::outcome::{DEFAULT_MAX_ISSUES, cap_issues};
use crate::fhir::{Issue, IssueSeverity, IssueType};

const BASE: &str = "http://hl7.org/fhir/StructureDefinition/";
/// How many times `max_issues` the walk may find before it stops.
const WALK_FACTOR: usize = 10;

/// Where definitions come from and how strict to be about what is missing.
#[derive(Debug, Clone, Default)]
pub struct ValidatorOptions {
    /// The package store folder (packages installed with `kyoyu package install`).
    pub store: Option<PathBuf>,
    /// Further packages (.tgz or folders).
    pub packages: Vec<PathBuf>,
    /// A `meta.profile` that no loaded package defines: an error instead of a warning.
    pub unknown_profile_is_error: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error("cannot load packages: {0}")]
    Packages(#[from] PackageError),
    #[error("the embedded base model is unusable: {0}")]
    Model(String),
    #[error("package conflicts: {0}")]
    Conflicts(String),
}

pub struct Validator {
    engine: Engine,
    structural: &'static StructuralSchemas<'static>,
    model: &'static BaseModel,
    packages: Arc<PackageSet>,
    unknown_profile_is_error: bool,
    max_issues: usize,
}

impl Validator {
    /// Loads the store and the extra packages; value sets are answered from them and from the
    /// embedded base code sets.
    pub fn load(options: &ValidatorOptions) -> Result<Self, ValidatorError> {
        let packages = Self::load_packages(options)?;
        let bindings = Arc::new(ValueSetEngine::new(Arc::clone(&packages)));
        Self::with_packages(packages, bindings, options.unknown_profile_is_error)
    }

    /// The package store and the extra packages. Conflicting definitions (same canonical and
    /// version, different content) stop loading: which one applies must not be left to chance.
    pub fn load_packages(options: &ValidatorOptions) -> Result<Arc<PackageSet>, ValidatorError> {
        let mut paths: Vec<PathBuf> = match &options.store {
            Some(store) => PackageStore::new(store)
                .list()?
                .into_iter()
                .map(|e| e.path)
                .collect(),
            None => Vec::new(),
        };
        paths.extend(options.packages.iter().cloned());
        // The walk reads no StructureDefinition prose: a quarter of what the packages hold.
        let packages = PackageSet::load_with(&paths, Detail::Validation)?;
        if !packages.conflicts().is_empty() {
            let list: Vec<String> = packages
                .conflicts()
                .iter()
                .map(|c| format!("{c:?}"))
                .collect();
            return Err(ValidatorError::Conflicts(list.join("; ")));
        }
        Ok(Arc::new(packages))
    }

    /// The parts given: for tests and tools that bring their own packages or terminology.
    pub fn with_packages(
        packages: Arc<PackageSet>,
        bindings: Arc<dyn BindingCheck>,
        unknown_profile_is_error: bool,
    ) -> Result<Self, ValidatorError> {
        let model = BaseModel::load_embedded().map_err(|e| ValidatorError::Model(e.0))?;
        let structural =
            StructuralSchemas::embedded().map_err(|e| ValidatorError::Model(e.to_string()))?;
        Ok(Validator {
            engine: Engine::new(Arc::clone(&packages), model, bindings),
            structural,
            model,
            packages,
            unknown_profile_is_error,
            max_issues: DEFAULT_MAX_ISSUES,
        })
    }

    pub fn packages(&self) -> &PackageSet {
        &self.packages
    }

    /// Validates one resource; `profile` is an explicit profile to check besides `meta.profile`.
    /// `path` is where the resource sits in the request (its type, or `Bundle.entry[2].resource`).
    /// At most `max_issues` issues come back (then one saying how many more there were), and
    /// the walk stops at [`WALK_FACTOR`] times that many.
    pub fn validate(
        &self,
        resource: &Value,
        profile: Option<&str>,
        path: Option<&str>,
    ) -> Vec<Issue> {
        let mut issues = Vec::new();
        let stopped = self.check(resource, profile, path, &mut issues);
        dedupe(&mut issues);
        cap_issues(&mut issues, self.max_issues, stopped);
        issues
    }

    /// The most issues one validation reports (`--max-issues`).
    pub fn max_issues(&self) -> usize {
        self.max_issues
    }

    /// Issues after which the walk stops. Above the number reported: a sound document without
    /// its profiles loaded collects a hundred warnings (a narrative missing, an extension not
    /// known, in every entry), and stopping there would refuse it unchecked. Errors come first
    /// in the answer, so what is reported is the same.
    fn walk_limit(&self) -> usize {
        self.max_issues.saturating_mul(WALK_FACTOR)
    }

    pub fn with_max_issues(self, max_issues: usize) -> Self {
        Validator { max_issues, ..self }
    }

    /// What is wrong with `resource`, appended to `issues`; whether checking stopped at the
    /// limit with parts of it unchecked.
    fn check(
        &self,
        resource: &Value,
        profile: Option<&str>,
        path: Option<&str>,
        issues: &mut Vec<Issue>,
    ) -> bool {
        let Some(res_type) = resource.get("resourceType").and_then(Value::as_str) else {
            issues.push(
                Issue::error(IssueType::Required, "resourceType is missing")
                    .at(path.unwrap_or("resourceType")),
            );
            return false;
        };
        let path = path.unwrap_or(res_type);
        if !self.model.is_resource(res_type) {
            issues.push(
                Issue::error(
                    IssueType::Structure,
                    format!("'{res_type}' is not a FHIR R4 resource type"),
                )
                .at(format!("{path}.resourceType")),
            );
            return false;
        }
        match self.structural.is_valid(resource) {
            Ok(true) => {}
            Ok(false) => return self.structural_issues(resource, res_type, path, issues),
            Err(e) => issues.push(Issue::warning(
                IssueType::Exception,
                format!("structural pass unavailable: {e}"),
            )),
        }
        let (mut checked_any, mut stopped) = (false, false);
        for (i, declared) in declared_profiles(resource)
            .into_iter()
            .chain(profile.map(|p| (usize::MAX, p)))
        {
            // The exact `url|version` if loaded, else the newest version of the url.
            let url = declared.split('|').next().unwrap_or(declared);
            if let Some(target) = [declared, url]
                .into_iter()
                .find(|p| self.engine.knows_profile(p))
            {
                stopped |=
                    self.engine
                        .validate_within(resource, target, path, issues, self.walk_limit());
                checked_any = true;
                if let Some((_, asked)) = declared
                    .split_once('|')
                    .filter(|(_, v)| !v.is_empty() && i != usize::MAX)
                {
                    let at = format!("{path}.meta.profile[{i}]");
                    issues.extend(self.version_issues(url, asked, target, &at));
                }
            } else {
                let severity = if self.unknown_profile_is_error {
                    IssueSeverity::Error
                } else {
                    IssueSeverity::Warning
                };
                let at = if i == usize::MAX {
                    path.to_string()
                } else {
                    format!("{path}.meta.profile[{i}]")
                };
                issues.push(
                    Issue::new(
                        severity,
                        IssueType::NotSupported,
                        format!("profile {declared} is not defined by any loaded package; checked against the base definition of {res_type} only"),
                    )
                    .at(at),
                );
            }
        }
        if !checked_any {
            stopped |= self.engine.validate_within(
                resource,
                &format!("{BASE}{res_type}"),
                path,
                issues,
                self.walk_limit(),
            );
        }
        // A Bundle checked against its base definition only (a transaction, a batch) says
        // nothing about its entries, which the walk then holds to their base types: each entry
        // is also checked against its own profiles here. A profiled Bundle's entries are walked
        // with the Bundle (slices, references between entries) and are not checked twice.
        if !checked_any {
            for (key, nested) in nested_resources(resource) {
                if issues.len() >= self.walk_limit() {
                    return true;
                }
                stopped |= self.check(nested, None, Some(&format!("{path}.{key}")), issues);
            }
        }
        stopped
    }

    /// The instance breaks the JSON shape of its type. The schema library builds its list of
    /// errors whole (each `anyOf` with every alternative's errors, copies of the instance
    /// included): a million bad array items cost seconds and gigabytes before any could be
    /// dropped. The walk of the base definition names the same defects in words, all of them,
    /// and stops at the limit; the schema's first error (built alone) covers a defect the walk
    /// would not name.
    fn structural_issues(
        &self,
        resource: &Value,
        res_type: &str,
        path: &str,
        issues: &mut Vec<Issue>,
    ) -> bool {
        let before = issues.len();
        let base = format!("{BASE}{res_type}");
        let stopped = self
            .engine
            .validate_within(resource, &base, path, issues, self.walk_limit());
        if !has_errors(&issues[before..]) {
            let first = self.structural.first_error(resource).ok().flatten();
            issues.push(match first {
                Some(e) => {
                    let mut at = pointer_to_path(path, &e.pointer);
                    if let Some(name) = &e.property {
                        at.push('.');
                        at.push_str(name);
                    }
                    Issue::error(IssueType::Structure, format!("{at}: {}", e.message)).at(at)
                }
                None => Issue::error(
                    IssueType::Structure,
                    "the resource does not have the JSON shape of its type",
                )
                .at(path),
            });
        }
        stopped
    }
}

impl Validator {
    /// What a `meta.profile` with a `|version` was checked against (`target`, the exact version
    /// or else the newest of `url`): an information issue always, and a warning when the loaded
    /// version is not the one declared. A partial version (`|1.5` for 1.5.2) is no mismatch: it
    /// names a release line, as canonical matching does from R5 on; nor is a release whose
    /// loaded copy carries a label (`|1.1.2` for 1.1.2-url). A mismatch stays a warning: the
    /// profile's rules were applied in full, only perhaps of another edition.
    fn version_issues(&self, url: &str, asked: &str, target: &str, at: &str) -> Vec<Issue> {
        let loaded = match self.packages.resolve_in("StructureDefinition", target) {
            Some(sd) => sd.effective_version().to_string(),
            // A base type of the embedded model.
            None => self.model.fhir_version().to_string(),
        };
        let partial = loaded
            .strip_prefix(asked)
            .is_some_and(|rest| rest.starts_with(['.', '-', '+']));
        let how = if loaded == asked {
            String::new()
        } else if partial {
            format!(" ({asked} read as a partial version)")
        } else {
            format!(" (version {asked} is not loaded)")
        };
        let mut out = vec![
            Issue::information(format!(
                "validated against {url} version {loaded}, declared as version {asked}{how}"
            ))
            .at(at),
        ];
        if loaded != asked && !partial {
            out.push(
                Issue::warning(
                    IssueType::NotFound,
                    format!(
                        "meta.profile declares version {asked} of {url}, but version {loaded} is the one loaded and was used instead"
                    ),
                )
                .at(at),
            );
        }
        out
    }
}

/// `entry[i].resource` of a Bundle that declare profiles of their own, with their locations.
fn nested_resources(resource: &Value) -> Vec<(String, &Value)> {
    if resource.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Vec::new();
    }
    let entries = resource.get("entry").and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, e)| {
            let r = e
                .get("resource")
                .filter(|r| !declared_profiles(r).is_empty())?;
            Some((format!("entry[{i}].resource"), r))
        })
        .collect()
}

fn declared_profiles(resource: &Value) -> Vec<(usize, &str)> {
    resource
        .get("meta")
        .and_then(|m| m.get("profile"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| p.as_str().map(|p| (i, p)))
                .collect()
        })
        .unwrap_or_default()
}

/// `/name/0/given` under `Patient` → `Patient.name[0].given`.
fn pointer_to_path(prefix: &str, pointer: &str) -> String {
    let mut out = prefix.to_string();
    for token in pointer.split('/').filter(|t| !t.is_empty()) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            out.push('.');
            out.push_str(&token);
        }
    }
    out
}

/// Drops repeated issues and puts errors before warnings (stable: otherwise in document order),
/// so the first issue a client reads is what made the request fail.
fn dedupe(issues: &mut Vec<Issue>) {
    issues.sort_by_key(|i| match i.severity {
        IssueSeverity::Fatal => 0,
        IssueSeverity::Error => 1,
        IssueSeverity::Warning => 2,
        IssueSeverity::Information => 3,
    });
    let mut seen = std::collections::HashSet::new();
    issues.retain(|i| {
        seen.insert((
            i.severity.as_str(),
            i.code.as_str(),
            i.diagnostics.clone(),
            i.expression.clone(),
        ))
    });
}

/// Whether any issue is an error or fatal: what rejects a write.
pub fn has_errors(issues: &[Issue]) -> bool {
    issues
        .iter()
        .any(|i| matches!(i.severity, IssueSeverity::Error | IssueSeverity::Fatal))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::validation::binding_check::NoTerminology;
    use serde_json::json;

    fn validator() -> Validator {
        Validator::with_packages(
            Arc::new(PackageSet::default()),
            Arc::new(NoTerminology),
            false,
        )
        .unwrap()
    }

    #[test]
    fn pointers_become_fhirpath_locations() {
        assert_eq!(
            pointer_to_path("Patient", "/name/0/given"),
            "Patient.name[0].given"
        );
        assert_eq!(
            pointer_to_path("Bundle.entry[1].resource", ""),
            "Bundle.entry[1].resource"
        );
    }

    #[test]
    fn structural_errors_name_the_element() {
        let issues = validator().validate(
            &json!({"resourceType": "Patient", "birthDate": 1970}),
            None,
            None,
        );
        assert!(has_errors(&issues), "{issues:?}");
        assert_eq!(issues[0].expression, ["Patient.birthDate"]);
    }

    #[test]
    fn every_structural_error_is_named_in_words_on_its_element() {
        let observation = json!({
            "resourceType": "Observation",
            "code": {"text": "x"},
            "valueQuantity": {"value": "abc"},
            "foo": 1
        });
        let issues = validator().validate(&observation, None, None);
        let errors: Vec<&Issue> = issues
            .iter()
            .filter(|i| i.severity == IssueSeverity::Error)
            .collect();
        assert_eq!(errors.len(), 3, "{issues:#?}");
        let missing = errors
            .iter()
            .find(|i| i.expression == ["Observation.status"])
            .unwrap();
        assert_eq!(
            missing.diagnostics,
            "Observation.status: required element missing"
        );
        assert!(errors.iter().any(|i| i.expression == ["Observation.foo"]));
        assert!(
            errors
                .iter()
                .all(|i| !i.diagnostics.contains("anyOf") && i.diagnostics.len() < 200),
            "{errors:#?}"
        );
    }

    #[test]
    fn the_walk_stops_at_the_issue_limit_and_says_so() {
        let given: Vec<Value> = (0..50_000).map(|_| json!(1)).collect();
        let patient = json!({"resourceType": "Patient", "name": [{"given": given}]});
        let issues = validator()
            .with_max_issues(10)
            .validate(&patient, None, None);
        assert_eq!(issues.len(), 11, "{issues:#?}");
        let last = &issues[10];
        assert_eq!(last.code, IssueType::TooCosty);
        assert_eq!(last.severity, IssueSeverity::Error);
        assert!(last.diagnostics.contains("stopped early"), "{last:?}");
    }

    #[test]
    fn a_structural_defect_the_walk_misses_is_still_an_error() {
        // `{}` is refused by the schema (minProperties); whatever the walk says, an error stays.
        let patient = json!({"resourceType": "Patient", "name": [{}]});
        assert!(has_errors(&validator().validate(&patient, None, None)));
    }

    #[test]
    fn unknown_profiles_are_warnings_by_default() {
        let patient = json!({"resourceType": "Patient", "meta": {"profile": ["http://example.org/StructureDefinition/nope|1"]}});
        let issues = validator().validate(&patient, None, None);
        assert!(!has_errors(&issues), "{issues:?}");
        assert!(
            issues
                .iter()
                .any(|i| i.expression == ["Patient.meta.profile[0]"])
        );
        let strict = Validator::with_packages(
            Arc::new(PackageSet::default()),
            Arc::new(NoTerminology),
            true,
        )
        .unwrap();
        assert!(has_errors(&strict.validate(&patient, None, None)));
    }

    #[test]
    fn unknown_resource_types_are_refused() {
        let issues = validator().validate(&json!({"resourceType": "Patiant"}), None, None);
        assert_eq!(issues[0].expression, ["Patiant.resourceType"]);
    }
}
