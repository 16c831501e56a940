//! Whose patient data a resource is (DESIGN §9). A Patient belongs to the institution that wrote
//! it; the person behind it is named by the member identifier (DESIGN §4), kept as a
//! [`PersonKey`] on every patient-data row. Consented and emergency reads across institutions and
//! a patient's own view match by person, never by one shared Patient id, so no institution's
//! Patient stands in for another's.
//!
//! A resource's patient comes from the references at its patient-compartment paths
//! ([`super::compartment`]): a literal `Patient/id`, a member identifier, or a contained Patient
//! that carries one. [`PatientLink`] is what the resource says; the write resolves it against the
//! store (`interactions::write`).

use serde_json::Value;

use super::classify::list;
use crate::clins::systems::{INSURANCE_MEMBER_ID, PUBLIC_PAYER_ID};
use crate::search::extract::parse_reference;

/// A person, by member identifier: `system|value`, the value trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonKey(String);

impl PersonKey {
    /// The key of a member identifier; `None` for any other identifier system or an empty value.
    pub fn of_member_identifier(system: &str, value: &str) -> Option<PersonKey> {
        let value = value.trim();
        ((system == INSURANCE_MEMBER_ID || system == PUBLIC_PAYER_ID) && !value.is_empty())
            .then(|| PersonKey(format!("{system}|{value}")))
    }

    /// The key of a `system|value` as a patient principal or a submission plan names it.
    pub fn parse(identifier: &str) -> PersonKey {
        match identifier.split_once('|') {
            Some((system, value)) => PersonKey(format!("{system}|{}", value.trim())),
            None => PersonKey(identifier.trim().to_string()),
        }
    }

    /// The person a Patient's (first) member identifier names.
    pub fn of_patient(patient: &Value) -> Option<PersonKey> {
        list(patient, "identifier").iter().find_map(member_key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a resource says about its patient, before the store is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientLink {
    /// Outside every patient compartment: shared data.
    Shared,
    /// A Patient: its own patient, the person its member identifier names (if any).
    Itself(Option<PersonKey>),
    /// A literal reference to `Patient/id`; the person is that Patient's.
    Patient(String),
    /// A member identifier, or a contained Patient carrying one.
    Person(PersonKey),
    /// Both known already (a submission writes for the Patient it just registered).
    Known {
        patient: String,
        person: Option<PersonKey>,
    },
    /// In a compartment, but no patient this server can resolve: patient data of an unknown
    /// patient, which only its writer reads.
    Unknown,
}

impl PatientLink {
    /// The link of `resource` of `res_type`: the first reference at its compartment paths that
    /// names a Patient (a display-only reference names nobody).
    pub fn of(res_type: &str, resource: &Value) -> PatientLink {
        if !super::compartment::contains(res_type) {
            return PatientLink::Shared;
        }
        if res_type == "Patient" {
            return PatientLink::Itself(PersonKey::of_patient(resource));
        }
        super::compartment::references(res_type, resource)
            .into_iter()
            .find_map(|r| patient_of_reference(resource, r))
            .unwrap_or(PatientLink::Unknown)
    }
}

fn patient_of_reference(resource: &Value, reference: &Value) -> Option<PatientLink> {
    let declared = reference.get("type").and_then(Value::as_str);
    if declared.is_some_and(|t| t != "Patient") {
        return None;
    }
    if let Some(literal) = reference.get("reference").and_then(Value::as_str) {
        if let Some(local) = literal.strip_prefix('#') {
            return contained_patient(resource, local);
        }
        return match parse_reference(literal) {
            Some(("Patient", id)) => Some(PatientLink::Patient(id.to_string())),
            Some(_) => None,
            // An unresolved urn:uuid or a malformed Patient reference still names a patient,
            // just not one this server knows.
            None if declared == Some("Patient") || literal.contains("Patient") => {
                Some(PatientLink::Unknown)
            }
            None => None,
        };
    }
    reference
        .get("identifier")
        .and_then(member_key)
        .map(PatientLink::Person)
}

fn contained_patient(resource: &Value, local: &str) -> Option<PatientLink> {
    let patient = list(resource, "contained").iter().find(|c| {
        c.get("id").and_then(Value::as_str) == Some(local)
            && c.get("resourceType").and_then(Value::as_str) == Some("Patient")
    })?;
    Some(match PersonKey::of_patient(patient) {
        Some(person) => PatientLink::Person(person),
        None => PatientLink::Unknown,
    })
}

fn member_key(identifier: &Value) -> Option<PersonKey> {
    PersonKey::of_member_identifier(
        identifier.get("system").and_then(Value::as_str)?,
        identifier.get("value").and_then(Value::as_str)?,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const MEMBER: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";

    fn member(value: &str) -> Value {
        json!({"system": MEMBER, "value": value})
    }

    fn key(value: &str) -> PersonKey {
        PersonKey::of_member_identifier(MEMBER, value).unwrap()
    }

    #[test]
    fn any_compartment_type_names_its_patient_by_literal_reference() {
        let report =
            json!({"resourceType": "DiagnosticReport", "subject": {"reference": "Patient/p1"}});
        assert_eq!(
            PatientLink::of("DiagnosticReport", &report),
            PatientLink::Patient("p1".into())
        );
        let immunization = json!({"patient": {"reference": "http://x.example/fhir/Patient/p2"}});
        assert_eq!(
            PatientLink::of("Immunization", &immunization),
            PatientLink::Patient("p2".into())
        );
    }

    #[test]
    fn a_member_identifier_or_a_contained_patient_names_the_person() {
        let by_identifier =
            json!({"subject": {"type": "Patient", "identifier": member(" 00012345::187: ")}});
        assert_eq!(
            PatientLink::of("ServiceRequest", &by_identifier),
            PatientLink::Person(key("00012345::187:"))
        );
        let contained = json!({
            "contained": [{"resourceType": "Patient", "id": "p", "identifier": [member("00012345::9:")]}],
            "patient": {"reference": "#p"}});
        assert_eq!(
            PatientLink::of("FamilyMemberHistory", &contained),
            PatientLink::Person(key("00012345::9:"))
        );
    }

    #[test]
    fn unresolvable_patients_are_unknown_and_shared_types_are_shared() {
        let display_only = json!({"subject": {"display": "山田 太郎"}});
        assert_eq!(
            PatientLink::of("MedicationStatement", &display_only),
            PatientLink::Unknown
        );
        let urn = json!({"subject": {"reference": "urn:uuid:1", "type": "Patient"}});
        assert_eq!(PatientLink::of("CarePlan", &urn), PatientLink::Unknown);
        let other_id_system = json!({"patient": {"identifier": {"system": "urn:x", "value": "1"}}});
        assert_eq!(
            PatientLink::of("Immunization", &other_id_system),
            PatientLink::Unknown
        );
        let practitioner_only = json!({"performer": [{"reference": "Practitioner/d"}]});
        assert_eq!(
            PatientLink::of("Observation", &practitioner_only),
            PatientLink::Unknown
        );
        assert_eq!(
            PatientLink::of("Organization", &json!({"name": "x"})),
            PatientLink::Shared
        );
    }

    #[test]
    fn a_patient_is_its_own_patient_by_member_identifier() {
        let p = json!({"identifier": [{"system": "urn:local", "value": "1"}, member("00012345::187:")]});
        assert_eq!(
            PatientLink::of("Patient", &p),
            PatientLink::Itself(Some(key("00012345::187:")))
        );
        assert_eq!(
            PatientLink::of("Patient", &json!({})),
            PatientLink::Itself(None)
        );
        assert_eq!(
            PersonKey::parse(&format!("{MEMBER}|00012345::187: ")),
            key("00012345::187:")
        );
    }
}
