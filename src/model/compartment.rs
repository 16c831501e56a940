//! Builds the patient compartment table of the access rules (`access::compartment`) from the
//! core package: for each resource type the CompartmentDefinition `patient` lists with
//! parameters, the element paths of those parameters' SearchParameter expressions. `kyoyu
//! package generate-base` writes it beside the base model; the output is deterministic (types by
//! name, paths in the definition's order).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::packages::Package;

/// The table file, relative to the output folder of `generate-base`.
pub const TABLE_FILE: &str = "r4-patient-compartment.json";

/// The canonical URL of the R4 Patient CompartmentDefinition the table is built from.
pub const DEFINITION: &str = "http://hl7.org/fhir/CompartmentDefinition/patient";

const COMPARTMENT_URL: &str = DEFINITION;
/// The one FHIRPath filter the R4 expressions of the compartment's parameters use; only
/// references to a Patient are followed anyway.
const PATIENT_FILTER: &str = ".where(resolve() is Patient)";

#[derive(Debug, thiserror::Error)]
pub enum CompartmentError {
    #[error("{package}: has no CompartmentDefinition {COMPARTMENT_URL}")]
    Missing { package: String },
    #[error("{res_type}: no SearchParameter '{param}' has it as a base")]
    NoParameter { res_type: String, param: String },
    #[error("{res_type}.{param}: expression part '{part}' is not a plain element path")]
    Expression {
        res_type: String,
        param: String,
        part: String,
    },
}

/// Type → element paths (below the type, dot-separated), for every type in the compartment.
pub fn build_table(package: &Package) -> Result<BTreeMap<String, Vec<String>>, CompartmentError> {
    let definition = package
        .resources
        .iter()
        .find(|r| {
            r.resource_type == "CompartmentDefinition" && r.url.as_deref() == Some(COMPARTMENT_URL)
        })
        .ok_or_else(|| CompartmentError::Missing {
            package: package.id.to_string(),
        })?;
    let parameters: Vec<&Value> = package
        .resources
        .iter()
        .filter(|r| r.resource_type == "SearchParameter")
        .map(|r| &**r.json())
        .collect();
    let mut table = BTreeMap::new();
    let entries = definition
        .json()
        .get("resource")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in entries {
        let (Some(res_type), Some(params)) = (
            entry.get("code").and_then(Value::as_str),
            entry.get("param").and_then(Value::as_array),
        ) else {
            continue;
        };
        let mut paths: Vec<String> = Vec::new();
        for param in params.iter().filter_map(Value::as_str) {
            for path in parameter_paths(&parameters, res_type, param)? {
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
        }
        table.insert(res_type.to_string(), paths);
    }
    Ok(table)
}

/// The paths of `param` on `res_type`: the parts of its expression that start at the type.
fn parameter_paths(
    parameters: &[&Value],
    res_type: &str,
    param: &str,
) -> Result<Vec<String>, CompartmentError> {
    let definition = parameters
        .iter()
        .find(|sp| {
            sp.get("code").and_then(Value::as_str) == Some(param)
                && sp
                    .get("base")
                    .and_then(Value::as_array)
                    .is_some_and(|b| b.iter().any(|t| t.as_str() == Some(res_type)))
        })
        .ok_or_else(|| CompartmentError::NoParameter {
            res_type: res_type.into(),
            param: param.into(),
        })?;
    let expression = definition
        .get("expression")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let prefix = format!("{res_type}.");
    let mut paths = Vec::new();
    for part in expression.split('|').map(str::trim) {
        let Some(path) = part.strip_prefix(&prefix) else {
            continue;
        };
        let path = path.strip_suffix(PATIENT_FILTER).unwrap_or(path);
        let plain = path
            .split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
        if !plain {
            return Err(CompartmentError::Expression {
                res_type: res_type.into(),
                param: param.into(),
                part: part.into(),
            });
        }
        paths.push(path.to_string());
    }
    Ok(paths)
}

/// The table as committed: one line per type, so a diff shows what changed.
pub fn render_table(package: &str, table: &BTreeMap<String, Vec<String>>) -> String {
    let quoted = |s: &str| Value::String(s.to_string()).to_string();
    let mut out = format!(
        "{{\n  \"package\": {},\n  \"compartment\": {},\n  \"types\": {{\n",
        quoted(package),
        quoted(COMPARTMENT_URL)
    );
    let lines: Vec<String> = table
        .iter()
        .map(|(t, paths)| {
            let paths: Vec<String> = paths.iter().map(|p| quoted(p)).collect();
            format!("    {}: [{}]", quoted(t), paths.join(", "))
        })
        .collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  }\n}\n");
    out
}
