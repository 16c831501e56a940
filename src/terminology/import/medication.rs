//! Medication masters: the MHLW drug price list (YJ codes), the MHLW generic-name prescription
//! master, and the MEDIS HOT9 master.

use super::ImportError;
use super::builder::{SystemBuilder, text};
use super::table::{Table, version_from_name};
use super::urls::{GENERAL_ORDER, GENERAL_ORDER_VS, HOT9, YJ, YJ_VS};
use crate::terminology::{Content, ImportSet};

/// 薬価基準収載品目リスト: code 薬価基準収載医薬品コード, display 品名 (else 成分名). A fragment
/// of YJ: listings under a unified generic name (統一名収載) carry brand-level YJ codes that the
/// price list does not enumerate.
pub(super) fn read_yakka(table: &Table) -> Result<ImportSet, ImportError> {
    let code = table.require("薬価基準収載医薬品コード")?;
    let name = table.require("品名")?;
    let ingredient = table.require("成分名")?;
    let mut builder = SystemBuilder::new(&table.file, YJ, "YJ-code", Content::Fragment)
        .version(version_from_name(&table.file))
        .value_set(YJ_VS);
    for record in &table.records {
        let display = text(record.get(name)).or_else(|| text(record.get(ingredient)));
        builder.add(Some(record.line), record.get(code), display, None)?;
    }
    Ok(ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    })
}

/// 一般名処方マスタ: code 一般名コード, display 一般名処方の標準的な記載. Its 備考 column holds
/// quoted multi-line text, hence records and lines differ.
pub(super) fn read_ippanmei(table: &Table) -> Result<ImportSet, ImportError> {
    let code = table.require("一般名コード")?;
    let display = table.require("一般名処方の標準的な記載")?;
    let mut builder = SystemBuilder::new(
        &table.file,
        GENERAL_ORDER,
        "MedicationGeneralOrderCode",
        Content::Complete,
    )
    .version(version_from_name(&table.file))
    .value_set(GENERAL_ORDER_VS);
    for record in &table.records {
        builder.add(
            Some(record.line),
            record.get(code),
            text(record.get(display)),
            None,
        )?;
    }
    Ok(ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    })
}

/// MEDIS HOT9: code 基準番号（ＨＯＴ番号）, display the product name (販売名, empty throughout the
/// 2003 file, so the receipt name, then the notified name). A fragment: a 2003 snapshot.
///
/// The file is a change log as much as a list: one HOT9 number recurs when a product was
/// renamed or re-listed (new YJ code, name with its strength). The number still names one
/// product, so the first row is kept and the repeats are counted in a note instead of failing.
pub(super) fn read_hot9(table: &Table) -> Result<ImportSet, ImportError> {
    let code = table.require("基準番号（ＨＯＴ番号）")?;
    let names = [
        table.column("販売名"),
        table.column("レセプト電算処理システム医薬品名"),
        Some(table.require("告示名称")?),
    ];
    let mut builder = SystemBuilder::new(&table.file, HOT9, "master-HOT9", Content::Fragment)
        .version(version_from_name(&table.file));
    let mut repeats = 0usize;
    let mut example = None;
    for record in &table.records {
        let hot9 = record.get(code);
        if let Some(first) = builder.origin_of(hot9) {
            repeats += 1;
            example.get_or_insert((hot9.to_string(), first, record.line));
            continue;
        }
        let display = names.iter().flatten().find_map(|&c| text(record.get(c)));
        builder.add(Some(record.line), hot9, display, None)?;
    }
    let mut set = ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    };
    if let Some((hot9, first, again)) = example {
        set.notes.push(format!(
            "{}: {repeats} rows repeat an earlier HOT9 number (renamed or re-listed products, \
             e.g. {hot9} on lines {} and {again}); the first row of each is kept",
            table.file,
            first.unwrap_or(0)
        ));
    }
    Ok(set)
}
