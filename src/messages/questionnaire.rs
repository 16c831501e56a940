//! Messages of a QuestionnaireResponse checked against its Questionnaire: finding the
//! Questionnaire, the item tree (linkIds, order, repeats, required and enabled items) and the
//! answers (types and options).

use super::{Language, say};

#[derive(Debug, Clone, PartialEq)]
pub enum QuestionnaireMessage {
    NoQuestionnaire,
    NotFound {
        canonical: String,
    },
    NoLinkId,
    OutOfOrder {
        link_id: String,
    },
    WrongPlace {
        link_id: String,
    },
    UnknownLinkId {
        link_id: String,
    },
    AnsweredWhileDisabled {
        link_id: String,
    },
    /// An `enableWhen` compares dates or times of different precision: neither enabled nor
    /// disabled.
    EnableStateUnknown {
        link_id: String,
    },
    RepeatedItem {
        link_id: String,
        count: usize,
    },
    RequiredMissing {
        link_id: String,
    },
    TextDiffers {
        link_id: String,
    },
    RepeatedAnswer {
        link_id: String,
        count: usize,
    },
    GroupAnswered {
        link_id: String,
    },
    DisplayAnswered {
        link_id: String,
    },
    DisplayWithItems {
        link_id: String,
    },
    ItemsOutsideAnswer {
        link_id: String,
    },
    /// `allowed`: the answer elements the item type takes (`valueCoding or valueString`).
    WrongAnswerType {
        link_id: String,
        kind: String,
        allowed: String,
        found: String,
    },
    NoOptionsOfType {
        link_id: String,
        ty: String,
    },
    NotAnOption {
        value: String,
        link_id: String,
    },
    NoOptionsAtAll {
        link_id: String,
    },
    NoCode {
        link_id: String,
        value_set: String,
    },
    NotInValueSet {
        code: String,
        value_set: String,
        link_id: String,
    },
    ValueSetUnchecked {
        code: String,
        value_set: String,
        why: String,
    },
}

impl QuestionnaireMessage {
    pub fn render(&self, lang: Language) -> String {
        use QuestionnaireMessage as M;
        match self {
            M::NoQuestionnaire => say!(
                lang,
                "no questionnaire is named, so the answers are not checked against one",
                "questionnaire が指定されていないため、回答は質問票と照合されません",
            ),
            M::NotFound { canonical } => say!(
                lang,
                format!(
                    "the questionnaire {canonical} could not be found (contained, in the Bundle, in a loaded package or among the questionnaires on this server you may read), so the answers are not checked against it"
                ),
                format!(
                    "質問票 {canonical} が見つからない（contained、同じ Bundle、読み込まれたパッケージ、このサーバー上の参照可能な質問票のいずれにもない）ため、回答は照合されません"
                ),
            ),
            M::NoLinkId => say!(
                lang,
                "the item has no linkId, so it cannot be checked against the questionnaire",
                "item に linkId がないため、質問票と照合できません",
            ),
            M::OutOfOrder { link_id } => say!(
                lang,
                format!(
                    "item {link_id} is out of order: the questionnaire puts it before the item preceding it"
                ),
                format!(
                    "item {link_id} の順序が質問票と異なります（質問票では直前の item より前にあります）"
                ),
            ),
            M::WrongPlace { link_id } => say!(
                lang,
                format!(
                    "item {link_id} is in the wrong place: the questionnaire defines it at another level"
                ),
                format!(
                    "item {link_id} の位置が誤っています（質問票では別の階層に定義されています）"
                ),
            ),
            M::UnknownLinkId { link_id } => say!(
                lang,
                format!("linkId {link_id} is not in the questionnaire"),
                format!("linkId {link_id} は質問票にありません"),
            ),
            M::EnableStateUnknown { link_id } => say!(
                lang,
                format!(
                    "whether item {link_id} is enabled cannot be decided: its enableWhen compares dates or times of different precision, so neither a missing nor a given answer is judged"
                ),
                format!(
                    "item {link_id} が有効か判定できません（enableWhen が精度の異なる日付・時刻を比較しています）。回答の有無は判定しません"
                ),
            ),
            M::AnsweredWhileDisabled { link_id } => say!(
                lang,
                format!("item {link_id} has answers, though enableWhen disables it"),
                format!("item {link_id} は enableWhen により無効ですが、回答があります"),
            ),
            M::RepeatedItem { link_id, count } => say!(
                lang,
                format!(
                    "only one item with linkId {link_id} is allowed (it does not repeat), found {count}"
                ),
                format!(
                    "linkId {link_id} の item は繰り返せないため 1 つまでですが、{count} 個あります"
                ),
            ),
            M::RequiredMissing { link_id } => say!(
                lang,
                format!("no answer for the required item {link_id}"),
                format!("必須の item {link_id} に回答がありません"),
            ),
            M::TextDiffers { link_id } => say!(
                lang,
                format!("the item's text differs from the questionnaire's for linkId {link_id}"),
                format!("linkId {link_id} の item の text が質問票と異なります"),
            ),
            M::RepeatedAnswer { link_id, count } => say!(
                lang,
                format!(
                    "item {link_id} does not repeat: only one answer is allowed, found {count}"
                ),
                format!(
                    "item {link_id} は繰り返せないため回答は 1 つまでですが、{count} 個あります"
                ),
            ),
            M::GroupAnswered { link_id } => say!(
                lang,
                format!(
                    "item {link_id} is a group: a group has no answers (its questions are in item)"
                ),
                format!(
                    "item {link_id} はグループです。グループは回答を持ちません（質問は item に置きます）"
                ),
            ),
            M::DisplayAnswered { link_id } => say!(
                lang,
                format!("item {link_id} is display text: it has no answers"),
                format!("item {link_id} は表示用のテキストで、回答を持ちません"),
            ),
            M::DisplayWithItems { link_id } => say!(
                lang,
                format!("item {link_id} is display text: it has no items"),
                format!("item {link_id} は表示用のテキストで、item を持ちません"),
            ),
            M::ItemsOutsideAnswer { link_id } => say!(
                lang,
                format!(
                    "item {link_id} is not a group: the items nested in a question belong in answer.item"
                ),
                format!(
                    "item {link_id} はグループではありません。質問に入れ子にする item は answer.item に置きます"
                ),
            ),
            M::WrongAnswerType {
                link_id,
                kind,
                allowed,
                found,
            } => say!(
                lang,
                format!(
                    "the answer to item {link_id} ({kind}) must be {allowed}, not value{found}"
                ),
                format!(
                    "item {link_id}（{kind}）の回答は value{found} ではなく {allowed} でなければなりません"
                ),
            ),
            M::NoOptionsOfType { link_id, ty } => say!(
                lang,
                format!(
                    "item {link_id} has no value{ty} options, so value{ty} is not a valid answer"
                ),
                format!(
                    "item {link_id} には value{ty} の選択肢がないため、value{ty} は回答になりません"
                ),
            ),
            M::NotAnOption { value, link_id } => say!(
                lang,
                format!("{value} is not one of the options of item {link_id}"),
                format!("{value} は item {link_id} の選択肢にありません"),
            ),
            M::NoOptionsAtAll { link_id } => say!(
                lang,
                format!(
                    "item {link_id} has neither answerOption nor answerValueSet: the code cannot be checked"
                ),
                format!(
                    "item {link_id} には answerOption も answerValueSet もないため、コードを検証できません"
                ),
            ),
            M::NoCode { link_id, value_set } => say!(
                lang,
                format!("the answer to item {link_id} has no code from {value_set}"),
                format!("item {link_id} の回答に {value_set} のコードがありません"),
            ),
            M::NotInValueSet {
                code,
                value_set,
                link_id,
            } => say!(
                lang,
                format!(
                    "code {code} is not in the options value set {value_set} of item {link_id}"
                ),
                format!(
                    "コード {code} は item {link_id} の選択肢の値セット {value_set} にありません"
                ),
            ),
            M::ValueSetUnchecked {
                code,
                value_set,
                why,
            } => say!(
                lang,
                format!("code {code} could not be checked against {value_set}: {why}"),
                format!("コード {code} を {value_set} と照合できませんでした: {why}"),
            ),
        }
    }
}
