//! The flags of DESIGN §5 (`meta.tag`, system JP_ehrshrs_indication): where each may be placed.
//! LTS (long-term storage) on conditions, allergies and infection results; UNINFORMED and
//! UNDELIVERED on conditions only; no other code of the system anywhere.

use serde_json::Value;

use crate::clins::systems::FLAG_SYSTEM;
use crate::fhir::{Issue, IssueType};
use crate::messages::ServiceMessage;
use crate::messages::service::FlagMisuse;

const SOURCE: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

/// Pushes an error for every flag placed where it is not allowed. `observation_class` is
/// `lab` or `infection` (ignored for other types); `at` locates the resource.
pub fn check_flags(
    res_type: &str,
    resource: &Value,
    observation_class: &str,
    at: &str,
    errors: &mut Vec<Issue>,
) {
    check_flags_with(res_type, resource, observation_class, at, false, errors);
}

/// As [`check_flags`]; with `lts_in_profile` LTS on an Observation is left to the profile in
/// force, whose invariant (R6031, JP-CLINS 1.10.0 on) reports it, so it is not reported twice.
pub fn check_flags_with(
    res_type: &str,
    resource: &Value,
    observation_class: &str,
    at: &str,
    lts_in_profile: bool,
    errors: &mut Vec<Issue>,
) {
    let tags = resource
        .get("meta")
        .and_then(|m| m.get("tag"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, tag) in tags.iter().enumerate() {
        if tag.get("system").and_then(Value::as_str) != Some(FLAG_SYSTEM) {
            continue;
        }
        let code = tag.get("code").and_then(Value::as_str).unwrap_or_default();
        let allowed = match code {
            "LTS" => match res_type {
                "Condition" | "AllergyIntolerance" => Ok(()),
                "Observation" if observation_class == "infection" || lts_in_profile => Ok(()),
                "Observation" => Err(FlagMisuse::LtsOnLab),
                _ => Err(FlagMisuse::LtsElsewhere),
            },
            "UNINFORMED" | "UNDELIVERED" => match res_type {
                "Condition" => Ok(()),
                _ => Err(FlagMisuse::ConditionOnly),
            },
            _ => Err(FlagMisuse::UnknownFlag),
        };
        if let Err(misuse) = allowed {
            let message = ServiceMessage::Flag {
                code: code.to_string(),
                res_type: res_type.to_string(),
                misuse,
            };
            errors.push(
                Issue::error(IssueType::CodeInvalid, message)
                    .at(format!("{at}.meta.tag[{i}]"))
                    .from_rule(SOURCE),
            );
        }
    }
}
