//! The classes a clinical resource falls in by its content: an Observation is a lab result or
//! an infection result, and each resource has a retention rule (DESIGN §1, §8) unless its LTS
//! flag keeps it for good.

use serde_json::Value;

use super::systems::FLAG_SYSTEM;

/// The flag code of long-term storage (長期保存).
pub const LTS: &str = "LTS";

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// `infection` when the code uses a CLINS infection code system, else `lab`.
pub fn observation_class(resource: &Value) -> String {
    let infection = list(&resource["code"], "coding")
        .iter()
        .filter_map(|c| text(c, "system"))
        .any(|s| s.ends_with("_InfectionLabo_CS"));
    if infection { "infection" } else { "lab" }.to_string()
}

/// Whether the resource carries the LTS flag.
pub fn has_lts(resource: &Value) -> bool {
    list(&resource["meta"], "tag")
        .iter()
        .any(|t| text(t, "system") == Some(FLAG_SYSTEM) && text(t, "code") == Some(LTS))
}

/// The retention rule of a clinical resource (DESIGN §1, §8); `long-term` when LTS exempts it.
pub fn retention_class(res_type: &str, resource: &Value) -> &'static str {
    if has_lts(resource) {
        return "long-term";
    }
    match res_type {
        "Condition" => "condition",
        "AllergyIntolerance" => {
            let drug = list(resource, "category")
                .iter()
                .any(|c| c.as_str() == Some("medication"));
            if drug {
                "allergy-drug"
            } else {
                "allergy-other"
            }
        }
        "Observation" if observation_class(resource) == "infection" => "infection",
        "Observation" => "lab",
        "MedicationRequest" => "prescription",
        _ => "other",
    }
}
