//! Messages of the code systems about a single code or identifier: the syntax of the Japanese
//! code systems and identifiers (JLAC10/11 fields, the YJ check digit, J-FAGY meta-codes, MEDIS
//! and レセ電 disease codes, institution numbers, Bundle-IDs, member ids), and what a loaded code
//! system says of a Coding (a code it lacks, a display it gives otherwise).
//!
//! A finding names its subject ("JLAC10 code 3A01…"), the part that is wrong, what was
//! expected and what was found. Values arrive already cut and quoted by the syntax rules.

use super::{Language, say};

/// What a code or identifier is, as a finding names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coded {
    Jlac10,
    Jlac11,
    Yj,
    /// 一般名処方コード.
    GeneralName,
    Jfagy,
    /// MEDIS 病名管理番号.
    DiseaseKeyNumber,
    /// MEDIS 病名交換用コード.
    DiseaseExchange,
    /// MEDIS 修飾語管理番号.
    ModifierKeyNumber,
    /// MEDIS 修飾語交換用コード.
    ModifierExchange,
    /// レセ電 傷病名コード.
    ReceiptDisease,
    /// レセ電 修飾語コード.
    ReceiptModifier,
    BundleId,
    /// 医療機関番号.
    Institution,
    ResourceIdentifier,
    /// 被保険者個人識別子.
    InsuranceMember,
    /// 公費受給者の識別子.
    PublicPayerMember,
}

impl Coded {
    fn render(self, lang: Language) -> &'static str {
        let (en, ja) = match self {
            Coded::Jlac10 => ("JLAC10 code", "JLAC10 コード"),
            Coded::Jlac11 => ("JLAC11 code", "JLAC11 コード"),
            Coded::Yj => ("YJ code", "YJ コード"),
            Coded::GeneralName => ("一般名処方 code", "一般名処方コード"),
            Coded::Jfagy => ("J-FAGY code", "J-FAGY コード"),
            Coded::DiseaseKeyNumber => ("MEDIS 病名管理番号", "MEDIS 病名管理番号"),
            Coded::DiseaseExchange => ("MEDIS 病名交換用コード", "MEDIS 病名交換用コード"),
            Coded::ModifierKeyNumber => ("MEDIS 修飾語管理番号", "MEDIS 修飾語管理番号"),
            Coded::ModifierExchange => ("MEDIS 修飾語交換用コード", "MEDIS 修飾語交換用コード"),
            Coded::ReceiptDisease => ("レセ電 傷病名コード", "レセ電 傷病名コード"),
            Coded::ReceiptModifier => ("レセ電 修飾語コード", "レセ電 修飾語コード"),
            Coded::BundleId => ("Bundle-ID", "報告単位ID（Bundle-ID）"),
            Coded::Institution => ("institution number", "医療機関番号"),
            Coded::ResourceIdentifier => ("resource identifier", "リソース識別子"),
            Coded::InsuranceMember => ("insurance member id", "被保険者個人識別子"),
            Coded::PublicPayerMember => ("public payer member id", "公費受給者の識別子"),
        };
        match lang {
            Language::English => en,
            Language::Japanese => ja,
        }
    }
}

/// A code embedded in another (the YJ code after J-FAGY's `YCM`): its fields are named after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedded {
    Yj,
    GeneralName,
}

/// "the" or "the YJ" before a field's name; in Japanese "YJ コードの" or nothing.
fn article(within: Option<Embedded>, lang: Language) -> &'static str {
    match (within, lang) {
        (None, Language::English) => "the",
        (Some(Embedded::Yj), Language::English) => "the YJ",
        (Some(Embedded::GeneralName), Language::English) => "the 一般名処方",
        (None, Language::Japanese) => "",
        (Some(Embedded::Yj), Language::Japanese) => "YJ コードの",
        (Some(Embedded::GeneralName), Language::Japanese) => "一般名処方コードの",
    }
}

/// A field of a fixed-width code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeField {
    Analyte,
    Identification,
    Material,
    Method,
    Result,
    MethodOrReagentKit,
    Unit,
    Category,
    Number,
    TherapeuticClass,
    Ingredient,
    DosageForm,
    Strength,
    Brand,
    /// The whole of a one-field code.
    Code,
    MetaCode,
}

impl CodeField {
    fn render(self, lang: Language) -> &'static str {
        let (en, ja) = match self {
            CodeField::Analyte => ("analyte", "分析物"),
            CodeField::Identification => ("identification", "識別"),
            CodeField::Material => ("material", "材料"),
            CodeField::Method => ("method", "測定法"),
            CodeField::Result => ("result", "結果識別"),
            CodeField::MethodOrReagentKit => ("method/reagent kit", "測定法・試薬キット"),
            CodeField::Unit => ("unit", "単位"),
            CodeField::Category => ("category", "分類"),
            CodeField::Number => ("number", "番号"),
            CodeField::TherapeuticClass => ("therapeutic class", "薬効分類"),
            CodeField::Ingredient => ("ingredient", "成分"),
            CodeField::DosageForm => ("dosage form", "剤形"),
            CodeField::Strength => ("strength", "規格"),
            CodeField::Brand => ("brand", "銘柄"),
            CodeField::Code => ("code", "コード"),
            CodeField::MetaCode => ("meta-code", "メタコード"),
        };
        match lang {
            Language::English => en,
            Language::Japanese => ja,
        }
    }
}

/// What a field must hold, in words, from its pattern: one letter per character, `9` a digit,
/// `A` an uppercase letter, `X` either ("9A999" is "a digit, an uppercase letter and 3 digits").
fn pattern(pattern: &str, lang: Language) -> String {
    let mut runs: Vec<(char, usize)> = Vec::new();
    for c in pattern.chars() {
        match runs.last_mut() {
            Some((class, n)) if *class == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    let words: Vec<String> = runs
        .iter()
        .map(|&(class, n)| match (lang, class, n) {
            (Language::English, '9', 1) => "a digit".to_string(),
            (Language::English, '9', n) => format!("{n} digits"),
            (Language::English, 'A', 1) => "an uppercase letter".to_string(),
            (Language::English, 'A', n) => format!("{n} uppercase letters"),
            (Language::English, _, 1) => "a digit or an uppercase letter".to_string(),
            (Language::English, _, n) => format!("{n} uppercase letters or digits"),
            (Language::Japanese, '9', n) => format!("数字 {n} 桁"),
            (Language::Japanese, 'A', n) => format!("英大文字 {n} 文字"),
            (Language::Japanese, _, n) => format!("英大文字または数字 {n} 文字"),
        })
        .collect();
    match lang {
        Language::English => match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => words.concat(),
        },
        Language::Japanese => words.join("、"),
    }
}

/// Characters `first` to `last` of a code, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: usize,
    pub last: usize,
}

impl Span {
    fn render(self, lang: Language) -> String {
        let Span { first, last } = self;
        match (lang, first == last) {
            (Language::English, true) => format!("character {first}"),
            (Language::English, false) => format!("characters {first}–{last}"),
            (Language::Japanese, true) => format!("{first} 文字目"),
            (Language::Japanese, false) => format!("{first}〜{last} 文字目"),
        }
    }
}

/// "1 character" / "6 characters".
fn characters(n: usize, lang: Language) -> String {
    match (lang, n) {
        (Language::English, 1) => "1 character".to_string(),
        (Language::English, n) => format!("{n} characters"),
        (Language::Japanese, n) => format!("{n} 文字"),
    }
}

/// How a code's length divides, after "must be N characters".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breakdown {
    None,
    /// The fields and their widths.
    Fields(Vec<(CodeField, usize)>),
    /// A J-FAGY meta-code followed by a 12-character drug code.
    MetaAndCode {
        meta: String,
        code: Embedded,
    },
}

impl Breakdown {
    fn render(&self, lang: Language) -> String {
        let inner = match self {
            Breakdown::None => return String::new(),
            Breakdown::Fields(fields) => fields
                .iter()
                .map(|(f, n)| format!("{} {n}", f.render(lang)))
                .collect::<Vec<_>>()
                .join(" + "),
            Breakdown::MetaAndCode { meta, code } => {
                let code = match code {
                    Embedded::Yj => Coded::Yj,
                    Embedded::GeneralName => Coded::GeneralName,
                };
                say!(
                    lang,
                    format!("{meta} + a 12-character {}", code.render(lang)),
                    format!("{meta} + 12 文字の{}", code.render(lang)),
                )
            }
        };
        say!(lang, format!(" ({inner})"), format!("（{inner}）"))
    }
}

/// What a J-FAGY meta-code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaMeaning {
    FoodAllergen,
    FoodDummy,
    FoodRoot,
    NonFoodAllergen,
    NonFoodDummy,
    NonFoodRoot,
    DrugByYj,
    DrugByGeneralName,
    DrugDummy,
}

impl MetaMeaning {
    fn render(self, lang: Language) -> &'static str {
        let (en, ja) = match self {
            MetaMeaning::FoodAllergen => ("food allergen", "食品アレルゲン"),
            MetaMeaning::FoodDummy => ("food dummy", "食品のダミー"),
            MetaMeaning::FoodRoot => ("food root", "食品のルート"),
            MetaMeaning::NonFoodAllergen => ("non-food allergen", "非食品・非医薬品アレルゲン"),
            MetaMeaning::NonFoodDummy => ("non-food dummy", "非食品・非医薬品のダミー"),
            MetaMeaning::NonFoodRoot => ("non-food root", "非食品・非医薬品のルート"),
            MetaMeaning::DrugByYj => ("drug by YJ code", "YJ コードで示す医薬品"),
            MetaMeaning::DrugByGeneralName => {
                ("drug by 一般名処方 code", "一般名処方コードで示す医薬品")
            }
            MetaMeaning::DrugDummy => ("drug dummy", "医薬品のダミー"),
        };
        match lang {
            Language::English => en,
            Language::Japanese => ja,
        }
    }
}

/// The forms of identifier made of parts joined by a separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// JP-CLINS's `<institution number>^<year>^<local id>` (Bundle-ID, resource identifiers).
    Clins,
    /// `insurer:symbol:number:branch`.
    InsuranceMember,
    /// `payer::recipient:`.
    PublicPayerMember,
}

impl Form {
    fn render(self, lang: Language) -> &'static str {
        let (en, ja) = match self {
            Form::Clins => (
                "<institution number>^<year>^<local id>",
                "<医療機関番号>^<年>^<ローカル ID>",
            ),
            Form::InsuranceMember => ("insurer:symbol:number:branch", "保険者番号:記号:番号:枝番"),
            Form::PublicPayerMember => ("payer::recipient:", "公費負担者番号::受給者番号:"),
        };
        match lang {
            Language::English => en,
            Language::Japanese => ja,
        }
    }

    fn parts(self) -> (usize, char) {
        match self {
            Form::Clins => (3, '^'),
            Form::InsuranceMember | Form::PublicPayerMember => (4, ':'),
        }
    }
}

/// A part of an identifier made of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Year,
    LocalId,
    InsurerNumber,
    Symbol,
    Number,
    Branch,
    PayerNumber,
    RecipientNumber,
}

impl Part {
    /// "the year (part 2)" / "年（2 番目の部分）".
    fn render(self, lang: Language) -> String {
        let (en, ja, n) = match self {
            Part::Year => ("year", "年", 2),
            Part::LocalId => ("local id", "ローカル ID", 3),
            Part::InsurerNumber => ("insurer number", "保険者番号", 1),
            Part::Symbol => ("symbol", "記号", 2),
            Part::Number => ("number", "番号", 3),
            Part::Branch => ("branch number", "枝番", 4),
            Part::PayerNumber => ("payer number", "公費負担者番号", 1),
            Part::RecipientNumber => ("recipient number", "受給者番号", 3),
        };
        say!(
            lang,
            format!("the {en} (part {n})"),
            format!("{ja}（{n} 番目の部分）"),
        )
    }
}

/// A character that may not be in a member id's symbol or number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    Caret,
    Space,
    /// U+3000, invisible in a message, so named.
    FullWidthSpace,
    /// Another white space character, by code point.
    Other(u32),
}

impl Blank {
    fn render(self, lang: Language) -> String {
        match self {
            Blank::Caret => "^".to_string(),
            Blank::Space => say!(lang, "a space", "半角空白"),
            Blank::FullWidthSpace => {
                say!(lang, "a full-width space (U+3000)", "全角空白（U+3000）")
            }
            Blank::Other(code) => format!("U+{code:04X}"),
        }
    }
}

/// What was found in a local id that is not 1–36 characters of A–Z, a–z, 0–9 and -.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalIdFound {
    Length(usize),
    Character { found: char, at: usize },
}

/// What is wrong with a code or identifier, after its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// A character typed in full width (３Ａ０１５…), a common slip of Japanese input.
    FullWidth {
        found: char,
        at: usize,
    },
    /// The wrong number of characters for a code of several fields (or an embedded code).
    Length {
        expected: usize,
        breakdown: Breakdown,
        found: usize,
    },
    /// The wrong number of characters for a one-field code (`pattern` as in [`Self::Field`]).
    LengthOf {
        pattern: &'static str,
        found: usize,
    },
    /// A one-field code with a character that does not belong.
    CharacterOf {
        pattern: &'static str,
        found: char,
        at: usize,
    },
    /// A field that does not match its `pattern`: one letter per character, `9` a digit, `A` an
    /// uppercase letter, `X` either. `found` is quoted.
    Field {
        within: Option<Embedded>,
        field: CodeField,
        span: Span,
        pattern: &'static str,
        found: String,
    },
    /// A J-FAGY meta-code none of the system's: `expected` is its meta-code, `dummy` its dummy
    /// code, `found` quoted.
    MetaCodeUnknown {
        expected: &'static str,
        dummy: &'static str,
        found: String,
    },
    /// A J-FAGY meta-code of other systems (`belongs`) than this one (`system`).
    MetaCodeOtherSystem {
        meta: String,
        meaning: MetaMeaning,
        belongs: Vec<&'static str>,
        system: &'static str,
    },
    /// A J-FAGY root (`00F`) with characters after it.
    RootWithSuffix {
        meta: String,
    },
    /// A J-FAGY dummy meta-code on anything but its one dummy code.
    DummyOnly {
        meaning: MetaMeaning,
        dummy: String,
    },
    CheckDigitNotDigit {
        within: Option<Embedded>,
        at: usize,
        found: char,
    },
    /// A YJ check digit that does not match: a warning, as a few historic codes fail it.
    CheckDigitWrong {
        within: Option<Embedded>,
        found: char,
        expected: char,
    },
    /// A 一般名処方 code whose last 3 characters are not `ZZZ`; `strict`: an error (J-FAGY's GCM
    /// codes), else a warning (a few real codes use other letters). `found` is quoted.
    Suffix {
        within: Option<Embedded>,
        span: Span,
        found: String,
        strict: bool,
    },
    /// The wrong number of parts for `form`.
    Parts {
        form: Form,
        found: usize,
    },
    /// A resource identifier using ^ without being JP-CLINS's 3-part form.
    NotClinsForm {
        found: usize,
    },
    /// A problem of a resource identifier read as JP-CLINS's form (a warning: that form is
    /// the design's, not the examples').
    AsClinsForm(Box<SyntaxProblem>),
    /// The institution number inside a Bundle-ID or resource identifier (`value` as shown).
    InstitutionPart {
        value: String,
        problem: Box<SyntaxProblem>,
    },
    /// An institution number's prefecture (characters 1–2) not 01–47.
    Prefecture {
        found: String,
    },
    /// An institution number's fee-table code (character 3) not 1, 2 or 3.
    FeeTable {
        found: char,
    },
    /// A Bundle-ID's year not 2020–2039 (`found` quoted).
    YearRange {
        found: String,
    },
    LocalId(LocalIdFound),
    /// `digits` digits wanted (`found` quoted); `padding`: a 6-digit 国民健康保険 insurer number,
    /// which is written with two leading zeros.
    PartDigits {
        part: Part,
        digits: usize,
        found: String,
        padding: bool,
    },
    PartEmptyOrDigits {
        part: Part,
        digits: usize,
        found: String,
    },
    PartNotEmpty {
        part: Part,
        found: String,
    },
    PartEmpty {
        part: Part,
    },
    /// A space or ^ in a member id's symbol or number (`value` quoted).
    PartBlank {
        part: Part,
        found: Blank,
        value: String,
    },
}

impl SyntaxProblem {
    pub fn render(&self, lang: Language) -> String {
        use SyntaxProblem as P;
        match self {
            P::FullWidth { found, at } => say!(
                lang,
                format!(
                    "codes are half-width ASCII, found the full-width \"{found}\" at character {at}"
                ),
                format!(
                    "コードは半角の英数字で書きますが、{at} 文字目に全角の \"{found}\" があります"
                ),
            ),
            P::Length {
                expected,
                breakdown,
                found,
            } => say!(
                lang,
                format!(
                    "must be {expected} characters{}, found {found}",
                    breakdown.render(lang)
                ),
                format!(
                    "{expected} 文字{}でなければなりませんが、{found} 文字あります",
                    breakdown.render(lang)
                ),
            ),
            P::LengthOf { pattern: p, found } => say!(
                lang,
                format!(
                    "must be {}, found {}",
                    pattern(p, lang),
                    characters(*found, lang)
                ),
                format!(
                    "{}でなければなりませんが、{}あります",
                    pattern(p, lang),
                    characters(*found, lang)
                ),
            ),
            P::CharacterOf {
                pattern: p,
                found,
                at,
            } => say!(
                lang,
                format!(
                    "must be {}, found \"{}\" at character {at}",
                    pattern(p, lang),
                    found.escape_debug()
                ),
                format!(
                    "{}でなければなりませんが、{at} 文字目が \"{}\" です",
                    pattern(p, lang),
                    found.escape_debug()
                ),
            ),
            P::Field {
                within,
                field,
                span,
                pattern: p,
                found,
            } => say!(
                lang,
                format!(
                    "{} {} field ({}) must be {}, found {found}",
                    article(*within, lang),
                    field.render(lang),
                    span.render(lang),
                    pattern(p, lang)
                ),
                format!(
                    "{}{}（{}）は{}でなければなりませんが、{found} です",
                    article(*within, lang),
                    field.render(lang),
                    span.render(lang),
                    pattern(p, lang)
                ),
            ),
            P::MetaCodeUnknown {
                expected,
                dummy,
                found,
            } => say!(
                lang,
                format!(
                    "the meta-code (characters 1–3) must be {expected} (or the dummy {dummy}), found {found}"
                ),
                format!(
                    "メタコード（1〜3 文字目）は {expected}（またはダミーの {dummy}）でなければなりませんが、{found} です"
                ),
            ),
            P::MetaCodeOtherSystem {
                meta,
                meaning,
                belongs,
                system,
            } => say!(
                lang,
                format!(
                    "meta-code {meta} ({}) belongs to {}, not to {system}",
                    meaning.render(lang),
                    belongs.join(" or ")
                ),
                format!(
                    "メタコード {meta}（{}）は {} のもので、{system} のものではありません",
                    meaning.render(lang),
                    belongs.join(" または ")
                ),
            ),
            P::RootWithSuffix { meta } => say!(
                lang,
                format!("{meta} is the 3-character root of its system and takes nothing after it"),
                format!("{meta} はコード体系の 3 文字のルートで、後ろに何も付きません"),
            ),
            P::DummyOnly { meaning, dummy } => say!(
                lang,
                format!("the only {} code is {dummy}", meaning.render(lang)),
                format!("{}のコードは {dummy} だけです", meaning.render(lang)),
            ),
            P::CheckDigitNotDigit { within, at, found } => say!(
                lang,
                format!(
                    "{} check digit (character {at}) must be a digit, found \"{}\"",
                    article(*within, lang),
                    found.escape_debug()
                ),
                format!(
                    "{}チェックディジット（{at} 文字目）は数字でなければなりませんが、\"{}\" です",
                    article(*within, lang),
                    found.escape_debug()
                ),
            ),
            P::CheckDigitWrong {
                within,
                found,
                expected,
            } => say!(
                lang,
                format!(
                    "{} check digit is {found}, expected {expected} (a few historic codes fail it)",
                    article(*within, lang)
                ),
                format!(
                    "{}チェックディジットが {found} ですが、計算では {expected} です（古いコードにはわずかに合わないものがあります）",
                    article(*within, lang)
                ),
            ),
            P::Suffix {
                within,
                span,
                found,
                strict: true,
            } => say!(
                lang,
                format!(
                    "{} suffix ({}) must be ZZZ, found {found}",
                    article(*within, lang),
                    span.render(lang)
                ),
                format!(
                    "{}末尾（{}）は ZZZ でなければなりませんが、{found} です",
                    article(*within, lang),
                    span.render(lang)
                ),
            ),
            P::Suffix {
                within,
                span,
                found,
                strict: false,
            } => say!(
                lang,
                format!(
                    "{} suffix ({}) is ZZZ in all but a few codes, found {found}",
                    article(*within, lang),
                    span.render(lang)
                ),
                format!(
                    "{}末尾（{}）はごく一部のコードを除いて ZZZ ですが、{found} です",
                    article(*within, lang),
                    span.render(lang)
                ),
            ),
            P::Parts { form, found } => {
                let (n, separator) = form.parts();
                say!(
                    lang,
                    format!(
                        "must be {} ({n} parts joined by {separator}), found {found} part{}",
                        form.render(lang),
                        if *found == 1 { "" } else { "s" }
                    ),
                    format!(
                        "{}（{separator} で区切った {n} つの部分）でなければなりませんが、部分が {found} つあります",
                        form.render(lang)
                    ),
                )
            }
            P::NotClinsForm { found } => say!(
                lang,
                format!(
                    "uses ^ but is not JP-CLINS's {} (3 parts), found {found} parts",
                    Form::Clins.render(lang)
                ),
                format!(
                    "^ を使っていますが JP-CLINS の {}（3 つの部分）になっていません。部分が {found} つあります",
                    Form::Clins.render(lang)
                ),
            ),
            P::AsClinsForm(inner) => say!(
                lang,
                format!(
                    "as JP-CLINS's {}, {}",
                    Form::Clins.render(lang),
                    inner.render(lang)
                ),
                format!(
                    "JP-CLINS の {} として読むと、{}",
                    Form::Clins.render(lang),
                    inner.render(lang)
                ),
            ),
            P::InstitutionPart { value, problem } => say!(
                lang,
                format!(
                    "institution number {value} (part 1): {}",
                    problem.render(lang)
                ),
                format!(
                    "医療機関番号 {value}（1 番目の部分）: {}",
                    problem.render(lang)
                ),
            ),
            P::Prefecture { found } => say!(
                lang,
                format!("the prefecture (characters 1–2) must be 01–47, found \"{found}\""),
                format!(
                    "都道府県番号（1〜2 文字目）は 01〜47 でなければなりませんが、\"{found}\" です"
                ),
            ),
            P::FeeTable { found } => say!(
                lang,
                format!("the fee-table code (character 3) must be 1, 2 or 3, found \"{found}\""),
                format!(
                    "点数表番号（3 文字目）は 1、2、3 のいずれかでなければなりませんが、\"{found}\" です"
                ),
            ),
            P::YearRange { found } => say!(
                lang,
                format!(
                    "{} must be 2020–2039, found {found}",
                    Part::Year.render(lang)
                ),
                format!(
                    "{}は 2020〜2039 でなければなりませんが、{found} です",
                    Part::Year.render(lang)
                ),
            ),
            P::LocalId(found) => {
                let found = match (found, lang) {
                    (LocalIdFound::Length(n), _) => characters(*n, lang),
                    (LocalIdFound::Character { found, at }, Language::English) => {
                        format!("\"{}\" at character {at}", found.escape_debug())
                    }
                    (LocalIdFound::Character { found, at }, Language::Japanese) => {
                        format!("{at} 文字目に \"{}\"", found.escape_debug())
                    }
                };
                say!(
                    lang,
                    format!(
                        "{} must be 1–36 characters of A–Z, a–z, 0–9 and -, found {found}",
                        Part::LocalId.render(lang)
                    ),
                    format!(
                        "{}は A–Z、a–z、0–9 と - からなる 1〜36 文字でなければなりませんが、{found}があります",
                        Part::LocalId.render(lang)
                    ),
                )
            }
            P::PartDigits {
                part,
                digits,
                found,
                padding,
            } => {
                let (en, ja) = if *padding {
                    (
                        " (a 6-digit 国民健康保険 insurer number is written with two leading zeros)",
                        "（6 桁の国民健康保険の保険者番号は、先頭に 0 を 2 つ付けて書きます）",
                    )
                } else {
                    ("", "")
                };
                say!(
                    lang,
                    format!(
                        "{} must be {digits} digits, found {found}{en}",
                        part.render(lang)
                    ),
                    format!(
                        "{}は数字 {digits} 桁でなければなりませんが、{found} です{ja}",
                        part.render(lang)
                    ),
                )
            }
            P::PartEmptyOrDigits {
                part,
                digits,
                found,
            } => say!(
                lang,
                format!(
                    "{} must be empty or {digits} digits, found {found}",
                    part.render(lang)
                ),
                format!(
                    "{}は空か数字 {digits} 桁でなければなりませんが、{found} です",
                    part.render(lang)
                ),
            ),
            P::PartNotEmpty { part, found } => say!(
                lang,
                format!("{} must be empty, found {found}", part.render(lang)),
                format!(
                    "{}は空でなければなりませんが、{found} です",
                    part.render(lang)
                ),
            ),
            P::PartEmpty { part } => say!(
                lang,
                format!("{} is empty", part.render(lang)),
                format!("{}が空です", part.render(lang)),
            ),
            P::PartBlank { part, found, value } => say!(
                lang,
                format!(
                    "{} must not contain spaces or ^, found {} in {value}",
                    part.render(lang),
                    found.render(lang)
                ),
                format!(
                    "{}に空白や ^ は使えませんが、{value} に{}があります",
                    part.render(lang),
                    found.render(lang)
                ),
            ),
        }
    }
}

/// One syntax finding: its subject (what it is, and the value as shown), then the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxFinding {
    pub subject: Coded,
    /// The value, cut and quoted when it is long or holds spaces.
    pub value: String,
    pub problem: SyntaxProblem,
}

impl SyntaxFinding {
    pub fn render(&self, lang: Language) -> String {
        format!(
            "{} {}: {}",
            self.subject.render(lang),
            self.value,
            self.problem.render(lang)
        )
    }
}

/// Several findings in one sentence, as a detail of a refusal: "; " between them in English,
/// "。" after each in Japanese.
pub fn render_all(findings: &[SyntaxFinding], lang: Language) -> String {
    let each = findings.iter().map(|f| f.render(lang));
    match lang {
        Language::English => each.collect::<Vec<_>>().join("; "),
        Language::Japanese => each.collect::<Vec<_>>().join("。"),
    }
}

/// A look-alike CJK character (a Kangxi radical, a compatibility ideograph) and the unified
/// ideograph it stands for, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookalike {
    pub found: char,
    pub unified: Option<char>,
}

/// The look-alike characters of a text: the first few named, and how many more there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookalikeHint {
    pub listed: Vec<Lookalike>,
    pub more: usize,
}

impl LookalikeHint {
    pub fn render(&self, lang: Language) -> String {
        let listed: Vec<String> = self
            .listed
            .iter()
            .map(|l| {
                let c = l.found;
                let at = u32::from(c);
                match l.unified {
                    Some(u) => format!("U+{at:04X} {c} → {u} U+{:04X}", u32::from(u)),
                    None => say!(
                        lang,
                        format!("U+{at:04X} {c} (a radical with no unified equivalent)"),
                        format!("U+{at:04X} {c}（対応する統合漢字のない部首）"),
                    ),
                }
            })
            .collect();
        let more = self.more;
        match lang {
            Language::English => {
                let more = if more == 0 {
                    String::new()
                } else {
                    format!(" and {more} more")
                };
                format!(
                    "look-alike CJK characters: {}{more}; use the unified ideographs instead",
                    listed.join(", ")
                )
            }
            Language::Japanese => {
                let more = if more == 0 {
                    String::new()
                } else {
                    format!(" ほか {more} 文字")
                };
                format!(
                    "形の似た別の文字（CJK 部首・互換漢字）があります: {}{more}。統合漢字を使ってください",
                    listed.join("、")
                )
            }
        }
    }
}

/// What a code system says of a Coding (or an Identifier's value), whatever it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeFinding {
    Syntax(SyntaxFinding),
    /// The Coding names an edition that is not loaded; `checked` is the one used (`None`: an
    /// unversioned definition).
    OtherEdition {
        asked: String,
        system: String,
        code: String,
        checked: Option<String>,
    },
    NotInCodeSystem {
        code: String,
        system: String,
        version: Option<String>,
    },
    /// Not in the part of the system that is loaded (`content` fragment).
    NotInFragment {
        code: String,
        system: String,
        version: Option<String>,
    },
    /// A display in another language than the system's, which gives none to compare with.
    DisplayOtherLanguage {
        given: String,
        code: String,
        expected: String,
    },
    /// A display the system's once look-alike characters are unified.
    DisplayLookalike {
        given: String,
        code: String,
        expected: String,
        hints: Vec<LookalikeHint>,
    },
    DisplayDiffers {
        given: String,
        code: String,
        expected: String,
        hints: Vec<LookalikeHint>,
    },
}

impl CodeFinding {
    pub fn render(&self, lang: Language) -> String {
        use CodeFinding as F;
        let version = |v: &Option<String>| match (v, lang) {
            (None, _) => String::new(),
            (Some(v), Language::English) => format!(" version {v}"),
            (Some(v), Language::Japanese) => format!("（バージョン {v}）"),
        };
        let hinted = |text: String, hints: &[LookalikeHint]| {
            hints.iter().fold(text, |text, h| match lang {
                Language::English => format!("{text}; {}", h.render(lang)),
                Language::Japanese => format!("{text}。{}", h.render(lang)),
            })
        };
        match self {
            F::Syntax(f) => f.render(lang),
            F::OtherEdition {
                asked,
                system,
                code,
                checked,
            } => {
                let checked = match (checked, lang) {
                    (Some(v), Language::English) => format!("version {v}"),
                    (None, Language::English) => "version (unversioned)".to_string(),
                    (Some(v), Language::Japanese) => format!("バージョン {v}"),
                    (None, Language::Japanese) => "バージョンのない定義".to_string(),
                };
                say!(
                    lang,
                    format!(
                        "version {asked} of code system {system} is not loaded: code {code} checked against {checked}"
                    ),
                    format!(
                        "コード体系 {system} のバージョン {asked} は読み込まれていません: コード {code} は{checked}で検査しました"
                    ),
                )
            }
            F::NotInCodeSystem {
                code,
                system,
                version: v,
            } => say!(
                lang,
                format!("code {code} is not in code system {system}{}", version(v)),
                format!(
                    "コード {code} はコード体系 {system}{} にありません",
                    version(v)
                ),
            ),
            F::NotInFragment {
                code,
                system,
                version: v,
            } => say!(
                lang,
                format!(
                    "code {code} is not in the loaded part of code system {system}{} (a fragment)",
                    version(v)
                ),
                format!(
                    "コード {code} は、コード体系 {system}{} の読み込まれている部分（fragment）にありません",
                    version(v)
                ),
            ),
            F::DisplayOtherLanguage {
                given,
                code,
                expected,
            } => say!(
                lang,
                format!(
                    "display \"{given}\" for code {code} is in another language than the code system's \"{expected}\" (the system gives no Japanese name to compare it with)"
                ),
                format!(
                    "コード {code} の表示名 \"{given}\" は、コード体系の表示名 \"{expected}\" とは別の言語です（コード体系に比べられる日本語名がありません）"
                ),
            ),
            F::DisplayLookalike {
                given,
                code,
                expected,
                hints,
            } => hinted(
                say!(
                    lang,
                    format!(
                        "display \"{given}\" for code {code} matches the code system's \"{expected}\" only once look-alike characters are unified"
                    ),
                    format!(
                        "コード {code} の表示名 \"{given}\" は、形の似た文字を統一して初めてコード体系の表示名 \"{expected}\" と一致します"
                    ),
                ),
                hints,
            ),
            F::DisplayDiffers {
                given,
                code,
                expected,
                hints,
            } => hinted(
                say!(
                    lang,
                    format!(
                        "display \"{given}\" for code {code} is not the one the code system gives (\"{expected}\")"
                    ),
                    format!(
                        "コード {code} の表示名 \"{given}\" は、コード体系の表示名（\"{expected}\"）と異なります"
                    ),
                ),
                hints,
            ),
        }
    }
}
