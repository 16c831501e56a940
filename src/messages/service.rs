//! Messages of the CLINS service rules checked by hand (DESIGN §3–§5), with the service rule
//! number of each where JP-CLINS gives one.

use super::codes::{SyntaxFinding, render_all};
use super::{Language, say};

/// Why a flag may not sit where it was placed (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMisuse {
    LtsOnLab,
    LtsElsewhere,
    ConditionOnly,
    UnknownFlag,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceMessage {
    NotCollection,
    FirstEntryNotPatient,
    EntryWithoutResource,
    SecondPatient,
    MedicationRequestNotProcessed,
    Discarded {
        res_type: String,
    },
    OtherResourceType {
        tagged: String,
        res_type: String,
    },
    WrongSubject {
        expected: String,
        found: String,
    },
    SharedIdentifier {
        id: String,
        res_type: String,
    },
    NoMembers {
        res_type: String,
    },
    NotAUnit,
    BundleIdMissing {
        system: String,
    },
    /// `why` comes from the identifier's syntax rule.
    BundleIdInvalid {
        findings: Vec<SyntaxFinding>,
    },
    TagNotClinical {
        code: String,
    },
    TagMissing {
        system: String,
    },
    SeveralTags,
    NoMemberId,
    SeveralMemberIds,
    Flag {
        code: String,
        res_type: String,
        misuse: FlagMisuse,
    },
}

impl ServiceMessage {
    /// The service rule number the message reports, as JP-CLINS numbers it in its invariants.
    pub fn rule(&self) -> Option<&'static str> {
        use ServiceMessage as M;
        Some(match self {
            M::FirstEntryNotPatient => "R0211",
            M::TagMissing { .. } => "R02141",
            M::TagNotClinical { .. } => "R02142",
            M::NoMembers { .. } => "R02143",
            M::BundleIdMissing { .. } => "R02151",
            M::BundleIdInvalid { .. } => "R2152",
            M::NoMemberId | M::SeveralMemberIds => "R1012",
            M::Flag {
                misuse: FlagMisuse::LtsOnLab,
                ..
            } => "R6031",
            _ => return None,
        })
    }

    pub fn render(&self, lang: Language) -> String {
        use ServiceMessage as M;
        match self {
            M::NotCollection => say!(
                lang,
                "a 6-information Bundle is of type collection",
                "6情報の Bundle の type は collection です",
            ),
            M::FirstEntryNotPatient => say!(
                lang,
                "the first entry of a 6-information Bundle is the Patient",
                "6情報の Bundle の最初の entry は Patient でなければなりません",
            ),
            M::EntryWithoutResource => say!(
                lang,
                "the entry has no resource",
                "entry にリソースがありません"
            ),
            M::SecondPatient => say!(
                lang,
                "only the first entry may be a Patient: a unit concerns one patient",
                "Patient は最初の entry だけです。報告単位は一人の患者についてのものです",
            ),
            M::MedicationRequestNotProcessed => say!(
                lang,
                "MedicationRequest entries are accepted but not processed: prescriptions are taken from referral and discharge documents",
                "MedicationRequest の entry は受け付けますが処理しません。処方は診療情報提供書と退院時サマリーから取り込みます",
            ),
            M::Discarded { res_type } => say!(
                lang,
                format!("a {res_type} entry is not part of a 6-information unit and was discarded"),
                format!("{res_type} の entry は6情報の報告単位に含まれないため破棄しました"),
            ),
            M::OtherResourceType { tagged, res_type } => say!(
                lang,
                format!(
                    "the Bundle is tagged {tagged} but this entry is a {res_type}: a unit holds one resource type"
                ),
                format!(
                    "Bundle のタグは {tagged} ですが、この entry は {res_type} です。報告単位に入れるリソースタイプは一つです"
                ),
            ),
            M::WrongSubject { expected, found } => say!(
                lang,
                format!("the subject must be the Bundle's Patient ({expected}), not {found}"),
                format!(
                    "対象患者は {found} ではなく Bundle の Patient（{expected}）でなければなりません"
                ),
            ),
            M::SharedIdentifier { id, res_type } => say!(
                lang,
                format!(
                    "resource identifier {id} is used by more than one {res_type}; they are matched by their order on re-send"
                ),
                format!(
                    "リソース識別子 {id} を複数の {res_type} が使っています。再送時は順序で対応づけます"
                ),
            ),
            M::NoMembers { res_type } => say!(
                lang,
                format!("the unit holds no {res_type} entry"),
                format!("報告単位に {res_type} の entry がありません"),
            ),
            M::NotAUnit => say!(
                lang,
                "the Bundle is not a 6-information unit",
                "この Bundle は6情報の報告単位ではありません",
            ),
            M::BundleIdMissing { system } => say!(
                lang,
                format!(
                    "the Bundle-ID (報告単位ID) is Bundle.identifier with system {system} and a value"
                ),
                format!(
                    "報告単位ID（Bundle-ID）は system が {system} で value のある Bundle.identifier です"
                ),
            ),
            M::BundleIdInvalid { findings } => say!(
                lang,
                render_all(findings, lang),
                format!(
                    "報告単位ID（Bundle.identifier.value）の形式が正しくありません: {}",
                    render_all(findings, lang)
                ),
            ),
            M::TagNotClinical { code } => say!(
                lang,
                format!(
                    "resource type tag {code} is not one of AllergyIntolerance, Condition, Observation"
                ),
                format!(
                    "リソースタイプのタグ {code} は AllergyIntolerance、Condition、Observation のいずれでもありません"
                ),
            ),
            M::TagMissing { system } => say!(
                lang,
                format!("the Bundle names its resource type in meta.tag (system {system})"),
                format!(
                    "Bundle は収納するリソースタイプを meta.tag（system {system}）に記述します"
                ),
            ),
            M::SeveralTags => say!(
                lang,
                "the Bundle names more than one resource type: a unit holds one",
                "Bundle に複数のリソースタイプが記述されています。報告単位に入れるリソースタイプは一つです",
            ),
            M::NoMemberId => say!(
                lang,
                "the Patient has no insurance member identifier (JP_Insurance_memberID) or public-payer identifier (JP_PublicPayer_memberID)",
                "Patient に被保険者識別子（JP_Insurance_memberID）も公費受給者識別子（JP_PublicPayer_memberID）もありません",
            ),
            M::SeveralMemberIds => say!(
                lang,
                "the Patient has more than one member identifier: exactly one identifies the patient",
                "Patient に識別子が複数あります。患者を識別する識別子はちょうど一つです",
            ),
            M::Flag {
                code,
                res_type,
                misuse,
            } => {
                let (en, ja) = match misuse {
                    FlagMisuse::LtsOnLab => (
                        "LTS (long-term storage) is allowed on infection results, not on lab results",
                        "LTS（長期保存）は感染症の検査結果に付けられますが、検体検査結果には付けられません",
                    ),
                    FlagMisuse::LtsElsewhere => (
                        "LTS (long-term storage) is allowed on conditions, allergies and infection results only",
                        "LTS（長期保存）を付けられるのは病名、アレルギー、感染症の検査結果だけです",
                    ),
                    FlagMisuse::ConditionOnly => (
                        "UNINFORMED and UNDELIVERED are allowed on conditions only",
                        "UNINFORMED と UNDELIVERED を付けられるのは病名だけです",
                    ),
                    FlagMisuse::UnknownFlag => (
                        "not a flag of this system (LTS, UNINFORMED, UNDELIVERED)",
                        "このコード体系のフラグではありません（LTS、UNINFORMED、UNDELIVERED）",
                    ),
                };
                say!(
                    lang,
                    format!("flag {code} on a {res_type}: {en}"),
                    format!("{res_type} のフラグ {code}: {ja}"),
                )
            }
        }
    }
}
