//! Test support: the official packages loaded once per test process (tests skip when the shared
//! data is absent), an engine over them, and small helpers to read issues.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::Engine;
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::messages::Language;
use crate::model::BaseModel;
use crate::packages::PackageSet;
use crate::validation::binding_check::NoTerminology;

pub(crate) const PACKAGES: &[&str] = &[
    "hl7.fhir.r4.core-4.0.1.tgz",
    "jp-core.r4-1.1.2-url.tgz",
    "jp-clins.r4-1.5.2-snap.tgz",
];

/// Never `None`: a missing file fails the test (see `crate::test_data`).
pub(crate) fn data(rel: &str) -> Option<PathBuf> {
    crate::test_data::path_or_skip(rel)
}

/// r4 core, JP-Core 1.1.2 and JP-CLINS 1.5.2, loaded once per test process.
pub(crate) fn packages() -> Option<Arc<PackageSet>> {
    // Before the cache: each test that skips prints its own line, not only the first.
    data("")?;
    static SET: OnceLock<Option<Arc<PackageSet>>> = OnceLock::new();
    SET.get_or_init(|| {
        let paths: Vec<PathBuf> = PACKAGES
            .iter()
            .map(|p| data(&format!("packages/{p}")))
            .collect::<Option<_>>()?;
        Some(Arc::new(PackageSet::load(&paths).unwrap()))
    })
    .clone()
}

/// The engine over [`packages`] without terminology, shared by every test.
pub(crate) fn engine() -> Option<&'static Engine> {
    data("")?;
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let model = BaseModel::load_embedded().unwrap();
            Some(Engine::new(packages()?, model, Arc::new(NoTerminology)))
        })
        .as_ref()
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The profiles an instance declares (version suffix stripped), or its base type.
pub(crate) fn declared_profiles(v: &Value) -> Vec<String> {
    let declared: Vec<String> = v
        .pointer("/meta/profile")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|p| p.split('|').next().unwrap_or(p).to_string())
        .collect();
    if declared.is_empty() {
        let rt = v["resourceType"].as_str().unwrap_or_default();
        vec![format!("http://hl7.org/fhir/StructureDefinition/{rt}")]
    } else {
        declared
    }
}

pub(crate) fn validate(engine: &Engine, v: &Value, profile: &str) -> Vec<Issue> {
    let mut out = Vec::new();
    let rt = v["resourceType"].as_str().unwrap_or("Resource");
    engine.validate_against(v, profile, rt, &mut out);
    assert_all_speak_japanese(&out);
    out
}

/// Every issue can be written in Japanese: its text came from the catalogue. Run on whatever a
/// test validates, so a text written in English only fails the first test that meets it.
pub(crate) fn assert_all_speak_japanese(issues: &[Issue]) {
    let untranslated: Vec<&Issue> = issues
        .iter()
        .filter(|i| !i.speaks(Language::Japanese))
        .collect();
    assert!(
        untranslated.is_empty(),
        "issue text(s) with no Japanese in the catalogue: {}",
        show(&untranslated)
    );
}

pub(crate) fn errors(issues: &[Issue]) -> Vec<&Issue> {
    issues
        .iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .collect()
}

pub(crate) fn show(issues: &[&Issue]) -> String {
    issues
        .iter()
        .map(|i| {
            format!(
                "  {} {} @{} [{}]: {}",
                i.severity.as_str(),
                i.code.as_str(),
                i.expression.join(","),
                i.source.as_deref().unwrap_or("-"),
                i.diagnostics
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// --- Single-defect helpers shared by the defect and mutation suites ---

pub(crate) const ECS: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";
pub(crate) const CLINS: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/";
pub(crate) const OBS_FILE: &str = "Observation-Example-JP-Obs-LabResult-eCS-K.json";
pub(crate) const PAT_FILE: &str = "Patient-Example-JP-Patient-eCS-MAKINO.json";
pub(crate) const BUNDLE_FILE: &str = "Bundle-Bundle-CLINS-Observations-Example-01.json";

pub(crate) fn ecs(name: &str) -> String {
    format!("{ECS}{name}")
}

pub(crate) fn obs() -> String {
    format!("{ECS}JP_Observation_LabResult_eCS")
}

pub(crate) fn pat() -> String {
    format!("{ECS}JP_Patient_eCS")
}

pub(crate) fn bundle() -> String {
    format!("{CLINS}JP_Bundle_CLINS")
}

pub(crate) fn example(file: &str) -> Option<Value> {
    data(&format!("examples/clins/{file}")).map(|p| read_json(&p))
}

/// Mutates `file`, validates it against `profile` with `engine`, and returns the issues; the
/// unmutated original must have no error.
pub(crate) fn mutated_with(
    engine: &Engine,
    file: &str,
    profile: &str,
    mutate: impl FnOnce(&mut Value),
) -> Option<Vec<Issue>> {
    Some(mutated_value_with(engine, example(file)?, profile, mutate))
}

/// Like [`mutated_with`] for an instance built in the test rather than read from a file.
pub(crate) fn mutated_value_with(
    engine: &Engine,
    mut v: Value,
    profile: &str,
    mutate: impl FnOnce(&mut Value),
) -> Vec<Issue> {
    let before = validate(engine, &v, profile);
    assert!(
        errors(&before).is_empty(),
        "original: {}",
        show(&errors(&before))
    );
    mutate(&mut v);
    validate(engine, &v, profile)
}

pub(crate) fn mutated(
    file: &str,
    profile: &str,
    mutate: impl FnOnce(&mut Value),
) -> Option<Vec<Issue>> {
    mutated_with(engine()?, file, profile, mutate)
}

pub(crate) fn expect(
    issues: &[Issue],
    severity: IssueSeverity,
    code: IssueType,
    expression: &str,
    source: &str,
) {
    let found = issues.iter().any(|i| {
        i.severity == severity
            && i.code == code
            && i.expression == [expression]
            && i.source.as_deref() == Some(source)
    });
    let all: Vec<&Issue> = issues.iter().collect();
    assert!(
        found,
        "expected {} {} @{expression} [{source}] among:\n{}",
        severity.as_str(),
        code.as_str(),
        show(&all)
    );
}

pub(crate) fn expect_error(
    issues: Option<Vec<Issue>>,
    code: IssueType,
    expression: &str,
    source: &str,
) {
    if let Some(issues) = issues {
        expect(&issues, IssueSeverity::Error, code, expression, source);
    }
}

pub(crate) fn set(v: &mut Value, pointer: &str, new: Value) {
    *v.pointer_mut(pointer).unwrap() = new;
}

pub(crate) fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().unwrap().remove(key);
}
