//! The CLINS lab item tables: the 43 designated items and 5 infection items with their JLAC10
//! codes (→ the JLAC10 item systems), the JLAC10/JLAC11 master table (→ the JLAC11 item
//! systems), and the summary table (recognised, nothing to import).
//!
//! An item system is a two-level hierarchy: item codes (`ALB`, `HBs-AG-QUANT`…) as roots and
//! the JLAC codes as their children, which is what the JP-CLINS value sets select with
//! `descendent-of <item>`.

use super::ImportError;
use super::builder::{SystemBuilder, text};
use super::table::{Table, version_from_name};
use super::urls::{
    CLINS_JLAC10_CORE, CLINS_JLAC10_INFECTION, CLINS_JLAC11_CORE, CLINS_JLAC11_INFECTION,
};
use crate::terminology::{Content, ImportSet};

/// `CLINS_43items_JLAC10_codes_*.csv` or `CLINS_infection5_JLAC10_codes_*.csv`. Displays follow
/// the JP-CLINS 1.5 CodeSystems: a core JLAC10 code shows its item's identifier (`ALB`), an
/// infection code its item's name.
pub(super) fn read_items(table: &Table) -> Result<ImportSet, ImportError> {
    let item_col = table.require("FHIR識別名(CS parent code)")?;
    let code_col = table.require("JLAC10_code")?;
    let infection_display = table.column("FHIR識別名_display");
    let (url, name, item_display_col) = match infection_display {
        Some(c) => (
            CLINS_JLAC10_INFECTION,
            "JP_CLINS_CodeSystem_JLAC10_InfectionLabo_CS",
            c,
        ),
        None => (
            CLINS_JLAC10_CORE,
            "JP_CLINS_CodeSystem_JLAC10_CoreLabo_CS",
            table.require("大項目(43項目)")?,
        ),
    };
    let mut builder = SystemBuilder::new(&table.file, url, name, Content::Complete)
        .version(version_from_name(&table.file));
    for record in &table.records {
        let item = record.get(item_col);
        let item_display = text(record.get(item_display_col));
        if !builder.contains(item) {
            builder.add(Some(record.line), item, item_display.clone(), None)?;
        }
        let display = match infection_display {
            Some(_) => item_display,
            None => text(item),
        };
        // A JLAC10 code under a second item fails here as a duplicate naming both lines: one
        // parent per concept. The v1.5.0 tables list each code once.
        builder.add(
            Some(record.line),
            record.get(code_col),
            display,
            Some(item.to_string()),
        )?;
    }
    Ok(ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    })
}

/// `CLINS_master_JLAC10_JLAC11_*.csv`: the JLAC11 item systems, split by データ区分 (検査 → core
/// labo, 感染症 → infection labo).
///
/// The item is 親コード, not FHIR識別文字列: 親コード holds the item codes the JP-CLINS 1.5.2
/// JLAC11 value sets filter on (`descendent-of U-TP-HalfQty`, `HBs-AG-QUANT`…), while
/// FHIR識別文字列 is the display of the JLAC11 code (the quoted text of the FSH line the table
/// generates, e.g. `U-TP-半定量`, or a Japanese name for infection items). Items show
/// FHIR項目名称.
///
/// The draft of 2024-09-30 needs three allowances, each reported in a note:
/// - rows marked 検査依頼用 are order (request) codes, unit 依頼, whose 親コード is an Excel
///   `#REF!`: not result codes, left out;
/// - some rows repeat a JLAC11 code under the same item: kept once;
/// - a few urine dip-stick JLAC11 codes sit under both the qualitative and the
///   semi-quantitative item (`U-TP` and `U-TP-HalfQty`): a concept has one parent here, so the
///   first item is kept.
///
/// A fragment: JLAC11 method codes name reagent kits, and new kits bring new codes.
pub(super) fn read_master(table: &Table) -> Result<ImportSet, ImportError> {
    let kind_col = table.require("データ区分（感染症/検査）")?;
    let item_name_col = table.require("FHIR項目名称")?;
    let display_col = table.require("FHIR識別文字列")?;
    let code_col = table.require("JLAC11コード")?;
    let parent_col = table.require("親コード")?;
    let purpose_col = table.column("予備区分名称");
    let version = version_from_name(&table.file);
    let new = |url: &str, name: &str| {
        SystemBuilder::new(&table.file, url, name, Content::Fragment).version(version.clone())
    };
    let mut core = new(CLINS_JLAC11_CORE, "JP_CLINS_CodeSystem_JLAC11_CoreLabo_CS");
    let mut infection = new(
        CLINS_JLAC11_INFECTION,
        "JP_CLINS_CodeSystem_JLAC11_InfectionLabo_CS",
    );
    let (mut orders, mut repeats) = (0usize, 0usize);
    let mut two_items: Vec<String> = Vec::new();
    for record in &table.records {
        if purpose_col.is_some_and(|c| record.get(c) == "検査依頼用") {
            orders += 1;
            continue;
        }
        let builder = match record.get(kind_col) {
            "検査" => &mut core,
            "感染症" => &mut infection,
            other => {
                return Err(ImportError::row(
                    &table.file,
                    record.line,
                    format!("データ区分 `{other}` is neither 検査 nor 感染症"),
                ));
            }
        };
        let item = record.get(parent_col);
        if item.starts_with('#') {
            return Err(ImportError::row(
                &table.file,
                record.line,
                format!("親コード is the spreadsheet error `{item}`"),
            ));
        }
        if !builder.contains(item) {
            builder.add(
                Some(record.line),
                item,
                text(record.get(item_name_col)),
                None,
            )?;
        }
        let code = record.get(code_col);
        if let Some(first) = builder.origin_of(code) {
            let first_line = first.unwrap_or(0);
            let first_parent = parent_on_line(table, parent_col, first_line);
            if first_parent == item {
                repeats += 1;
            } else {
                two_items.push(format!(
                    "{code} ({first_parent} line {first_line}, {item} line {})",
                    record.line
                ));
            }
            continue;
        }
        builder.add(
            Some(record.line),
            code,
            text(record.get(display_col)),
            Some(item.to_string()),
        )?;
    }

    let mut set = ImportSet::default();
    for builder in [core, infection] {
        if builder.len() > 0 {
            set.systems.push(builder.finish()?);
        }
    }
    let file = &table.file;
    if orders > 0 {
        set.notes.push(format!(
            "{file}: {orders} rows marked 検査依頼用 (order codes, not results) left out"
        ));
    }
    if repeats > 0 {
        set.notes.push(format!(
            "{file}: {repeats} rows repeat a JLAC11 code under the same item; kept once"
        ));
    }
    if !two_items.is_empty() {
        set.notes.push(format!(
            "{file}: {} JLAC11 codes are listed under two items; the first item is kept as \
             the parent: {}",
            two_items.len(),
            two_items.join("; ")
        ));
    }
    Ok(set)
}

/// 親コード of the record starting on `line` (records are in line order).
fn parent_on_line(table: &Table, parent_col: usize, line: u64) -> &str {
    table
        .records
        .binary_search_by_key(&line, |r| r.line)
        .map_or("", |i| table.records[i].get(parent_col))
}

/// `CLINS_43items_and_infection5_summary.csv`: counts per item, no codes of its own.
pub(super) fn read_summary(table: &Table) -> ImportSet {
    ImportSet {
        notes: vec![format!(
            "{}: a summary table of the CLINS items ({} rows: item, JLAC10/JLAC11 code counts); \
             nothing to import — the codes are in the items and master tables",
            table.file,
            table.records.len()
        )],
        ..ImportSet::default()
    }
}
