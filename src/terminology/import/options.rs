//! What the operator can say about an import: the layout (else detected), overrides of the system
//! URL, version and content, extra value sets, and the column map of the generic layout.

use std::fmt;
use std::str::FromStr;

use crate::terminology::Content;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `None`: detected from the header row (CSV) or the file type (JSON, `.tgz`, package).
    pub layout: Option<Layout>,
    /// Replaces the URL of the (single) system read; required by [`Layout::Mapped`].
    pub system: Option<String>,
    /// Replaces every system's version; by default CSV layouts take it from the file name
    /// (`…_20250716.csv`, `…_v5.11.csv`, `…_R4.6.17.csv`) and FHIR resources keep their own.
    pub version: Option<String>,
    /// Replaces the layout's default content of every system read.
    pub content: Option<Content>,
    /// Extra "all codes of this system" value sets for the (single) system read.
    pub value_sets: Vec<String>,
    /// Which columns hold the code, display and parent, for [`Layout::Mapped`]; giving it
    /// without a layout selects that layout.
    pub columns: Option<ColumnMap>,
}

/// Header names of the columns holding code, display and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub code: String,
    pub display: Option<String>,
    pub parent: Option<String>,
}

impl FromStr for ColumnMap {
    type Err = String;

    /// `code=COL,display=COL,parent=COL`; only `code` is required.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mut code, mut display, mut parent) = (None, None, None);
        for part in s.split(',') {
            let (key, column) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KEY=COLUMN"))?;
            let column = column.trim();
            if column.is_empty() {
                return Err(format!("`{part}`: empty column name"));
            }
            let slot = match key.trim() {
                "code" => &mut code,
                "display" => &mut display,
                "parent" => &mut parent,
                other => {
                    return Err(format!(
                        "unknown key `{other}` (expected code, display or parent)"
                    ));
                }
            };
            if slot.replace(column.to_string()).is_some() {
                return Err(format!("`{}` given twice", key.trim()));
            }
        }
        Ok(ColumnMap {
            code: code.ok_or("no code=COLUMN")?,
            display,
            parent,
        })
    }
}

/// The file layouts the readers know, named as the `--layout` flag spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// FHIR JSON: CodeSystem, ValueSet, Bundle of them, or an NPM package.
    Fhir,
    /// `codesystem,url,code,display,parent,level,comment`: several systems per file.
    CodeSystemTable,
    /// The official J-FAGY allergen master.
    Jfagy,
    /// The MHLW drug price list (薬価基準収載品目リスト).
    Yakka,
    /// The MHLW generic-name prescription master (一般名処方マスタ).
    Ippanmei,
    /// The MEDIS HOT9 master.
    Hot9,
    /// レセ電 傷病名 (master B), `code,display`.
    ReceiptDisease,
    /// レセ電 修飾語 (master Z), `code,display`.
    ReceiptModifier,
    /// MEDIS 修飾語交換用コード, `code,display`.
    MedisModifier,
    /// JLAC10 17-digit codes, `code,display_synthesized`.
    Jlac10,
    /// The CLINS 43 lab items / 5 infection items with their JLAC10 codes.
    ClinsItems,
    /// The CLINS JLAC10/JLAC11 master table: builds the JLAC11 item systems.
    ClinsMaster,
    /// The CLINS item summary table: recognised, imports nothing.
    ClinsSummary,
    /// Any CSV, with `--columns` and `--system`.
    Mapped,
}

impl Layout {
    pub const ALL: &'static [Layout] = &[
        Layout::Fhir,
        Layout::CodeSystemTable,
        Layout::Jfagy,
        Layout::Yakka,
        Layout::Ippanmei,
        Layout::Hot9,
        Layout::ReceiptDisease,
        Layout::ReceiptModifier,
        Layout::MedisModifier,
        Layout::Jlac10,
        Layout::ClinsItems,
        Layout::ClinsMaster,
        Layout::ClinsSummary,
        Layout::Mapped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Fhir => "fhir",
            Layout::CodeSystemTable => "code-system-table",
            Layout::Jfagy => "jfagy",
            Layout::Yakka => "yakka",
            Layout::Ippanmei => "ippanmei",
            Layout::Hot9 => "hot9",
            Layout::ReceiptDisease => "receipt-disease",
            Layout::ReceiptModifier => "receipt-modifier",
            Layout::MedisModifier => "medis-modifier",
            Layout::Jlac10 => "jlac10",
            Layout::ClinsItems => "clins-items",
            Layout::ClinsMaster => "clins-master",
            Layout::ClinsSummary => "clins-summary",
            Layout::Mapped => "mapped",
        }
    }

    /// Every name, comma-separated, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
        names.join(", ")
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layout::ALL
            .iter()
            .copied()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("unknown layout `{s}` (one of {})", Layout::names()))
    }
}
