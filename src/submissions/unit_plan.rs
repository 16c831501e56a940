//! The service rules of a 6-information Bundle (JP_Bundle_CLINS), checked whatever packages are
//! loaded, and the plan of the report unit it registers: who the patient is, which Bundle-ID,
//! which clinical resources, each with its retention class. Pure: no database.

use std::collections::HashMap;

use serde_json::Value;

use super::flags::check_flags_with;
use crate::clins::classes::{RetentionClass, observation_class, retention_class};
use crate::clins::systems::{
    BUNDLE_IDENTIFIER, INSURANCE_MEMBER_ID, PUBLIC_PAYER_ID, RESOURCE_IDENTIFIER, RESOURCE_TYPE_TAG,
};
use crate::fhir::{Issue, IssueType};
use crate::messages::ServiceMessage;
use crate::terminology::syntax::{Severity, check_identifier};

const CLINICAL: [&str; 3] = ["AllergyIntolerance", "Condition", "Observation"];
const SOURCE: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";

/// A clinical resource of the unit.
#[derive(Debug, Clone)]
pub struct PlannedMember {
    pub entry: usize,
    pub full_url: Option<String>,
    pub res_type: String,
    pub resource: Value,
    /// Its resourceInstance identifier: what makes a re-sent resource the same resource.
    pub member_identifier: Option<String>,
    pub retention_class: RetentionClass,
}

#[derive(Debug, Clone)]
pub struct UnitPlan {
    /// `system|value` of the patient's member identifier.
    pub patient_identifier: String,
    pub patient: Value,
    pub patient_full_url: Option<String>,
    /// The Bundle-ID (報告単位ID) value.
    pub bundle_identifier: String,
    /// The submitting institution (the Bundle-ID's first 10 digits).
    pub institution: String,
    pub resource_type: String,
    pub members: Vec<PlannedMember>,
    /// The entries of types a unit does not hold, discarded with a warning (DESIGN §4).
    pub discarded: Vec<usize>,
    pub warnings: Vec<Issue>,
}

impl UnitPlan {
    /// Identifies the unit: the patient and the Bundle-ID.
    pub fn unit_key(&self) -> String {
        format!(
            "{}\u{1f}{}",
            self.patient_identifier, self.bundle_identifier
        )
    }
}

fn err(code: IssueType, message: ServiceMessage, at: impl Into<String>) -> Issue {
    Issue::error(code, message).at(at).from_rule(SOURCE)
}

fn warn(code: IssueType, message: ServiceMessage, at: impl Into<String>) -> Issue {
    Issue::warning(code, message).at(at).from_rule(SOURCE)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Checks the rules and plans the unit; every broken rule is one error issue with its location.
pub fn plan(bundle: &Value) -> Result<UnitPlan, Vec<Issue>> {
    plan_with(bundle, false)
}

/// As [`plan`]; with `lts_in_profile` the LTS rule on Observations is left to the profile in
/// force (see [`check_flags_with`]).
pub fn plan_with(bundle: &Value, lts_in_profile: bool) -> Result<UnitPlan, Vec<Issue>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if text(bundle, "type") != Some("collection") {
        errors.push(err(
            IssueType::Value,
            ServiceMessage::NotCollection,
            "Bundle.type",
        ));
    }
    let bundle_identifier = bundle_id(bundle, &mut errors);
    let resource_type = tagged_type(bundle, &mut errors);
    let entries = list(bundle, "entry");
    let patient = entries.first().map(|e| &e["resource"]);
    let patient_identifier = match patient {
        Some(p) if text(p, "resourceType") == Some("Patient") => member_id(p, &mut errors),
        _ => {
            errors.push(err(
                IssueType::Structure,
                ServiceMessage::FirstEntryNotPatient,
                "Bundle.entry[0].resource",
            ));
            None
        }
    };
    let patient_full_url = entries
        .first()
        .and_then(|e| text(e, "fullUrl"))
        .map(str::to_string);
    let mut members = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate().skip(1) {
        let at = format!("Bundle.entry[{i}].resource");
        let resource = &entry["resource"];
        let Some(t) = text(resource, "resourceType") else {
            errors.push(err(
                IssueType::Required,
                ServiceMessage::EntryWithoutResource,
                at,
            ));
            continue;
        };
        if t == "Patient" {
            errors.push(err(IssueType::Structure, ServiceMessage::SecondPatient, at));
            continue;
        }
        if t == "MedicationRequest" {
            warnings.push(warn(
                IssueType::NotSupported,
                ServiceMessage::MedicationRequestNotProcessed,
                at,
            ));
            continue;
        }
        if is_stray(t) {
            warnings.push(warn(
                IssueType::NotSupported,
                ServiceMessage::Discarded {
                    res_type: t.to_string(),
                },
                at,
            ));
            continue;
        }
        if resource_type.is_some_and(|r| r != t) {
            errors.push(err(
                IssueType::Invalid,
                ServiceMessage::OtherResourceType {
                    tagged: resource_type.unwrap_or_default().to_string(),
                    res_type: t.to_string(),
                },
                at,
            ));
            continue;
        }
        if let (Some(reference), Some(full_url)) = (subject(resource), &patient_full_url)
            && reference != full_url
        {
            errors.push(err(
                IssueType::Invalid,
                ServiceMessage::WrongSubject {
                    expected: full_url.clone(),
                    found: reference.to_string(),
                },
                format!("{at}.{}", subject_element(t)),
            ));
        }
        let class = observation_class(resource);
        check_flags_with(t, resource, &class, &at, lts_in_profile, &mut errors);
        // The official examples reuse one identifier for several results; such repeats are
        // told apart by their order, so a re-send in the same order still matches.
        let member_identifier = resource_identifier(resource).map(|id| {
            let n = seen_ids.entry(format!("{t}|{id}")).or_insert(0usize);
            *n += 1;
            if *n == 1 {
                id
            } else {
                if *n == 2 {
                    warnings.push(warn(
                        IssueType::Duplicate,
                        ServiceMessage::SharedIdentifier {
                            id: id.clone(),
                            res_type: t.to_string(),
                        },
                        format!("{at}.identifier"),
                    ));
                }
                format!("{id}\u{1f}{n}")
            }
        });
        members.push(PlannedMember {
            entry: i,
            full_url: text(entry, "fullUrl").map(str::to_string),
            res_type: t.to_string(),
            resource: resource.clone(),
            member_identifier,
            retention_class: retention_class(t, resource),
        });
    }
    if members.is_empty() && errors.is_empty() {
        errors.push(err(
            IssueType::Required,
            ServiceMessage::NoMembers {
                res_type: resource_type.unwrap_or("clinical").to_string(),
            },
            "Bundle.entry",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(patient_identifier), Some(bundle_identifier), Some(resource_type), Some(patient)) = (
        patient_identifier,
        bundle_identifier,
        resource_type,
        patient,
    ) else {
        return Err(vec![err(
            IssueType::Invalid,
            ServiceMessage::NotAUnit,
            "Bundle",
        )]);
    };
    Ok(UnitPlan {
        patient_identifier,
        patient: patient.clone(),
        patient_full_url,
        institution: bundle_identifier.chars().take(10).collect(),
        bundle_identifier,
        resource_type: resource_type.to_string(),
        members,
        discarded: stray_entries(bundle),
        warnings,
    })
}

/// A type a 6-information unit neither holds nor refuses: discarded with a warning.
fn is_stray(res_type: &str) -> bool {
    res_type != "Patient" && res_type != "MedicationRequest" && !CLINICAL.contains(&res_type)
}

/// The positions of the entries after the first whose type the unit discards.
pub fn stray_entries(bundle: &Value) -> Vec<usize> {
    list(bundle, "entry")
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, e)| text(&e["resource"], "resourceType").is_some_and(is_stray))
        .map(|(i, _)| i)
        .collect()
}

/// The Bundle without the entries at `positions`.
pub fn without_entries(bundle: &Value, positions: &[usize]) -> Value {
    let mut kept = bundle.clone();
    if let Some(entries) = kept.get_mut("entry").and_then(Value::as_array_mut) {
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            !positions.contains(&(i - 1))
        });
    }
    kept
}

pub(crate) fn bundle_id(bundle: &Value, errors: &mut Vec<Issue>) -> Option<String> {
    let id = bundle.get("identifier");
    let system = id.and_then(|i| text(i, "system"));
    let value = id.and_then(|i| text(i, "value"));
    match (system, value) {
        (Some(BUNDLE_IDENTIFIER), Some(v)) => {
            let findings: Vec<_> = check_identifier(BUNDLE_IDENTIFIER, v)
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.message)
                .collect();
            if findings.is_empty() {
                return Some(v.to_string());
            }
            let message = ServiceMessage::BundleIdInvalid { findings };
            errors.push(err(IssueType::Value, message, "Bundle.identifier.value"));
        }
        _ => errors.push(err(
            IssueType::Required,
            ServiceMessage::BundleIdMissing {
                system: BUNDLE_IDENTIFIER.to_string(),
            },
            "Bundle.identifier",
        )),
    }
    None
}

fn tagged_type<'a>(bundle: &'a Value, errors: &mut Vec<Issue>) -> Option<&'a str> {
    let tags: Vec<(usize, &str)> = list(&bundle["meta"], "tag")
        .iter()
        .enumerate()
        .filter(|(_, t)| text(t, "system") == Some(RESOURCE_TYPE_TAG))
        .filter_map(|(i, t)| text(t, "code").map(|c| (i, c)))
        .collect();
    match tags.as_slice() {
        [(_, code)] if CLINICAL.contains(code) => Some(code),
        [(i, code)] => {
            errors.push(err(
                IssueType::CodeInvalid,
                ServiceMessage::TagNotClinical {
                    code: code.to_string(),
                },
                format!("Bundle.meta.tag[{i}]"),
            ));
            None
        }
        [] => {
            errors.push(err(
                IssueType::Required,
                ServiceMessage::TagMissing {
                    system: RESOURCE_TYPE_TAG.to_string(),
                },
                "Bundle.meta.tag",
            ));
            None
        }
        _ => {
            errors.push(err(
                IssueType::Invalid,
                ServiceMessage::SeveralTags,
                "Bundle.meta.tag",
            ));
            None
        }
    }
}

fn member_id(patient: &Value, errors: &mut Vec<Issue>) -> Option<String> {
    member_id_at(patient, "Bundle.entry[0].resource", errors)
}

/// The patient's member identifier (`system|value`): exactly one insurance or public-payer
/// identifier. `at` locates the Patient.
pub(crate) fn member_id_at(patient: &Value, at: &str, errors: &mut Vec<Issue>) -> Option<String> {
    let found: Vec<(String, String)> = list(patient, "identifier")
        .iter()
        .filter_map(|i| Some((text(i, "system")?, text(i, "value")?)))
        .filter(|(s, _)| *s == INSURANCE_MEMBER_ID || *s == PUBLIC_PAYER_ID)
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect();
    match found.as_slice() {
        [(system, value)] => Some(format!("{system}|{value}")),
        [] => {
            errors.push(err(
                IssueType::Required,
                ServiceMessage::NoMemberId,
                format!("{at}.identifier"),
            ));
            None
        }
        _ => {
            errors.push(err(
                IssueType::Invalid,
                ServiceMessage::SeveralMemberIds,
                format!("{at}.identifier"),
            ));
            None
        }
    }
}

pub(crate) fn subject_element(res_type: &str) -> &'static str {
    if res_type == "AllergyIntolerance" {
        "patient"
    } else {
        "subject"
    }
}

pub(crate) fn subject(resource: &Value) -> Option<&str> {
    let t = text(resource, "resourceType")?;
    resource
        .get(subject_element(t))
        .and_then(|s| text(s, "reference"))
}

pub(crate) fn resource_identifier(resource: &Value) -> Option<String> {
    list(resource, "identifier")
        .iter()
        .find(|i| text(i, "system") == Some(RESOURCE_IDENTIFIER))
        .and_then(|i| text(i, "value"))
        .map(str::to_string)
}
