//! The FHIR reader on small resources made here.

use serde_json::{Value, json};

use super::*;
use crate::terminology::Content;

fn read(value: &Value) -> Result<ImportSet, ImportError> {
    let bytes = serde_json::to_vec(value).unwrap();
    read_bytes("resource.json", &bytes, &ImportOptions::default())
}

fn code_system(concept: Value) -> Value {
    json!({
        "resourceType": "CodeSystem",
        "url": "http://example.org/cs",
        "name": "Example",
        "version": "1.0",
        "content": "complete",
        "concept": concept
    })
}

#[test]
fn concepts_are_flattened_with_nested_and_property_parents() {
    let cs = code_system(json!([
        { "code": "A", "display": "a", "concept": [
            { "code": "A1", "concept": [{ "code": "A1x" }] }
        ]},
        { "code": "B", "property": [{ "code": "parent", "valueCode": "A" }] },
        { "code": "C", "property": [{ "code": "subsumedBy", "valueCode": "B" }] }
    ]));
    let set = read(&cs).unwrap();
    let s = &set.systems[0];
    let flat: Vec<(&str, Option<&str>)> = s
        .concepts
        .iter()
        .map(|c| (c.code.as_str(), c.parent.as_deref()))
        .collect();
    assert_eq!(
        flat,
        [
            ("A", None),
            ("A1", Some("A")),
            ("A1x", Some("A1")),
            ("B", Some("A")),
            ("C", Some("B"))
        ]
    );
    assert_eq!(
        (s.name.as_str(), s.version.as_deref()),
        ("Example", Some("1.0"))
    );
    assert_eq!(s.concepts[0].display.as_deref(), Some("a"));
    assert!(s.case_sensitive);
    assert!(set.notes.is_empty());
}

#[test]
fn a_second_parent_is_noted_and_the_enclosing_concept_kept() {
    let cs = code_system(json!([
        { "code": "A" }, { "code": "B", "concept": [
            { "code": "C", "property": [{ "code": "parent", "valueCode": "A" }] }
        ]}
    ]));
    let set = read(&cs).unwrap();
    assert_eq!(set.systems[0].concepts[2].parent.as_deref(), Some("B"));
    assert!(set.notes[0].contains("1 concepts of http://example.org/cs have more than one"));
}

#[test]
fn content_case_sensitivity_and_value_set_are_read() {
    let mut cs = code_system(json!([{ "code": "a" }]));
    cs["content"] = json!("example");
    cs["caseSensitive"] = json!(false);
    cs["valueSet"] = json!("http://example.org/vs");
    cs["url"] = json!("urn:oid:1.2.392.100495.20.2.73");
    let s = read(&cs).unwrap().systems.remove(0);
    assert_eq!(s.content, Content::Fragment);
    assert!(!s.case_sensitive);
    assert_eq!(s.value_sets, ["http://example.org/vs"]);
    assert_eq!(s.url, urls::YJ, "old OIDs map to the URL form");
}

#[test]
fn malformed_code_systems_fail_naming_the_system() {
    let dup = code_system(json!([{ "code": "A" }, { "code": "B", "concept": [{ "code": "A" }] }]));
    let err = read(&dup).unwrap_err();
    assert!(matches!(err, ImportError::Resource { .. }));
    assert!(
        err.to_string()
            .contains("http://example.org/cs: code `A` appears twice")
    );
    let orphan = code_system(json!([
        { "code": "B", "property": [{ "code": "parent", "valueCode": "Z" }] }
    ]));
    let err = read(&orphan).unwrap_err().to_string();
    assert!(err.contains("parent `Z` of `B` is not a code"), "{err}");
    let mut no_url = code_system(json!([]));
    no_url.as_object_mut().unwrap().remove("url");
    assert!(
        read(&no_url)
            .unwrap_err()
            .to_string()
            .contains("without url")
    );
    let err = read(&json!({ "resourceType": "Patient" })).unwrap_err();
    assert!(matches!(err, ImportError::Layout { .. }), "{err}");
    let err = read_bytes("x.json", b"{ not json", &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Json { .. }), "{err}");
}

#[test]
fn a_bundle_brings_code_systems_and_value_sets_and_skips_supplements() {
    let mut supplement = code_system(json!([{ "code": "A", "display": "あ" }]));
    supplement["content"] = json!("supplement");
    supplement["supplements"] = json!("http://example.org/cs");
    supplement["url"] = json!("http://example.org/cs-ja");
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            { "resource": code_system(json!([{ "code": "A" }])) },
            { "resource": supplement },
            { "resource": { "resourceType": "ValueSet", "url": "http://example.org/vs",
                            "status": "active" } },
            { "resource": { "resourceType": "Patient" } }
        ]
    });
    let set = read(&bundle).unwrap();
    assert_eq!(set.systems.len(), 1);
    assert_eq!(set.value_sets[0]["url"], "http://example.org/vs");
    let notes = set.notes.join("\n");
    assert!(notes.contains("cs-ja is a supplement"), "{notes}");
    assert!(notes.contains("1 Bundle entries"), "{notes}");

    let no_url = json!({ "resourceType": "ValueSet", "status": "active" });
    assert!(
        read(&no_url)
            .unwrap_err()
            .to_string()
            .contains("ValueSet without url")
    );
}

#[test]
fn a_package_reads_from_bytes_and_from_a_directory() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/packages/jp-core.r4-1.1.2-url.tgz"
    );
    let bytes = std::fs::read(path).unwrap();
    let from_bytes = read_bytes("upload.tgz", &bytes, &ImportOptions::default()).unwrap();
    assert_eq!(from_bytes.systems.len(), 22);
    assert_eq!(from_bytes.value_sets.len(), 37);

    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("package");
    std::fs::create_dir(&package).unwrap();
    let manifest = json!({ "name": "example.cs", "version": "0.1.0" });
    std::fs::write(package.join("package.json"), manifest.to_string()).unwrap();
    let cs = code_system(json!([{ "code": "A" }]));
    std::fs::write(package.join("CodeSystem-ex.json"), cs.to_string()).unwrap();
    let set = read_path(dir.path(), &ImportOptions::default()).unwrap();
    assert_eq!(set.systems[0].url, "http://example.org/cs");
}
