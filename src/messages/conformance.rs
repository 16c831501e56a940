//! Messages of conformance to a profile beyond an element's own structure: which profile and
//! IG release judged an instance, slicing, extensions and their contexts, bindings, and the
//! targets of references.

use super::codes::CodeFinding;
use super::{Language, say};

/// How the version a `meta.profile` declared relates to the IG release that judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// The declared version is the one used.
    Exactly,
    NoVersion,
    /// Declared under another name of the same release (`|1` for 1.5.2's profiles).
    As(String),
    /// The declared version is loaded nowhere: this release was used in its place.
    Replaced,
}

/// How the version a `meta.profile` declared relates to the operator's loaded package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    Exactly,
    /// `|1.5` for 1.5.2: a release line, not a mismatch.
    Partial,
    NotLoaded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConformanceMessage {
    ProfileUnusable {
        profile: String,
        why: String,
    },
    ProfileNotLoadedBaseDefinition {
        profile: String,
    },
    ProfileNotLoadedBaseType {
        profile: String,
    },
    ConformsToNone {
        res_type: String,
        profiles: String,
    },
    ValidatedAgainstRelease {
        release: String,
        url: String,
        version: String,
        declared: Declared,
    },
    VersionNotInIg {
        asked: String,
        url: String,
        loaded: String,
        release: String,
    },
    ValidatedAgainstLoaded {
        url: String,
        loaded: String,
        asked: String,
        how: Loaded,
    },
    VersionNotLoaded {
        asked: String,
        url: String,
        loaded: String,
    },
    SliceTooFew {
        id: String,
        min: u32,
        count: usize,
    },
    SliceTooMany {
        id: String,
        max: u32,
        count: usize,
    },
    SliceOutOfOrder {
        slice: String,
        after: String,
    },
    OpenAtEnd,
    ClosedSlicing {
        id: String,
    },
    ExtensionNotKnown {
        url: String,
        modifier: bool,
    },
    ExtensionContext {
        url: String,
        site: String,
        allowed: String,
    },
    NoCodeForRequiredBinding {
        value_set: String,
    },
    /// `why` is the terminology's own reason (a value set or code system not loaded…).
    CodeUnchecked {
        code: String,
        value_set: String,
        strength: String,
        why: String,
    },
    NotInValueSet {
        code: String,
        value_set: String,
        strength: String,
    },
    /// What the code system says of a Coding or Identifier value.
    CodeFinding(CodeFinding),
    ReferenceWrongType {
        reference: String,
        res_type: String,
        targets: String,
    },
    ReferenceNotConforming {
        reference: String,
        res_type: String,
        targets: String,
    },
    ImpliedTypeNotAllowed {
        path: String,
        res_type: String,
        reference: String,
        allowed: String,
    },
    DeclaredTypeDisagreesWithTarget {
        path: String,
        declared: String,
        reference: String,
        found: String,
    },
    DeclaredTypeNotAResource {
        path: String,
        declared: String,
    },
    DeclaredTypeDisagreesWithReference {
        path: String,
        declared: String,
        literal: String,
    },
    TypeNotAllowed {
        path: String,
        res_type: String,
        allowed: String,
    },
}

impl ConformanceMessage {
    pub fn render(&self, lang: Language) -> String {
        use ConformanceMessage as M;
        match self {
            M::ProfileUnusable { profile, why } => say!(
                lang,
                format!("profile {profile} cannot be used: {why}"),
                format!("プロファイル {profile} は使用できません: {why}"),
            ),
            M::ProfileNotLoadedBaseDefinition { profile } => say!(
                lang,
                format!(
                    "profile {profile} is not defined by any loaded package; checked against the base definition only"
                ),
                format!(
                    "プロファイル {profile} は読み込んだパッケージのどれにも定義がないため、基本定義だけで検証しました"
                ),
            ),
            M::ProfileNotLoadedBaseType { profile } => say!(
                lang,
                format!("profile {profile} is not loaded: checked against the base type only"),
                format!(
                    "プロファイル {profile} は読み込まれていないため、基本の型だけで検証しました"
                ),
            ),
            M::ConformsToNone { res_type, profiles } => say!(
                lang,
                format!("a {res_type} cannot conform to any of {profiles}"),
                format!("{res_type} は {profiles} のいずれにも準拠できません"),
            ),
            M::ValidatedAgainstRelease {
                release,
                url,
                version,
                declared,
            } => {
                let (en, ja) = match declared {
                    Declared::Exactly => (String::new(), String::new()),
                    Declared::NoVersion => (
                        " (no version declared)".to_string(),
                        "（バージョンの宣言なし）".to_string(),
                    ),
                    Declared::As(a) => (
                        format!(" (declared as version {a})"),
                        format!("（宣言はバージョン {a}）"),
                    ),
                    Declared::Replaced => (" instead".to_string(), "（代替）".to_string()),
                };
                say!(
                    lang,
                    format!("validated against {release}: {url} version {version}{en}"),
                    format!("{release} で検証しました: {url} バージョン {version}{ja}"),
                )
            }
            M::VersionNotInIg {
                asked,
                url,
                loaded,
                release,
            } => say!(
                lang,
                format!(
                    "meta.profile declares version {asked} of {url}, which no loaded IG has (loaded: {loaded}); {release} was used instead"
                ),
                format!(
                    "meta.profile が宣言する {url} のバージョン {asked} は、読み込んだ IG のどれにもありません（読み込み済み: {loaded}）。代わりに {release} を使用しました"
                ),
            ),
            M::ValidatedAgainstLoaded {
                url,
                loaded,
                asked,
                how,
            } => {
                let (en, ja) = match how {
                    Loaded::Exactly => (String::new(), String::new()),
                    Loaded::Partial => (
                        format!(" ({asked} read as a partial version)"),
                        format!("（{asked} は部分的なバージョンとして解釈）"),
                    ),
                    Loaded::NotLoaded => (
                        format!(" (version {asked} is not loaded)"),
                        format!("（バージョン {asked} は読み込まれていません）"),
                    ),
                };
                say!(
                    lang,
                    format!(
                        "validated against {url} version {loaded}, declared as version {asked}{en}"
                    ),
                    format!(
                        "{url} バージョン {loaded} で検証しました（宣言はバージョン {asked}）{ja}"
                    ),
                )
            }
            M::VersionNotLoaded { asked, url, loaded } => say!(
                lang,
                format!(
                    "meta.profile declares version {asked} of {url}, but version {loaded} is the one loaded and was used instead"
                ),
                format!(
                    "meta.profile は {url} のバージョン {asked} を宣言していますが、読み込まれているのはバージョン {loaded} のため、そちらを使用しました"
                ),
            ),
            M::SliceTooFew { id, min, count } => say!(
                lang,
                format!("slice {id}: minimum required = {min}, but only found {count}"),
                format!("スライス {id}: 最低 {min} 個必要ですが、{count} 個しかありません"),
            ),
            M::SliceTooMany { id, max, count } => say!(
                lang,
                format!("slice {id}: maximum allowed = {max}, but found {count}"),
                format!("スライス {id}: 最大 {max} 個までですが、{count} 個あります"),
            ),
            M::SliceOutOfOrder { slice, after } => say!(
                lang,
                format!("slices are ordered: this item (slice {slice}) comes after slice {after}"),
                format!(
                    "スライスの順序が定められています: この要素（スライス {slice}）がスライス {after} の後にあります"
                ),
            ),
            M::OpenAtEnd => say!(
                lang,
                "slicing is openAtEnd: items matching no slice must come last",
                "スライシングは openAtEnd です: どのスライスにも該当しない要素は最後に置かなければなりません",
            ),
            M::ClosedSlicing { id } => say!(
                lang,
                format!("slicing of {id} is closed: this item matches no slice"),
                format!(
                    "{id} のスライシングは closed です: この要素はどのスライスにも該当しません"
                ),
            ),
            M::ExtensionNotKnown {
                url,
                modifier: false,
            } => say!(
                lang,
                format!("extension {url} is not known (no loaded package defines it)"),
                format!("拡張 {url} は不明です（読み込んだパッケージのどれにも定義がありません）"),
            ),
            M::ExtensionNotKnown { url, .. } => say!(
                lang,
                format!("modifier extension {url} is not known (no loaded package defines it)"),
                format!(
                    "修飾拡張（modifierExtension）{url} は不明です（読み込んだパッケージのどれにも定義がありません）"
                ),
            ),
            M::ExtensionContext { url, site, allowed } => say!(
                lang,
                format!("extension {url} is not allowed on {site} (its context: {allowed})"),
                format!("拡張 {url} は {site} には使えません（使用できるコンテキスト: {allowed}）"),
            ),
            M::NoCodeForRequiredBinding { value_set } => say!(
                lang,
                format!("no code given, and the binding to {value_set} is required"),
                format!(
                    "コードがありませんが、{value_set} へのバインディングは required（必須）です"
                ),
            ),
            M::CodeUnchecked {
                code,
                value_set,
                strength,
                why,
            } => say!(
                lang,
                format!("code {code} could not be checked against {value_set} ({strength}): {why}"),
                format!(
                    "コード {code} が {value_set}（{strength}）に含まれるか検査できませんでした: {why}"
                ),
            ),
            M::NotInValueSet {
                code,
                value_set,
                strength,
            } => say!(
                lang,
                format!("code {code} is not in the value set {value_set} ({strength} binding)"),
                format!(
                    "コード {code} は値セット {value_set} に含まれていません（バインディングの強さ: {strength}）"
                ),
            ),
            M::CodeFinding(finding) => finding.render(lang),
            M::ReferenceWrongType {
                reference,
                res_type,
                targets,
            } => say!(
                lang,
                format!("reference {reference} points to a {res_type}, not to one of {targets}"),
                format!(
                    "参照 {reference} の参照先は {res_type} で、{targets} のいずれでもありません"
                ),
            ),
            M::ImpliedTypeNotAllowed {
                path,
                res_type,
                reference,
                allowed,
            } => say!(
                lang,
                format!(
                    "{path}: the type {res_type} implied by the reference {reference} is not a valid target (must be one of {allowed})"
                ),
                format!(
                    "{path}: 参照 {reference} が示す型 {res_type} は参照先として使えません（{allowed} のいずれかでなければなりません）"
                ),
            ),
            M::DeclaredTypeDisagreesWithTarget {
                path,
                declared,
                reference,
                found,
            } => say!(
                lang,
                format!(
                    "{path}: type {declared} does not agree with the target of {reference}, a {found}"
                ),
                format!("{path}: type {declared} が {reference} の参照先（{found}）と一致しません"),
            ),
            M::DeclaredTypeNotAResource { path, declared } => say!(
                lang,
                format!("{path}: type {declared} is not a resource type"),
                format!("{path}: type {declared} はリソースタイプではありません"),
            ),
            M::DeclaredTypeDisagreesWithReference {
                path,
                declared,
                literal,
            } => say!(
                lang,
                format!(
                    "{path}: type {declared} does not agree with the reference, which names a {literal}"
                ),
                format!("{path}: type {declared} が、{literal} を示す参照と一致しません"),
            ),
            M::TypeNotAllowed {
                path,
                res_type,
                allowed,
            } => say!(
                lang,
                format!(
                    "{path}: the type {res_type} is not a valid target (must be one of {allowed})"
                ),
                format!(
                    "{path}: 型 {res_type} は参照先として使えません（{allowed} のいずれかでなければなりません）"
                ),
            ),
            M::ReferenceNotConforming {
                reference,
                res_type,
                targets,
            } => say!(
                lang,
                format!(
                    "reference {reference}: the {res_type} it points to does not conform to {targets}"
                ),
                format!("参照 {reference}: 参照先の {res_type} が {targets} に準拠していません"),
            ),
        }
    }
}
