//! Which resource types are patient data, and where a resource names its patient: the FHIR R4
//! Patient CompartmentDefinition (<https://hl7.org/fhir/R4/compartmentdefinition-patient.html>),
//! as the element paths of each listed parameter. The table is generated from the core package
//! ([`crate::model::compartment`], run by `kyoyu package generate-base`) into
//! `fhir-schemas/r4-patient-compartment.json`, committed, and compiled in.

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

const EMBEDDED: &str = include_str!("../../../fhir-schemas/r4-patient-compartment.json");

pub use crate::model::compartment::DEFINITION;

type Table = HashMap<String, Vec<String>>;

fn table() -> Option<&'static Table> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let parsed: Value = serde_json::from_str(EMBEDDED).ok()?;
            serde_json::from_value(parsed.get("types")?.clone()).ok()
        })
        .as_ref()
}

/// Whether resources of `res_type` sit in a patient's compartment, so are patient data. Should
/// the compiled-in table be unreadable (a test guards it), every type counts as patient data:
/// access fails closed.
pub fn contains(res_type: &str) -> bool {
    table().is_none_or(|t| t.contains_key(res_type))
}

/// Every type in the compartment, by name: what `Patient/{id}/*` and `$everything` cover.
pub fn types() -> Vec<&'static str> {
    let mut types: Vec<&str> = table()
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    types.sort_unstable();
    types
}

/// The element paths whose Patient references place a `res_type` in that patient's
/// compartment, in the definition's order (its first parameter is the resource's subject).
pub fn paths(res_type: &str) -> &'static [String] {
    table()
        .and_then(|t| t.get(res_type))
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The references found at the compartment paths of `resource`, in path order.
pub fn references<'a>(res_type: &str, resource: &'a Value) -> Vec<&'a Value> {
    paths(res_type)
        .iter()
        .flat_map(|path| crate::search::extract::walk(resource, path))
        .collect()
}
