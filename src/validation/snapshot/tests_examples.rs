//! A profile shipped as a differential only validates the official examples exactly as its
//! published snapshot does.
//! Every StructureDefinition of JP-CLINS 1.5.2 loses its snapshot here, and each of the 50
//! official examples must get the very same issues from the generated snapshots as from the
//! published ones.

use std::sync::Arc;

use serde_json::Value;

use crate::fhir::Issue;
use crate::model::BaseModel;
use crate::packages::PackageSet;
use crate::validation::binding_check::NoTerminology;
use crate::validation::walk::Engine;
use crate::validation::walk::tests_support::{
    data, declared_profiles, packages, read_json, show, validate,
};

const STRIPPED: &str = "jp-eCSCLINS.r4";

/// The official packages with the snapshots of one package's definitions removed.
fn without_snapshots(package_name: &str) -> (PackageSet, usize) {
    let mut stripped = 0;
    let mut set = PackageSet::new();
    for mut package in packages().unwrap().as_ref().clone().into_packages() {
        if package.id.name == package_name {
            for r in &mut package.resources {
                if r.resource_type == "StructureDefinition" && r.json().get("snapshot").is_some() {
                    let mut json = r.json().as_ref().clone();
                    json.as_object_mut().unwrap().remove("snapshot");
                    r.set_json(json);
                    stripped += 1;
                }
            }
        }
        set.add(package);
    }
    (set, stripped)
}

fn engine(set: PackageSet) -> Engine {
    let model = BaseModel::load_embedded().unwrap();
    Engine::new(Arc::new(set), model, Arc::new(NoTerminology))
}

/// One issue as the walk's tests print it.
fn line(i: &Issue) -> String {
    show(&[i])
}

#[test]
fn generated_snapshots_validate_the_examples_as_the_published_ones_do() {
    let dir = data("examples/clins").unwrap();
    let published = engine(packages().unwrap().as_ref().clone());
    let (set, stripped) = without_snapshots(STRIPPED);
    assert!(stripped > 40, "only {stripped} snapshots removed");
    let generated = engine(set);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut mismatches = String::new();
    let mut compared = 0;
    for f in &files {
        let v: Value = read_json(f);
        for profile in declared_profiles(&v) {
            let want: Vec<String> = validate(&published, &v, &profile)
                .iter()
                .map(line)
                .collect();
            let got: Vec<String> = validate(&generated, &v, &profile)
                .iter()
                .map(line)
                .collect();
            compared += 1;
            if want != got {
                mismatches.push_str(&format!(
                    "{} against {profile}:\n published:\n  {}\n generated:\n  {}\n",
                    f.display(),
                    want.join("\n  "),
                    got.join("\n  ")
                ));
            }
        }
    }
    assert!(compared >= 50);
    assert!(mismatches.is_empty(), "{mismatches}");
}

/// What generating every stripped JP-CLINS snapshot at once would add to start-up, against
/// generating each when first used (the engine's way): printed, and bounded loosely so a
/// pathological slowdown fails.
#[test]
fn generating_every_snapshot_of_a_package_is_cheap_and_done_once() {
    use super::{SnapshotCache, Source};
    let (set, stripped) = without_snapshots(STRIPPED);
    let set = Arc::new(set);
    let urls: Vec<String> = set
        .packages()
        .iter()
        .filter(|p| p.id.name == STRIPPED)
        .flat_map(|p| p.resources.iter())
        .filter(|r| r.resource_type == "StructureDefinition")
        .filter_map(|r| r.url.clone())
        .collect();
    let cache = SnapshotCache::new(Arc::clone(&set), BaseModel::load_embedded().unwrap());
    let started = std::time::Instant::now();
    for url in &urls {
        assert!(cache.structure_definition(url).is_ok(), "{url}");
    }
    let first = started.elapsed();
    let again = std::time::Instant::now();
    for url in &urls {
        cache.structure_definition(url).unwrap();
    }
    let cached = again.elapsed();
    let line = format!("generated {stripped} snapshots in {first:?}; asked again: {cached:?}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    assert!(cached < first, "{line}");
}

#[test]
fn a_profile_with_only_a_differential_is_known_to_the_validator() {
    use crate::validation::{Validator, has_errors};
    let (set, _) = without_snapshots(STRIPPED);
    let validator = Validator::with_packages(Arc::new(set), Arc::new(NoTerminology), true).unwrap();
    let patient =
        read_json(&data("examples/clins/Patient-Example-JP-Patient-eCS-MAKINO.json").unwrap());
    let issues = validator.validate(&patient, None, None);
    assert!(!has_errors(&issues), "{:#?}", issues);
    assert!(
        issues.iter().all(
            |i| !i.diagnostics.contains("not defined by any loaded package")
                && !i.diagnostics.contains("is not known")
        ),
        "{issues:#?}"
    );
}

/// A package of the given StructureDefinitions (differentials only), beside R4 core and the
/// JP packages.
fn engine_with(resources: &[Value]) -> Engine {
    use crate::packages::package_from_files;
    let mut set = packages().unwrap().as_ref().clone();
    let manifest =
        serde_json::json!({"name": "example.diff", "version": "0.0.1", "fhirVersions": ["4.0.1"]});
    let mut files = vec![(
        "package.json".to_string(),
        manifest.to_string().into_bytes(),
    )];
    for (i, r) in resources.iter().enumerate() {
        files.push((format!("r{i}.json"), r.to_string().into_bytes()));
    }
    set.add(package_from_files(std::path::Path::new("example.diff"), files).unwrap());
    engine(set)
}

fn differential(name: &str, base: &str, elements: Value) -> Value {
    serde_json::json!({
        "resourceType": "StructureDefinition",
        "url": format!("http://example.org/StructureDefinition/{name}"),
        "name": name, "status": "draft", "kind": "resource", "abstract": false,
        "type": "Patient", "derivation": "constraint", "baseDefinition": base,
        "differential": {"element": elements}
    })
}

#[test]
fn a_differential_naming_an_element_the_base_lacks_is_reported_on_the_profile() {
    let bad = differential(
        "Bad",
        "http://hl7.org/fhir/StructureDefinition/Patient",
        serde_json::json!([{"id": "Patient", "path": "Patient"}, {"id": "Patient.nickname", "path": "Patient.nickname", "min": 1}]),
    );
    let engine = engine_with(&[bad]);
    let patient = serde_json::json!({"resourceType": "Patient"});
    let issues = validate(
        &engine,
        &patient,
        "http://example.org/StructureDefinition/Bad",
    );
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert!(
        issues[0].diagnostics.contains("Patient.nickname")
            && issues[0].diagnostics.contains("cannot be used"),
        "{issues:#?}"
    );
}

#[test]
fn bases_that_name_each_other_are_a_cycle_not_a_stack_overflow() {
    let url = |n: &str| format!("http://example.org/StructureDefinition/{n}");
    let root = serde_json::json!([{"id": "Patient", "path": "Patient"}]);
    let a = differential("A", &url("B"), root.clone());
    let b = differential("B", &url("A"), root);
    let engine = engine_with(&[a, b]);
    let patient = serde_json::json!({"resourceType": "Patient"});
    let issues = validate(&engine, &patient, &url("A"));
    assert!(
        issues.iter().any(|i| i.diagnostics.contains("cycle")),
        "{issues:#?}"
    );
}

#[test]
fn a_profile_on_a_differential_only_profile_gets_both_layers() {
    // B narrows Patient.gender to 1..1, C (on B) fixes it to female: both apply to C.
    let url = |n: &str| format!("http://example.org/StructureDefinition/{n}");
    let b = differential(
        "B",
        "http://hl7.org/fhir/StructureDefinition/Patient",
        serde_json::json!([{"id": "Patient", "path": "Patient"}, {"id": "Patient.gender", "path": "Patient.gender", "min": 1}]),
    );
    let c = differential(
        "C",
        &url("B"),
        serde_json::json!([{"id": "Patient", "path": "Patient"}, {"id": "Patient.gender", "path": "Patient.gender", "fixedCode": "female"}]),
    );
    let engine = engine_with(&[b, c]);
    let missing = validate(
        &engine,
        &serde_json::json!({"resourceType": "Patient"}),
        &url("C"),
    );
    assert!(
        missing
            .iter()
            .any(|i| i.expression == ["Patient.gender"] || i.diagnostics.contains("gender")),
        "{missing:#?}"
    );
    let male = serde_json::json!({"resourceType": "Patient", "gender": "male"});
    let wrong = validate(&engine, &male, &url("C"));
    assert!(
        !crate::validation::has_errors(&[]) && crate::validation::has_errors(&wrong),
        "{wrong:#?}"
    );
    let female = serde_json::json!({"resourceType": "Patient", "gender": "female"});
    let right = validate(&engine, &female, &url("C"));
    assert!(!crate::validation::has_errors(&right), "{right:#?}");
}
