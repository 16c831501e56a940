//! Messages about markup: the narrative rules for XHTML (txt-1, txt-2 and what the reference
//! validator refuses), and what the XML parser found wrong, in a narrative or in an XML body.

use super::{Language, say};

/// The namespace of FHIR XML (`fhir::xml`), which the texts name.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The namespace a narrative's XHTML must be in.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// What the XML parser found wrong, without its position (the caller says where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlProblem {
    /// `<!` followed by something that is no comment, CDATA section or DOCTYPE.
    BadMarkup,
    /// The input ends inside a construct.
    Unclosed(Construct),
    /// A start tag whose end tag never comes.
    MissingEndTag {
        name: String,
    },
    /// An end tag with no start tag open.
    UnmatchedEndTag {
        name: String,
    },
    MismatchedEndTag {
        expected: String,
        found: String,
    },
    DoubleHyphenInComment,
    DeclarationWithoutVersion,
    DoctypeWithoutName,
    Attribute(AttributeProblem),
    /// `&name;` of an entity XML does not predefine (and no DTD could declare).
    UnknownEntity {
        name: String,
    },
    /// `&` with no `;` after it.
    UnterminatedReference,
    /// `&#…;` that is no number.
    BadCharacterReference,
    /// `&#…;` naming a code point XML does not allow (NUL, a surrogate…).
    CharacterNotAllowed {
        code: u32,
    },
    UnknownPrefix {
        prefix: String,
    },
    /// The `xml` or `xmlns` prefix or namespace bound where XML reserves it.
    ReservedPrefix,
    NotUtf8,
    /// The input could not be read at all.
    Unreadable,
}

/// A construct the input may end inside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construct {
    Tag,
    Comment,
    CData,
    Doctype,
    /// A processing instruction or the XML declaration.
    Instruction,
    Reference,
}

/// What is wrong with an attribute as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeProblem {
    /// A name not followed by `=`.
    NoEquals,
    /// `=` with no value after it.
    NoValue,
    Unquoted,
    /// The value's closing quote is missing.
    Unterminated {
        quote: char,
    },
    Duplicated,
}

impl XmlProblem {
    pub fn render(&self, lang: Language) -> String {
        use XmlProblem as P;
        match self {
            P::BadMarkup => say!(
                lang,
                "unknown markup after '<!' (only comments, CDATA and DOCTYPE start so)",
                "'<!' の後が不明なマークアップです（'<!' で始まるのはコメント、CDATA、DOCTYPE だけです）",
            ),
            P::Unclosed(c) => c.render(lang),
            P::MissingEndTag { name } => say!(
                lang,
                format!("<{name}> is never closed"),
                format!("<{name}> が閉じられていません"),
            ),
            P::UnmatchedEndTag { name } => say!(
                lang,
                format!("the end tag </{name}> closes no open element"),
                format!("終了タグ </{name}> に対応する開始タグがありません"),
            ),
            P::MismatchedEndTag { expected, found } => say!(
                lang,
                format!("expected </{expected}>, found </{found}>"),
                format!("</{expected}> があるべきところに </{found}> があります"),
            ),
            P::DoubleHyphenInComment => say!(
                lang,
                "a comment holds '--', which XML forbids there",
                "コメントの中に '--' があります（XML では使えません）",
            ),
            P::DeclarationWithoutVersion => say!(
                lang,
                "the XML declaration does not start with its version",
                "XML 宣言が version から始まっていません",
            ),
            P::DoctypeWithoutName => say!(
                lang,
                "the DOCTYPE names no document type",
                "DOCTYPE に文書型の名前がありません",
            ),
            P::Attribute(a) => a.render(lang),
            P::UnknownEntity { name } => say!(
                lang,
                format!("the entity &{name}; is not defined"),
                format!("実体参照 &{name}; は定義されていません"),
            ),
            P::UnterminatedReference => say!(
                lang,
                "'&' starts a reference that no ';' ends (write a lone & as &amp;)",
                "'&' で始まる参照が ';' で終わっていません（& そのものは &amp; と書きます）",
            ),
            P::BadCharacterReference => say!(
                lang,
                "a character reference (&#…;) is not a number",
                "文字参照（&#…;）が数値になっていません",
            ),
            P::CharacterNotAllowed { code } => say!(
                lang,
                format!(
                    "the character reference to U+{code:04X} names a character XML does not allow"
                ),
                format!("U+{code:04X} への文字参照は XML で使えない文字を指しています"),
            ),
            P::UnknownPrefix { prefix } => say!(
                lang,
                format!("the namespace prefix '{prefix}' is not declared"),
                format!("名前空間の接頭辞 '{prefix}' が宣言されていません"),
            ),
            P::ReservedPrefix => say!(
                lang,
                "the xml and xmlns prefixes and their namespaces are reserved and cannot be rebound",
                "接頭辞 xml と xmlns およびそれらの名前空間は予約されていて、別に割り当てることはできません",
            ),
            P::NotUtf8 => say!(
                lang,
                "the text is not UTF-8",
                "テキストが UTF-8 ではありません"
            ),
            P::Unreadable => say!(
                lang,
                "the input could not be read",
                "入力を読み取れませんでした"
            ),
        }
    }
}

impl Construct {
    fn render(self, lang: Language) -> String {
        let (en, ja) = match self {
            Construct::Tag => (
                "a tag is not closed: no '>'",
                "タグが閉じられていません（'>' がありません）",
            ),
            Construct::Comment => (
                "a comment is not closed: no '-->'",
                "コメントが閉じられていません（'-->' がありません）",
            ),
            Construct::CData => (
                "a CDATA section is not closed: no ']]>'",
                "CDATA セクションが閉じられていません（']]>' がありません）",
            ),
            Construct::Doctype => (
                "a DOCTYPE is not closed: no '>'",
                "DOCTYPE が閉じられていません（'>' がありません）",
            ),
            Construct::Instruction => (
                "a processing instruction or XML declaration is not closed: no '?>'",
                "処理命令または XML 宣言が閉じられていません（'?>' がありません）",
            ),
            Construct::Reference => (
                "a reference is not closed: no ';' (write a lone & as &amp;)",
                "参照が閉じられていません（';' がありません。& そのものは &amp; と書きます）",
            ),
        };
        say!(lang, en, ja)
    }
}

impl AttributeProblem {
    fn render(self, lang: Language) -> String {
        match self {
            AttributeProblem::NoEquals => say!(
                lang,
                "an attribute name is not followed by '='",
                "属性名の後に '=' がありません",
            ),
            AttributeProblem::NoValue => say!(
                lang,
                "an attribute has '=' but no value",
                "属性に '=' がありますが値がありません",
            ),
            AttributeProblem::Unquoted => say!(
                lang,
                "an attribute value is not in quotes",
                "属性値が引用符で囲まれていません",
            ),
            AttributeProblem::Unterminated { quote } => say!(
                lang,
                format!("an attribute value has no closing {quote}"),
                format!("属性値を閉じる {quote} がありません"),
            ),
            AttributeProblem::Duplicated => say!(
                lang,
                "an attribute is given twice",
                "同じ属性が 2 回書かれています",
            ),
        }
    }
}

/// Why a narrative's XHTML breaks the FHIR rules
/// (<https://hl7.org/fhir/R4/narrative.html#xhtml>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NarrativeError {
    /// Not well-formed XML.
    Malformed(XmlProblem),
    /// A second element or text after the root `div`.
    NotSingleDiv,
    TextOutsideDiv,
    /// Nothing at all, or no element.
    NoDiv,
    RootNotDiv {
        name: String,
    },
    NotXhtml {
        name: String,
    },
    ElementNotAllowed {
        name: String,
    },
    /// A block (`div`, `p`, `table`, a list…) inside a paragraph; `parent` is the element it sits
    /// in directly.
    BlockInParagraph {
        name: String,
        parent: String,
    },
    Instruction,
    Doctype,
    /// txt-2: no text and no image.
    NoContent,
    /// An entity other than the five XML ones (a narrative has no DTD to declare it).
    UndeclaredEntity {
        name: String,
    },
    /// A character reference (`&#0;`) to a character XML does not allow.
    CharacterNotAllowed {
        reference: String,
    },
    /// An attribute that cannot be read as XML.
    BadAttribute {
        element: String,
        problem: XmlProblem,
    },
    /// An attribute value that cannot be unescaped (an unknown entity in it).
    BadAttributeValue {
        element: String,
        attribute: String,
        problem: XmlProblem,
    },
    /// `on*`: a script run on an event.
    EventAttribute {
        element: String,
        attribute: String,
    },
    AttributeNotAllowed {
        element: String,
        attribute: String,
    },
    /// A link whose scheme would run something (`javascript:`) or is not one a reader follows.
    LinkScheme {
        element: String,
        attribute: String,
        scheme: String,
    },
    /// An image fetched from elsewhere when shown.
    ExternalImage {
        src: String,
    },
    /// A style that loads or runs something (`url(`, `@import`, `expression(`).
    StyleLoads {
        element: String,
        found: &'static str,
    },
}

impl NarrativeError {
    pub fn render(&self, lang: Language) -> String {
        use NarrativeError as N;
        match self {
            N::Malformed(p) => say!(
                lang,
                format!("the narrative is not well-formed XML: {}", p.render(lang)),
                format!(
                    "ナラティブが整形式の XML になっていません: {}",
                    p.render(lang)
                ),
            ),
            N::NotSingleDiv => say!(
                lang,
                "the narrative must be a single div element",
                "ナラティブは 1 つの div 要素でなければなりません",
            ),
            N::TextOutsideDiv => say!(
                lang,
                "the narrative has text outside its div",
                "ナラティブの div の外にテキストがあります",
            ),
            N::NoDiv => say!(
                lang,
                "the narrative must be a div element in the XHTML namespace",
                "ナラティブは XHTML 名前空間の div 要素でなければなりません",
            ),
            N::RootNotDiv { name } => say!(
                lang,
                format!("the narrative must be a div element, not <{name}>"),
                format!("ナラティブは <{name}> ではなく div 要素でなければなりません"),
            ),
            N::NotXhtml { name } => say!(
                lang,
                format!(
                    "<{name}> is not in the XHTML namespace ({XHTML_NS}): a narrative holds XHTML only"
                ),
                format!(
                    "<{name}> が XHTML 名前空間（{XHTML_NS}）にありません: ナラティブに置けるのは XHTML だけです"
                ),
            ),
            N::ElementNotAllowed { name } => say!(
                lang,
                format!(
                    "<{name}> is not allowed in a narrative: only basic HTML formatting (no scripts, forms, frames, objects, head or body)"
                ),
                format!(
                    "<{name}> はナラティブでは使えません: 使えるのは基本的な HTML の書式だけです（スクリプト、フォーム、フレーム、オブジェクト、head、body は使えません）"
                ),
            ),
            N::BlockInParagraph { name, parent } => say!(
                lang,
                format!(
                    "<{name}> is a block and may not be inside a paragraph (in <{parent}> within <p>)"
                ),
                format!(
                    "<{name}> はブロック要素のため段落の中には置けません（<p> の中の <{parent}> にあります）"
                ),
            ),
            N::Instruction => say!(
                lang,
                "the narrative holds an XML declaration or processing instruction",
                "ナラティブに XML 宣言または処理命令があります",
            ),
            N::Doctype => say!(
                lang,
                "a DOCTYPE is not allowed in a narrative",
                "ナラティブに DOCTYPE は使えません",
            ),
            N::NoContent => say!(
                lang,
                "the narrative has no text: it must hold some non-whitespace content",
                "ナラティブにテキストがありません: 空白以外の内容を含まなければなりません",
            ),
            N::UndeclaredEntity { name } => say!(
                lang,
                format!(
                    "the entity &{name}; is not defined in a narrative: only &lt; &gt; &amp; &quot; &apos; and character references such as &#160; are"
                ),
                format!(
                    "実体参照 &{name}; はナラティブでは定義されていません: 使えるのは &lt; &gt; &amp; &quot; &apos; と、&#160; のような文字参照だけです"
                ),
            ),
            N::CharacterNotAllowed { reference } => say!(
                lang,
                format!("the character reference &{reference}; is not a character XML allows"),
                format!("文字参照 &{reference}; は XML で使えない文字を指しています"),
            ),
            N::BadAttribute { element, problem } => say!(
                lang,
                format!("<{element}>: {}", problem.render(lang)),
                format!("<{element}> の属性: {}", problem.render(lang)),
            ),
            N::BadAttributeValue {
                element,
                attribute,
                problem,
            } => say!(
                lang,
                format!(
                    "<{element}> attribute '{attribute}': {}",
                    problem.render(lang)
                ),
                format!("<{element}> の属性 '{attribute}': {}", problem.render(lang)),
            ),
            N::EventAttribute { element, attribute } => say!(
                lang,
                format!(
                    "<{element}> has the event attribute '{attribute}': scripts are not allowed in a narrative"
                ),
                format!(
                    "<{element}> にイベント属性 '{attribute}' があります: ナラティブにスクリプトは使えません"
                ),
            ),
            N::AttributeNotAllowed { element, attribute } => say!(
                lang,
                format!("<{element}> may not have the attribute '{attribute}' in a narrative"),
                format!("ナラティブの <{element}> に属性 '{attribute}' は使えません"),
            ),
            N::LinkScheme {
                element,
                attribute,
                scheme,
            } => say!(
                lang,
                format!(
                    "<{element} {attribute}> uses the '{scheme}:' scheme: narrative links may be http(s), mailto, tel, urn or references"
                ),
                format!(
                    "<{element} {attribute}> が '{scheme}:' スキームを使っています: ナラティブのリンクに使えるのは http(s)、mailto、tel、urn と参照だけです"
                ),
            ),
            N::ExternalImage { src } => say!(
                lang,
                format!(
                    "<img src=\"{src}\"> refers outside the resource: a narrative image must be '#id' of a contained resource, a Binary reference or a data:image URL"
                ),
                format!(
                    "<img src=\"{src}\"> がリソースの外を指しています: ナラティブの画像は contained リソースの '#id'、Binary への参照、data:image の URL のいずれかでなければなりません"
                ),
            ),
            N::StyleLoads { element, found } => say!(
                lang,
                format!(
                    "<{element} style> uses '{found}': narrative styles may not load or run anything"
                ),
                format!(
                    "<{element} style> が '{found}' を使っています: ナラティブのスタイルで何かを読み込んだり実行したりすることはできません"
                ),
            ),
        }
    }
}

/// Why well-formed XML is not FHIR XML (<https://hl7.org/fhir/R4/xml.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlStructure {
    /// An XML declaration naming an encoding other than UTF-8.
    NotUtf8Declared,
    TextOutsideNarrative,
    EndTagFirst,
    ContentAfterResource,
    EndsInsideElement,
    EndsInsideNarrative,
    NotAResourceType {
        name: String,
    },
    NotFhirNamespace {
        name: String,
    },
    UnknownElement {
        name: String,
        context: String,
    },
    /// An element written where the definition has an attribute (`value`, `id`, `url`).
    AttributeAsElement {
        name: String,
    },
    /// A primitive element with nothing in it.
    Empty {
        name: String,
    },
    ContainerEmpty,
    ContainerSeveral,
    NarrativeNotXhtml,
    NarrativeNotUtf8,
    /// An attribute that cannot be read as XML.
    Attribute(XmlProblem),
    /// An attribute value that cannot be unescaped.
    AttributeValue {
        name: String,
        problem: XmlProblem,
    },
    UnexpectedAttribute {
        name: String,
    },
    /// A repeating element where a single one was already read.
    Repeated,
    OnlyOnce {
        name: String,
    },
    /// The base model that says how elements are written could not be loaded.
    ModelUnavailable,
}

impl XmlStructure {
    pub fn render(&self, lang: Language) -> String {
        use XmlStructure as S;
        match self {
            S::NotUtf8Declared => say!(
                lang,
                "only UTF-8 is accepted",
                "受け付ける文字コードは UTF-8 だけです"
            ),
            S::TextOutsideNarrative => say!(
                lang,
                "text is only allowed inside the narrative div",
                "テキストを置けるのはナラティブの div の中だけです",
            ),
            S::EndTagFirst => say!(
                lang,
                "an end tag before any element",
                "要素より前に終了タグがあります",
            ),
            S::ContentAfterResource => say!(
                lang,
                "content after the resource",
                "リソースの後に内容があります",
            ),
            S::EndsInsideElement => say!(
                lang,
                "the input ends inside an element",
                "要素の途中で入力が終わっています",
            ),
            S::EndsInsideNarrative => say!(
                lang,
                "the input ends inside the narrative",
                "ナラティブの途中で入力が終わっています",
            ),
            S::NotAResourceType { name } => say!(
                lang,
                format!("'{name}' is not a resource type"),
                format!("'{name}' はリソースタイプではありません"),
            ),
            S::NotFhirNamespace { name } => say!(
                lang,
                format!(
                    "element '{name}' is not in the FHIR namespace ({})",
                    FHIR_NS
                ),
                format!(
                    "要素 '{name}' が FHIR の名前空間（{}）にありません",
                    FHIR_NS
                ),
            ),
            S::UnknownElement { name, context } => say!(
                lang,
                format!("unknown element '{name}' in {context}"),
                format!("{context} に要素 '{name}' はありません"),
            ),
            S::AttributeAsElement { name } => say!(
                lang,
                format!("'{name}' is an attribute here, not an element"),
                format!("'{name}' はここでは要素ではなく属性です"),
            ),
            S::Empty { name } => say!(
                lang,
                format!("'{name}' has no value, id or extension"),
                format!("'{name}' に value も id も extension もありません"),
            ),
            S::ContainerEmpty => say!(
                lang,
                "a resource container must hold one resource",
                "リソースを入れる要素にはリソースが 1 つ必要です",
            ),
            S::ContainerSeveral => say!(
                lang,
                "a resource container must hold one resource only",
                "リソースを入れる要素に置けるリソースは 1 つだけです",
            ),
            S::NarrativeNotXhtml => say!(
                lang,
                format!("the narrative must be a div in the XHTML namespace ({XHTML_NS})"),
                format!("ナラティブは XHTML 名前空間（{XHTML_NS}）の div でなければなりません"),
            ),
            S::NarrativeNotUtf8 => say!(
                lang,
                "the narrative is not UTF-8",
                "ナラティブが UTF-8 ではありません"
            ),
            S::Attribute(problem) => problem.render(lang),
            S::AttributeValue { name, problem } => say!(
                lang,
                format!("attribute '{name}': {}", problem.render(lang)),
                format!("属性 '{name}': {}", problem.render(lang)),
            ),
            S::UnexpectedAttribute { name } => say!(
                lang,
                format!("unexpected attribute '{name}'"),
                format!("属性 '{name}' はここでは使えません"),
            ),
            S::Repeated => say!(
                lang,
                "a repeated element",
                "繰り返せない要素が繰り返されています"
            ),
            S::OnlyOnce { name } => say!(
                lang,
                format!("'{name}' may appear only once here"),
                format!("'{name}' はここでは 1 回しか書けません"),
            ),
            S::ModelUnavailable => say!(
                lang,
                "the base model is unavailable",
                "基本モデルを読み込めません"
            ),
        }
    }
}

/// Why a body is not FHIR XML (`fhir::xml`), with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is not UTF-8: byte 0x{byte:02X} at line {line}, column {column}")]
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
    #[error(
        "malformed XML at line {line}, column {column}: {}",
        .problem.render(Language::English)
    )]
    Syntax {
        problem: XmlProblem,
        line: usize,
        column: usize,
    },
    /// DTDs are refused outright: they are how entity expansion attacks and external entities
    /// get in, and FHIR XML never needs one.
    #[error("XML with a document type declaration is not accepted (line {line}, column {column})")]
    Doctype { line: usize, column: usize },
    #[error("XML nesting deeper than {max} levels (line {line}, column {column})")]
    TooDeep {
        max: usize,
        line: usize,
        column: usize,
    },
    #[error(
        "not FHIR XML at line {line}, column {column}: {}",
        .problem.render(Language::English)
    )]
    Structure {
        problem: XmlStructure,
        line: usize,
        column: usize,
    },
    /// The internal form holds something XML cannot carry (no resourceType, a name that is no
    /// XML name).
    #[error("the resource cannot be written as XML: {0}")]
    Unwritable(String),
}
