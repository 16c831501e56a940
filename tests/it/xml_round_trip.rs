//! Every official JSON example of JP-CLINS and every JSON resource of the FHIR packages in
//! ../shared/data survives JSON → XML → JSON unchanged (`fhir_comments` aside, which XML drops),
//! and the JSON read back writes the same XML again.

use std::path::{Path, PathBuf};

use kyoyu::fhir::xml::{parse_resource, to_xml};
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn without_comments(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.shift_remove("fhir_comments");
            map.values_mut().for_each(without_comments);
        }
        Value::Array(items) => items.iter_mut().for_each(without_comments),
        _ => {}
    }
}

/// (name, bytes) of every JSON file of the examples folder and of every package.
fn sources() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let examples = Path::new(DATA).join("examples/clins");
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    let mut packages: Vec<PathBuf> = std::fs::read_dir(Path::new(DATA).join("packages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
        .collect();
    packages.sort();
    for package in packages {
        let name = package.file_name().unwrap().to_string_lossy().into_owned();
        for (file, bytes) in kyoyu::packages::read_files(&package).unwrap() {
            files.push((format!("{name}/{file}"), bytes));
        }
    }
    files
}

/// The failures among `files`: one line each.
fn round_trip(files: &[(String, Vec<u8>)]) -> (usize, Vec<String>) {
    let (mut resources, mut failures) = (0, Vec::new());
    for (name, bytes) in files {
        let mut json: Value = serde_json::from_slice(bytes).unwrap();
        if json.get("resourceType").is_none() {
            continue; // package.json, .index.json
        }
        resources += 1;
        let xml = match to_xml(&json, false) {
            Ok(xml) => xml,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let back = match parse_resource(xml.as_bytes(), 1000) {
            Ok(back) => back,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        without_comments(&mut json);
        if back != json {
            failures.push(format!("{name}: JSON differs after the round trip"));
        } else if to_xml(&back, false).ok().as_deref() != Some(xml.as_str()) {
            failures.push(format!("{name}: XML differs when written again"));
        }
    }
    (resources, failures)
}

#[test]
fn every_official_example_and_package_resource_round_trips() {
    let files = sources();
    let halves = files.split_at(files.len() / 2);
    let ((a, mut failures), (b, more)) = std::thread::scope(|s| {
        let first = s.spawn(|| round_trip(halves.0));
        let second = round_trip(halves.1);
        (first.join().unwrap(), second)
    });
    failures.extend(more);
    let resources = a + b;
    eprintln!(
        "{resources} resources round-tripped from {} files",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {resources} failed:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    // The 50 examples and the five packages; fewer means data went missing, not a pass.
    assert!(resources > 5_000, "only {resources} resources found");
}
