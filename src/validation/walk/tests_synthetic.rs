//! Single-defect tests of rules no official profile uses: an official profile is copied under a
//! new canonical with one rule added, loaded beside the official packages, and an official
//! example is mutated once against it.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Engine;
use super::tests_support::{PAT_FILE, expect_error, mutated_with, packages, pat, set};
use crate::fhir::IssueType;
use crate::model::BaseModel;
use crate::packages::package_from_files;
use crate::validation::binding_check::NoTerminology;

const SYNTHETIC: &str = "http://example.org/fhir/StructureDefinition/";

/// The official packages plus one package holding `resources`.
pub(crate) fn engine_with(resources: &[Value]) -> Option<Engine> {
    let mut set = packages()?.as_ref().clone();
    let manifest =
        json!({"name": "example.synthetic", "version": "0.0.1", "fhirVersions": ["4.0.1"]});
    let mut files = vec![(
        "package.json".to_string(),
        manifest.to_string().into_bytes(),
    )];
    for (i, r) in resources.iter().enumerate() {
        files.push((format!("r{i}.json"), r.to_string().into_bytes()));
    }
    set.add(package_from_files(Path::new("synthetic"), files).unwrap());
    let model = BaseModel::load_embedded().unwrap();
    Some(Engine::new(Arc::new(set), model, Arc::new(NoTerminology)))
}

/// A copy of the official StructureDefinition `url` under `SYNTHETIC/name` (an extension's
/// fixed `Extension.url` follows), with `change` applied to it.
pub(crate) fn derived(url: &str, name: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut sd = packages()
        .unwrap()
        .resolve(url)
        .unwrap()
        .json()
        .as_ref()
        .clone();
    let new_url = synthetic(name);
    sd["url"] = json!(new_url);
    sd["id"] = json!(name);
    sd["name"] = json!(name);
    if sd["type"] == "Extension" {
        element(&mut sd, "Extension.url")["fixedUri"] = json!(new_url);
    }
    change(&mut sd);
    sd
}

pub(crate) fn synthetic(name: &str) -> String {
    format!("{SYNTHETIC}{name}")
}

/// The snapshot element of `sd` whose id is `id`.
pub(crate) fn element<'a>(sd: &'a mut Value, id: &str) -> &'a mut Value {
    sd["snapshot"]["element"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["id"] == id)
        .unwrap()
}

// No JP-Core 1.1.2 or JP-CLINS 1.5.2 snapshot element has a `maxLength` (in r4 core only
// `string.value` does, at 1 MiB), hence a derived profile.
#[test]
fn a_string_longer_than_max_length_is_too_long_counted_in_characters() {
    if packages().is_none() {
        return;
    }
    // The example's `name[1].text` is "マキノ ランマン": 8 characters, 22 bytes in UTF-8; at
    // the limit, the unmutated example stays clean.
    let sd = derived(&pat(), "PatientMaxLength", |sd| {
        element(sd, "Patient.name.text")["maxLength"] = json!(8);
    });
    let profile = synthetic("PatientMaxLength");
    let engine = engine_with(&[sd]).unwrap();
    let issues = mutated_with(&engine, PAT_FILE, &profile, |v| {
        set(v, "/name/0/text", json!("牧野 爛漫太郎次郎"));
    });
    expect_error(
        issues,
        IssueType::TooLong,
        "Patient.name[0].text",
        &format!("{profile}#Patient.name.text"),
    );
}
