//! Telling a CSV's layout from its header row, and from its file name where headers are shared.

use super::table::{Table, file_stem};
use super::{ImportError, Layout};

/// The layout of a CSV whose layout was not given.
///
/// `code,display` is the header of three masters (レセ電 傷病名, レセ電 修飾語, MEDIS 修飾語),
/// so for it the file-name stem decides: one containing `masterB` is receipt-disease, `masterZ`
/// receipt-modifier, `medis` and `modifier` medis-modifier (case-insensitive, as the MHLW and
/// MEDIS downloads are named); any other name needs `--layout`.
pub(super) fn detect(table: &Table) -> Result<Layout, ImportError> {
    let has_all = |names: &[&str]| names.iter().all(|n| table.has(n));
    let layout = if has_all(&["codesystem", "url", "code", "display"]) {
        Some(Layout::CodeSystemTable)
    } else if has_all(&["JFAGYCODE", "JPTERM", "LEVEL", "DISPLAYSEQ"]) {
        Some(Layout::Jfagy)
    } else if has_all(&["基準番号（ＨＯＴ番号）"]) {
        // Before yakka: HOT9 also has a 薬価基準収載医薬品コード column.
        Some(Layout::Hot9)
    } else if has_all(&["薬価基準収載医薬品コード", "品名", "成分名"]) {
        Some(Layout::Yakka)
    } else if has_all(&["一般名コード", "一般名処方の標準的な記載"]) {
        Some(Layout::Ippanmei)
    } else if has_all(&["JLAC11コード", "親コード", "FHIR識別文字列"]) {
        Some(Layout::ClinsMaster)
    } else if has_all(&["FHIR識別名(CS parent code)", "JLAC10_code"]) {
        Some(Layout::ClinsItems)
    } else if has_all(&["set", "FHIR識別名(CS1.5.0 parents)"]) {
        Some(Layout::ClinsSummary)
    } else if table.headers == ["code", "display_synthesized"] {
        Some(Layout::Jlac10)
    } else if table.headers == ["code", "display"] {
        return code_display_by_name(table);
    } else {
        None
    };
    layout.ok_or_else(|| {
        ImportError::layout(
            &table.file,
            format!(
                "unrecognised header `{}`; pass --layout (one of {})",
                table.headers.join(","),
                Layout::names()
            ),
        )
    })
}

fn code_display_by_name(table: &Table) -> Result<Layout, ImportError> {
    let stem = file_stem(&table.file).to_ascii_lowercase();
    if stem.contains("masterb") {
        Ok(Layout::ReceiptDisease)
    } else if stem.contains("masterz") {
        Ok(Layout::ReceiptModifier)
    } else if stem.contains("medis") && stem.contains("modifier") {
        Ok(Layout::MedisModifier)
    } else {
        Err(ImportError::layout(
            &table.file,
            "header `code,display` is shared by receipt-disease, receipt-modifier and \
             medis-modifier and the file name does not tell which; pass --layout",
        ))
    }
}
