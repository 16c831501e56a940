//! Every official code list, imported on its own, passes the coding check it feeds: syntax,
//! membership and display, for every code it lists; and systems a run defines twice merge.

use std::path::Path;
use std::sync::Arc;

use super::import::{ImportOptions, read_path};
use super::model::merge_same_systems;
use super::{Content, ImportSet, MasterConcept, MasterSystem, Masters, Terminology};
use crate::fhir::IssueSeverity;
use crate::packages::PackageSet;
use crate::validation::binding_check::{BindingCheck, CodedPart, CodedValue};
use crate::validation::valuesets::ValueSetEngine;

const LISTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/terminology");

fn engine(sets: Vec<(String, ImportSet)>) -> ValueSetEngine {
    ValueSetEngine::with_terminology(
        Arc::new(PackageSet::new()),
        Arc::new(Terminology::new(Masters::from_imports(sets))),
    )
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
}

#[test]
fn every_code_of_every_official_list_passes_its_own_check() {
    if !Path::new(LISTS).exists() {
        crate::test_data::missing(LISTS);
    }
    let mut paths = Vec::new();
    files(Path::new(LISTS), &mut paths);
    paths.sort();
    let mut checked = 0;
    for path in paths {
        let set = read_path(&path, &ImportOptions::default()).unwrap();
        let codes: Vec<(String, MasterConcept)> = set
            .systems
            .iter()
            .flat_map(|s| s.concepts.iter().map(|c| (s.url.clone(), c.clone())))
            .collect();
        let e = engine(vec![(path.display().to_string(), set)]);
        for (system, concept) in &codes {
            let findings = e.coding(CodedValue {
                system: Some(system),
                version: None,
                code: &concept.code,
                display: concept.display.as_deref(),
            });
            assert!(
                findings.is_empty(),
                "{}: {system}#{}: {findings:?}",
                path.display(),
                concept.code
            );
        }
        checked += codes.len();
    }
    assert!(checked > 100_000, "{checked}");
}

fn system(url: &str, content: Content, codes: &[&str]) -> MasterSystem {
    MasterSystem {
        url: url.into(),
        version: None,
        name: "t".into(),
        content,
        case_sensitive: true,
        value_sets: Vec::new(),
        concepts: codes
            .iter()
            .map(|c| MasterConcept {
                code: c.to_string(),
                display: Some(format!("display {c}")),
                parent: None,
            })
            .collect(),
    }
}

#[test]
fn a_system_defined_twice_in_one_run_is_merged_not_replaced() {
    let url = "http://example.org/cs";
    let mut sets = vec![
        (
            "a.csv".to_string(),
            ImportSet {
                systems: vec![system(url, Content::Fragment, &["1", "2"])],
                ..ImportSet::default()
            },
        ),
        (
            "b.csv".to_string(),
            ImportSet {
                systems: vec![
                    system("http://example.org/other", Content::Complete, &["x"]),
                    system(url, Content::Complete, &["2", "3"]),
                ],
                ..ImportSet::default()
            },
        ),
    ];
    merge_same_systems(&mut sets);
    assert_eq!(sets[0].1.systems.len(), 1);
    let merged = &sets[0].1.systems[0];
    let codes: Vec<&str> = merged.concepts.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["1", "2", "3"]);
    assert_eq!(merged.content, Content::Complete);
    assert!(
        sets[0].1.notes[0].contains("b.csv"),
        "{:?}",
        sets[0].1.notes
    );
    assert_eq!(sets[1].1.systems.len(), 1);
    assert_eq!(sets[1].1.systems[0].url, "http://example.org/other");
}

#[test]
fn two_editions_of_a_system_in_one_run_keep_the_newer_and_merge_nothing() {
    let url = "http://example.org/cs";
    let edition = |version: &str, codes: &[&str]| {
        let mut s = system(url, Content::Complete, codes);
        s.version = Some(version.into());
        ImportSet {
            systems: vec![s],
            ..ImportSet::default()
        }
    };
    let mut sets = vec![
        ("old.csv".to_string(), edition("1.9", &["gone", "kept"])),
        ("new.csv".to_string(), edition("1.10", &["kept", "added"])),
    ];
    merge_same_systems(&mut sets);
    assert_eq!(sets[0].1.systems.len() + sets[1].1.systems.len(), 1);
    let kept = &sets[0].1.systems[0];
    assert_eq!(kept.version.as_deref(), Some("1.10"));
    let codes: Vec<&str> = kept.concepts.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["kept", "added"]);
    let note = sets[0].1.notes.join(" ");
    assert!(note.contains("1.9") && note.contains("old.csv"), "{note}");
}

#[test]
fn a_display_differing_only_by_look_alike_characters_gets_a_hint() {
    let url = "http://example.org/lab";
    let mut s = system(url, Content::Complete, &["K1"]);
    // The official tables carry radicals such as ⾎ (U+2F8E) where 血 is meant.
    s.concepts[0].display = Some("\u{2F8E}糖".into());
    let e = engine(vec![(
        "t.csv".into(),
        ImportSet {
            systems: vec![s],
            ..ImportSet::default()
        },
    )]);
    let findings = e.coding(CodedValue {
        system: Some(url),
        version: None,
        code: "K1",
        display: Some("血糖"),
    });
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert!(f.severity == IssueSeverity::Warning && f.part == CodedPart::Display);
    assert!(f.text().contains("look-alike"), "{}", f.text());
    assert!(f.text().contains("U+2F8E"), "{}", f.text());
}
