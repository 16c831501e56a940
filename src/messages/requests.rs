//! Messages of the HTTP layer: refusals of a request as a whole and the notes of an answer.

use std::time::Duration;

use super::markup::XmlError;
use super::{Language, say};

/// The kind of a refusal whose detail is composed where it happens (a name, a value, a
/// reason): the kind is said in the client's language, the detail follows as composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Invalid,
    NoRoute,
    InputNotFound,
    Forbidden,
    Conflict,
    PreconditionFailed,
    MultipleMatches,
    UnsupportedMediaType,
    NotAcceptable,
    NotSupported,
}

impl Refusal {
    fn japanese(self) -> &'static str {
        match self {
            Refusal::Invalid => "要求が正しくありません",
            Refusal::NoRoute => "該当するエンドポイントがありません",
            Refusal::InputNotFound => "指定されたものが見つかりません",
            Refusal::Forbidden => "この操作は許可されていません",
            Refusal::Conflict => "現在の状態と競合しています",
            Refusal::PreconditionFailed => "前提条件を満たしていません",
            Refusal::MultipleMatches => "条件に複数のリソースが該当します",
            Refusal::UnsupportedMediaType => "この Content-Type には対応していません",
            Refusal::NotAcceptable => "要求された形式では応答できません",
            Refusal::NotSupported => "対応していない要求です",
        }
    }
}

/// Why a request has no principal (`access`): 401 with a `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send a bearer token or a client certificate")]
    Missing,
    #[error("the bearer token is not recognised")]
    UnknownToken,
    #[error("the client certificate is not mapped to a principal")]
    UnknownCertificate,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestMessage {
    /// The one issue of an OperationOutcome that reports nothing wrong.
    AllOk,
    /// Issues left out of an answer by the cap (`stopped`: checking stopped there).
    NotReported {
        count: usize,
        max: usize,
        stopped: bool,
    },
    Stored {
        reference: String,
        version: i64,
        created: bool,
    },
    Json(ParseError),
    Xml(XmlError),
    Unauthorized(AuthError),
    Search(SearchError),
    UnknownType(String),
    /// A type R4 defines that the server does not serve (Subscription: nothing delivers).
    UnsupportedType(String),
    NotFound {
        reference: String,
    },
    VersionNotFound {
        reference: String,
        version: String,
    },
    Gone {
        reference: String,
    },
    ManagedType {
        res_type: String,
        method: String,
    },
    MethodNotAllowed {
        method: String,
        path: String,
    },
    TooManyItems {
        path: String,
        max: usize,
    },
    Busy,
    PayloadTooLarge {
        limit: usize,
    },
    RequestTimeout(Duration),
    ProcessingTimeout,
    StoreUnavailable,
    DiskFull,
    ShuttingDown,
    StoreLocked,
    StorageFailure,
    WriteRace,
    AuditNotStored,
    Refused {
        kind: Refusal,
        detail: String,
    },
}

impl RequestMessage {
    pub fn render(&self, lang: Language) -> String {
        use RequestMessage as M;
        match self {
            M::AllOk => say!(lang, "All OK", "問題はありません"),
            M::NotReported {
                count,
                max,
                stopped: true,
            } => say!(
                lang,
                format!(
                    "at least {count} {NOT_REPORTED}: validation stopped early, the rest of the resource was not checked (at most {max} issues are listed per answer)"
                ),
                format!(
                    "少なくとも {count} 件の問題を省略しました。検証を途中で打ち切ったため、リソースの残りは検査していません（1 回の応答に載せる問題は最大 {max} 件）"
                ),
            ),
            M::NotReported { count, max, .. } => say!(
                lang,
                format!("{count} {NOT_REPORTED}: at most {max} issues are listed per answer"),
                format!(
                    "ほかに {count} 件の問題があり、省略しました（1 回の応答に載せる問題は最大 {max} 件）"
                ),
            ),
            M::Stored {
                reference,
                version,
                created,
            } => say!(
                lang,
                format!(
                    "{reference} {} as version {version}",
                    if *created { "created" } else { "stored" }
                ),
                format!(
                    "{reference} をバージョン {version} として{}しました",
                    if *created { "作成" } else { "保存" }
                ),
            ),
            M::Json(e) => say!(lang, e, json_japanese(e)),
            M::Xml(e) => say!(lang, e, xml_japanese(e)),
            M::Unauthorized(e) => say!(
                lang,
                e,
                match e {
                    AuthError::Missing =>
                        "認証が必要です。ベアラートークンかクライアント証明書を送ってください",
                    AuthError::UnknownToken => "ベアラートークンが登録されていません",
                    AuthError::UnknownCertificate =>
                        "クライアント証明書に対応する利用者が登録されていません",
                }
            ),
            M::Search(e) => say!(lang, e, search_japanese(e)),
            M::UnknownType(t) => say!(
                lang,
                format!("unknown resource type '{t}'"),
                format!("リソースタイプ '{t}' はありません"),
            ),
            M::UnsupportedType(t) => say!(
                lang,
                format!(
                    "{t} is not supported by this server: nothing delivers its notifications, so it cannot be created or updated"
                ),
                format!(
                    "このサーバーは {t} に対応していません。通知を配信する仕組みがないため、作成も更新もできません"
                ),
            ),
            M::NotFound { reference } => say!(
                lang,
                format!("{reference} is not known"),
                format!("{reference} は存在しません"),
            ),
            M::VersionNotFound { reference, version } => say!(
                lang,
                format!("{reference} has no version {version}"),
                format!("{reference} にバージョン {version} はありません"),
            ),
            M::Gone { reference } => say!(
                lang,
                format!("{reference} was deleted"),
                format!("{reference} は削除されています"),
            ),
            M::ManagedType { res_type, method } => say!(
                lang,
                format!(
                    "{res_type} resources cannot be written here ({method}): they are managed by `kyoyu codesets import` and by package installation (`kyoyu package install`)"
                ),
                format!(
                    "{res_type} リソースはここでは書き込めません（{method}）。`kyoyu codesets import` とパッケージのインストール（`kyoyu package install`）で管理します"
                ),
            ),
            M::MethodNotAllowed { method, path } => say!(
                lang,
                format!("method {method} is not allowed on {path}"),
                format!("{path} ではメソッド {method} を使えません"),
            ),
            M::TooManyItems { path, max } => say!(
                lang,
                format!("{path} has more than {max} items"),
                format!("{path} の要素数が上限の {max} を超えています"),
            ),
            M::Busy => say!(
                lang,
                "the server is busy validating other requests; retry in a moment",
                "サーバーはほかの要求の検証で混み合っています。少し待ってから再送してください",
            ),
            M::PayloadTooLarge { limit } => say!(
                lang,
                format!("the request body exceeds the limit of {limit} bytes"),
                format!("要求の本文が上限の {limit} バイトを超えています"),
            ),
            M::RequestTimeout(limit) => say!(
                lang,
                format!("the request did not arrive completely within {limit:?}"),
                format!("要求が {limit:?} 以内に届き終わりませんでした"),
            ),
            M::ProcessingTimeout => say!(
                lang,
                "the request could not be completed within the time limit",
                "制限時間内に要求を処理し終えられませんでした",
            ),
            M::StoreUnavailable => say!(
                lang,
                "the database is unavailable; retry later",
                "データベースを利用できません。しばらくしてから再送してください",
            ),
            M::DiskFull => say!(
                lang,
                "the database has no space left for this write; nothing was stored",
                "データベースに空き容量がないため、この書き込みは何も保存していません",
            ),
            M::ShuttingDown => say!(
                lang,
                "the server is shutting down; retry later",
                "サーバーは停止処理中です。しばらくしてから再送してください",
            ),
            M::StoreLocked => say!(
                lang,
                "the database is locked by another connection; retry in a moment",
                "データベースがほかの接続にロックされています。少し待ってから再送してください",
            ),
            M::StorageFailure => say!(lang, "storage failure", "保存処理で障害が起きました"),
            M::WriteRace => say!(
                lang,
                "a concurrent request changed the same data; nothing was stored, retry the request",
                "同時に処理された別の要求が同じデータを変更したため、何も保存していません。要求を再送してください",
            ),
            M::AuditNotStored => say!(
                lang,
                "the audit record of this request could not be stored, so the request is refused; retry later",
                "この要求の監査記録を保存できなかったため、要求を拒否しました。しばらくしてから再送してください",
            ),
            M::Refused { kind, detail } => {
                say!(lang, detail, format!("{}（{detail}）", kind.japanese()))
            }
        }
    }
}

const NOT_REPORTED: &str = "more issue(s) not reported";

/// Whether `diagnostics` is the English text of a [`RequestMessage::NotReported`]: how many it
/// counted and whether checking stopped.
pub fn not_reported(diagnostics: &str) -> Option<(usize, bool)> {
    let text = diagnostics.strip_prefix("at least ");
    let stopped = text.is_some();
    let (count, rest) = text.unwrap_or(diagnostics).split_once(' ')?;
    rest.starts_with(NOT_REPORTED)
        .then(|| count.parse().ok().map(|n| (n, stopped)))
        .flatten()
}

/// What the JSON parser found wrong, in its own English words and in Japanese; `Other` keeps a
/// message this list does not know as the parser wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonSyntax {
    EofInList,
    EofInObject,
    EofInString,
    EofInValue,
    ExpectedColon,
    ExpectedCommaOrBracket,
    ExpectedCommaOrBrace,
    /// A bare word that is not `true`, `false` or `null`.
    ExpectedIdent,
    ExpectedValue,
    ExpectedQuote,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    InvalidCodePoint,
    ControlCharacter,
    KeyMustBeString,
    LoneSurrogate,
    TrailingComma,
    TrailingCharacters,
    EndOfHexEscape,
    Other(String),
}

impl JsonSyntax {
    /// Every kind but `Other`, in the parser's words: the table [`JsonSyntax::of`] reads.
    pub(crate) const KNOWN: &[(JsonSyntax, &str, &str)] = &[
        (
            JsonSyntax::EofInList,
            "EOF while parsing a list",
            "配列の途中で本文が終わっています",
        ),
        (
            JsonSyntax::EofInObject,
            "EOF while parsing an object",
            "オブジェクトの途中で本文が終わっています",
        ),
        (
            JsonSyntax::EofInString,
            "EOF while parsing a string",
            "文字列の途中で本文が終わっています",
        ),
        (
            JsonSyntax::EofInValue,
            "EOF while parsing a value",
            "値の途中で本文が終わっています",
        ),
        (
            JsonSyntax::ExpectedColon,
            "expected `:`",
            "`:` があるべきところです",
        ),
        (
            JsonSyntax::ExpectedCommaOrBracket,
            "expected `,` or `]`",
            "`,` か `]` があるべきところです",
        ),
        (
            JsonSyntax::ExpectedCommaOrBrace,
            "expected `,` or `}`",
            "`,` か `}` があるべきところです",
        ),
        (
            JsonSyntax::ExpectedIdent,
            "expected ident",
            "true、false、null のいずれかであるべきところです",
        ),
        (
            JsonSyntax::ExpectedValue,
            "expected value",
            "値があるべきところです",
        ),
        (
            JsonSyntax::ExpectedQuote,
            "expected `\"`",
            "`\"` があるべきところです",
        ),
        (
            JsonSyntax::InvalidEscape,
            "invalid escape",
            "エスケープが正しくありません",
        ),
        (
            JsonSyntax::InvalidNumber,
            "invalid number",
            "数値が正しくありません",
        ),
        (
            JsonSyntax::NumberOutOfRange,
            "number out of range",
            "数値が範囲外です",
        ),
        (
            JsonSyntax::InvalidCodePoint,
            "invalid unicode code point",
            "Unicode のコードポイントが正しくありません",
        ),
        (
            JsonSyntax::ControlCharacter,
            "control character (\\u0000-\\u001F) found while parsing a string",
            "文字列の中に制御文字（\\u0000〜\\u001F）があります",
        ),
        (
            JsonSyntax::KeyMustBeString,
            "key must be a string",
            "キーは文字列でなければなりません",
        ),
        (
            JsonSyntax::LoneSurrogate,
            "lone leading surrogate in hex escape",
            "\\u エスケープのサロゲートが対になっていません",
        ),
        (
            JsonSyntax::TrailingComma,
            "trailing comma",
            "末尾に余分な `,` があります",
        ),
        (
            JsonSyntax::TrailingCharacters,
            "trailing characters",
            "JSON の後に余分な文字があります",
        ),
        (
            JsonSyntax::EndOfHexEscape,
            "unexpected end of hex escape",
            "\\u エスケープの途中で終わっています",
        ),
    ];

    /// The kind of a message of the JSON parser (without its position).
    pub fn of(message: &str) -> JsonSyntax {
        Self::KNOWN
            .iter()
            .find(|(_, en, _)| *en == message)
            .map_or_else(
                || JsonSyntax::Other(message.to_string()),
                |(k, ..)| k.clone(),
            )
    }

    pub fn render(&self, lang: Language) -> String {
        if let JsonSyntax::Other(message) = self {
            return message.clone();
        }
        let found = Self::KNOWN.iter().find(|(k, ..)| k == self);
        match (found, lang) {
            (Some((_, en, _)), Language::English) => en.to_string(),
            (Some((_, _, ja)), Language::Japanese) => ja.to_string(),
            (None, _) => String::new(),
        }
    }
}

/// Why a body is not FHIR JSON (`fhir::json`), with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("JSON nesting deeper than {max} levels (line {line}, column {column})")]
    TooDeep {
        max: usize,
        line: usize,
        column: usize,
    },
    #[error(
        "malformed JSON at line {line}, column {column}: {}",
        .problem.render(Language::English)
    )]
    Syntax {
        problem: JsonSyntax,
        line: usize,
        column: usize,
    },
    #[error("the body is empty")]
    Empty,
    #[error("the body is not UTF-8: byte 0x{byte:02X} at line {line}, column {column}")]
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
    /// FHIR JSON forbids a key twice in one object; which one counts would be left to chance.
    #[error("duplicate key \"{key}\" at {path} (line {line}, column {column})")]
    DuplicateKey {
        key: String,
        path: String,
        line: usize,
        column: usize,
    },
    #[error("the body must be a JSON object (a FHIR resource)")]
    NotAnObject,
    /// Refused before any validation: each item costs validation work and answer size.
    #[error("{path} has more than {max} items (line {line}, column {column})")]
    TooManyItems {
        path: String,
        max: usize,
        line: usize,
        column: usize,
    },
}

fn json_japanese(e: &ParseError) -> String {
    match e {
        ParseError::TooDeep { max, line, column } => {
            format!("JSON の入れ子が {max} 段を超えています（{line} 行 {column} 桁）")
        }
        ParseError::Syntax {
            problem,
            line,
            column,
        } => format!(
            "JSON の構文が正しくありません（{line} 行 {column} 桁）: {}",
            problem.render(Language::Japanese)
        ),
        ParseError::Empty => "本文が空です".into(),
        ParseError::NotUtf8 { byte, line, column } => {
            format!("本文が UTF-8 ではありません: バイト 0x{byte:02X}（{line} 行 {column} 桁）")
        }
        ParseError::DuplicateKey {
            key,
            path,
            line,
            column,
        } => format!("{path} にキー \"{key}\" が重複しています（{line} 行 {column} 桁）"),
        ParseError::NotAnObject => {
            "本文は JSON オブジェクト（FHIR リソース）でなければなりません".into()
        }
        ParseError::TooManyItems {
            path,
            max,
            line,
            column,
        } => format!("{path} の要素数が上限の {max} を超えています（{line} 行 {column} 桁）"),
    }
}

fn xml_japanese(e: &XmlError) -> String {
    match e {
        XmlError::Empty => "本文が空です".into(),
        XmlError::NotUtf8 { byte, line, column } => {
            format!("本文が UTF-8 ではありません: バイト 0x{byte:02X}（{line} 行 {column} 桁）")
        }
        XmlError::Syntax {
            problem,
            line,
            column,
        } => format!(
            "XML の構文が正しくありません（{line} 行 {column} 桁）: {}",
            problem.render(Language::Japanese)
        ),
        XmlError::Doctype { line, column } => {
            format!("文書型宣言（DOCTYPE）を含む XML は受け付けません（{line} 行 {column} 桁）")
        }
        XmlError::TooDeep { max, line, column } => {
            format!("XML の入れ子が {max} 段を超えています（{line} 行 {column} 桁）")
        }
        XmlError::Structure {
            problem,
            line,
            column,
        } => format!(
            "FHIR の XML ではありません（{line} 行 {column} 桁）: {}",
            problem.render(Language::Japanese)
        ),
        XmlError::Unwritable(why) => format!("このリソースは XML で書けません: {why}"),
    }
}

/// Why a search parameter's value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchReason {
    /// `_count`, `_offset`.
    NonNegativeInteger,
    /// `_total`.
    TotalMode,
    /// `_summary` of the terminology searches.
    SummaryMode,
    /// `_summary` of resource searches and reads.
    SummaryValue,
    /// `_summary=count` on a read.
    CountOnRead,
    /// An `_elements` item that is not an element name.
    ElementName(String),
    /// `date` of the audit trail, which takes only a lower bound.
    LowerBoundOnly,
    EmptyListItem,
    EmptySortKey,
    /// What a value's parser said (a date, token, reference…), as it composed it.
    Value(String),
}

impl SearchReason {
    pub fn render(&self, lang: Language) -> String {
        use SearchReason as R;
        match self {
            R::NonNegativeInteger => say!(
                lang,
                "must be a non-negative integer",
                "0 以上の整数でなければなりません"
            ),
            R::TotalMode => say!(
                lang,
                "must be none, estimate or accurate",
                "none、estimate、accurate のいずれかでなければなりません",
            ),
            R::SummaryMode => say!(
                lang,
                "only true, false and count are supported",
                "対応しているのは true、false、count だけです",
            ),
            R::SummaryValue => say!(
                lang,
                "must be true, text, data, count or false",
                "true、text、data、count、false のいずれかでなければなりません",
            ),
            R::CountOnRead => say!(
                lang,
                "count applies to searches, not to a read",
                "count は検索に使うもので、読み取りには使えません",
            ),
            R::ElementName(name) => say!(
                lang,
                format!("'{name}' is not an element name (letters and digits, comma-separated)"),
                format!("'{name}' は要素名ではありません（英数字の名前をカンマで区切ります）"),
            ),
            R::LowerBoundOnly => say!(
                lang,
                "only date=ge… is supported",
                "対応しているのは date=ge… の形だけです",
            ),
            R::EmptyListItem => say!(
                lang,
                "empty value in a comma-separated list",
                "カンマ区切りの値に空のものがあります",
            ),
            R::EmptySortKey => say!(lang, "empty sort key", "並べ替えのキーが空です"),
            R::Value(why) => why.clone(),
        }
    }
}

/// Why a chained parameter (`subject:Patient.name`) or a reverse chain (`_has:…`) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReason {
    /// `_has` not written as `_has:[type]:[reference parameter]:[parameter]`.
    Form,
    /// More links than the server follows.
    TooDeep(usize),
    /// The link could not be followed by `_include` either: not a reference parameter the
    /// server indexes, or never pointing at the type named (`:Type`, the searched type of `_has`).
    Link(IncludeReason),
    /// The chained parameter is not a search parameter of the type the link reaches.
    UnknownParameter { res_type: String, param: String },
    /// No type the link may reach has the chained parameter.
    NoTargetHas { param: String, chained: String },
    /// A result parameter (`_count`, `_sort`…) at the end of a chain: it filters nothing.
    NotAFilter(String),
}

impl ChainReason {
    pub fn render(&self, lang: Language) -> String {
        use ChainReason as R;
        match self {
            R::Form => say!(
                lang,
                "expected _has:[type]:[reference parameter]:[parameter]",
                "_has:[タイプ]:[参照型パラメータ]:[パラメータ] の形で書いてください",
            ),
            R::TooDeep(limit) => say!(
                lang,
                format!("a chain may follow at most {limit} references"),
                format!("チェインでたどれる参照は {limit} 段までです"),
            ),
            R::Link(reason) => reason.render(lang),
            R::UnknownParameter { res_type, param } => say!(
                lang,
                format!("{res_type} has no search parameter '{param}' on this server"),
                format!("このサーバーの {res_type} には検索パラメータ '{param}' がありません"),
            ),
            R::NoTargetHas { param, chained } => say!(
                lang,
                format!("no type '{param}' references has a search parameter '{chained}'"),
                format!(
                    "'{param}' の参照先タイプに検索パラメータ '{chained}' を持つものはありません"
                ),
            ),
            R::NotAFilter(param) => say!(
                lang,
                format!("'{param}' selects no resources and cannot end a chain"),
                format!("'{param}' はリソースを絞り込まないため、チェインの末尾に置けません"),
            ),
        }
    }
}

/// Why an `_include` or `_revinclude` value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeReason {
    /// Not `[type]:[parameter]` or `[type]:[parameter]:[target]`.
    Form,
    UnknownType(String),
    UnknownTarget(String),
    /// The type has no parameter of that name that is a reference the server indexes.
    NotReference {
        res_type: String,
        param: String,
    },
    /// `[type]:*` of a type with no reference parameter.
    NoReferences(String),
    /// The parameter never points at the target type named.
    TargetNotReferenced {
        param: String,
        target: String,
    },
}

impl IncludeReason {
    /// Whether the server could follow such a value were it indexed (`not-supported`) rather
    /// than the value being malformed (`invalid`).
    pub fn not_supported(&self) -> bool {
        matches!(
            self,
            IncludeReason::NotReference { .. } | IncludeReason::NoReferences(_)
        )
    }

    pub fn render(&self, lang: Language) -> String {
        use IncludeReason as R;
        match self {
            R::Form => say!(
                lang,
                "expected [type]:[parameter] or [type]:[parameter]:[target type]",
                "[タイプ]:[パラメータ] または [タイプ]:[パラメータ]:[参照先タイプ] の形で書いてください",
            ),
            R::UnknownType(t) => say!(
                lang,
                format!("'{t}' is not a resource type"),
                format!("'{t}' はリソースタイプではありません"),
            ),
            R::UnknownTarget(t) => say!(
                lang,
                format!("the target type '{t}' is not a resource type"),
                format!("参照先タイプ '{t}' はリソースタイプではありません"),
            ),
            R::NotReference { res_type, param } => say!(
                lang,
                format!(
                    "'{param}' is not a reference search parameter of {res_type} on this server"
                ),
                format!(
                    "'{param}' はこのサーバーの {res_type} の参照型検索パラメータではありません"
                ),
            ),
            R::NoReferences(t) => say!(
                lang,
                format!("{t} has no reference search parameter on this server"),
                format!("このサーバーの {t} には参照型の検索パラメータがありません"),
            ),
            R::TargetNotReferenced { param, target } => say!(
                lang,
                format!("'{param}' never references a {target}"),
                format!("'{param}' が {target} を参照することはありません"),
            ),
        }
    }
}

/// What a search request got wrong (`search::Error`); every variant names the parameter so the
/// OperationOutcome can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("unknown search parameter '{0}'")]
    UnknownParameter(String),
    #[error("search parameter '{param}': unsupported modifier ':{modifier}'")]
    UnsupportedModifier { param: String, modifier: String },
    #[error(
        "search parameter '{param}': invalid value '{value}': {}",
        .reason.render(Language::English)
    )]
    InvalidValue {
        param: String,
        value: String,
        reason: SearchReason,
    },
    #[error("cannot sort by '{0}'")]
    UnsupportedSort(String),
    #[error(
        "search parameter '{param}': the search carries more than {limit} values in all (the server's search_max_values)"
    )]
    TooManyValues { param: String, limit: usize },
    // The three below are refused even without `Prefer: handling=strict`: each is a filter, and
    // answering without it would return resources the search excludes (see `search::query::cannot_ignore`).
    #[error(
        "search parameter '{0}': chained parameters are not supported, and ignoring it would return resources the search excludes"
    )]
    Chain(String),
    #[error(
        "search parameter '{0}': reverse chaining (_has) is not supported, and ignoring it would return resources the search excludes"
    )]
    ReverseChain(String),
    #[error(
        "search parameter '{0}' is not supported, and ignoring it would return resources the search excludes"
    )]
    UnsupportedFilter(String),
    #[error(
        "search parameter '{param}': {}",
        .reason.render(Language::English)
    )]
    BadChain { param: String, reason: ChainReason },
    #[error(
        "search parameter '{param}': cannot include '{value}': {}",
        .reason.render(Language::English)
    )]
    Include {
        param: String,
        value: String,
        reason: IncludeReason,
    },
}

fn search_japanese(e: &SearchError) -> String {
    use SearchError as S;
    match e {
        S::UnknownParameter(p) => format!("検索パラメータ '{p}' はありません"),
        S::UnsupportedModifier { param, modifier } => {
            format!("検索パラメータ '{param}' に修飾子 ':{modifier}' は使えません")
        }
        S::InvalidValue {
            param,
            value,
            reason,
        } => format!(
            "検索パラメータ '{param}' の値 '{value}' が正しくありません: {}",
            reason.render(Language::Japanese)
        ),
        S::UnsupportedSort(key) => format!("'{key}' では並べ替えできません"),
        S::Chain(p) => format!(
            "検索パラメータ '{p}': チェイン検索には対応していません。無視すると条件に合わないリソースまで返すため、受け付けません"
        ),
        S::ReverseChain(p) => format!(
            "検索パラメータ '{p}': 逆チェイン検索（_has）には対応していません。無視すると条件に合わないリソースまで返すため、受け付けません"
        ),
        S::BadChain { param, reason } => format!(
            "検索パラメータ '{param}': {}",
            reason.render(Language::Japanese)
        ),
        S::UnsupportedFilter(p) => format!(
            "検索パラメータ '{p}' には対応していません。無視すると条件に合わないリソースまで返すため、受け付けません"
        ),
        S::TooManyValues { param, limit } => format!(
            "検索パラメータ '{param}': 検索全体の値の数が上限の {limit} を超えています（search_max_values）"
        ),
        S::Include {
            param,
            value,
            reason,
        } => format!(
            "検索パラメータ '{param}': '{value}' は含められません: {}",
            reason.render(Language::Japanese)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_of_left_out_issues_is_read_back_from_its_english_text() {
        for stopped in [false, true] {
            let text = RequestMessage::NotReported {
                count: 7,
                max: 3,
                stopped,
            }
            .render(Language::English);
            assert_eq!(not_reported(&text), Some((7, stopped)), "{text}");
        }
        assert_eq!(not_reported("7 other things"), None);
    }

    #[test]
    fn refusals_say_their_kind_in_japanese_and_keep_the_detail() {
        let m = RequestMessage::Refused {
            kind: Refusal::Forbidden,
            detail: "Patient/1".into(),
        };
        assert_eq!(m.render(Language::English), "Patient/1");
        assert_eq!(
            m.render(Language::Japanese),
            "この操作は許可されていません（Patient/1）"
        );
    }
}
