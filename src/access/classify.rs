//! What a resource is for access purposes, decided once when it is written and stored beside it:
//! its data category (DESIGN §9's two consent categories, the document kinds, consents, patients,
//! other patient data), the hiding flag of a condition, and — for a Consent — the grants it makes.

use chrono::FixedOffset;
use serde_json::Value;

use crate::clins::classes::observation_class;
use crate::clins::kinds::{BUNDLE_CLINS, Kind};
use crate::clins::systems::FLAG_SYSTEM;
use crate::search::date::parse_fhir_date;

/// Consent category codes (`Consent.category`), in the system [`CONSENT_CATEGORY_SYSTEM`].
pub const CONSENT_CATEGORY_SYSTEM: &str = "urn:kyoyu:CodeSystem:consent-category";
/// Conditions and infections.
pub const CONSENT_A: &str = "conditions-infections";
/// Allergies, labs and prescriptions.
pub const CONSENT_B: &str = "allergies-labs-prescriptions";

/// The `Consent.status` of a consent the patient put on hold (閲覧保留): it grants nothing, as
/// any status but `active`, and unlike a withdrawal (`inactive`) it stands, to be resumed by
/// setting `active` again. R4 has no paused state; `draft` ("not yet intended to be acted upon")
/// is the nearest.
pub const CONSENT_ON_HOLD: &str = "draft";

/// The stored `access_category` values.
pub mod category {
    /// Conditions and infection results: consent category A.
    pub const A: &str = "A";
    /// Allergies, lab results, prescriptions: consent category B.
    pub const B: &str = "B";
    pub const REFERRAL: &str = "referral";
    pub const DISCHARGE: &str = "discharge-summary";
    pub const CHECKUP: &str = "checkup";
    pub const PATIENT_SUMMARY: &str = "patient-summary";
    /// A 6-information report unit Bundle: its items are read one by one under consent.
    pub const UNIT: &str = "unit";
    pub const CONSENT: &str = "consent";
    pub const PATIENT: &str = "patient";
    /// Any other resource in a patient compartment (Encounter, DiagnosticReport, Immunization…):
    /// either consent category.
    pub const OTHER: &str = "other";
    /// A Bundle that is neither a document nor a report unit: its writer only.
    pub const PRIVATE: &str = "private";
}

/// The hiding flags of DESIGN §5, as stored in `hidden`.
pub mod hidden {
    pub const UNDELIVERED: &str = "UNDELIVERED";
    pub const UNINFORMED: &str = "UNINFORMED";
}

/// The access facts of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classified {
    /// `None`: no patient data: the type is outside every patient compartment (organizations,
    /// practitioners, medications…).
    pub category: Option<&'static str>,
    pub hidden: Option<&'static str>,
}

/// Classifies `resource` of `res_type`. Every type in the FHIR Patient compartment is patient
/// data, whether or not the resource names a patient the server knows.
pub fn classify(res_type: &str, resource: &Value) -> Classified {
    use category::*;
    let category = match res_type {
        "Condition" => Some(A),
        "Observation" => Some(if observation_class(resource) == "infection" {
            A
        } else {
            B
        }),
        "AllergyIntolerance" | "MedicationRequest" => Some(B),
        "Consent" => Some(CONSENT),
        "Patient" => Some(PATIENT),
        "Bundle" => Some(match Kind::of(resource) {
            Some(kind) => match kind {
                Kind::Referral => REFERRAL,
                Kind::DischargeSummary => DISCHARGE,
                Kind::Checkup => CHECKUP,
                Kind::PatientSummary => PATIENT_SUMMARY,
            },
            None if declares(resource, BUNDLE_CLINS) => UNIT,
            None => PRIVATE,
        }),
        _ if super::compartment::contains(res_type) => Some(OTHER),
        _ => None,
    };
    let hidden = if res_type == "Condition" {
        flag(resource)
    } else {
        None
    };
    Classified { category, hidden }
}

fn declares(resource: &Value, profile: &str) -> bool {
    resource
        .pointer("/meta/profile")
        .and_then(Value::as_array)
        .is_some_and(|ps| {
            ps.iter()
                .filter_map(Value::as_str)
                .any(|p| p.split('|').next() == Some(profile))
        })
}

/// UNDELIVERED wins over UNINFORMED: it hides from more readers.
fn flag(resource: &Value) -> Option<&'static str> {
    let tags = resource.pointer("/meta/tag").and_then(Value::as_array)?;
    let has = |code: &str| {
        tags.iter().any(|t| {
            t.get("system").and_then(Value::as_str) == Some(FLAG_SYSTEM)
                && t.get("code").and_then(Value::as_str) == Some(code)
        })
    };
    if has(hidden::UNDELIVERED) {
        Some(hidden::UNDELIVERED)
    } else if has(hidden::UNINFORMED) {
        Some(hidden::UNINFORMED)
    } else {
        None
    }
}

/// One category a Consent grants: to `institution`, for the patient, within the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGrant {
    pub category: &'static str,
    pub institution: String,
    pub active: bool,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// What is wrong with a Consent that is meant to grant access; `(message, expression)`.
pub type ConsentProblem = (String, String);

const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

/// The grants of a Consent. The institution granted is `Consent.organization[0].identifier`
/// (system insurance-medical-institution-no) or, without one, `writer` (the institution that
/// recorded it). An institution may only record consent for itself.
pub fn consent_grants(
    resource: &Value,
    writer: Option<&str>,
    zone: FixedOffset,
) -> Result<Vec<ConsentGrant>, ConsentProblem> {
    let named = resource
        .pointer("/organization/0/identifier")
        .filter(|i| i.get("system").and_then(Value::as_str) == Some(INSTITUTION_SYSTEM))
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str);
    let institution = match (named, writer) {
        (Some(n), Some(w)) if n != w => {
            return Err((
                format!(
                    "an institution records consent for itself: organization is {n}, the writer is {w}"
                ),
                "Consent.organization[0].identifier.value".into(),
            ));
        }
        (Some(n), _) => n.to_string(),
        (None, Some(w)) => w.to_string(),
        (None, None) => {
            return Err((
                format!(
                    "the institution granted is missing: give organization[0].identifier ({INSTITUTION_SYSTEM})"
                ),
                "Consent.organization".into(),
            ));
        }
    };
    let mut categories = Vec::new();
    for (i, c) in list(resource, "category").iter().enumerate() {
        for coding in list(c, "coding") {
            if coding.get("system").and_then(Value::as_str) != Some(CONSENT_CATEGORY_SYSTEM) {
                continue;
            }
            match coding.get("code").and_then(Value::as_str) {
                Some(CONSENT_A) => categories.push(category::A),
                Some(CONSENT_B) => categories.push(category::B),
                other => {
                    return Err((
                        format!(
                            "consent category '{}' is not {CONSENT_A} or {CONSENT_B}",
                            other.unwrap_or_default()
                        ),
                        format!("Consent.category[{i}]"),
                    ));
                }
            }
        }
    }
    categories.sort_unstable();
    categories.dedup();
    if categories.is_empty() {
        return Err((
            format!(
                "a consent names what it covers: category with system {CONSENT_CATEGORY_SYSTEM} and code {CONSENT_A} or {CONSENT_B}"
            ),
            "Consent.category".into(),
        ));
    }
    let bound = |name: &str, upper: bool| -> Result<Option<i64>, ConsentProblem> {
        match resource
            .pointer(&format!("/provision/period/{name}"))
            .and_then(Value::as_str)
        {
            None => Ok(None),
            Some(s) => parse_fhir_date(s, zone)
                .map(|r| Some(if upper { r.end } else { r.start }))
                .map_err(|e| (e, format!("Consent.provision.period.{name}"))),
        }
    };
    let start = bound("start", false)?;
    let end = bound("end", true)?;
    let active = resource.get("status").and_then(Value::as_str) == Some("active");
    Ok(categories
        .into_iter()
        .map(|category| ConsentGrant {
            category,
            institution: institution.clone(),
            active,
            start,
            // Stored exclusive: the last instant of the end is still covered.
            end: end.map(|e| e.saturating_add(1)),
        })
        .collect())
}

pub(super) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zone() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    #[test]
    fn categories_follow_the_consent_split() {
        let c = |t: &str, r: Value| classify(t, &r).category;
        assert_eq!(c("Condition", json!({})), Some("A"));
        assert_eq!(c("AllergyIntolerance", json!({})), Some("B"));
        assert_eq!(c("MedicationRequest", json!({})), Some("B"));
        assert_eq!(c("Observation", json!({})), Some("B"));
        assert_eq!(c("Encounter", json!({})), Some("other"));
        assert_eq!(c("DiagnosticReport", json!({})), Some("other"));
        assert_eq!(c("Organization", json!({})), None);
        assert_eq!(c("Medication", json!({})), None);
        assert_eq!(c("Bundle", json!({"type": "collection"})), Some("private"));
    }

    #[test]
    fn undelivered_outranks_uninformed() {
        let tag = |code: &str| json!({"system": FLAG_SYSTEM, "code": code});
        let r = json!({"meta": {"tag": [tag("UNINFORMED"), tag("UNDELIVERED")]}});
        assert_eq!(classify("Condition", &r).hidden, Some("UNDELIVERED"));
        let r = json!({"meta": {"tag": [tag("UNINFORMED")]}});
        assert_eq!(classify("Condition", &r).hidden, Some("UNINFORMED"));
    }

    fn consent(extra: Value) -> Value {
        let mut c = json!({
            "resourceType": "Consent", "status": "active",
            "category": [{"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": CONSENT_A}]}],
            "provision": {"period": {"start": "2026-11-01", "end": "2026-11-30"}}
        });
        if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        c
    }

    #[test]
    fn a_consent_grants_its_writer_for_its_period() {
        let g = consent_grants(&consent(json!({})), Some("1311234567"), zone()).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].institution, "1311234567");
        assert!(g[0].active);
        let start = parse_fhir_date("2026-11-01T00:00:00+09:00", zone())
            .unwrap()
            .start;
        let end = parse_fhir_date("2026-12-01T00:00:00+09:00", zone())
            .unwrap()
            .start;
        assert_eq!((g[0].start, g[0].end), (Some(start), Some(end)));
    }

    #[test]
    fn a_consent_for_another_institution_or_without_category_is_refused() {
        let other = consent(json!({"organization": [{"identifier": {
            "system": INSTITUTION_SYSTEM, "value": "2712345678"}}]}));
        let e = consent_grants(&other, Some("1311234567"), zone()).unwrap_err();
        assert_eq!(e.1, "Consent.organization[0].identifier.value");
        let none = consent(json!({"category": [{"text": "all"}]}));
        assert_eq!(
            consent_grants(&none, Some("1311234567"), zone())
                .unwrap_err()
                .1,
            "Consent.category"
        );
        let revoked = consent(json!({"status": "inactive"}));
        assert!(!consent_grants(&revoked, Some("1311234567"), zone()).unwrap()[0].active);
    }
}
