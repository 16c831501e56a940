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

/// The retention rule a stored resource falls under (DESIGN §1, §8), kept with it as text in
/// `resources.retention_class`: `as_str` renders exactly the texts stored so far, the tests pin
/// each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionClass {
    Condition,
    Infection,
    AllergyDrug,
    AllergyOther,
    /// A lab result: kept for its window, and its latest 3 of an item past it.
    Lab,
    /// Kept for its window, and its latest 3 occasions past it.
    Prescription,
    Other,
    /// Exempt by the LTS flag (長期保存).
    LongTerm,
    /// The Bundle of a report unit: it goes with its last member.
    ReportUnit,
    /// The Bundles of documents, one class per kind (see `clins::kinds::Kind::name`).
    Referral,
    DischargeSummary,
    Checkup,
    PatientSummary,
}

impl RetentionClass {
    /// Every class, in declaration order.
    pub const ALL: &'static [RetentionClass] = &[
        RetentionClass::Condition,
        RetentionClass::Infection,
        RetentionClass::AllergyDrug,
        RetentionClass::AllergyOther,
        RetentionClass::Lab,
        RetentionClass::Prescription,
        RetentionClass::Other,
        RetentionClass::LongTerm,
        RetentionClass::ReportUnit,
        RetentionClass::Referral,
        RetentionClass::DischargeSummary,
        RetentionClass::Checkup,
        RetentionClass::PatientSummary,
    ];

    /// The text stored with the resource and reported per rule by the purger.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetentionClass::Condition => "condition",
            RetentionClass::Infection => "infection",
            RetentionClass::AllergyDrug => "allergy-drug",
            RetentionClass::AllergyOther => "allergy-other",
            RetentionClass::Lab => "lab",
            RetentionClass::Prescription => "prescription",
            RetentionClass::Other => "other",
            RetentionClass::LongTerm => "long-term",
            RetentionClass::ReportUnit => "report-unit",
            RetentionClass::Referral => "referral",
            RetentionClass::DischargeSummary => "discharge-summary",
            RetentionClass::Checkup => "checkup",
            RetentionClass::PatientSummary => "patient-summary",
        }
    }

    /// The class a stored text names, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for RetentionClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The retention rule of a clinical resource (DESIGN §1, §8); `long-term` when LTS exempts it.
pub fn retention_class(res_type: &str, resource: &Value) -> RetentionClass {
    if has_lts(resource) {
        return RetentionClass::LongTerm;
    }
    match res_type {
        "Condition" => RetentionClass::Condition,
        "AllergyIntolerance" => {
            let drug = list(resource, "category")
                .iter()
                .any(|c| c.as_str() == Some("medication"));
            if drug {
                RetentionClass::AllergyDrug
            } else {
                RetentionClass::AllergyOther
            }
        }
        "Observation" if observation_class(resource) == "infection" => RetentionClass::Infection,
        "Observation" => RetentionClass::Lab,
        "MedicationRequest" => RetentionClass::Prescription,
        _ => RetentionClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_retention_class_renders_and_parses_its_stored_text() {
        use RetentionClass::*;
        let stored = [
            (Condition, "condition"),
            (Infection, "infection"),
            (AllergyDrug, "allergy-drug"),
            (AllergyOther, "allergy-other"),
            (Lab, "lab"),
            (Prescription, "prescription"),
            (Other, "other"),
            (LongTerm, "long-term"),
            (ReportUnit, "report-unit"),
            (Referral, "referral"),
            (DischargeSummary, "discharge-summary"),
            (Checkup, "checkup"),
            (PatientSummary, "patient-summary"),
        ];
        assert_eq!(stored.len(), RetentionClass::ALL.len());
        for (class, text) in stored {
            assert_eq!(class.as_str(), text);
            assert_eq!(RetentionClass::parse(text), Some(class), "{text}");
        }
        assert_eq!(RetentionClass::parse("unclassified"), None);
        assert_eq!(RetentionClass::parse("LAB"), None);
    }

    #[test]
    fn each_document_kind_names_its_bundles_retention_class() {
        use crate::clins::kinds::Kind;
        for kind in [
            Kind::Referral,
            Kind::DischargeSummary,
            Kind::Checkup,
            Kind::PatientSummary,
        ] {
            assert_eq!(kind.retention_class().as_str(), kind.name());
        }
    }
}
