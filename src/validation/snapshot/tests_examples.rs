//! A profile shipped as a differential only validates the official examples exactly as its
//! published snapshot does.
//! Every StructureDefinition of JP-CLINS 1.5.2 loses its snapshot here, and each of the 50
//! official examples must get the very same issues from the generated snapshots as from the
//! published ones.

use std::sync::Arc;

use serde_json::Value;

use crate::fhir::Issue;
use crate::validation::binding_check::NoTerminology;
use crate::validation::model::BaseModel;
use crate::validation::packages::PackageSet;
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
                if r.resource_type == "StructureDefinition" && r.json.get("snapshot").is_some() {
                    let mut json = r.json.as_ref().clone();
                    json.as_object_mut().unwrap().remove("snapshot");
                    r.json = Arc::new(json);
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
        assert!(cache.structure_definition(url).is_some(), "{url}");
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
