//! The official example instances (JP-CLINS examples, and the examples inside the JP-Core and
//! JP-CLINS packages) hold no code or identifier that a rule here calls an error: where an
//! official example and a rule disagree, the rule is the suspect.

use std::io::Read;

use serde_json::Value;

use super::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// Conformance resources: not instances, and their codings are definitions, not data.
const CONFORMANCE: &[&str] = &[
    "CapabilityStatement",
    "CodeSystem",
    "ImplementationGuide",
    "NamingSystem",
    "OperationDefinition",
    "SearchParameter",
    "StructureDefinition",
    "ValueSet",
];

/// (source name, parsed JSON) of every example instance.
fn examples() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dir = format!("{DATA}/examples/clins");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((path.display().to_string(), json));
        }
    }
    for package in ["jp-core.r4-1.1.2-url.tgz", "jp-clins.r4-1.5.2-snap.tgz"] {
        let file = std::fs::File::open(format!("{DATA}/packages/{package}")).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if !name.ends_with(".json") || name.ends_with("package.json") {
                continue;
            }
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            let Ok(json) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let kind = json["resourceType"].as_str().unwrap_or_default();
            if !kind.is_empty() && !CONFORMANCE.contains(&kind) {
                out.push((format!("{package}:{name}"), json));
            }
        }
    }
    out
}

const ID_SYSTEMS: &[&str] = &[
    id_systems::INSTITUTION,
    id_systems::BUNDLE,
    id_systems::RESOURCE,
    id_systems::INSURANCE_MEMBER,
    id_systems::PUBLIC_PAYER_MEMBER,
];

#[derive(Default)]
struct Scan {
    checked: usize,
    checked_ids: usize,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl Scan {
    fn walk(&mut self, source: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                if let Some(system) = map.get("system").and_then(Value::as_str) {
                    if let Some(code) = map.get("code").and_then(Value::as_str) {
                        self.checked += usize::from(has_syntax(system));
                        self.record(source, check_code(system, code));
                    }
                    if let Some(id) = map.get("value").and_then(Value::as_str) {
                        self.checked_ids += usize::from(ID_SYSTEMS.contains(&system));
                        self.record(source, check_identifier(system, id));
                    }
                }
                for v in map.values() {
                    self.walk(source, v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.walk(source, v)),
            _ => {}
        }
    }

    fn record(&mut self, source: &str, findings: Vec<Finding>) {
        for f in findings {
            let line = format!("{source}: {}", f.text());
            match f.severity {
                Severity::Error => self.errors.push(line),
                Severity::Warning => self.warnings.push(line),
            }
        }
    }
}

#[test]
fn official_examples_have_no_errors() {
    let examples = examples();
    assert!(examples.len() >= 90, "only {} examples", examples.len());
    let mut scan = Scan::default();
    for (source, json) in &examples {
        scan.walk(source, json);
    }
    // JLAC10, YJ, 一般名処方, J-FAGY, MEDIS disease codes occur in the examples.
    assert!(scan.checked >= 40, "only {} codes had a rule", scan.checked);
    assert!(
        scan.checked_ids >= 100,
        "only {} identifiers had a rule",
        scan.checked_ids
    );
    eprintln!(
        "{} examples, {} codes and {} identifiers with a rule, {} warnings",
        examples.len(),
        scan.checked,
        scan.checked_ids,
        scan.warnings.len()
    );
    for warning in &scan.warnings {
        eprintln!("warning: {warning}");
    }
    assert!(scan.errors.is_empty(), "{:#?}", scan.errors);
}
