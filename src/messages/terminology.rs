//! Refusals of the terminology operations (`$expand`, `$lookup`, `$validate-code`): their
//! inputs, and what they ask for that is not loaded. A reason the terminology gives (why a
//! value set cannot be expanded, why a code system lists only part of its codes) is its own
//! and follows as it was composed.

use super::{Language, say};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminologyMessage {
    /// A body that is not a Parameters resource.
    NotParameters,
    ParameterWithoutName,
    GivenTwice {
        name: String,
    },
    NotAnInteger {
        name: String,
    },
    Negative {
        name: String,
    },
    /// A string input given as something else.
    NotText {
        name: String,
    },
    NotACoding {
        name: String,
    },
    /// A Coding in the query string without its `system|code` form.
    CodingInUrl {
        name: String,
    },
    NotAConcept {
        name: String,
    },
    /// A CodeableConcept has no form in the query string.
    ConceptInUrl {
        name: String,
    },
    /// An input this server does not implement and that would change the answer if ignored.
    NotSupported {
        operation: &'static str,
        name: String,
    },
    /// `ValueSet/$expand` or `ValueSet/$validate-code` with no value set.
    NeedsValueSet {
        operation: &'static str,
    },
    /// A stored ValueSet with no canonical URL.
    NoUrl {
        id: String,
    },
    CountTooLarge {
        count: usize,
        max: usize,
    },
    /// An expansion that is not complete here; `why` is the terminology's reason.
    Incomplete {
        value_set: String,
        why: String,
    },
    TooManyMembers {
        value_set: String,
        members: usize,
        filtered: bool,
        max: usize,
    },
    LookupCodeAndCoding,
    LookupCodingWithoutSystem,
    LookupCodingWithoutCode,
    LookupNeedsCode,
    LookupNeedsSystem,
    CodeSystemNotLoaded {
        system: String,
    },
    CodeNotInSystem {
        code: String,
        system: String,
    },
    /// Not in the part of the system that is loaded; `why` is why only part is.
    CodeNotInLoadedPart {
        code: String,
        system: String,
        why: String,
    },
    VersionNotLoaded {
        asked: String,
        system: String,
        loaded: String,
    },
    ValidateOneForm,
    ValidateCodingWithoutCode,
    ValidateConceptWithoutCoding,
    ValidateNeedsCode,
    UrlAndSystemDiffer {
        url: String,
        system: String,
    },
    ValidateNeedsCodeSystem,
}

impl TerminologyMessage {
    pub fn render(&self, lang: Language) -> String {
        use TerminologyMessage as M;
        match self {
            M::NotParameters => say!(
                lang,
                "a terminology operation takes a Parameters resource as its body",
                "用語操作の本文は Parameters リソースでなければなりません",
            ),
            M::ParameterWithoutName => say!(
                lang,
                "every parameter needs a name",
                "パラメータにはすべて name が必要です",
            ),
            M::GivenTwice { name } => say!(
                lang,
                format!("parameter {name} is given more than once"),
                format!("パラメータ {name} が 2 回以上指定されています"),
            ),
            M::NotAnInteger { name } => say!(
                lang,
                format!("parameter {name} must be an integer"),
                format!("パラメータ {name} は整数でなければなりません"),
            ),
            M::Negative { name } => say!(
                lang,
                format!("parameter {name} must not be negative"),
                format!("パラメータ {name} に負の値は使えません"),
            ),
            M::NotText { name } => say!(
                lang,
                format!("parameter {name} must be a string, uri, code or canonical"),
                format!(
                    "パラメータ {name} は string、uri、code、canonical のいずれかでなければなりません"
                ),
            ),
            M::NotACoding { name } => say!(
                lang,
                format!("parameter {name} must be a Coding (valueCoding)"),
                format!("パラメータ {name} は Coding（valueCoding）でなければなりません"),
            ),
            M::CodingInUrl { name } => say!(
                lang,
                format!("parameter {name} in the URL is written system|code"),
                format!("URL で指定するパラメータ {name} は system|code の形で書きます"),
            ),
            M::NotAConcept { name } => say!(
                lang,
                format!("parameter {name} must be a CodeableConcept (valueCodeableConcept)"),
                format!(
                    "パラメータ {name} は CodeableConcept（valueCodeableConcept）でなければなりません"
                ),
            ),
            M::ConceptInUrl { name } => say!(
                lang,
                format!("parameter {name} cannot be given in the URL: POST a Parameters resource"),
                format!(
                    "パラメータ {name} は URL では指定できません: Parameters リソースを POST してください"
                ),
            ),
            M::NotSupported { operation, name } => say!(
                lang,
                format!("{operation}: parameter {name} is not supported here"),
                format!("{operation}: パラメータ {name} にはこのサーバーは対応していません"),
            ),
            M::NeedsValueSet { operation } => say!(
                lang,
                format!("{operation} needs the value set: url (or call it on an instance)"),
                format!(
                    "{operation} には値セットの指定が必要です: url（またはインスタンスに対して呼び出してください）"
                ),
            ),
            M::NoUrl { id } => say!(
                lang,
                format!("ValueSet/{id} has no url to expand it by"),
                format!("ValueSet/{id} には展開に使う url がありません"),
            ),
            M::CountTooLarge { count, max } => say!(
                lang,
                format!("count {count} is more than the largest page, {max}"),
                format!("count {count} は 1 ページの上限 {max} を超えています"),
            ),
            M::Incomplete { value_set, why } => say!(
                lang,
                format!(
                    "value set {value_set} cannot be expanded completely here: {why}; ask for a page (count) to get the members that are known"
                ),
                format!(
                    "値セット {value_set} はここでは完全には展開できません: {why}。わかっている要素はページ（count）を指定して取得してください"
                ),
            ),
            M::TooManyMembers {
                value_set,
                members,
                filtered,
                max,
            } => say!(
                lang,
                format!(
                    "value set {value_set} has {members} members{}: more than {max} are given only in pages (count and offset)",
                    if *filtered {
                        " matching the filter"
                    } else {
                        ""
                    }
                ),
                format!(
                    "値セット {value_set} には{}要素が {members} 個あります: {max} 個を超える要素はページ（count と offset）でのみ返します",
                    if *filtered {
                        "フィルタに一致する"
                    } else {
                        ""
                    }
                ),
            ),
            M::LookupCodeAndCoding => say!(
                lang,
                "$lookup takes either system and code, or coding, not both",
                "$lookup には system と code か、coding のどちらか一方を指定します（両方は指定できません）",
            ),
            M::LookupCodingWithoutSystem => say!(
                lang,
                "the coding to look up has no system",
                "参照する coding に system がありません",
            ),
            M::LookupCodingWithoutCode => say!(
                lang,
                "the coding to look up has no code",
                "参照する coding に code がありません",
            ),
            M::LookupNeedsCode => say!(
                lang,
                "$lookup needs a code (or a coding)",
                "$lookup には code（または coding）が必要です",
            ),
            M::LookupNeedsSystem => say!(
                lang,
                "$lookup needs the system of the code",
                "$lookup にはコードの system が必要です",
            ),
            M::CodeSystemNotLoaded { system } => say!(
                lang,
                format!("code system {system} is not loaded"),
                format!("コード体系 {system} は読み込まれていません"),
            ),
            M::CodeNotInSystem { code, system } => say!(
                lang,
                format!("code {code} is not in code system {system}"),
                format!("コード {code} はコード体系 {system} にありません"),
            ),
            M::CodeNotInLoadedPart { code, system, why } => say!(
                lang,
                format!("code {code} is not in the loaded part of code system {system}: {why}"),
                format!(
                    "コード {code} は、コード体系 {system} の読み込まれている部分にありません: {why}"
                ),
            ),
            M::VersionNotLoaded {
                asked,
                system,
                loaded,
            } => say!(
                lang,
                format!(
                    "version {asked} of code system {system} is not loaded (version {loaded} is)"
                ),
                format!(
                    "コード体系 {system} のバージョン {asked} は読み込まれていません（読み込まれているのはバージョン {loaded}）"
                ),
            ),
            M::ValidateOneForm => say!(
                lang,
                "$validate-code takes one of code, coding and codeableConcept",
                "$validate-code には code、coding、codeableConcept のうち 1 つだけを指定します",
            ),
            M::ValidateCodingWithoutCode => say!(
                lang,
                "the coding to validate has no code",
                "検証する coding に code がありません",
            ),
            M::ValidateConceptWithoutCoding => say!(
                lang,
                "the codeableConcept to validate has no coding",
                "検証する codeableConcept に coding がありません",
            ),
            M::ValidateNeedsCode => say!(
                lang,
                "$validate-code needs a code, a coding or a codeableConcept",
                "$validate-code には code、coding、codeableConcept のいずれかが必要です",
            ),
            M::UrlAndSystemDiffer { url, system } => say!(
                lang,
                format!("url ({url}) and system ({system}) name different code systems"),
                format!("url（{url}）と system（{system}）が別のコード体系を指しています"),
            ),
            M::ValidateNeedsCodeSystem => say!(
                lang,
                "CodeSystem/$validate-code needs the code system: url",
                "CodeSystem/$validate-code にはコード体系の指定が必要です: url",
            ),
        }
    }
}
