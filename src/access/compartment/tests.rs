use std::path::Path;

use serde_json::json;

use super::*;
use crate::model::compartment::{TABLE_FILE, build_table, render_table};
use crate::packages::Package;

const CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/packages/hl7.fhir.r4.core-4.0.1.tgz"
);

#[test]
fn the_committed_table_matches_the_core_package() {
    assert!(
        Path::new(CORE).is_file(),
        "{CORE} is absent: the compartment table cannot be checked against the package"
    );
    let package = Package::load(Path::new(CORE)).unwrap();
    let table = build_table(&package).unwrap();
    assert_eq!(
        render_table(&package.id.to_string(), &table),
        EMBEDDED,
        "fhir-schemas/{TABLE_FILE} is stale: run `kyoyu package generate-base --from <core tgz> --out fhir-schemas`"
    );
}

#[test]
fn the_embedded_table_reads_and_covers_the_compartment() {
    let t = table().expect("the embedded table parses");
    assert_eq!(t.len(), 66, "types in the R4 patient compartment");
    for shared in [
        "CodeSystem",
        "Organization",
        "Practitioner",
        "Medication",
        "Bundle",
    ] {
        assert!(!contains(shared), "{shared}");
    }
    for own in [
        "DiagnosticReport",
        "Immunization",
        "ServiceRequest",
        "Patient",
        "Consent",
    ] {
        assert!(contains(own), "{own}");
    }
    assert_eq!(paths("Observation"), ["subject", "performer"]);
    assert_eq!(paths("Appointment"), ["participant.actor"]);
    assert_eq!(paths("SupplyRequest"), ["deliverTo"]);
}

#[test]
fn references_are_found_at_every_compartment_path_in_order() {
    let obs = json!({"resourceType": "Observation",
        "performer": [{"reference": "Practitioner/d"}, {"reference": "Patient/b"}],
        "subject": {"reference": "Patient/a"}});
    let found = references("Observation", &obs);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0]["reference"], "Patient/a");
    let appointment = json!({"participant": [{"actor": {"reference": "Patient/x"}}]});
    assert_eq!(references("Appointment", &appointment).len(), 1);
    assert!(references("Organization", &obs).is_empty());
}
