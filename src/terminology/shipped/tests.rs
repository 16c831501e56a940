use std::collections::BTreeSet;

use super::{SOURCES, format, parse};

const LISTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/terminology");
const CODESETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/codesets");

#[test]
fn every_shipped_file_parses_and_defines_what_its_entry_says() {
    for source in SOURCES {
        let file: format::ShippedFile = serde_json::from_str(source.text).unwrap();
        let systems: BTreeSet<&str> = file.systems.iter().map(|s| s.url.as_str()).collect();
        assert_eq!(
            systems,
            source.systems.iter().copied().collect(),
            "{}",
            source.file
        );
        let mut value_sets: BTreeSet<String> = file
            .value_sets
            .iter()
            .filter_map(|v| v["url"].as_str().map(str::to_string))
            .collect();
        value_sets.extend(file.systems.iter().flat_map(|s| s.value_sets.clone()));
        let listed: BTreeSet<String> = source.value_sets.iter().map(|s| s.to_string()).collect();
        assert_eq!(value_sets, listed, "{}", source.file);
        assert_eq!(file.source.licence, source.licence, "{}", source.file);
        assert!(
            file.systems.iter().all(|s| !s.concepts.is_empty()),
            "{}",
            source.file
        );
        parse(source.text).unwrap();
    }
}

#[test]
fn the_generator_reproduces_the_committed_files() {
    let out = tempfile::tempdir().unwrap();
    let lists = std::path::Path::new(LISTS);
    assert!(lists.exists(), "{LISTS} is missing");
    let generated = super::generate::generate(lists, out.path()).unwrap();
    assert_eq!(generated.len(), SOURCES.len());
    for source in SOURCES {
        let fresh = std::fs::read_to_string(out.path().join(source.file)).unwrap();
        let committed = std::fs::read_to_string(format!("{CODESETS}/{}", source.file)).unwrap();
        assert!(
            fresh == committed,
            "codesets/{} differs from what `kyoyu codesets generate` writes: regenerate it",
            source.file
        );
    }
}

#[test]
fn a_shipped_system_is_found_by_url_and_version_only() {
    let food = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
    let cs = super::code_system(food, None).unwrap();
    assert!(cs.find("J9FA32540000").is_some());
    let version = cs.version.clone().unwrap();
    assert!(super::code_system(food, Some(&version)).is_some());
    assert!(super::code_system(food, Some("19990101")).is_none());
    assert!(super::code_system("http://example.org/none", None).is_none());
}
