//! Messages of the writes that change a resource without sending it whole: conditional update
//! (`PUT [type]?criteria`) and PATCH (JSON Patch, and in bundles a Binary holding one).

use super::{Language, say};

#[derive(Debug, Clone, PartialEq)]
pub enum PatchMessage {
    /// A conditional update whose criteria match several resources the caller may read (412).
    UpdateCriteriaSeveral { res_type: String },
    /// A conditional update matched `matched`, and the body names another id (400).
    UpdateIdNotMatched { found: String, matched: String },
    /// No match, and the body's id names a resource that exists but does not match (409).
    UpdateIdInUse { reference: String },
    /// The body of a PATCH is no JSON Patch document (400).
    NotAPatch { detail: String },
    /// One operation of the patch could not be applied (422); `index` counts from 0.
    OperationFailed {
        index: usize,
        op: String,
        path: String,
        why: PatchFailure,
    },
    /// The patched resource has another `id` or `resourceType` than the one patched (422).
    ChangesIdentity { element: &'static str },
    /// A PATCH body of a type other than JSON Patch (415).
    PatchContentType { content_type: String },
    /// A PATCH entry of a bundle carries a Binary (JSON Patch) or a Parameters (FHIRPath Patch).
    EntryPatchNotBinary,
}

/// Why one operation of a JSON Patch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFailure {
    /// A `test` found another value.
    TestFailed,
    /// `path` names no place the operation can act on.
    BadPath,
    /// `from` of a `move` or `copy` names nothing.
    BadFrom,
    /// A `move` into what it moves.
    MoveIntoItself,
}

impl PatchFailure {
    fn english(self) -> &'static str {
        match self {
            PatchFailure::TestFailed => "the value differs from the one tested",
            PatchFailure::BadPath => "the path does not exist in the resource",
            PatchFailure::BadFrom => "the from path does not exist in the resource",
            PatchFailure::MoveIntoItself => "a value cannot be moved into itself",
        }
    }

    fn japanese(self) -> &'static str {
        match self {
            PatchFailure::TestFailed => "値が test の値と異なります",
            PatchFailure::BadPath => "path がリソースに存在しません",
            PatchFailure::BadFrom => "from の path がリソースに存在しません",
            PatchFailure::MoveIntoItself => "値をそれ自身の中へ移動することはできません",
        }
    }
}

impl PatchMessage {
    pub fn render(&self, lang: Language) -> String {
        use PatchMessage as M;
        match self {
            M::UpdateCriteriaSeveral { res_type } => say!(
                lang,
                format!("the criteria match more than one {res_type}; nothing was updated"),
                format!("条件に複数の {res_type} が該当するため、何も更新しませんでした"),
            ),
            M::UpdateIdNotMatched { found, matched } => say!(
                lang,
                format!(
                    "the criteria match id '{matched}', the resource carries id '{found}'; nothing was updated"
                ),
                format!(
                    "条件に該当したのは id '{matched}' ですが、リソースの id は '{found}' です。何も更新しませんでした"
                ),
            ),
            M::UpdateIdInUse { reference } => say!(
                lang,
                format!(
                    "nothing matches the criteria, and {reference} exists without matching them; nothing was written"
                ),
                format!(
                    "条件に該当するリソースはありませんが、{reference} は条件に該当しないまま存在します。何も書き込みませんでした"
                ),
            ),
            M::NotAPatch { detail } => say!(
                lang,
                format!("the body is not a JSON Patch (RFC 6902): {detail}"),
                format!("本文が JSON Patch（RFC 6902）ではありません: {detail}"),
            ),
            M::OperationFailed {
                index,
                op,
                path,
                why,
            } => say!(
                lang,
                format!(
                    "patch operation {index} ({op} {path}) could not be applied: {}; nothing was changed",
                    why.english()
                ),
                format!(
                    "パッチの操作 {index}（{op} {path}）を適用できませんでした: {}。何も変更していません",
                    why.japanese()
                ),
            ),
            M::ChangesIdentity { element } => say!(
                lang,
                format!("a patch may not change the resource's {element}"),
                format!("パッチでリソースの {element} を変更することはできません"),
            ),
            M::PatchContentType { content_type } => say!(
                lang,
                format!(
                    "PATCH takes application/json-patch+json, or a FHIRPath Patch as application/fhir+json or application/fhir+xml; Content-Type '{content_type}' is not supported"
                ),
                format!(
                    "PATCH には application/json-patch+json か、FHIRPath Patch を application/fhir+json か application/fhir+xml で送ってください。Content-Type '{content_type}' には対応していません"
                ),
            ),
            M::EntryPatchNotBinary => say!(
                lang,
                "a PATCH entry carries its JSON Patch as a Binary resource (contentType application/json-patch+json, data the base64 of the patch), or a FHIRPath Patch as a Parameters resource",
                "PATCH の entry では、JSON Patch を Binary リソース（contentType application/json-patch+json、data にパッチの base64）で、または FHIRPath Patch を Parameters リソースで送ってください",
            ),
        }
    }
}
