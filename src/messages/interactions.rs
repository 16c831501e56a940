//! Messages of the REST interactions: who may do what (403), what the stored state refuses
//! (409, 412), conditional writes, the entries of transactions and batches, and the notes an
//! answer carries (search parameters ignored).

use super::{Language, say};

#[derive(Debug, Clone, PartialEq)]
pub enum InteractionMessage {
    // 403: access.
    RoleMayNotWrite {
        role: String,
    },
    WrittenByAnother {
        reference: String,
    },
    SubmitsForOther {
        named: String,
        mine: String,
    },
    HistoryForInstitutions,
    DocumentStatusForPatients,
    ConsentOfOwnRecord {
        res_type: String,
    },
    AuditTrailReaders,
    AuditTrailOwnRecord,
    EmergencyNotPermitted,
    EmergencyUnknownMethod {
        methods: String,
    },
    EmergencyNoReason,
    EmergencyNoMethod,
    // 409 and 412: the stored state.
    IfMatchOtherVersion {
        expected: String,
        reference: String,
        current: i64,
        deleted: bool,
    },
    IfMatchNoResource {
        expected: String,
        reference: String,
    },
    IfNoneExistSeveral {
        count: usize,
    },
    DeleteCriteriaSeveral {
        res_type: String,
    },
    SeveralPatientsWithMemberId {
        count: usize,
    },
    BundleIdSeveralUnits {
        value: String,
        count: usize,
    },
    DeleteUnitByOtherSystem {
        system: String,
        asked: String,
    },
    /// A planning step found an entry twice or not at all: a defect of the server, not the
    /// request, said as a conflict so the client may retry.
    EntryPlanning {
        twice: bool,
    },
    // Writes.
    TypeMismatch {
        found: String,
        url: String,
    },
    NoResourceType,
    IdMismatch {
        found: String,
        url: String,
    },
    UpdateWithoutId,
    InvalidId {
        id: String,
    },
    EmptyCriteria,
    // Transactions and batches.
    NotABundle,
    BundleTypeNotProcessed {
        found: String,
    },
    BundleTypeMissing,
    EntryNotArray,
    RequestMissing,
    RequestUrlMissing,
    EntryWithoutResource {
        method: &'static str,
    },
    NotReadInBundles {
        url: String,
        res_type: String,
    },
    OnlyReadInBundles {
        url: String,
    },
    NotSupportedInEntry {
        method: String,
        url: String,
    },
    UnknownMethod {
        method: String,
    },
    NotAnETag {
        tag: String,
    },
    FullUrlTwice {
        url: String,
        first: usize,
    },
    IfNoneExistChangedElsewhere {
        reference: String,
    },
    ChangedTwice {
        identity: String,
    },
    IfNoneExistMatchesSeveral,
    // References checked on write.
    ReferenceNotFound {
        reference: String,
    },
    ReferenceNotInBundle {
        reference: String,
    },
    ConditionalReferenceOutsideBundle {
        reference: String,
    },
    ConditionalReferenceNone {
        reference: String,
    },
    ConditionalReferenceSeveral {
        reference: String,
    },
    // $validate.
    DeleteAlwaysAllowed,
    ValidateNeedsResource,
    ValidateTypeMismatch {
        body: String,
        url: String,
    },
    ValidateUpdateId {
        id: String,
    },
    // Submissions written or removed through the REST API.
    UnitDeleteParameter {
        parameter: String,
    },
    UnitDeleted {
        resources: usize,
    },
    DocumentCancelled {
        resources: usize,
    },
    UnitWrittenDirectly {
        id: String,
        how: String,
    },
    DocumentWrittenDirectly {
        id: String,
    },
    // Readiness.
    SchemaNotCurrent {
        detail: String,
    },
    DatabaseUnreachable,
    DatabaseCheckFailed,
    DatabaseSlow {
        seconds: u64,
    },
    // Routing and negotiation.
    NoEndpoint {
        path: String,
    },
    NoOperation {
        res_type: String,
        operation: String,
    },
    NoHistory {
        res_type: String,
    },
    // Patient compartment search and `$everything`.
    NotInCompartment {
        res_type: String,
    },
    EverythingUnknownType {
        res_type: String,
    },
    EverythingNotParameters,
    // System-level search and history `_at`.
    SystemSearchType {
        res_type: String,
    },
    SystemSearchParameter {
        param: String,
        missing: String,
    },
    SystemSearchDiffers {
        param: String,
    },
    SystemSearchChain {
        param: String,
    },
    HistoryAtApproximate {
        value: String,
    },
    ExportNeedsRespondAsync,
    ExportOutputFormat {
        format: String,
    },
    ExportParameterUnsupported {
        parameter: String,
    },
    ExportJobUnknown,
    CompartmentAuditTrail {
        patient: String,
    },
    FormatNotSupported {
        format: String,
    },
    CannotAnswerIn {
        accept: String,
    },
    ContentTypeNotSupported {
        content_type: String,
    },
    // Notes.
    SearchParameterIgnored {
        parameter: String,
    },
    /// `_include`/`_revinclude` found more than the server adds to one page.
    IncludesCapped {
        limit: usize,
    },
    /// `_since` of a history that is no instant with a time zone.
    NotAnInstant {
        parameter: &'static str,
        value: String,
    },
}

impl InteractionMessage {
    pub fn render(&self, lang: Language) -> String {
        use InteractionMessage as M;
        match self {
            M::RoleMayNotWrite { role } => say!(
                lang,
                format!("a {role} may not write"),
                format!("{role} には書き込みの権限がありません"),
            ),
            M::WrittenByAnother { reference } => say!(
                lang,
                format!(
                    "{reference} was written by another institution; only its writer may change it"
                ),
                format!(
                    "{reference} は他の医療機関が登録したものです。変更できるのは登録した医療機関だけです"
                ),
            ),
            M::SubmitsForOther { named, mine } => say!(
                lang,
                format!("the Bundle-ID names institution {named}; you submit for {mine}"),
                format!("報告単位ID（Bundle-ID）の医療機関は {named} ですが、送信者は {mine} です"),
            ),
            M::HistoryForInstitutions => say!(
                lang,
                "history across resources is for institutions (their own writes)",
                "リソースをまたぐ履歴を参照できるのは医療機関（自施設が登録したもの）だけです",
            ),
            M::DocumentStatusForPatients => say!(
                lang,
                "the document status is for patients, of their own documents",
                "文書の状態を参照できるのは患者本人が自分の文書についてだけです",
            ),
            M::ConsentOfOwnRecord { res_type } => say!(
                lang,
                format!(
                    "a patient records consent about their own record only: {res_type}.patient names another person, or none known here"
                ),
                format!(
                    "患者が登録できる同意は本人の記録についてだけです。{res_type}.patient が別の人を指しているか、ここで知られている人を指していません"
                ),
            ),
            M::AuditTrailReaders => say!(
                lang,
                "the audit trail is read by operators, and by patients for their own record",
                "監査記録を参照できるのは運用者と、自分の記録についての患者本人だけです",
            ),
            M::AuditTrailOwnRecord => say!(
                lang,
                "a patient reads the audit trail of their own record only",
                "患者が参照できる監査記録は本人の記録のものだけです",
            ),
            M::EmergencyNotPermitted => say!(
                lang,
                "emergency viewing is for practitioners holding the emergency permission",
                "緊急時閲覧ができるのは緊急時閲覧の権限を持つ医療従事者だけです",
            ),
            M::EmergencyUnknownMethod { methods } => say!(
                lang,
                format!("X-Emergency-2FA names an unknown method; use one of {methods}"),
                format!(
                    "X-Emergency-2FA の認証方式が不明です。{methods} のいずれかを指定してください"
                ),
            ),
            M::EmergencyNoReason => say!(
                lang,
                "emergency viewing needs a reason: X-Emergency-Reason",
                "緊急時閲覧には理由（X-Emergency-Reason）が必要です",
            ),
            M::EmergencyNoMethod => say!(
                lang,
                "emergency viewing needs the two-factor method used: X-Emergency-2FA",
                "緊急時閲覧には使用した二要素認証の方式（X-Emergency-2FA）が必要です",
            ),
            M::IfMatchOtherVersion {
                expected,
                reference,
                current,
                deleted,
            } => say!(
                lang,
                format!(
                    "If-Match expects version {expected} of {reference}, the current version is {current}{}",
                    if *deleted { " (deleted)" } else { "" }
                ),
                format!(
                    "If-Match は {reference} のバージョン {expected} を指定していますが、現在のバージョンは {current}{}です",
                    if *deleted { "（削除済み）" } else { "" }
                ),
            ),
            M::IfMatchNoResource {
                expected,
                reference,
            } => say!(
                lang,
                format!("If-Match expects version {expected} of {reference}, which does not exist"),
                format!(
                    "If-Match は {reference} のバージョン {expected} を指定していますが、そのリソースは存在しません"
                ),
            ),
            M::IfNoneExistSeveral { count } => say!(
                lang,
                format!("If-None-Exist matches {count} or more resources; nothing was created"),
                format!(
                    "If-None-Exist の条件に {count} 件以上のリソースが該当するため、何も作成しませんでした"
                ),
            ),
            M::DeleteCriteriaSeveral { res_type } => say!(
                lang,
                format!("the criteria match more than one {res_type}; nothing was deleted"),
                format!("条件に複数の {res_type} が該当するため、何も削除しませんでした"),
            ),
            M::SeveralPatientsWithMemberId { count } => say!(
                lang,
                format!(
                    "{count} of your Patients have the member identifier of this submission; register it once they are merged"
                ),
                format!(
                    "この報告の被保険者識別子を持つ Patient が自施設に {count} 件あります。名寄せしてから登録してください"
                ),
            ),
            M::BundleIdSeveralUnits { value, count } => say!(
                lang,
                format!(
                    "Bundle-ID {value} names {count} report units (one per patient); add patient-identifier=<system>|<value>"
                ),
                format!(
                    "報告単位ID {value} に該当する報告単位が {count} 件あります（患者ごとに一つ）。patient-identifier=<system>|<value> を追加してください"
                ),
            ),
            M::DeleteUnitByOtherSystem { system, asked } => say!(
                lang,
                format!(
                    "report units are deleted by their Bundle-ID (system {system}), not by {asked}"
                ),
                format!(
                    "報告単位の削除は報告単位ID（system {system}）で指定します。{asked} では指定できません"
                ),
            ),
            M::EntryPlanning { twice: true } => say!(
                lang,
                "internal: entry planned twice",
                "内部エラー: entry が二重に計画されました",
            ),
            M::EntryPlanning { .. } => say!(
                lang,
                "internal: entry not processed",
                "内部エラー: entry を処理できませんでした",
            ),
            M::TypeMismatch { found, url } => say!(
                lang,
                format!("resourceType '{found}' does not match the type in the URL ('{url}')"),
                format!("resourceType '{found}' が URL のリソースタイプ（'{url}'）と一致しません"),
            ),
            M::NoResourceType => say!(
                lang,
                "the resource has no resourceType",
                "リソースに resourceType がありません",
            ),
            M::IdMismatch { found, url } => say!(
                lang,
                format!("id '{found}' does not match the id in the URL ('{url}')"),
                format!("id '{found}' が URL の id（'{url}'）と一致しません"),
            ),
            M::UpdateWithoutId => say!(
                lang,
                "an update must carry the id of the URL",
                "更新するリソースには URL の id が必要です",
            ),
            M::InvalidId { id } => say!(
                lang,
                format!("'{id}' is not a valid id (1-64 of A-Z a-z 0-9 - .)"),
                format!("'{id}' は id として正しくありません（A-Z a-z 0-9 - . の 1〜64 文字）"),
            ),
            M::EmptyCriteria => say!(
                lang,
                "conditional criteria are empty",
                "条件付き操作の条件が空です",
            ),
            M::NotABundle => say!(
                lang,
                "POST to the base URL takes a Bundle",
                "ベース URL への POST には Bundle を送ってください",
            ),
            M::BundleTypeNotProcessed { found } => say!(
                lang,
                format!(
                    "Bundle.type '{found}' cannot be processed here (only transaction or batch)"
                ),
                format!(
                    "Bundle.type '{found}' はここでは処理できません（transaction か batch だけです）"
                ),
            ),
            M::BundleTypeMissing => say!(lang, "Bundle.type is required", "Bundle.type は必須です"),
            M::EntryNotArray => say!(
                lang,
                "Bundle.entry must be an array",
                "Bundle.entry は配列でなければなりません",
            ),
            M::RequestMissing => say!(
                lang,
                "entry.request is required",
                "entry.request は必須です"
            ),
            M::RequestUrlMissing => say!(
                lang,
                "entry.request.url is required",
                "entry.request.url は必須です",
            ),
            M::EntryWithoutResource { method } => say!(
                lang,
                format!("a {method} entry needs a resource"),
                format!("{method} の entry にはリソースが必要です"),
            ),
            M::NotReadInBundles { url, res_type } => say!(
                lang,
                format!(
                    "entry.request.url '{url}': {res_type} is not read in bundles; use GET [base]/{res_type}/[id]"
                ),
                format!(
                    "entry.request.url '{url}': {res_type} は Bundle の中では読み取れません。GET [base]/{res_type}/[id] を使ってください"
                ),
            ),
            M::OnlyReadInBundles { url } => say!(
                lang,
                format!(
                    "entry.request.url '{url}': only read, vread and search ([type]?parameters) are supported in bundles"
                ),
                format!(
                    "entry.request.url '{url}': Bundle の中で使える読み取りは read、vread と検索（[type]?パラメータ）だけです"
                ),
            ),
            M::NotSupportedInEntry { method, url } => say!(
                lang,
                format!("{method} {url} is not supported in a bundle entry"),
                format!("{method} {url} は Bundle の entry では使えません"),
            ),
            M::UnknownMethod { method } => say!(
                lang,
                format!("unknown entry.request.method '{method}'"),
                format!("entry.request.method '{method}' は不明です"),
            ),
            M::NotAnETag { tag } => say!(
                lang,
                format!("'{tag}' is not a version ETag like W/\"3\""),
                format!("'{tag}' は W/\"3\" のようなバージョンの ETag ではありません"),
            ),
            M::FullUrlTwice { url, first } => say!(
                lang,
                format!("fullUrl '{url}' is also used by entry {first}"),
                format!("fullUrl '{url}' は entry {first} でも使われています"),
            ),
            M::IfNoneExistChangedElsewhere { reference } => say!(
                lang,
                format!("ifNoneExist matches {reference}, which another entry also changes"),
                format!(
                    "ifNoneExist の条件に該当する {reference} を、別の entry も変更しようとしています"
                ),
            ),
            M::ChangedTwice { identity } => say!(
                lang,
                format!("{identity} is changed by more than one entry of the transaction"),
                format!("{identity} をトランザクションの複数の entry が変更しようとしています"),
            ),
            M::IfNoneExistMatchesSeveral => say!(
                lang,
                "ifNoneExist matches more than one resource",
                "ifNoneExist の条件に複数のリソースが該当します",
            ),
            M::ReferenceNotFound { reference } => say!(
                lang,
                format!("{reference} names no resource on this server that you may read"),
                format!(
                    "{reference} は、このサーバー上のあなたが参照できるリソースを指していません"
                ),
            ),
            M::ReferenceNotInBundle { reference } => say!(
                lang,
                format!("{reference} matches the fullUrl of no entry of this transaction"),
                format!(
                    "{reference} に一致する fullUrl の entry がこのトランザクションにありません"
                ),
            ),
            M::ConditionalReferenceOutsideBundle { reference } => say!(
                lang,
                format!(
                    "the conditional reference {reference} is resolved only in transaction and batch entries"
                ),
                format!(
                    "条件付き参照 {reference} はトランザクションとバッチの entry の中でだけ解決されます"
                ),
            ),
            M::ConditionalReferenceNone { reference } => say!(
                lang,
                format!("the conditional reference {reference} matches no resource you may read"),
                format!(
                    "条件付き参照 {reference} に該当する、あなたが参照できるリソースがありません"
                ),
            ),
            M::ConditionalReferenceSeveral { reference } => say!(
                lang,
                format!("the conditional reference {reference} matches more than one resource"),
                format!("条件付き参照 {reference} に複数のリソースが該当します"),
            ),
            M::DeleteAlwaysAllowed => say!(
                lang,
                "delete is always allowed here: references to the resource are not checked",
                "ここでは削除は常に許可されます。このリソースへの参照は検査しません",
            ),
            M::ValidateNeedsResource => say!(
                lang,
                "$validate needs a resource to validate",
                "$validate には検証するリソースが必要です",
            ),
            M::ValidateTypeMismatch { body, url } => say!(
                lang,
                format!("the resource is a {body}, the URL says {url}"),
                format!("リソースは {body} ですが、URL では {url} です"),
            ),
            M::ValidateUpdateId { id } => say!(
                lang,
                format!("an update of {id} must carry id '{id}'"),
                format!("{id} の更新には id '{id}' が必要です"),
            ),
            M::UnitDeleteParameter { parameter } => say!(
                lang,
                format!(
                    "a report unit is deleted by identifier and patient-identifier only, not {parameter}"
                ),
                format!(
                    "報告単位の削除に使えるのは identifier と patient-identifier だけで、{parameter} は使えません"
                ),
            ),
            M::UnitDeleted { resources } => say!(
                lang,
                format!("report unit deleted: {resources} resources removed"),
                format!("報告単位を削除しました。{resources} 件のリソースを削除しました"),
            ),
            M::DocumentCancelled { resources } => say!(
                lang,
                format!(
                    "document cancelled: its Bundle and {resources} extracted resources removed; re-post it to undo the cancel"
                ),
                format!(
                    "文書を取り消しました。Bundle と、取り込んだ {resources} 件のリソースを削除しました。取り消しを元に戻すには文書を再送してください"
                ),
            ),
            M::UnitWrittenDirectly { id, how } => say!(
                lang,
                format!(
                    "Bundle/{id} is a 6-information report unit: {how} it through POST [base]/Bundle (a new send replaces it) or DELETE [base]/Bundle?identifier=<Bundle-ID>"
                ),
                format!(
                    "Bundle/{id} は6情報の報告単位です。POST [base]/Bundle（再送で差し替え）か DELETE [base]/Bundle?identifier=<報告単位ID> を使ってください（{how}）"
                ),
            ),
            M::DocumentWrittenDirectly { id } => say!(
                lang,
                format!(
                    "Bundle/{id} is a CLINS document: it is replaced by POST [base]/Bundle and cancelled by DELETE [base]/Bundle?document-identifier=<identifier>"
                ),
                format!(
                    "Bundle/{id} は CLINS の文書です。差し替えは POST [base]/Bundle で、取り消しは DELETE [base]/Bundle?document-identifier=<文書ID> で行います"
                ),
            ),
            M::SchemaNotCurrent { detail } => say!(
                lang,
                format!("the database schema is not current: {detail}"),
                format!("データベースのスキーマが最新ではありません: {detail}"),
            ),
            M::DatabaseUnreachable => say!(
                lang,
                "the database is unreachable",
                "データベースに接続できません"
            ),
            M::DatabaseCheckFailed => say!(
                lang,
                "the database check failed",
                "データベースの確認に失敗しました"
            ),
            M::DatabaseSlow { seconds } => say!(
                lang,
                format!("the database did not answer within {seconds} s"),
                format!("データベースが {seconds} 秒以内に応答しませんでした"),
            ),
            M::NoEndpoint { path } => say!(
                lang,
                format!("no FHIR endpoint at {path}"),
                format!("{path} に FHIR のエンドポイントはありません"),
            ),
            M::NoOperation {
                res_type,
                operation,
            } => say!(
                lang,
                format!("{res_type} has no operation {operation} here"),
                format!("ここでは {res_type} に操作 {operation} はありません"),
            ),
            M::NotInCompartment { res_type } => say!(
                lang,
                format!(
                    "{res_type} is not in the Patient compartment: search it as {res_type}?… instead"
                ),
                format!(
                    "{res_type} は Patient コンパートメントに含まれません。{res_type}?… で検索してください"
                ),
            ),
            M::SystemSearchType { res_type } => say!(
                lang,
                format!(
                    "_type names '{res_type}', which is not searched at system level: search it as {res_type}?… instead"
                ),
                format!(
                    "_type の '{res_type}' はシステムレベル検索の対象外です。{res_type}?… で検索してください"
                ),
            ),
            M::SystemSearchParameter { param, missing } => say!(
                lang,
                format!(
                    "search parameter '{param}' is not defined for {missing}: a search of several types applies only the common parameters and those every type in _type defines"
                ),
                format!(
                    "検索パラメータ '{param}' は {missing} に定義されていません。複数の型の検索では、共通パラメータと _type のすべての型が定義するパラメータだけが使えます"
                ),
            ),
            M::SystemSearchDiffers { param } => say!(
                lang,
                format!(
                    "search parameter '{param}' means different things for the types in _type: search them one type at a time"
                ),
                format!(
                    "検索パラメータ '{param}' は _type の型ごとに意味が異なります。型ごとに検索してください"
                ),
            ),
            M::SystemSearchChain { param } => say!(
                lang,
                format!(
                    "'{param}' (a chain, _has or _list) applies to one type: give a single type in _type"
                ),
                format!(
                    "'{param}'(チェーン、_has、_list)は1つの型にだけ使えます。_type に型を1つ指定してください"
                ),
            ),
            M::HistoryAtApproximate { value } => say!(
                lang,
                format!(
                    "_at '{value}': the prefix ap is not supported in history; use eq, ne, gt, lt, ge, le, sa or eb"
                ),
                format!(
                    "_at '{value}': 履歴では接頭辞 ap は使えません。eq、ne、gt、lt、ge、le、sa、eb を使ってください"
                ),
            ),
            M::EverythingUnknownType { res_type } => say!(
                lang,
                format!("_type names '{res_type}', which is not a FHIR R4 resource type"),
                format!("_type の '{res_type}' は FHIR R4 のリソース型ではありません"),
            ),
            M::CompartmentAuditTrail { patient } => say!(
                lang,
                format!(
                    "AuditEvent is served from the audit trail, not the resource store: search AuditEvent?patient={patient} instead"
                ),
                format!(
                    "AuditEvent はリソースストアではなく監査証跡から提供されます。AuditEvent?patient={patient} で検索してください"
                ),
            ),
            M::ExportNeedsRespondAsync => say!(
                lang,
                "$export runs in the background: send the header Prefer: respond-async",
                "$export はバックグラウンドで実行されます。Prefer: respond-async ヘッダーを付けてください",
            ),
            M::ExportOutputFormat { format } => say!(
                lang,
                format!("_outputFormat '{format}' is not supported: use application/fhir+ndjson"),
                format!(
                    "_outputFormat '{format}' には対応していません。application/fhir+ndjson を指定してください"
                ),
            ),
            M::ExportParameterUnsupported { parameter } => say!(
                lang,
                format!(
                    "{parameter} is not supported by $export here; ignoring it would export more than asked"
                ),
                format!(
                    "ここでは $export の {parameter} に対応していません。無視すると求められた以上を出力するため拒否します"
                ),
            ),
            M::ExportJobUnknown => say!(
                lang,
                "no such export job: it never existed, was cancelled, expired, or belongs to another caller",
                "そのエクスポートジョブはありません。存在しないか、取り消されたか、保存期間を過ぎたか、別の利用者のものです",
            ),
            M::EverythingNotParameters => say!(
                lang,
                "a POST of $everything takes a Parameters resource as its body",
                "$everything の POST の本文は Parameters リソースでなければなりません",
            ),
            M::NoHistory { res_type } => say!(
                lang,
                format!(
                    "{res_type} keeps no history here: its resources come from imports and packages"
                ),
                format!(
                    "ここでは {res_type} の履歴は保持していません。そのリソースはインポートとパッケージから提供されます"
                ),
            ),
            M::FormatNotSupported { format } => say!(
                lang,
                format!("_format '{format}' is not supported (use json or xml)"),
                format!(
                    "_format '{format}' には対応していません（json か xml を指定してください）"
                ),
            ),
            M::CannotAnswerIn { accept } => say!(
                lang,
                format!(
                    "cannot answer in any of '{accept}'; this server speaks application/fhir+json and application/fhir+xml"
                ),
                format!(
                    "'{accept}' のいずれの形式でも応答できません。このサーバーが応答できるのは application/fhir+json と application/fhir+xml です"
                ),
            ),
            M::ContentTypeNotSupported { content_type } => say!(
                lang,
                format!(
                    "Content-Type '{content_type}' is not supported; send application/fhir+json or application/fhir+xml"
                ),
                format!(
                    "Content-Type '{content_type}' には対応していません。application/fhir+json か application/fhir+xml で送ってください"
                ),
            ),
            M::SearchParameterIgnored { parameter } => say!(
                lang,
                format!("search parameter '{parameter}' is not supported and was ignored"),
                format!("検索パラメータ '{parameter}' には対応していないため、無視しました"),
            ),
            M::IncludesCapped { limit } => say!(
                lang,
                format!(
                    "_include/_revinclude found more than {limit} resources for this page: only the first {limit} are included (the server's search_max_include); ask for a smaller _count"
                ),
                format!(
                    "_include/_revinclude で含めるリソースがこのページで {limit} 件を超えたため、最初の {limit} 件だけを含めました（search_max_include）。_count を小さくしてください"
                ),
            ),
            M::NotAnInstant { parameter, value } => say!(
                lang,
                format!("{parameter} '{value}' is not an instant with a time zone"),
                format!(
                    "{parameter} の値 '{value}' はタイムゾーン付きの日時（instant）ではありません"
                ),
            ),
        }
    }
}
