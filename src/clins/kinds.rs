//! What a CLINS Bundle is, told by the profile its `meta.profile` declares (any `|version`): a
//! 6-information report unit (JP_Bundle_CLINS) or one of the documents (3文書): 診療情報提供書
//! referral, 退院時サマリー discharge summary, 健康診断結果報告書 checkup report, 患者サマリー
//! patient summary.

use serde_json::Value;

/// The profile of a 6-information Bundle.
pub const BUNDLE_CLINS: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";

/// The kinds of CLINS document, told apart by the Bundle's `meta.profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Referral,
    DischargeSummary,
    Checkup,
    PatientSummary,
}

/// Bundle profiles (any `|version`). The checkup IG's own canonical is accepted besides the
/// CLINS one: its published examples declare it.
const PROFILES: &[(&str, Kind)] = &[
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral",
        Kind::Referral,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary",
        Kind::DischargeSummary,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral",
        Kind::Checkup,
    ),
    (
        "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Bundle_eCheckupGeneral",
        Kind::Checkup,
    ),
    (
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_ePCS",
        Kind::PatientSummary,
    ),
];

/// The profiles a document Bundle may declare, for the CapabilityStatement.
pub fn supported_profiles() -> impl Iterator<Item = &'static str> {
    PROFILES.iter().map(|(p, _)| *p)
}

impl Kind {
    /// The kind a Bundle declares in `meta.profile`, if it is a CLINS document.
    pub fn of(resource: &Value) -> Option<Kind> {
        if resource.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return None;
        }
        resource
            .get("meta")
            .and_then(|m| m.get("profile"))
            .and_then(Value::as_array)?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|p| p.split('|').next())
            .find_map(|p| PROFILES.iter().find(|(url, _)| *url == p).map(|(_, k)| *k))
    }

    /// The name stored with the document, also the text of its Bundle's retention class.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Referral => "referral",
            Kind::DischargeSummary => "discharge-summary",
            Kind::Checkup => "checkup",
            Kind::PatientSummary => "patient-summary",
        }
    }

    /// The retention class of its Bundle: the class named as the kind.
    pub fn retention_class(self) -> super::classes::RetentionClass {
        use super::classes::RetentionClass;
        match self {
            Kind::Referral => RetentionClass::Referral,
            Kind::DischargeSummary => RetentionClass::DischargeSummary,
            Kind::Checkup => RetentionClass::Checkup,
            Kind::PatientSummary => RetentionClass::PatientSummary,
        }
    }

    /// The CLINS canonical of its Bundle profile.
    pub fn profile(self) -> &'static str {
        PROFILES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(url, _)| *url)
    }

    /// How messages call it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Referral => "referral (診療情報提供書)",
            Kind::DischargeSummary => "discharge summary (退院時サマリー)",
            Kind::Checkup => "checkup report (健康診断結果報告書)",
            Kind::PatientSummary => "patient summary (患者サマリー)",
        }
    }

    /// The LOINC code its Composition.type carries.
    pub fn composition_type(self) -> &'static str {
        match self {
            Kind::Referral => "57133-1",
            Kind::DischargeSummary => "18842-5",
            Kind::Checkup => "53576-5",
            Kind::PatientSummary => "56447-6",
        }
    }

    /// Whether its clinical entries are extracted into the patient's record (DESIGN §1).
    pub fn extracts(self) -> bool {
        matches!(self, Kind::Referral | Kind::DischargeSummary)
    }
}

/// A Bundle that declares one of the document profiles.
pub fn is_document(resource: &Value) -> bool {
    Kind::of(resource).is_some()
}

/// A Bundle that declares the 6-information profile (any `|version`).
pub fn is_report_unit(resource: &Value) -> bool {
    resource.get("resourceType").and_then(Value::as_str) == Some("Bundle")
        && resource
            .get("meta")
            .and_then(|m| m.get("profile"))
            .and_then(Value::as_array)
            .is_some_and(|profiles| {
                profiles
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|p| p.split('|').next() == Some(BUNDLE_CLINS))
            })
}
