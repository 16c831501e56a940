//! The validator as the rest of the server sees it: an instance in, issues out. It runs the fast
//! structural pass (per-type JSON Schema) and, when that passes, the authoritative profile walk
//! against every profile that applies — `meta.profile`, an explicit profile, or else the base
//! type. Each declared profile is judged in the IG context its version picks (see `dispatch`);
//! the outcome names the IG release used. So is a Bundle entry that pins its profile to another
//! release than the Bundle's (see `judge_pinned_entries`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::binding_check::BindingCheck;
use super::dispatch::{self, Choice, IgDefault};
use super::valuesets::ValueSetEngine;
use super::walk::{Engine, JudgedElsewhere, Scope};
use crate::fhir::outcome::{DEFAULT_MAX_ISSUES, cap_issues};
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::messages::ValidationMessage;
use crate::messages::conformance::{ConformanceMessage, Declared, Loaded};
use crate::model::{BaseModel, StructuralSchemas};
use crate::packages::igs::load_contexts;
use crate::packages::{Detail, IgContext, IgError, IgRelease, PackageSet, PackageStore};

const BASE: &str = "http://hl7.org/fhir/StructureDefinition/";
/// How many times `max_issues` the walk may find before it stops.
const WALK_FACTOR: usize = 10;

/// Where definitions come from and how strict to be about what is missing.
#[derive(Debug, Clone, Default)]
pub struct ValidatorOptions {
    /// The shipped profiles folder: its `igs.toml` declares the IG contexts (none when unset or
    /// when the folder has no manifest).
    pub profiles: Option<PathBuf>,
    /// The package store folder (packages installed with `kyoyu package install`).
    pub store: Option<PathBuf>,
    /// Further packages (.tgz or folders).
    pub packages: Vec<PathBuf>,
    /// Deployment defaults: the release of an IG that judges a `meta.profile` without a version.
    pub ig_defaults: Vec<IgDefault>,
    /// A `meta.profile` that no loaded package defines (or a version none has): an error
    /// instead of a warning.
    pub unknown_profile_is_error: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error("cannot load packages: {0}")]
    Packages(#[from] IgError),
    #[error("the embedded base model is unusable: {0}")]
    Model(String),
    #[error(
        "--ig-version {ig}={version}: no loaded IG context is {ig} {version} (loaded: {loaded})"
    )]
    UnknownDefault {
        ig: String,
        version: String,
        loaded: String,
    },
}

impl From<crate::packages::PackageError> for ValidatorError {
    fn from(e: crate::packages::PackageError) -> Self {
        ValidatorError::Packages(IgError::Package(e))
    }
}

/// The request a resource is checked in: the top-level instance (references resolve among
/// its entries) and the stored Questionnaires the caller may read.
#[derive(Clone, Copy)]
struct Within<'r> {
    root: &'r Value,
    questionnaires: &'r [Value],
}

pub struct Validator {
    /// One walk engine per IG context, in the order of `contexts`.
    engines: Vec<Engine>,
    contexts: Vec<IgContext>,
    defaults: Vec<IgDefault>,
    /// The context base types and undeclared checks use.
    default: usize,
    structural: &'static StructuralSchemas<'static>,
    model: &'static BaseModel,
    unknown_profile_is_error: bool,
    max_issues: usize,
}

impl Validator {
    /// Loads the IG contexts and the operator's packages; value sets are answered from each
    /// context's packages and from the embedded base code sets.
    pub fn load(options: &ValidatorOptions) -> Result<Self, ValidatorError> {
        let contexts = Self::load_contexts(options)?;
        let bindings = contexts
            .iter()
            .map(|c| {
                Arc::new(ValueSetEngine::new(Arc::clone(&c.packages))) as Arc<dyn BindingCheck>
            })
            .collect();
        Self::with_contexts(
            contexts,
            bindings,
            options.ig_defaults.clone(),
            options.unknown_profile_is_error,
        )
    }

    /// The IG contexts of the shipped profiles folder (see `packages::igs`), then one context of the package store's
    /// packages and the extra packages together (when there are any). A context with conflicting
    /// definitions (same canonical and version, different content) stops loading.
    pub fn load_contexts(options: &ValidatorOptions) -> Result<Vec<IgContext>, ValidatorError> {
        let mut extras: Vec<PathBuf> = match &options.store {
            Some(store) => PackageStore::new(store)
                .list()?
                .into_iter()
                .map(|e| e.path)
                .collect(),
            None => Vec::new(),
        };
        extras.extend(options.packages.iter().cloned());
        // The walk reads no StructureDefinition prose: a quarter of what the packages hold.
        let mut contexts = load_contexts(options.profiles.as_deref(), &extras, Detail::Validation)?;
        if contexts.is_empty() {
            // Base R4 only: one context with no packages.
            contexts.push(IgContext {
                release: None,
                packages: Arc::new(PackageSet::default()),
            });
        }
        Ok(contexts)
    }

    /// The parts given: for tests and tools that bring their own packages or terminology.
    pub fn with_packages(
        packages: Arc<PackageSet>,
        bindings: Arc<dyn BindingCheck>,
        unknown_profile_is_error: bool,
    ) -> Result<Self, ValidatorError> {
        let context = IgContext {
            release: None,
            packages,
        };
        Self::with_contexts(
            vec![context],
            vec![bindings],
            Vec::new(),
            unknown_profile_is_error,
        )
    }

    /// Contexts with their binding checks (one each, in the same order) and the deployment
    /// defaults, each of which must name a loaded context.
    pub fn with_contexts(
        mut contexts: Vec<IgContext>,
        mut bindings: Vec<Arc<dyn BindingCheck>>,
        defaults: Vec<IgDefault>,
        unknown_profile_is_error: bool,
    ) -> Result<Self, ValidatorError> {
        if contexts.is_empty() {
            contexts.push(IgContext {
                release: None,
                packages: Arc::new(PackageSet::default()),
            });
        }
        let model = BaseModel::load_embedded().map_err(|e| ValidatorError::Model(e.0))?;
        let structural =
            StructuralSchemas::embedded().map_err(|e| ValidatorError::Model(e.to_string()))?;
        check_defaults(&contexts, &defaults)?;
        let fallback = bindings.first().cloned();
        bindings.resize_with(contexts.len(), || {
            fallback
                .clone()
                .unwrap_or_else(|| Arc::new(super::binding_check::NoTerminology))
        });
        let engines = contexts
            .iter()
            .zip(bindings)
            .map(|(c, b)| Engine::new(Arc::clone(&c.packages), model, b))
            .collect();
        let default = dispatch::default_context(&contexts, &defaults);
        Ok(Validator {
            engines,
            contexts,
            defaults,
            default,
            structural,
            model,
            unknown_profile_is_error,
            max_issues: DEFAULT_MAX_ISSUES,
        })
    }

    /// The packages of the default context (the deployment default, the operator's packages,
    /// or the newest IG release).
    pub fn packages(&self) -> &PackageSet {
        &self.contexts[self.default].packages
    }

    /// The index of the default context in [`contexts`](Self::contexts).
    pub fn default_context(&self) -> usize {
        self.default
    }

    pub fn contexts(&self) -> &[IgContext] {
        &self.contexts
    }

    /// Whether the definition that judges `resource` (its first declared profile, in the
    /// context its version picks) carries the service rule `rule` as an invariant: a hand-coded
    /// check of the same rule then stays silent, so the rule is reported once.
    pub fn carries_rule(&self, resource: &Value, rule: &str) -> bool {
        declared_profiles(resource)
            .into_iter()
            .any(|(_, declared)| {
                let (url, asked) = split_declared(declared);
                dispatch::choose(&self.contexts, &self.defaults, url, asked).is_some_and(|c| {
                    self.contexts[c.context]
                        .packages
                        .resolve_in("StructureDefinition", &c.target)
                        .is_some_and(|sd| dispatch::carries_rule(sd.json(), rule))
                })
            })
    }

    /// Validates one resource; `profile` is an explicit profile to check besides `meta.profile`.
    /// `path` is where the resource sits in the request (its type, or `Bundle.entry[2].resource`).
    /// At most `max_issues` issues come back (then one saying how many more there were), and
    /// the walk stops at `WALK_FACTOR` times that many.
    pub fn validate(
        &self,
        resource: &Value,
        profile: Option<&str>,
        path: Option<&str>,
    ) -> Vec<Issue> {
        self.validate_with(resource, profile, path, &[])
    }

    /// As [`validate`](Self::validate), with the stored Questionnaires the caller may read
    /// (see [`unresolved_questionnaires`](super::questionnaire::unresolved_questionnaires)):
    /// a QuestionnaireResponse whose Questionnaire neither the request nor a package holds is
    /// checked against the one among them it names.
    pub fn validate_with(
        &self,
        resource: &Value,
        profile: Option<&str>,
        path: Option<&str>,
        questionnaires: &[Value],
    ) -> Vec<Issue> {
        let mut issues = Vec::new();
        let request = Within {
            root: resource,
            questionnaires,
        };
        let limit = self.walk_limit();
        let stopped = self.check_in(request, resource, profile, path, limit, &mut issues);
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

    /// What is wrong with `resource` inside `request.root` (itself, or an entry inside its
    /// Bundle, where its references resolve), appended to `issues`, stopping once `issues`
    /// holds `limit` issues; whether checking stopped with parts of it unchecked.
    fn check_in(
        &self,
        request: Within<'_>,
        resource: &Value,
        profile: Option<&str>,
        path: Option<&str>,
        limit: usize,
        issues: &mut Vec<Issue>,
    ) -> bool {
        let Some(res_type) = resource.get("resourceType").and_then(Value::as_str) else {
            issues.push(
                Issue::error(IssueType::Required, ValidationMessage::ResourceTypeMissing)
                    .at(path.unwrap_or("resourceType")),
            );
            return false;
        };
        let path = path.unwrap_or(res_type);
        if !self.model.is_resource(res_type) {
            issues.push(
                Issue::error(
                    IssueType::Structure,
                    ValidationMessage::NotAResourceType {
                        name: res_type.to_string(),
                    },
                )
                .at(format!("{path}.resourceType")),
            );
            return false;
        }
        match self.structural.is_valid(resource) {
            Ok(true) => {}
            Ok(false) => return self.structural_issues(resource, res_type, path, limit, issues),
            Err(e) => issues.push(Issue::warning(
                IssueType::Exception,
                ValidationMessage::StructuralPassUnavailable { why: e.to_string() },
            )),
        }
        let (mut checked_any, mut stopped) = (false, false);
        // Entries pinned to another release, judged once however many profiles the Bundle
        // declares: (entry, its meta.profile index) → whether it conforms there.
        let mut pinned = HashMap::new();
        for (i, declared) in declared_profiles(resource)
            .into_iter()
            .chain(profile.map(|p| (usize::MAX, p)))
        {
            let at = if i == usize::MAX {
                path.to_string()
            } else {
                format!("{path}.meta.profile[{i}]")
            };
            let Some(choice) = self.choose(declared) else {
                issues.push(
                    Issue::new(
                        self.unknown_severity(),
                        IssueType::NotSupported,
                        ValidationMessage::ProfileNotLoaded {
                            profile: declared.to_string(),
                            res_type: res_type.to_string(),
                        },
                    )
                    .at(at),
                );
                continue;
            };
            // The entries' issues come after the Bundle's, as for an unprofiled Bundle, and
            // both count against one limit.
            let mut entries = Vec::new();
            let budget = limit.saturating_sub(issues.len());
            let (elsewhere, entries_stopped) = self.judge_pinned_entries(
                Within {
                    root: resource,
                    ..request
                },
                path,
                choice.context,
                budget,
                &mut pinned,
                &mut entries,
            );
            let scope = Scope {
                root: request.root,
                elsewhere: &elsewhere,
                questionnaires: request.questionnaires,
            };
            stopped |= entries_stopped;
            stopped |= self.engines[choice.context].validate_in(
                scope,
                resource,
                &choice.target,
                path,
                issues,
                limit.saturating_sub(entries.len()),
            );
            issues.extend(entries);
            checked_any = true;
            issues.extend(self.judged_by(declared, i != usize::MAX, &choice, &at));
        }
        if checked_any {
            return stopped;
        }
        // A Bundle checked against its base definition only (a transaction, a batch) says
        // nothing about its entries, which the walk then holds to their base types: each entry
        // is also checked against its own profiles here, in the contexts their versions pick.
        // The walk (in the default context) leaves to those checks the profiles they judge in
        // another context, so an entry pinned to another release is not judged twice.
        let mut elsewhere = JudgedElsewhere::default();
        let mut entries = Vec::new();
        for (key, nested) in nested_resources(resource) {
            let budget = limit.saturating_sub(issues.len());
            if entries.len() >= budget {
                stopped = true;
                break;
            }
            let before = entries.len();
            // A Bundle inside resolves its references among its own entries.
            let within = Within {
                root: if is_bundle(nested) {
                    nested
                } else {
                    request.root
                },
                ..request
            };
            let at = format!("{path}.{key}");
            stopped |= self.check_in(within, nested, None, Some(&at), budget, &mut entries);
            let conforms = !has_errors(&entries[before..]);
            for (_, declared) in declared_profiles(nested) {
                if let Some(choice) = self.choose(declared)
                    && choice.context != self.default
                {
                    elsewhere.insert(nested, split_declared(declared).0, conforms);
                }
            }
        }
        let scope = Scope {
            root: request.root,
            elsewhere: &elsewhere,
            questionnaires: request.questionnaires,
        };
        stopped |= self.engines[self.default].validate_in(
            scope,
            resource,
            &format!("{BASE}{res_type}"),
            path,
            issues,
            limit.saturating_sub(entries.len()),
        );
        issues.extend(entries);
        stopped
    }

    /// The entries of the Bundle `request.root` (at `path`) that pin a profile (`url|version`) to a release
    /// `dispatch` places in another context than `context`, the one about to walk the Bundle:
    /// each is judged against that profile in its own context, here, as it would be on its
    /// own, with the information issue naming that release on its `meta.profile[k]`. The walk
    /// then leaves the entry to that judgement: it does not walk it against the profile, and
    /// where it asks whether the entry conforms to it (the slice a Bundle profile matches
    /// entries to by profile, a reference target) it takes this verdict (see
    /// [`JudgedElsewhere`]). Without that, JP_Bundle_CLINS 1.10.0, whose entries are sliced by
    /// profile and closed, would refuse a Condition sound under the 1.5.2 it pins as matching
    /// no slice.
    ///
    /// What stays with the Bundle's walk, in the Bundle's release: its profile's invariants
    /// (R9013C, R6021 and the like read the entries, but are the Bundle profile's rules in the
    /// IG), the slicing of its entries (counts, closed and ordered slicing), the Bundle rules
    /// on references between entries and `fullUrl`s, and every profile an entry does not pin
    /// (an unversioned `meta.profile`, a slot's profile it does not declare): the Bundle's
    /// release is its entries' default. The walk's issues are not sorted afterwards by where
    /// they point: an entry's location holds both kinds (a `urn:uuid:` reference in it that
    /// finds no entry is the Bundle's rule, the entry's profile's `targetProfile` is the
    /// entry's), and an issue outside it (the closed slicing at `Bundle.entry[i]`) can follow
    /// from judging the entry by the wrong release. So the walk never judges the entry by the
    /// profile it pins, and nothing is reported twice. A version no context has leaves the
    /// entry with the Bundle's release, as a profile without a version does.
    ///
    /// The entry's check resolves its references in the Bundle: its release's `targetProfile`s
    /// judge the entries they lead to. Issues go to `out`, at most `limit` of them (then the
    /// information issue of the entry being checked); `pinned` carries the verdicts from one
    /// of the Bundle's profiles to the next, whose walk may be in another context, so no entry
    /// is checked twice. Returns the verdicts and whether checking stopped at the limit.
    fn judge_pinned_entries(
        &self,
        request: Within<'_>,
        path: &str,
        context: usize,
        limit: usize,
        pinned: &mut HashMap<(usize, usize), bool>,
        out: &mut Vec<Issue>,
    ) -> (JudgedElsewhere, bool) {
        let mut elsewhere = JudgedElsewhere::default();
        let bundle = request.root;
        if !is_bundle(bundle) {
            return (elsewhere, false);
        }
        // Ten thousand entries mostly pin one or two profiles: each is dispatched once.
        let mut choices: HashMap<&str, Option<Choice>> = HashMap::new();
        let entries = bundle.get("entry").and_then(Value::as_array);
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            let Some(resource) = entry.get("resource") else {
                continue;
            };
            for (k, declared) in declared_profiles(resource) {
                let (url, Some(asked)) = split_declared(declared) else {
                    continue;
                };
                let choice = choices.entry(declared).or_insert_with(|| {
                    dispatch::choose(&self.contexts, &self.defaults, url, Some(asked))
                        .filter(|c| c.context != context && c.missing.is_none())
                });
                let Some(choice) = choice.as_ref() else {
                    continue;
                };
                if let Some(&conforms) = pinned.get(&(i, k)) {
                    elsewhere.insert(resource, url, conforms);
                    continue;
                }
                if out.len() >= limit {
                    return (elsewhere, true);
                }
                let before = out.len();
                let at = format!("{path}.entry[{i}].resource");
                let nothing = JudgedElsewhere::default();
                let scope = Scope {
                    root: if is_bundle(resource) {
                        resource
                    } else {
                        bundle
                    },
                    elsewhere: &nothing,
                    questionnaires: request.questionnaires,
                };
                let stopped = self.engines[choice.context].validate_in(
                    scope,
                    resource,
                    &choice.target,
                    &at,
                    out,
                    limit,
                );
                let conforms = !has_errors(&out[before..]);
                out.extend(self.judged_by(
                    declared,
                    true,
                    choice,
                    &format!("{at}.meta.profile[{k}]"),
                ));
                pinned.insert((i, k), conforms);
                elsewhere.insert(resource, url, conforms);
                if stopped {
                    return (elsewhere, true);
                }
            }
        }
        (elsewhere, false)
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
        limit: usize,
        issues: &mut Vec<Issue>,
    ) -> bool {
        let before = issues.len();
        let base = format!("{BASE}{res_type}");
        let stopped =
            self.engines[self.default].validate_within(resource, &base, path, issues, limit);
        if !has_errors(&issues[before..]) {
            let first = self.structural.first_error(resource).ok().flatten();
            issues.push(match first {
                Some(e) => {
                    let mut at = pointer_to_path(path, &e.pointer);
                    if let Some(name) = &e.property {
                        at.push('.');
                        at.push_str(name);
                    }
                    let text = ValidationMessage::SchemaError {
                        at: at.clone(),
                        detail: e.message.clone(),
                    };
                    Issue::error(IssueType::Structure, text).at(at)
                }
                None => {
                    Issue::error(IssueType::Structure, ValidationMessage::WrongJsonShape).at(path)
                }
            });
        }
        stopped
    }
}

impl Validator {
    /// Which release judged `declared` (the choice it made), at `at`; `in_meta`: declared in
    /// `meta.profile` rather than asked for explicitly.
    fn judged_by(&self, declared: &str, in_meta: bool, choice: &Choice, at: &str) -> Vec<Issue> {
        let (url, asked) = split_declared(declared);
        match &self.contexts[choice.context].release {
            Some(release) => self.release_issues(release, url, asked, choice, at),
            None => match asked.filter(|_| in_meta) {
                Some(asked) => self.version_issues(choice, url, asked, at),
                None => Vec::new(),
            },
        }
    }

    /// A profile or a version no loaded package has: a warning, or an error when asked.
    fn unknown_severity(&self) -> IssueSeverity {
        if self.unknown_profile_is_error {
            IssueSeverity::Error
        } else {
            IssueSeverity::Warning
        }
    }

    /// The context and canonical that judge a declared profile; a base type of the embedded
    /// model (which no package needs to define) is judged in the default context.
    fn choose(&self, declared: &str) -> Option<Choice> {
        let (url, asked) = split_declared(declared);
        if let Some(choice) = dispatch::choose(&self.contexts, &self.defaults, url, asked) {
            return Some(choice);
        }
        let engine = &self.engines[self.default];
        [declared, url]
            .into_iter()
            .find(|p| engine.knows_profile(p))
            .map(|target| Choice {
                context: self.default,
                target: target.to_string(),
                version: self.model.fhir_version().to_string(),
                missing: None,
            })
    }

    /// Which IG release judged a declared profile, as information; and when the version it
    /// declares is in no loaded IG, a warning (an error with `--unknown-profile error`) naming
    /// the versions there are.
    fn release_issues(
        &self,
        release: &IgRelease,
        url: &str,
        asked: Option<&str>,
        choice: &Choice,
        at: &str,
    ) -> Vec<Issue> {
        let declared = match asked {
            None => Declared::NoVersion,
            Some(a) if a == choice.version => Declared::Exactly,
            Some(a) if choice.missing.is_none() => Declared::As(a.to_string()),
            Some(_) => Declared::Replaced,
        };
        let mut out = vec![
            Issue::information(ConformanceMessage::ValidatedAgainstRelease {
                release: release.label.clone(),
                url: url.to_string(),
                version: choice.version.clone(),
                declared,
            })
            .at(at),
        ];
        if let (Some(available), Some(asked)) = (&choice.missing, asked) {
            out.push(
                Issue::new(
                    self.unknown_severity(),
                    IssueType::NotFound,
                    ConformanceMessage::VersionNotInIg {
                        asked: asked.to_string(),
                        url: url.to_string(),
                        loaded: available.join(", "),
                        release: release.label.clone(),
                    },
                )
                .at(at),
            );
        }
        out
    }

    /// What a `meta.profile` with a `|version` was checked against when the context is the
    /// operator's packages (no IG release to name): an information issue always, and a warning
    /// when the loaded version is not the one declared. A partial version (`|1.5` for 1.5.2) is
    /// no mismatch: it names a release line, as canonical matching does from R5 on; nor is a
    /// release whose loaded copy carries a label (`|1.1.2` for 1.1.2-url). A mismatch stays a
    /// warning: the profile's rules were applied in full, only perhaps of another edition.
    fn version_issues(&self, choice: &Choice, url: &str, asked: &str, at: &str) -> Vec<Issue> {
        let loaded = choice.version.as_str();
        let partial = loaded
            .strip_prefix(asked)
            .is_some_and(|rest| rest.starts_with(['.', '-', '+']));
        let how = if loaded == asked {
            Loaded::Exactly
        } else if partial {
            Loaded::Partial
        } else {
            Loaded::NotLoaded
        };
        let mut out = vec![
            Issue::information(ConformanceMessage::ValidatedAgainstLoaded {
                url: url.to_string(),
                loaded: loaded.to_string(),
                asked: asked.to_string(),
                how,
            })
            .at(at),
        ];
        if loaded != asked && !partial {
            out.push(
                Issue::warning(
                    IssueType::NotFound,
                    ConformanceMessage::VersionNotLoaded {
                        asked: asked.to_string(),
                        url: url.to_string(),
                        loaded: loaded.to_string(),
                    },
                )
                .at(at),
            );
        }
        out
    }
}

/// `url|version` → (url, version); an empty version is none.
fn split_declared(declared: &str) -> (&str, Option<&str>) {
    match declared.split_once('|') {
        Some((url, v)) if !v.is_empty() => (url, Some(v)),
        Some((url, _)) => (url, None),
        None => (declared, None),
    }
}

/// Each deployment default must name a loaded IG release.
fn check_defaults(contexts: &[IgContext], defaults: &[IgDefault]) -> Result<(), ValidatorError> {
    for (ig, version) in defaults {
        let known = contexts.iter().any(|c| {
            c.release
                .as_ref()
                .is_some_and(|r| r.ig == *ig && r.version == *version)
        });
        if !known {
            let loaded: Vec<String> = contexts
                .iter()
                .filter_map(|c| {
                    c.release
                        .as_ref()
                        .map(|r| format!("{}={}", r.ig, r.version))
                })
                .collect();
            return Err(ValidatorError::UnknownDefault {
                ig: ig.clone(),
                version: version.clone(),
                loaded: if loaded.is_empty() {
                    "none".to_string()
                } else {
                    loaded.join(", ")
                },
            });
        }
    }
    Ok(())
}

fn is_bundle(resource: &Value) -> bool {
    resource.get("resourceType").and_then(Value::as_str) == Some("Bundle")
}

/// `entry[i].resource` of a Bundle that declare profiles of their own, with their locations.
fn nested_resources(resource: &Value) -> Vec<(String, &Value)> {
    if !is_bundle(resource) {
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
