//! The URLs of the CLINS and JP-Core identifier and code systems the server reads, and the
//! names it gives what it derives from them.

/// The Bundle-ID (報告単位ID) of a 6-information Bundle.
pub const BUNDLE_IDENTIFIER: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
/// The tag that names the one resource type a 6-information Bundle carries.
pub const RESOURCE_TYPE_TAG: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
/// The patient's member identifier under a health insurance (被保険者番号).
pub const INSURANCE_MEMBER_ID: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
/// The patient's member identifier under a public payer (公費負担医療の受給者番号).
pub const PUBLIC_PAYER_ID: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";
/// The identifier that makes a re-sent resource the same resource.
pub const RESOURCE_IDENTIFIER: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
/// The 10-digit institution number (医療機関コード).
pub const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
/// The flags of DESIGN §5 (`meta.tag`): LTS, UNINFORMED, UNDELIVERED.
pub const FLAG_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
/// The identifier system of an insurer number (JP-Core), as on the checkup report's insurer
/// Organization (JP_OrganizationInsurer_eCheckupGeneral).
pub const INSURER_SYSTEM: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber";
/// The computed Bundle search parameter that holds the insurer numbers of a checkup report.
pub const INSURER_PARAM: &str = "insurer";
