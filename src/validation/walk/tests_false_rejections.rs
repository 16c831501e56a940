//! Valid official instances the walk once refused: the core's own StructureDefinition of
//! Patient (extension contexts) and the checkup IG's sample Bundles (array-ness of an element
//! a profile narrowed to `max 1`).

use std::sync::Arc;

use serde_json::Value;

use super::Engine;
use super::tests_support::{data, declared_profiles, errors, show, validate};
use crate::model::BaseModel;
use crate::packages::{PackageSet, read_files};
use crate::validation::binding_check::NoTerminology;

const CORE: &str = "packages/hl7.fhir.r4.core-4.0.1.tgz";
const CHECKUP: &str = "packages/jp-eCheckupReport.r4-1.5.0-snap.tgz";

/// One JSON file of a package's `package/` folder, examples included.
fn package_file(package: &str, file: &str) -> Option<Value> {
    let path = data(package)?;
    let (_, bytes) = read_files(&path)
        .unwrap()
        .into_iter()
        .find(|(name, _)| name == file)
        .unwrap_or_else(|| panic!("{file} is not in {package}"));
    Some(serde_json::from_slice(&bytes).unwrap())
}

fn engine_over(packages: &[&str]) -> Option<Engine> {
    let paths: Vec<_> = packages.iter().map(|p| data(p)).collect::<Option<_>>()?;
    let set = PackageSet::load(&paths).unwrap();
    let model = BaseModel::load_embedded().unwrap();
    Some(Engine::new(Arc::new(set), model, Arc::new(NoTerminology)))
}

fn assert_no_errors(engine: &Engine, name: &str, v: &Value) {
    for profile in declared_profiles(v) {
        let issues = validate(engine, v, &profile);
        let e = errors(&issues);
        assert!(e.is_empty(), "{name} against {profile}:\n{}", show(&e));
    }
}

#[test]
fn the_core_structure_definition_of_patient_is_valid() {
    // Its snapshot carries `structuredefinition-fhir-type` on `ElementDefinition.type`, where
    // the core itself uses it, though the extension's declared context is `.type.code`.
    let (Some(engine), Some(sd)) = (
        engine_over(&[CORE]),
        package_file(CORE, "StructureDefinition-Patient.json"),
    ) else {
        return;
    };
    assert_no_errors(&engine, "StructureDefinition-Patient.json", &sd);
}

#[test]
fn the_checkup_samples_are_valid_though_a_profile_narrows_coding_extension_to_one() {
    // JP_Observation_eCheckupGeneral sets `valueCodeableConcept.coding.extension` to 0..1:
    // the samples still write it as an array, as the base definition (0..*) says.
    let Some(engine) = engine_over(&[CORE, "packages/jp-core.r4-1.1.2-clins.tgz", CHECKUP]) else {
        return;
    };
    for file in [
        "Bundle-Bundle-eCheckupReport-Sample-01.json",
        "Bundle-Bundle-eCheckupReport-Sample-02-GroupItems.json",
    ] {
        let bundle = package_file(CHECKUP, file).unwrap();
        assert_no_errors(&engine, file, &bundle);
    }
}
