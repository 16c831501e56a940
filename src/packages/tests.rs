use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::*;

const PACKAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/packages");

const FILES: &[&str] = &[
    "hl7.fhir.r4.core-4.0.1.tgz",
    "jp-core.r4-1.1.2-url.tgz",
    "jp-core.r4-1.1.2-clins.tgz",
    "jp-clins.r4-1.5.2-snap.tgz",
    "jp-eCheckupReport.r4-1.1.3.tgz",
];

fn official(file: &str) -> Option<PathBuf> {
    let path = Path::new(PACKAGES).join(file);
    if path.is_file() {
        Some(path)
    } else {
        crate::test_data::missing(path.display())
    }
}

fn all_official() -> Option<Vec<PathBuf>> {
    FILES.iter().map(|f| official(f)).collect()
}

/// A package directory with the given resources (written as `<Type>-<id>.json`).
fn write_dir_package(root: &Path, name: &str, version: &str, resources: &[Value]) -> PathBuf {
    let dir = root.join(format!("{name}-{version}"));
    let package = dir.join("package");
    std::fs::create_dir_all(&package).unwrap();
    let manifest = serde_json::json!({
        "name": name, "version": version, "fhirVersions": ["4.0.1"],
        "dependencies": {"hl7.fhir.r4.core": "4.0.1"}
    });
    std::fs::write(package.join("package.json"), manifest.to_string()).unwrap();
    for r in resources {
        let file = format!(
            "{}-{}.json",
            r["resourceType"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        );
        std::fs::write(package.join(file), r.to_string()).unwrap();
    }
    dir
}

fn sd(id: &str, url: &str, version: Option<&str>, title: &str) -> Value {
    let mut v = serde_json::json!({
        "resourceType": "StructureDefinition", "id": id, "url": url, "name": id,
        "title": title, "status": "active", "kind": "resource", "abstract": false,
        "type": "Patient", "derivation": "constraint",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient"
    });
    if let Some(version) = version {
        v["version"] = Value::String(version.into());
    }
    v
}

#[test]
fn loads_the_official_packages() {
    let Some(paths) = all_official() else { return };
    let started = Instant::now();
    let set = PackageSet::load(&paths).unwrap();
    eprintln!("loaded {} packages in {:?}", paths.len(), started.elapsed());
    let counts: Vec<(String, usize, usize)> = set
        .packages()
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.count_of("StructureDefinition"),
                p.resources.len(),
            )
        })
        .collect();
    eprintln!("{counts:?}");
    let sds: Vec<(&str, usize)> = counts.iter().map(|(id, n, _)| (id.as_str(), *n)).collect();
    assert_eq!(
        sds,
        [
            ("hl7.fhir.r4.core#4.0.1", 655),
            ("jp-core.r4#1.1.2-url", 89),
            ("jp-core.r4#1.1.2-clins", 88),
            ("jp-eCSCLINS.r4#1.x.x-temp", 49),
            ("jp-eCheckupReport.r4#1.0.0-temp", 26),
        ]
    );
    let core = &set.packages()[0];
    assert_eq!(core.manifest.fhir_versions, ["4.0.1"]);
    assert_eq!(core.count_of("ValueSet"), 1316);
    assert_eq!(core.count_of("CodeSystem"), 1062);
    assert_eq!(core.count_of("SearchParameter"), 1400);
    let clins = &set.packages()[3];
    assert_eq!(
        clins
            .manifest
            .dependencies
            .get("hl7.fhir.r4.core")
            .map(String::as_str),
        Some("4.0.1")
    );
    // Examples are not kept.
    assert!(set.packages().iter().all(|p| p.count_of("Patient") == 0));
    assert!(clins.skipped_files >= 2);

    let patient = set
        .resolve("http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS")
        .unwrap();
    assert_eq!(patient.resource_type, "StructureDefinition");
    assert_eq!(patient.package.name, "jp-eCSCLINS.r4");
    assert_eq!(patient.json()["type"], "Patient");
    let base = set
        .resolve_in(
            "StructureDefinition",
            "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1",
        )
        .unwrap();
    assert_eq!(base.json()["kind"], "resource");
    assert!(
        set.resolve_in(
            "ValueSet",
            "http://hl7.org/fhir/StructureDefinition/Patient"
        )
        .is_none()
    );
    assert!(
        set.resolve("http://hl7.org/fhir/StructureDefinition/Patient|3.0.2")
            .is_none()
    );
    // The official packages agree with each other.
    assert_eq!(set.conflicts(), &[] as &[Conflict]);
}

#[test]
fn bare_url_resolves_to_the_newest_version() {
    let Some(paths) = all_official() else { return };
    let set = PackageSet::load(&paths[1..3]).unwrap();
    // JP Core without a business version: each takes its package's version.
    let url = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient";
    let versions: Vec<&str> = set
        .versions(url)
        .iter()
        .map(|r| r.effective_version())
        .collect();
    assert_eq!(versions, ["1.1.2-url", "1.1.2-clins"]);
    assert_eq!(set.resolve(url).unwrap().package.version, "1.1.2-url");
    let pinned = set.resolve(&format!("{url}|1.1.2-clins")).unwrap();
    assert_eq!(pinned.package.version, "1.1.2-clins");
}

#[test]
fn newest_wins_and_pinned_versions_are_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let a = write_dir_package(
        tmp.path(),
        "example.a",
        "1.0.0",
        &[sd("p", url, Some("1.9.0"), "A")],
    );
    let b = write_dir_package(
        tmp.path(),
        "example.b",
        "1.0.0",
        &[sd("p", url, Some("1.10.0"), "B")],
    );
    let c = write_dir_package(
        tmp.path(),
        "example.c",
        "1.0.0",
        &[sd("p", url, Some("1.10.0-ballot"), "C")],
    );
    let set = PackageSet::load(&[&a, &b, &c]).unwrap();
    assert_eq!(set.resolve(url).unwrap().json()["title"], "B");
    assert_eq!(
        set.resolve(&format!("{url}|1.9.0")).unwrap().json()["title"],
        "A"
    );
    assert_eq!(
        set.resolve(&format!("{url}|1.10.0-ballot")).unwrap().json()["title"],
        "C"
    );
    assert!(set.resolve(&format!("{url}|1.9")).is_none());
    assert_eq!(
        set.lookup(None, &format!("{url}|2.0.0")),
        Err(ResolveError::NotFound(format!("{url}|2.0.0")))
    );
    assert!(set.conflicts().is_empty());
}

#[test]
fn conflicting_definitions_are_reported_not_picked() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let a = write_dir_package(
        tmp.path(),
        "example.a",
        "1.0.0",
        &[sd("p", url, Some("2.0.0"), "A")],
    );
    let b = write_dir_package(
        tmp.path(),
        "example.b",
        "3.1.0",
        &[sd("p", url, Some("2.0.0"), "B")],
    );
    // The same definition again is a re-publication, not a conflict.
    let c = write_dir_package(
        tmp.path(),
        "example.c",
        "1.0.0",
        &[sd("p", url, Some("2.0.0"), "A")],
    );
    let set = PackageSet::load(&[&a, &b, &c]).unwrap();
    let expected = Conflict {
        url: url.into(),
        version: "2.0.0".into(),
        resource_type: "StructureDefinition".into(),
        packages: vec![
            PackageId {
                name: "example.a".into(),
                version: "1.0.0".into(),
            },
            PackageId {
                name: "example.b".into(),
                version: "3.1.0".into(),
            },
        ],
    };
    assert_eq!(set.conflicts(), std::slice::from_ref(&expected));
    assert!(set.resolve(url).is_none());
    assert!(set.resolve(&format!("{url}|2.0.0")).is_none());
    assert_eq!(
        set.lookup(None, url),
        Err(ResolveError::Conflict(expected.clone()))
    );
    assert_eq!(
        expected.to_string(),
        format!(
            "StructureDefinition {url}|2.0.0 is defined differently by example.a#1.0.0, example.b#3.1.0"
        )
    );
}

#[test]
fn the_same_package_twice_is_loaded_once() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let a = write_dir_package(tmp.path(), "example.a", "1.0.0", &[sd("p", url, None, "A")]);
    let mut set = PackageSet::load(&[&a]).unwrap();
    assert_eq!(
        set.add(Package::load(&a).unwrap()),
        AddOutcome::AlreadyLoaded
    );
    assert_eq!(set.packages().len(), 1);
    // No business version: indexed under the package's.
    assert_eq!(
        set.resolve(&format!("{url}|1.0.0")).unwrap().json()["title"],
        "A"
    );
}

#[test]
fn loading_errors_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_dir_package(tmp.path(), "example.bad", "1.0.0", &[]);
    std::fs::write(
        dir.join("package/StructureDefinition-x.json"),
        "{\"resourceType\": ",
    )
    .unwrap();
    let e = Package::load(&dir).unwrap_err();
    assert!(
        matches!(&e, PackageError::Json { file, .. } if file == "StructureDefinition-x.json"),
        "{e}"
    );
    assert!(e.to_string().contains("StructureDefinition-x.json"), "{e}");

    let no_manifest = tmp.path().join("empty");
    std::fs::create_dir_all(&no_manifest).unwrap();
    assert!(matches!(
        Package::load(&no_manifest),
        Err(PackageError::MissingManifest { .. })
    ));

    let not_gzip = tmp.path().join("broken.tgz");
    std::fs::write(&not_gzip, b"not a tarball").unwrap();
    let e = Package::load(&not_gzip).unwrap_err();
    assert!(matches!(e, PackageError::Archive { .. }), "{e}");
    assert!(e.to_string().contains("broken.tgz"), "{e}");

    let missing = tmp.path().join("missing.tgz");
    assert!(matches!(
        Package::load(&missing),
        Err(PackageError::Io { .. })
    ));

    let bad_manifest = tmp.path().join("bad-manifest");
    std::fs::create_dir_all(&bad_manifest).unwrap();
    std::fs::write(bad_manifest.join("package.json"), r#"{"name": "x"}"#).unwrap();
    assert!(matches!(
        Package::load(&bad_manifest),
        Err(PackageError::BadManifest { .. })
    ));
}

#[test]
fn a_directory_without_the_package_level_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let dir = write_dir_package(tmp.path(), "example.a", "1.0.0", &[sd("p", url, None, "A")]);
    let flat = Package::load(&dir.join("package")).unwrap();
    assert_eq!(flat.resources.len(), 1);
    assert_eq!(flat.resources[0].file, "StructureDefinition-p.json");
}

#[test]
fn store_installs_lists_and_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let dir = write_dir_package(tmp.path(), "example.a", "1.0.0", &[sd("p", url, None, "A")]);
    let store = PackageStore::new(tmp.path().join("store"));
    assert!(store.list().unwrap().is_empty());
    let installed = store.install(dir.to_str().unwrap()).unwrap();
    assert_eq!(installed.id.to_string(), "example.a#1.0.0");
    assert_eq!(installed.conformance_resources, 1);
    assert!(!installed.replaced);
    assert!(installed.path.ends_with("example.a#1.0.0"));
    assert!(store.install(dir.to_str().unwrap()).unwrap().replaced);
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].resources, 1);
    assert_eq!(listed[0].path, installed.path);
    assert!(store.load().unwrap().resolve(url).is_some());

    let e = store
        .install("https://packages.example.org/x.tgz")
        .unwrap_err();
    assert!(
        matches!(e, PackageError::NetworkInstall { .. }) && e.to_string().contains("NAME#VERSION"),
        "{e}"
    );
    // A bad source leaves nothing behind.
    assert!(
        store
            .install(tmp.path().join("nope.tgz").to_str().unwrap())
            .is_err()
    );
    assert_eq!(std::fs::read_dir(store.root()).unwrap().count(), 1);
}

#[test]
fn store_installs_a_tgz() {
    let Some(path) = official("jp-eCheckupReport.r4-1.1.3.tgz") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = PackageStore::new(tmp.path());
    let installed = store.install(path.to_str().unwrap()).unwrap();
    assert_eq!(installed.id.to_string(), "jp-eCheckupReport.r4#1.0.0-temp");
    let listed = store.list().unwrap();
    assert_eq!(listed[0].resources, 117);
    let set = store.load().unwrap();
    assert_eq!(set.packages()[0].count_of("StructureDefinition"), 26);
}

#[test]
fn unsafe_package_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_dir_package(tmp.path(), "x", "1.0.0", &[]);
    std::fs::write(
        dir.join("package/package.json"),
        r#"{"name": "../evil", "version": "1"}"#,
    )
    .unwrap();
    let store = PackageStore::new(tmp.path().join("store"));
    assert!(matches!(
        store.install(dir.to_str().unwrap()),
        Err(PackageError::BadManifest { .. })
    ));
}

#[test]
fn versions_compare_semver_ish() {
    let lt = |a: &str, b: &str| assert_eq!(compare_versions(a, b), Ordering::Less, "{a} < {b}");
    lt("1.9.0", "1.10.0");
    lt("1.1.2-clins", "1.1.2");
    lt("1.1.2-clins", "1.1.2-url");
    lt("1.0.0-alpha", "1.0.0-alpha.1");
    lt("1.0.0-alpha.2", "1.0.0-alpha.10");
    lt("1.0.0-1", "1.0.0-alpha");
    lt("2014-03-26", "2018-08-12");
    lt("current", "0.1");
    lt("1.0", "1.0.0");
    lt("1.0.0+b", "1.0.0+c");
    assert_eq!(compare_versions("4.0.1", "4.0.1"), Ordering::Equal);
    assert_eq!(
        compare_versions("1.0.0", "1.0.0+build").then(Ordering::Equal),
        Ordering::Less
    );
}

#[test]
fn canonicals_split() {
    assert_eq!(
        split_canonical("http://x/y|1.0"),
        ("http://x/y", Some("1.0"))
    );
    assert_eq!(split_canonical("http://x/y"), ("http://x/y", None));
    assert_eq!(split_canonical("http://x/y|"), ("http://x/y", None));
    assert_eq!(
        split_canonical("http://x/y#frag|2"),
        ("http://x/y", Some("2"))
    );
}

#[test]
fn loading_for_validation_drops_structure_definition_prose_only() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "http://example.org/StructureDefinition/p";
    let mut profile = sd("p", url, Some("1.0.0"), "P");
    profile["description"] = serde_json::json!("A patient profile.");
    profile["text"] = serde_json::json!({"status": "generated", "div": "<div>P</div>"});
    profile["snapshot"] = serde_json::json!({"element": [{
        "id": "Patient", "path": "Patient", "min": 0, "max": "*",
        "short": "A patient", "definition": "Demographics.", "comment": "Long.",
        "requirements": "Why.", "alias": ["Person"],
        "mapping": [{"identity": "rim", "map": "Patient"}],
        "constraint": [{"key": "p-1", "severity": "error", "human": "Must.",
            "expression": "name.exists()", "xpath": "exists(f:name)"}]
    }]});
    let value_set = serde_json::json!({
        "resourceType": "ValueSet", "id": "v", "url": "http://example.org/ValueSet/v",
        "status": "active", "description": "Kept: the terminology operations serve it.",
        "text": {"status": "generated", "div": "<div>V</div>"}
    });
    let dir = write_dir_package(tmp.path(), "example.prose", "1.0.0", &[profile, value_set]);
    let full = PackageSet::load(&[&dir]).unwrap();
    let lean = PackageSet::load_with(&[&dir], Detail::Validation).unwrap();
    let sd_of = |set: &PackageSet| set.resolve(url).unwrap().json().as_ref().clone();
    assert_eq!(sd_of(&full)["description"], "A patient profile.");
    let lean_sd = sd_of(&lean);
    for gone in ["description", "text"] {
        assert!(lean_sd.get(gone).is_none(), "{gone}: {lean_sd}");
    }
    let element = &lean_sd["snapshot"]["element"][0];
    assert_eq!(
        element,
        &serde_json::json!({
            "id": "Patient", "path": "Patient", "min": 0, "max": "*", "short": "A patient",
            "constraint": [{"key": "p-1", "severity": "error", "human": "Must.",
                "expression": "name.exists()"}]
        })
    );
    let vs = lean.resolve("http://example.org/ValueSet/v").unwrap();
    assert_eq!(
        vs.json(),
        full.resolve("http://example.org/ValueSet/v")
            .unwrap()
            .json()
    );
}
