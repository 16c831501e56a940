//! Generic tables: the `codesystem,url,code,display,parent,…` table of several systems, the
//! two-column national masters (レセ電 傷病名/修飾語, MEDIS 修飾語, JLAC10), and any CSV mapped
//! with `--columns`.

use std::collections::HashMap;

use super::builder::{SystemBuilder, text};
use super::table::{Table, file_stem, version_from_name};
use super::urls::{JLAC10, MASTER_B, MASTER_Z, MEDIS_MODIFIER, PARTIAL_MASTERS};
use super::{ImportError, ImportOptions, Layout};
use crate::terminology::canonical_system;
use crate::terminology::{Content, ImportSet};

/// `codesystem,url,code,display,parent[,level,comment]`: rows of several systems, grouped by
/// URL (old OIDs mapped to their URL form). `level` and `comment` are not needed: `parent`
/// carries the hierarchy.
pub(super) fn read_code_system_table(table: &Table) -> Result<ImportSet, ImportError> {
    let name_col = table.require("codesystem")?;
    let url_col = table.require("url")?;
    let code_col = table.require("code")?;
    let display_col = table.require("display")?;
    let parent_col = table.column("parent");
    let version = version_from_name(&table.file);

    let mut builders: Vec<SystemBuilder> = Vec::new();
    let mut by_url: HashMap<String, (usize, String, u64)> = HashMap::new();
    // Rows whose url is no URI: (url, name, first line, last line, codes).
    let mut skipped: Vec<(String, String, u64, u64, usize)> = Vec::new();
    for record in &table.records {
        let raw_url = record.get(url_col);
        let name = record.get(name_col);
        if raw_url.is_empty() {
            return Err(ImportError::row(&table.file, record.line, "empty url"));
        }
        if !raw_url.contains(':') {
            // e.g. `$report_speccategory_cs`: an FSH alias the table's generator left
            // unexpanded. Guessing its URL would invent a system, so it is left out.
            match skipped.iter_mut().find(|s| s.0 == raw_url) {
                Some(s) => {
                    s.3 = record.line;
                    s.4 += 1;
                }
                None => skipped.push((
                    raw_url.to_string(),
                    name.to_string(),
                    record.line,
                    record.line,
                    1,
                )),
            }
            continue;
        }
        let url = canonical_system(raw_url);
        let index = match by_url.get(url) {
            Some((i, first_name, first_line)) => {
                if first_name != name {
                    return Err(ImportError::row(
                        &table.file,
                        record.line,
                        format!(
                            "{url} is named `{first_name}` on line {first_line}, `{name}` here"
                        ),
                    ));
                }
                *i
            }
            None => {
                let content = if PARTIAL_MASTERS.contains(&url) {
                    Content::Fragment
                } else {
                    Content::Complete
                };
                builders.push(
                    SystemBuilder::new(&table.file, url, name, content).version(version.clone()),
                );
                by_url.insert(
                    url.to_string(),
                    (builders.len() - 1, name.to_string(), record.line),
                );
                builders.len() - 1
            }
        };
        builders[index].add(
            Some(record.line),
            record.get(code_col),
            text(record.get(display_col)),
            parent_col.and_then(|c| text(record.get(c))),
        )?;
    }

    let mut set = ImportSet::default();
    for builder in builders {
        if PARTIAL_MASTERS.contains(&builder.url()) {
            set.notes.push(format!(
                "{}: {} lists {} codes of a larger master; imported as a fragment",
                table.file,
                builder.url(),
                builder.len()
            ));
        }
        set.systems.push(builder.finish()?);
    }
    for (url, name, first, last, count) in skipped {
        set.notes.push(format!(
            "{}: lines {first}–{last} ({count} codes of `{name}`) skipped: url `{url}` is not a \
             URI (an unexpanded FSH alias?)",
            table.file
        ));
    }
    Ok(set)
}

/// A national master published as one code column and one display column.
struct Master {
    url: &'static str,
    name: &'static str,
    content: Content,
    display_column: &'static str,
}

fn master(layout: Layout) -> Option<Master> {
    let (url, name, content, display_column) = match layout {
        Layout::ReceiptDisease => (MASTER_B, "masterB-disease", Content::Complete, "display"),
        Layout::ReceiptModifier => (
            MASTER_Z,
            "masterZ-disease-modifier",
            Content::Complete,
            "display",
        ),
        Layout::MedisModifier => (
            MEDIS_MODIFIER,
            "master-disease-modExCode",
            Content::Complete,
            "display",
        ),
        // JLAC10 is combinatorial: the published list holds the codes in use, not every valid
        // combination.
        Layout::Jlac10 => (
            JLAC10,
            "master-JLAC10-17digits",
            Content::Fragment,
            "display_synthesized",
        ),
        _ => return None,
    };
    Some(Master {
        url,
        name,
        content,
        display_column,
    })
}

/// receipt-disease, receipt-modifier, medis-modifier and jlac10.
pub(super) fn read_code_display(table: &Table, layout: Layout) -> Result<ImportSet, ImportError> {
    let master = master(layout).ok_or_else(|| {
        ImportError::layout(
            &table.file,
            format!("{layout} is not a code/display master"),
        )
    })?;
    let code_col = table.require("code")?;
    let display_col = table.require(master.display_column)?;
    let mut builder = SystemBuilder::new(&table.file, master.url, master.name, master.content)
        .version(version_from_name(&table.file));
    for record in &table.records {
        builder.add(
            Some(record.line),
            record.get(code_col),
            text(record.get(display_col)),
            None,
        )?;
    }
    Ok(ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    })
}

/// Any CSV: the operator names the columns and the system.
pub(super) fn read_mapped(
    table: &Table,
    options: &ImportOptions,
) -> Result<ImportSet, ImportError> {
    let (Some(columns), Some(system)) = (&options.columns, &options.system) else {
        return Err(ImportError::layout(
            &table.file,
            "the mapped layout needs --columns code=COL[,display=COL][,parent=COL] and --system",
        ));
    };
    let code_col = table.require(&columns.code)?;
    let display_col = columns
        .display
        .as_deref()
        .map(|c| table.require(c))
        .transpose()?;
    let parent_col = columns
        .parent
        .as_deref()
        .map(|c| table.require(c))
        .transpose()?;
    let url = canonical_system(system);
    let mut builder =
        SystemBuilder::new(&table.file, url, file_stem(&table.file), Content::Complete)
            .version(version_from_name(&table.file));
    for record in &table.records {
        builder.add(
            Some(record.line),
            record.get(code_col),
            display_col.and_then(|c| text(record.get(c))),
            parent_col.and_then(|c| text(record.get(c))),
        )?;
    }
    Ok(ImportSet {
        systems: vec![builder.finish()?],
        ..ImportSet::default()
    })
}
