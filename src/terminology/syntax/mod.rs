//! Syntax rules of the Japanese code systems and identifiers: the shape a code must have before
//! it is worth looking up (JLAC10/11 fields, the YJ check digit, J-FAGY meta-codes, MEDIS and
//! レセ電 disease codes, institution numbers, Bundle-IDs, insurance member ids), and a hint for
//! look-alike CJK characters in text. Pure functions, no I/O: membership in a master is the
//! terminology index's business once the master is imported.
//!
//! Every finding names the field that is wrong and what was expected against what was found.
//! Positions are 1-based characters (not bytes), so multi-byte input is reported as a person
//! counts it and can never split a character.

mod disease;
mod fields;
mod identifier;
mod jfagy;
mod jlac;
mod lookalike;
mod medication;
mod radicals;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_codes;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_examples;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_identifiers;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_masters;

use crate::messages::Language;
use crate::messages::codes::{Coded, SyntaxFinding, SyntaxProblem};
use crate::terminology::canonical_system;

pub use identifier::check_identifier;
pub use lookalike::lookalike_hint;
pub use medication::yj_check_digit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: SyntaxFinding,
}

impl Finding {
    /// The message in English, as logs and reports say it.
    pub fn text(&self) -> String {
        self.message.render(Language::English)
    }
}

/// What findings are about: a kind of code and its value, as a message shows it.
#[derive(Debug, Clone)]
pub(crate) struct What {
    kind: Coded,
    value: String,
}

impl What {
    pub(crate) fn new(kind: Coded, value: &str) -> Self {
        What {
            kind,
            value: fields::shown(value),
        }
    }

    pub(crate) fn error(&self, problem: SyntaxProblem) -> Finding {
        self.finding(Severity::Error, problem)
    }

    pub(crate) fn warning(&self, problem: SyntaxProblem) -> Finding {
        self.finding(Severity::Warning, problem)
    }

    fn finding(&self, severity: Severity, problem: SyntaxProblem) -> Finding {
        Finding {
            severity,
            message: SyntaxFinding {
                subject: self.kind,
                value: self.value.clone(),
                problem,
            },
        }
    }
}

/// Code system canonicals with a rule here.
pub(crate) mod systems {
    pub const JLAC10: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
    pub const CLINS_CORE_JLAC10: &str =
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
    pub const CLINS_INFECTION_JLAC10: &str =
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
    pub const CLINS_CORE_JLAC11: &str =
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_CoreLabo_CS";
    pub const CLINS_INFECTION_JLAC11: &str =
        "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS";
    pub const YJ: &str = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
    pub const GENERAL_NAME: &str =
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode";
    pub const JFAGY_FOOD: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
    pub const JFAGY_NON_FOOD: &str =
        "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
    pub const JFAGY_DRUG_YJ: &str =
        "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
    pub const JFAGY_DRUG_GENERAL: &str =
        "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS";
    pub const DISEASE_KEY_NUMBER: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
    pub const DISEASE_EXCHANGE: &str = "http://medis.or.jp/CodeSystem/master-disease-exCode";
    pub const MODIFIER_EXCHANGE: &str = "http://medis.or.jp/CodeSystem/master-disease-modExCode";
    pub const MODIFIER_KEY_NUMBER: &str =
        "http://medis.or.jp/CodeSystem/master-disease-modKeyNumber";
    pub const RECEIPT_DISEASE: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease";
    pub const RECEIPT_MODIFIER: &str =
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterZ-disease-modifier";
}

/// Identifier systems with a rule here.
pub(crate) mod id_systems {
    pub const INSTITUTION: &str =
        "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
    pub const BUNDLE: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
    pub const RESOURCE: &str = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
    pub const INSURANCE_MEMBER: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
    pub const PUBLIC_PAYER_MEMBER: &str =
        "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    Jlac10,
    /// The CLINS lab item systems mix item codes (`ALB`, `HbA1c-NGSP`) with the JLAC codes
    /// under them; only the JLAC-looking codes get a rule (see [`jlac::looks_like_jlac`]).
    ClinsItem {
        jlac11: bool,
    },
    Yj,
    GeneralName,
    Jfagy(jfagy::Kind),
    Fixed(&'static fields::Layout),
}

fn rule_for(system: &str) -> Option<Rule> {
    use systems::*;
    Some(match canonical_system(system) {
        JLAC10 => Rule::Jlac10,
        CLINS_CORE_JLAC10 | CLINS_INFECTION_JLAC10 => Rule::ClinsItem { jlac11: false },
        CLINS_CORE_JLAC11 | CLINS_INFECTION_JLAC11 => Rule::ClinsItem { jlac11: true },
        YJ => Rule::Yj,
        GENERAL_NAME => Rule::GeneralName,
        JFAGY_FOOD => Rule::Jfagy(jfagy::Kind::Food),
        JFAGY_NON_FOOD => Rule::Jfagy(jfagy::Kind::NonFood),
        JFAGY_DRUG_YJ => Rule::Jfagy(jfagy::Kind::DrugYj),
        JFAGY_DRUG_GENERAL => Rule::Jfagy(jfagy::Kind::DrugGeneral),
        DISEASE_KEY_NUMBER => Rule::Fixed(&disease::KEY_NUMBER),
        DISEASE_EXCHANGE => Rule::Fixed(&disease::EXCHANGE),
        MODIFIER_EXCHANGE => Rule::Fixed(&disease::MODIFIER_EXCHANGE),
        MODIFIER_KEY_NUMBER => Rule::Fixed(&disease::MODIFIER_KEY_NUMBER),
        RECEIPT_DISEASE => Rule::Fixed(&disease::RECEIPT_DISEASE),
        RECEIPT_MODIFIER => Rule::Fixed(&disease::RECEIPT_MODIFIER),
        _ => return None,
    })
}

/// Findings for `code` in `system` (a canonical URL or an old OID alias). Empty when the code
/// is well-formed or the system has no syntax rule here.
pub fn check_code(system: &str, code: &str) -> Vec<Finding> {
    match rule_for(system) {
        None => Vec::new(),
        Some(Rule::Jlac10) => jlac::check_jlac10(code),
        Some(Rule::ClinsItem { jlac11 }) => jlac::check_clins_item(code, jlac11),
        Some(Rule::Yj) => medication::check_yj(code),
        Some(Rule::GeneralName) => medication::check_general_name(code),
        Some(Rule::Jfagy(kind)) => jfagy::check(kind, code),
        Some(Rule::Fixed(layout)) => layout.check(code),
    }
}

/// Whether [`check_code`] knows a rule for this system. For the CLINS lab item systems the rule
/// covers their JLAC codes only; item codes (`ALB`) are left to membership.
pub fn has_syntax(system: &str) -> bool {
    rule_for(system).is_some()
}
