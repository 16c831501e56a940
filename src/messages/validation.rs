//! Messages of validation against profiles: structure, cardinality, invariants, profiles.

use super::values::JsonKind;
use super::{Language, say};

#[derive(Debug, Clone, PartialEq)]
pub enum ValidationMessage {
    /// An invariant evaluated to false; `expression` is its FHIRPath.
    ConstraintFailed {
        key: String,
        expression: String,
    },
    ConstraintNotEvaluated {
        key: String,
        why: String,
    },
    NoResourceType,
    UnknownResourceType {
        name: String,
    },
    NotAResourceType {
        name: String,
    },
    WrongProfileType {
        res_type: String,
        profile: String,
        profile_type: String,
    },
    UnknownElement {
        name: String,
    },
    ChoiceTypeNotAllowed {
        key: String,
        name: String,
    },
    /// `keys` are the JSON keys found (`valueQuantity`, `valueString`).
    ChoiceWithSeveralTypes {
        name: String,
        keys: Vec<String>,
    },
    /// `_code` beside a `code` that is not a primitive.
    ExtensionPartOnComplex {
        ext_key: String,
        key: String,
        ty: String,
    },
    /// `given` and `_given` of different lengths.
    ExtensionPartLength {
        key: String,
        ext_key: String,
        values: usize,
        parts: usize,
    },
    /// A primitive with an `_x` part that holds only an `id`.
    PrimitiveWithoutValue,
    RequiredMissing {
        path: String,
    },
    TooFew {
        id: String,
        min: u32,
        count: usize,
    },
    TooMany {
        id: String,
        max: u32,
        count: usize,
    },
    EmptyArray,
    NullInArray,
    NullValue,
    NotAnArray {
        key: String,
    },
    EmptyElement,
    ProfileNotKnown {
        profile: String,
    },
    ProfileNotLoaded {
        profile: String,
        res_type: String,
    },
    WrongJsonShape,
    ResourceTypeMissing,
    PrimitiveExtensionNotObject,
    NotAnObject {
        ty: String,
        found: JsonKind,
    },
    MustBeArray,
    UnknownType {
        ty: String,
    },
    /// The JSON schema of the base types could not be applied; the reason is the library's.
    StructuralPassUnavailable {
        why: String,
    },
    /// The first defect the JSON schema names, in the schema library's words.
    SchemaError {
        at: String,
        detail: String,
    },
    FileUnreadable {
        why: String,
    },
}

impl ValidationMessage {
    pub fn render(&self, lang: Language) -> String {
        use ValidationMessage as M;
        match self {
            M::ConstraintFailed { key, expression } => say!(
                lang,
                format!("constraint {key} failed: {expression}"),
                format!("制約 {key} を満たしていません: {expression}"),
            ),
            M::ConstraintNotEvaluated { key, why } => say!(
                lang,
                format!("constraint {key} could not be evaluated: {why}"),
                format!("制約 {key} を評価できませんでした: {why}"),
            ),
            M::NoResourceType => say!(
                lang,
                "a resource must have a resourceType",
                "リソースには resourceType が必要です"
            ),
            M::UnknownResourceType { name } => say!(
                lang,
                format!("unknown resource type {name}"),
                format!("リソースタイプ {name} はありません"),
            ),
            M::NotAResourceType { name } => say!(
                lang,
                format!("'{name}' is not a FHIR R4 resource type"),
                format!("'{name}' は FHIR R4 のリソースタイプではありません"),
            ),
            M::WrongProfileType {
                res_type,
                profile,
                profile_type,
            } => say!(
                lang,
                format!("a {res_type} cannot conform to {profile} (a profile of {profile_type})"),
                format!("{res_type} は {profile}（{profile_type} のプロファイル）に準拠できません"),
            ),
            M::UnknownElement { name } => say!(
                lang,
                format!("unknown element {name}"),
                format!("要素 {name} は定義されていません"),
            ),
            M::ChoiceTypeNotAllowed { key, name } => say!(
                lang,
                format!("{key}: this type is not allowed for {name}[x] here"),
                format!("{key}: ここでは {name}[x] にこの型は使えません"),
            ),
            M::ChoiceWithSeveralTypes { name, keys } => say!(
                lang,
                format!(
                    "{name}[x] appears with more than one type ({}): only one value is allowed",
                    keys.join(", ")
                ),
                format!(
                    "{name}[x] が複数の型で記述されています（{}）: 値は一つだけです",
                    keys.join(", ")
                ),
            ),
            M::ExtensionPartOnComplex { ext_key, key, ty } => say!(
                lang,
                format!("{ext_key}: only a primitive element has a `_` part, and {key} is a {ty}"),
                format!(
                    "{ext_key}: `_` の部分を持てるのはプリミティブ型の要素だけですが、{key} は {ty} です"
                ),
            ),
            M::ExtensionPartLength {
                key,
                ext_key,
                values,
                parts,
            } => say!(
                lang,
                format!(
                    "{key} and {ext_key} must be arrays of the same length, not {values} and {parts}"
                ),
                format!(
                    "{key} と {ext_key} は同じ長さの配列でなければなりません（{values} と {parts}）"
                ),
            ),
            M::PrimitiveWithoutValue => say!(
                lang,
                "a primitive element must have a value or extensions",
                "プリミティブ型の要素には値か拡張が必要です",
            ),
            M::RequiredMissing { path } => say!(
                lang,
                format!("{path}: required element missing"),
                format!("{path}: 必須の要素がありません"),
            ),
            M::TooFew { id, min, count } => say!(
                lang,
                format!("{id}: minimum required = {min}, but only found {count}"),
                format!("{id}: 最低 {min} 個必要ですが、{count} 個しかありません"),
            ),
            M::TooMany { id, max, count } => say!(
                lang,
                format!("{id}: maximum allowed = {max}, but found {count}"),
                format!("{id}: 最大 {max} 個までですが、{count} 個あります"),
            ),
            M::EmptyArray => say!(
                lang,
                "an array must not be empty",
                "配列を空にしてはいけません"
            ),
            M::NullInArray => say!(lang, "null in an array", "配列に null があります"),
            M::NullValue => say!(lang, "null is not a value", "null は値になりません"),
            M::NotAnArray { key } => say!(
                lang,
                format!("{key} must be a single value, not an array"),
                format!("{key} は配列ではなく単一の値でなければなりません"),
            ),
            M::EmptyElement => say!(
                lang,
                "an element must have a value or children (empty object)",
                "要素には値か子要素が必要です（空のオブジェクト）",
            ),
            M::ProfileNotKnown { profile } => say!(
                lang,
                format!("profile {profile} is not known (no loaded package defines it)"),
                format!(
                    "プロファイル {profile} は不明です（読み込んだパッケージのどれにも定義がありません）"
                ),
            ),
            M::ProfileNotLoaded { profile, res_type } => say!(
                lang,
                format!(
                    "profile {profile} is not defined by any loaded package; checked against the base definition of {res_type} only"
                ),
                format!(
                    "プロファイル {profile} は読み込んだパッケージのどれにも定義がないため、{res_type} の基本定義だけで検証しました"
                ),
            ),
            M::WrongJsonShape => say!(
                lang,
                "the resource does not have the JSON shape of its type",
                "リソースがその型の JSON の形になっていません",
            ),
            M::ResourceTypeMissing => {
                say!(lang, "resourceType is missing", "resourceType がありません")
            }
            M::PrimitiveExtensionNotObject => say!(
                lang,
                "the extension part (`_`) of a primitive must be a non-empty object",
                "プリミティブ型の拡張部分（`_`）は空でないオブジェクトでなければなりません",
            ),
            M::NotAnObject { ty, found } => say!(
                lang,
                format!("a {ty} must be a JSON object, not {}", found.english()),
                format!(
                    "{ty} は JSON オブジェクトでなければなりません（{}になっています）",
                    found.japanese()
                ),
            ),
            M::MustBeArray => say!(
                lang,
                "this element repeats: it must be an array",
                "この要素は繰り返し可能なため、配列でなければなりません",
            ),
            M::UnknownType { ty } => say!(
                lang,
                format!("unknown type {ty}"),
                format!("型 {ty} は定義されていません"),
            ),
            M::StructuralPassUnavailable { why } => say!(
                lang,
                format!("structural pass unavailable: {why}"),
                format!("構造の検査（JSON スキーマ）を実行できませんでした: {why}"),
            ),
            M::FileUnreadable { why } => say!(
                lang,
                format!("cannot read the file: {why}"),
                format!("ファイルを読めません: {why}"),
            ),
            M::SchemaError { at, detail } => say!(
                lang,
                format!("{at}: {detail}"),
                format!("{at}: 型の JSON の形に合いません（{detail}）"),
            ),
        }
    }
}
