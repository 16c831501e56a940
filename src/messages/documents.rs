//! Messages of the CLINS document rules (DESIGN §6–§7): the structure every document shares,
//! the referral's addressee and sections, attached discharge summaries, receipt, cancellation,
//! and the writes that would bypass them.

use super::codes::{SyntaxFinding, render_all};
use super::{Language, say};
use crate::clins::kinds::Kind;

/// 文書の種類: the kind as the service names it in Japanese.
fn kind_ja(kind: Kind) -> &'static str {
    match kind {
        Kind::Referral => "診療情報提供書",
        Kind::DischargeSummary => "退院時サマリー",
        Kind::Checkup => "健康診断結果報告書",
        Kind::PatientSummary => "患者サマリー",
    }
}

/// The rules a validation without the store cannot check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchecked {
    NewerVersion,
    Submitter,
    OnePatient,
}

/// Why a referral's sections 200 (CDA) and 300 (structured) are wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdaOrStructured {
    Neither,
    Both,
    Repeated,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocumentMessage {
    NotDocumentType {
        kind: Kind,
    },
    CompositionNotFirst,
    IdentifierMissing {
        system: String,
    },
    VersionMissing {
        extension: String,
    },
    NotFinal {
        status: Option<String>,
    },
    WrongCompositionType {
        kind: Kind,
    },
    SubjectNotPatient,
    NoProfile,
    DischargeSummaryAlone,
    NotADocument,
    OtherPatientAttached {
        theirs: String,
        own: String,
    },
    NoAddresseeSection,
    NoAddresseeOrganization,
    SeveralAddressees,
    /// `why` comes from the institution number's syntax rule.
    AddresseeNumberInvalid {
        findings: Vec<SyntaxFinding>,
    },
    AddresseeNumberMissing {
        system: String,
    },
    SeveralAddresseeNumbers,
    CdaOrStructured(CdaOrStructured),
    CheckupAttachedTwice,
    DischargeSummaryNotReferenced {
        composition: String,
    },
    ExtractedOtherPatient {
        res_type: String,
        reference: String,
        patient: String,
    },
    NotChecked(Unchecked),
    PrescriptionWrite {
        how: String,
    },
    ReportUnitWrite {
        how: String,
    },
    DocumentWrite {
        how: String,
    },
    ReceiptNotParameters,
    ReceiptInstitutionMissing,
    ReceiptInstitutionSystem {
        system: String,
    },
    ReceiptInstitutionType,
    /// `why` comes from the institution number's syntax rule.
    ReceiptInstitutionInvalid {
        findings: Vec<SyntaxFinding>,
    },
    ReceiptNotReferral {
        id: String,
        kind: String,
    },
    ReceiptForOtherInstitution {
        mine: String,
        asked: String,
    },
    ReceiptNotAddressee {
        institution: String,
        id: String,
    },
    CancelByOtherSystem {
        system: String,
        asked: String,
    },
    CancelRaced,
    CancelSeveralSenders {
        identifier: String,
        count: usize,
    },
    OlderVersion {
        identifier: String,
        registered: String,
        posted: String,
    },
}

impl DocumentMessage {
    pub fn render(&self, lang: Language) -> String {
        use DocumentMessage as M;
        match self {
            M::NotDocumentType { kind } => say!(
                lang,
                format!("a {} is a Bundle of type document", kind.label()),
                format!("{}は type が document の Bundle です", kind_ja(*kind)),
            ),
            M::CompositionNotFirst => say!(
                lang,
                "the first entry of a document Bundle is its Composition",
                "文書 Bundle の最初の entry は Composition でなければなりません",
            ),
            M::IdentifierMissing { system } => say!(
                lang,
                format!(
                    "the document identifier (文書ID) is Composition.identifier with system {system} and a value: it names the document for replacement and cancellation"
                ),
                format!(
                    "文書ID は system が {system} で value のある Composition.identifier です。差し替えと取り消しは文書ID で文書を指定します"
                ),
            ),
            M::VersionMissing { extension } => say!(
                lang,
                format!(
                    "the document version is the extension {extension} (valueString) on the Composition"
                ),
                format!("文書の版は Composition の拡張 {extension}（valueString）に記述します"),
            ),
            M::NotFinal { status } => {
                let status = status.as_deref().unwrap_or("none");
                say!(
                    lang,
                    format!(
                        "a document is registered with Composition.status final, not {status}; to cancel a registered document, DELETE [base]/Bundle?document-identifier=<its identifier>"
                    ),
                    format!(
                        "文書は Composition.status が final のものを登録します（{status} は登録できません）。登録済みの文書を取り消すには DELETE [base]/Bundle?document-identifier=<文書ID> を使います"
                    ),
                )
            }
            M::WrongCompositionType { kind } => say!(
                lang,
                format!(
                    "the Composition.type of a {} is {}",
                    kind.label(),
                    kind.composition_type()
                ),
                format!(
                    "{}の Composition.type は {} です",
                    kind_ja(*kind),
                    kind.composition_type()
                ),
            ),
            M::SubjectNotPatient => say!(
                lang,
                "Composition.subject must reference the Patient entry of the document",
                "Composition.subject は文書内の Patient の entry を参照しなければなりません",
            ),
            M::NoProfile => say!(
                lang,
                "the Bundle declares no CLINS document profile",
                "Bundle に CLINS の文書プロファイルが宣言されていません",
            ),
            M::DischargeSummaryAlone => say!(
                lang,
                "a discharge summary (退院時サマリー) is accepted only attached to a referral: embed its document Bundle as an entry of the referral Bundle (slice bundleData) and reference that entry from the referral's section 210 (添付情報); it is then registered, received, replaced and cancelled with the referral",
                "退院時サマリーは診療情報提供書の添付としてだけ受け付けます。その文書 Bundle を診療情報提供書の Bundle の entry（スライス bundleData）に入れ、診療情報提供書のセクション 210（添付情報）からその entry を参照してください。登録、受領、差し替え、取り消しは診療情報提供書と一緒に行われます",
            ),
            M::NotADocument => say!(
                lang,
                "the Bundle is not a CLINS document",
                "この Bundle は CLINS の文書ではありません",
            ),
            M::OtherPatientAttached { theirs, own } => say!(
                lang,
                format!(
                    "the attached discharge summary is about another patient ({theirs}) than the referral ({own})"
                ),
                format!(
                    "添付の退院時サマリーの患者（{theirs}）が診療情報提供書の患者（{own}）と異なります"
                ),
            ),
            M::NoAddresseeSection => say!(
                lang,
                "a referral names its addressee in section 910 (紹介先情報), which is missing",
                "診療情報提供書には紹介先をセクション 910（紹介先情報）に記述しますが、このセクションがありません",
            ),
            M::NoAddresseeOrganization => say!(
                lang,
                "section 910 (紹介先情報) references no Organization entry: the receiving institution is required",
                "セクション 910（紹介先情報）が Organization の entry を参照していません。紹介先の医療機関は必須です",
            ),
            M::SeveralAddressees => say!(
                lang,
                "section 910 (紹介先情報) references more than one Organization: a referral has one addressee",
                "セクション 910（紹介先情報）が複数の Organization を参照しています。診療情報提供書の紹介先は一つです",
            ),
            M::AddresseeNumberInvalid { findings } => say!(
                lang,
                format!("the addressee's {}", render_all(findings, lang)),
                format!(
                    "紹介先の医療機関番号が正しくありません: {}",
                    render_all(findings, lang)
                ),
            ),
            M::AddresseeNumberMissing { system } => say!(
                lang,
                format!(
                    "the addressee Organization (section 910) has no institution number (identifier with system {system})"
                ),
                format!(
                    "紹介先の Organization（セクション 910）に医療機関番号（system が {system} の identifier）がありません"
                ),
            ),
            M::SeveralAddresseeNumbers => say!(
                lang,
                "the addressee Organization (section 910) has more than one institution number",
                "紹介先の Organization（セクション 910）に医療機関番号が複数あります",
            ),
            M::CdaOrStructured(problem) => {
                let (en, ja) = match problem {
                    CdaOrStructured::Neither => (
                        "has neither section 200 (CDA) nor section 300 (structured): it needs exactly one",
                        "セクション 200（CDA）もセクション 300（構造化情報）もありません。どちらか一つが必要です",
                    ),
                    CdaOrStructured::Both => (
                        "has both section 200 (CDA) and section 300 (structured): it takes exactly one",
                        "セクション 200（CDA）とセクション 300（構造化情報）の両方があります。どちらか一つだけにしてください",
                    ),
                    CdaOrStructured::Repeated => (
                        "repeats section 200 or 300: it takes exactly one of them, once",
                        "セクション 200 または 300 が繰り返されています。どちらか一つを一回だけ記述してください",
                    ),
                };
                say!(
                    lang,
                    format!("the referral {en}"),
                    format!("診療情報提供書に{ja}")
                )
            }
            M::CheckupAttachedTwice => say!(
                lang,
                "a checkup report attaches its results as section 01995 or as sections 01910/01920, not both",
                "健康診断結果報告書の結果はセクション 01995 かセクション 01910/01920 のどちらかで添付します。両方は使えません",
            ),
            M::DischargeSummaryNotReferenced { composition } => say!(
                lang,
                format!(
                    "a discharge summary travels as an attachment of the referral: section 210 (添付情報) of the referral's Composition ({composition}) must reference this entry's fullUrl"
                ),
                format!(
                    "退院時サマリーは診療情報提供書の添付として送ります。診療情報提供書の Composition（{composition}）のセクション 210（添付情報）がこの entry の fullUrl を参照しなければなりません"
                ),
            ),
            M::ExtractedOtherPatient {
                res_type,
                reference,
                patient,
            } => say!(
                lang,
                format!(
                    "the {res_type} is about {reference}, not the document's Patient ({patient})"
                ),
                format!(
                    "この {res_type} の対象は {reference} で、文書の Patient（{patient}）ではありません"
                ),
            ),
            M::NotChecked(rule) => {
                let (en, ja) = match rule {
                    Unchecked::NewerVersion => (
                        "a document identifier already registered at a newer version refuses this older one (409 Conflict)",
                        "同じ文書ID がより新しい版で登録済みなら、この古い版は拒否されます（409 Conflict）",
                    ),
                    Unchecked::Submitter => (
                        "the submitter must be the institution the Bundle-ID names (else 403 Forbidden)",
                        "送信者は報告単位ID（Bundle-ID）が示す医療機関でなければなりません（違えば 403 Forbidden）",
                    ),
                    Unchecked::OnePatient => (
                        "the patient's member identifier must name at most one of the submitter's own Patients (else 412 Precondition Failed)",
                        "患者の被保険者識別子に該当する送信者自身の Patient は一人までです（複数なら 412 Precondition Failed）",
                    ),
                };
                say!(
                    lang,
                    format!("not checked without the store: {en}"),
                    format!("データベースなしでは検査していません: {ja}"),
                )
            }
            M::PrescriptionWrite { how } => say!(
                lang,
                format!(
                    "MedicationRequest cannot be written directly ({how}): prescriptions enter the record only as extracted from referral and discharge-summary documents (POST [base]/Bundle)"
                ),
                format!(
                    "MedicationRequest は直接書き込めません（{how}）。処方は診療情報提供書と退院時サマリーの文書（POST [base]/Bundle）から取り込まれるものだけが記録されます"
                ),
            ),
            M::ReportUnitWrite { how } => say!(
                lang,
                format!(
                    "a 6-information report unit cannot be written with {how}: report units are registered and replaced through POST [base]/Bundle and deleted with DELETE [base]/Bundle?identifier=<Bundle-ID>"
                ),
                format!(
                    "6情報の報告単位は {how} では書き込めません。報告単位の登録と差し替えは POST [base]/Bundle で、削除は DELETE [base]/Bundle?identifier=<報告単位ID> で行います"
                ),
            ),
            M::DocumentWrite { how } => say!(
                lang,
                format!(
                    "a CLINS document cannot be written with {how}: documents are registered, replaced and cancelled by document identifier through POST [base]/Bundle and DELETE [base]/Bundle?document-identifier="
                ),
                format!(
                    "CLINS の文書は {how} では書き込めません。文書の登録と差し替えは POST [base]/Bundle で、取り消しは文書ID を指定して DELETE [base]/Bundle?document-identifier= で行います"
                ),
            ),
            M::ReceiptNotParameters => say!(
                lang,
                "$receipt takes a Parameters resource with the parameter institution",
                "$receipt にはパラメータ institution を持つ Parameters リソースを送ってください",
            ),
            M::ReceiptInstitutionMissing => say!(
                lang,
                "the parameter institution (the receiving institution's 10-digit number) is required",
                "パラメータ institution（受領する医療機関の 10 桁の医療機関番号）は必須です",
            ),
            M::ReceiptInstitutionSystem { system } => say!(
                lang,
                format!("institution is an identifier of system {system}"),
                format!("institution は system が {system} の識別子です"),
            ),
            M::ReceiptInstitutionType => say!(
                lang,
                "institution takes a valueIdentifier or a valueString",
                "institution には valueIdentifier か valueString を指定します",
            ),
            M::ReceiptInstitutionInvalid { findings } => say!(
                lang,
                render_all(findings, lang),
                format!(
                    "医療機関番号が正しくありません: {}",
                    render_all(findings, lang)
                ),
            ),
            M::ReceiptNotReferral { id, kind } => say!(
                lang,
                format!(
                    "Bundle/{id} is a {kind} document: only referrals have an addressee who acknowledges receipt"
                ),
                format!(
                    "Bundle/{id} は {kind} の文書です。受領を通知する紹介先があるのは診療情報提供書だけです"
                ),
            ),
            M::ReceiptForOtherInstitution { mine, asked } => say!(
                lang,
                format!(
                    "you acknowledge receipt for your own institution ({mine}), not for {asked}"
                ),
                format!(
                    "受領を通知できるのは自施設（{mine}）の分だけで、{asked} の分は通知できません"
                ),
            ),
            M::ReceiptNotAddressee { institution, id } => say!(
                lang,
                format!(
                    "institution {institution} is not the addressee of Bundle/{id}: only the addressee named in section 910 may acknowledge receipt"
                ),
                format!(
                    "医療機関 {institution} は Bundle/{id} の紹介先ではありません。受領を通知できるのはセクション 910 に記された紹介先だけです"
                ),
            ),
            M::CancelByOtherSystem { system, asked } => say!(
                lang,
                format!(
                    "a document is cancelled by its document identifier (system {system}), not by {asked}"
                ),
                format!(
                    "文書の取り消しは文書ID（system {system}）で指定します。{asked} では指定できません"
                ),
            ),
            M::CancelSeveralSenders { identifier, count } => say!(
                lang,
                format!(
                    "document identifier {identifier} names {count} documents of different senders; nothing was cancelled"
                ),
                format!(
                    "文書ID {identifier} に送信者の異なる文書が {count} 件該当するため、何も取り消しませんでした"
                ),
            ),
            M::CancelRaced => say!(
                lang,
                "the document changed while it was being cancelled; try again",
                "取り消しの処理中に文書が変更されました。もう一度実行してください",
            ),
            M::OlderVersion {
                identifier,
                registered,
                posted,
            } => say!(
                lang,
                format!(
                    "document {identifier} is registered at version {registered}; version {posted} is older and was not applied"
                ),
                format!(
                    "文書 {identifier} は版 {registered} で登録済みです。版 {posted} はそれより古いため反映しませんでした"
                ),
            ),
        }
    }
}
