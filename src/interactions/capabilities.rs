//! `capabilities` (GET [base]/metadata): the CapabilityStatement is generated from the route
//! table's interaction list and the search parameter registry, so it cannot drift from what the
//! server does. Spec: https://hl7.org/fhir/R4/capabilitystatement.html

use serde_json::{Value, json};

use crate::fhir::resource_types::RESOURCE_TYPES;
use crate::search::params_for;

/// What the HTTP layer really serves, handed in by `api::routes`.
pub struct Implemented<'a> {
    pub type_interactions: &'a [&'a str],
    pub system_interactions: &'a [&'a str],
    pub formats: &'a [&'a str],
    pub operations: &'a [(&'a str, &'a str)],
}

pub fn statement(base_url: &str, published: &str, implemented: &Implemented<'_>) -> Value {
    let resources: Vec<Value> = RESOURCE_TYPES
        .iter()
        .map(|t| resource_entry(t, implemented))
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published,
        "publisher": "kyoyu",
        "kind": "instance",
        "software": { "name": "kyoyu", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "kyoyu FHIR R4 server", "url": base_url },
        "fhirVersion": "4.0.1",
        "format": implemented.formats,
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": implemented.system_interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
            "searchParam": common_params(),
            "operation": operations(implemented),
        }]
    })
}

fn operations(implemented: &Implemented<'_>) -> Vec<Value> {
    implemented
        .operations
        .iter()
        .map(|(name, definition)| json!({ "name": name, "definition": definition }))
        .collect()
}

fn common_params() -> Vec<Value> {
    vec![
        json!({ "name": "_id", "type": "token", "documentation": "logical id" }),
        json!({ "name": "_lastUpdated", "type": "date", "documentation": "when the current version was written" }),
    ]
}

fn resource_entry(res_type: &str, implemented: &Implemented<'_>) -> Value {
    let mut params = common_params();
    params.extend(params_for(res_type).iter().map(
        |p| json!({ "name": p.name, "type": p.kind.fhir_type(), "documentation": p.description }),
    ));
    let mut sorts = vec!["_id".to_string(), "_lastUpdated".to_string()];
    sorts.extend(
        params_for(res_type)
            .iter()
            .filter(|p| p.kind == crate::search::ParamKind::Date)
            .map(|p| p.name.to_string()),
    );
    json!({
        "type": res_type,
        "interaction": implemented.type_interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
        "versioning": "versioned-update",
        "readHistory": true,
        "updateCreate": true,
        "conditionalCreate": true,
        "conditionalRead": "not-supported",
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": params,
        "operation": operations(implemented),
        "documentation": format!("_sort supports: {}", sorts.join(", ")),
    })
}
