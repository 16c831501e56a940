//! Messages of the Bundle rules beyond its invariants: `fullUrl`, references that must resolve
//! inside the Bundle, document and message contents.

use super::{Language, say};

#[derive(Debug, Clone, PartialEq)]
pub enum BundleMessage {
    /// A document or message with no entry; `first` is what its first entry must be.
    NoEntries {
        kind: String,
        first: &'static str,
    },
    FullUrlMissing {
        kind: String,
    },
    FullUrlNotAbsolute {
        url: String,
    },
    /// A RESTful `fullUrl` of `ty/id` on a resource without an id.
    FullUrlWithoutId {
        url: String,
        ty: String,
        id: String,
    },
    /// A RESTful `fullUrl` that does not end with the resource's `rt/rid`.
    FullUrlDisagrees {
        url: String,
        rt: String,
        rid: String,
    },
    SameResource {
        ty: String,
        id: String,
        first: usize,
        again: usize,
    },
    /// A `urn:uuid:` or `urn:oid:` (`scheme`) reference that finds no entry.
    UrnUnresolved {
        reference: String,
        scheme: &'static str,
    },
    /// A reference of a document or message (`kind`) that finds no entry.
    Unresolved {
        reference: String,
        kind: String,
    },
    WrongType {
        reference: String,
        named: String,
        actual: String,
        entry: usize,
    },
    NotInDocument {
        reference: String,
    },
    NotInMessage {
        reference: String,
    },
    /// Entry `index` (with its fullUrl, when it has one) is reached from no chain of references
    /// from the document's Composition or the message's MessageHeader (`first`).
    Unreached {
        index: usize,
        full_url: Option<String>,
        first: &'static str,
    },
}

impl BundleMessage {
    pub fn render(&self, lang: Language) -> String {
        use BundleMessage as M;
        match self {
            M::NoEntries { kind, first } => say!(
                lang,
                format!("a {kind} Bundle must have entries, the first one its {first}"),
                format!("{kind} の Bundle にはエントリが必要です（最初のエントリは {first}）"),
            ),
            M::FullUrlMissing { kind } => say!(
                lang,
                format!("an entry of a {kind} Bundle must have a fullUrl"),
                format!("{kind} の Bundle のエントリには fullUrl が必要です"),
            ),
            M::FullUrlNotAbsolute { url } => say!(
                lang,
                format!(
                    "fullUrl '{url}' is not absolute: it must be a URL, a urn:uuid: or a urn:oid:"
                ),
                format!(
                    "fullUrl '{url}' が絶対 URI ではありません（URL、urn:uuid: または urn:oid: で記述してください）"
                ),
            ),
            M::FullUrlWithoutId { url, ty, id } => say!(
                lang,
                format!(
                    "fullUrl '{url}' is the RESTful URL of {ty}/{id}, but the resource has no id"
                ),
                format!(
                    "fullUrl '{url}' は {ty}/{id} の RESTful URL ですが、リソースに id がありません"
                ),
            ),
            M::FullUrlDisagrees { url, rt, rid } => say!(
                lang,
                format!(
                    "fullUrl '{url}' does not end with the resource's type and id ({rt}/{rid})"
                ),
                format!(
                    "fullUrl '{url}' の末尾がリソースのタイプと id（{rt}/{rid}）と一致しません"
                ),
            ),
            M::SameResource {
                ty,
                id,
                first,
                again,
            } => say!(
                lang,
                format!(
                    "{ty}/{id} is in entry {first} and again in entry {again}: a reference to {ty}/{id} cannot tell them apart"
                ),
                format!(
                    "{ty}/{id} がエントリ {first} とエントリ {again} の両方にあります（{ty}/{id} への参照がどちらを指すか決まりません）"
                ),
            ),
            M::UrnUnresolved { reference, scheme } => say!(
                lang,
                format!(
                    "reference {reference} resolves to no entry of the Bundle: a {scheme} reference can only point inside it"
                ),
                format!(
                    "参照 {reference} に当たるエントリが Bundle にありません（{scheme} の参照は Bundle の中しか指せません）"
                ),
            ),
            M::Unresolved { reference, kind } => say!(
                lang,
                format!("reference {reference} resolves to no entry of the {kind} Bundle"),
                format!("参照 {reference} に当たるエントリが {kind} の Bundle にありません"),
            ),
            M::WrongType {
                reference,
                named,
                actual,
                entry,
            } => say!(
                lang,
                format!(
                    "reference {reference} names a {named}, but resolves to the {actual} in entry {entry}"
                ),
                format!(
                    "参照 {reference} は {named} を指していますが、エントリ {entry} の {actual} に当たります"
                ),
            ),
            M::NotInDocument { reference } => say!(
                lang,
                format!(
                    "reference {reference} is not in the document: what the Composition refers to must be an entry of the Bundle"
                ),
                format!(
                    "参照 {reference} が文書の中にありません（Composition が参照するものは Bundle のエントリでなければなりません）"
                ),
            ),
            M::NotInMessage { reference } => say!(
                lang,
                format!(
                    "reference {reference} is not in the message: the MessageHeader's focus must be an entry of the Bundle"
                ),
                format!(
                    "参照 {reference} がメッセージの中にありません（MessageHeader の focus は Bundle のエントリでなければなりません）"
                ),
            ),
            M::Unreached {
                index,
                full_url,
                first,
            } => {
                let url = full_url
                    .as_deref()
                    .map(|u| format!(" ({u})"))
                    .unwrap_or_default();
                say!(
                    lang,
                    format!(
                        "entry {index}{url} is not reached from the {first} by any chain of references"
                    ),
                    format!(
                        "エントリ {index}{url} は {first} からどの参照をたどっても到達できません"
                    ),
                )
            }
        }
    }
}
