//! Canonical URLs of the systems and value sets the master layouts produce.

pub(crate) const MASTER_B: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease";
pub(crate) const MASTER_Z: &str =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterZ-disease-modifier";
pub(crate) const MEDIS_MODIFIER: &str = "http://medis.or.jp/CodeSystem/master-disease-modExCode";
pub(crate) const JLAC10: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";

pub(crate) const YJ: &str = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
pub(crate) const YJ_VS: &str = "http://jpfhir.jp/fhir/core/ValueSet/JP_MedicationCodeYJ_VS";
pub(crate) const GENERAL_ORDER: &str =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode";
pub(crate) const GENERAL_ORDER_VS: &str =
    "http://jpfhir.jp/fhir/core/ValueSet/JP_MedicationCodeCommon_VS";
pub(crate) const HOT9: &str = "http://medis.or.jp/CodeSystem/master-HOT9";

pub(crate) const JFAGY_FOOD: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
pub(crate) const JFAGY_NON_FOOD: &str =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
pub(crate) const JFAGY_YCM: &str =
    "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
pub(crate) const JFAGY_GCM: &str =
    "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS";
pub(crate) const ALLERGY_VS: &str = "http://jpfhir.jp/fhir/core/ValueSet/JP_AllergyIntolerance_VS";

pub(crate) const CLINS_JLAC10_CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
pub(crate) const CLINS_JLAC10_INFECTION: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
pub(crate) const CLINS_JLAC11_CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_CoreLabo_CS";
pub(crate) const CLINS_JLAC11_INFECTION: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS";

/// Masters whose own lists here are partial (JLAC10 is combinatorial, YJ and HOT9 lists are
/// snapshots of products): a table that quotes some of their codes under their URL (the checkup
/// IG does so for JLAC10) cannot be the whole system either.
pub(crate) const PARTIAL_MASTERS: &[&str] = &[JLAC10, YJ, HOT9];
