//! The official J-FAGY allergen master (DISPLAYSEQ, JFAGYCODE, JPTERM, …, LEVEL, …, ENDDATE).
//!
//! One file holds several FHIR code systems, told apart by the 3-character meta-code: `J9F`
//! food, `J9N` non-food non-medication, `D9x` the dummy (uncodable) codes, `00F`/`00N` the top
//! concepts "食品" and "非食品・非医薬品" (codes of the food and non-food systems in the J-FAGY
//! FHIR CodeSystems). Medication allergens are `YCM`/`GCM` + a drug code: the J9FN file has only
//! their dummy `D9M000000000`, put in both medication systems, which stay fragments.
//!
//! The hierarchy is LEVEL read in DISPLAYSEQ order: a row's parent is the nearest preceding row
//! of the same system with a lower LEVEL (1 top concepts and dummies, 2 categories, 3 groups,
//! 4 items, 5 sub-items, 6 derived products). Checked on the 2025-04-01 file: every parent this
//! gives is also the parent the code's own digits suggest, except urushiol `J9NK13120011`,
//! listed under lacquer tree `J9NK13130000` although its digits say acacia; the J-FAGY FHIR
//! CodeSystem puts it under lacquer tree too, as LEVEL does.

use serde_json::{Value, json};

use super::ImportError;
use super::builder::{SystemBuilder, text};
use super::table::{Record, Table, version_from_name};
use super::urls::{ALLERGY_VS, JFAGY_FOOD, JFAGY_GCM, JFAGY_NON_FOOD, JFAGY_YCM};
use crate::terminology::{Content, ImportSet};

/// The systems of one J-FAGY file, in output order.
const SYSTEMS: [(&str, &str, Content); 4] = [
    (JFAGY_FOOD, "JP_JfagyFoodAllergen_CS", Content::Complete),
    (
        JFAGY_NON_FOOD,
        "JP_JfagyNonFoodNonMedicationAllergen_CS",
        Content::Complete,
    ),
    (
        JFAGY_YCM,
        "JP_JfagyMedicationAllergen_CS_YCM",
        Content::Fragment,
    ),
    (
        JFAGY_GCM,
        "JP_JfagyMedicationAllergen_CS_GCM",
        Content::Fragment,
    ),
];
const FOOD: usize = 0;
const NON_FOOD: usize = 1;
const YCM: usize = 2;
const GCM: usize = 3;

/// The systems (indexes into [`SYSTEMS`]) a code belongs to, by its meta-code.
fn systems_of(code: &str) -> &'static [usize] {
    match code.get(..3) {
        Some("J9F" | "D9F" | "00F") => &[FOOD],
        Some("J9N" | "D9N" | "00N") => &[NON_FOOD],
        Some("D9M" | "00M") => &[YCM, GCM],
        Some("YCM") => &[YCM],
        Some("GCM") => &[GCM],
        _ => &[],
    }
}

pub(super) fn read_jfagy(table: &Table) -> Result<ImportSet, ImportError> {
    let seq_col = table.require("DISPLAYSEQ")?;
    let code_col = table.require("JFAGYCODE")?;
    let term_col = table.require("JPTERM")?;
    let level_col = table.require("LEVEL")?;
    let end_col = table.column("ENDDATE");
    let number = |record: &Record, column: usize, what: &str| {
        record.get(column).parse::<u32>().map_err(|_| {
            ImportError::row(
                &table.file,
                record.line,
                format!("{what} `{}` is not a number", record.get(column)),
            )
        })
    };
    let mut rows = Vec::with_capacity(table.records.len());
    for record in &table.records {
        rows.push((number(record, seq_col, "DISPLAYSEQ")?, record));
    }
    rows.sort_by_key(|(seq, _)| *seq);

    let version = version_from_name(&table.file);
    let mut builders: Vec<SystemBuilder> = SYSTEMS
        .iter()
        .map(|(url, name, content)| {
            SystemBuilder::new(&table.file, url, name, *content).version(version.clone())
        })
        .collect();
    // Per system, the chain of open ancestors: (LEVEL, code).
    let mut open: [Vec<(u32, String)>; 4] = Default::default();
    let mut retired = Vec::new();
    for (_, record) in rows {
        let code = record.get(code_col);
        let systems = systems_of(code);
        if systems.is_empty() {
            return Err(ImportError::row(
                &table.file,
                record.line,
                format!("`{code}` has no known J-FAGY meta-code (J9F, J9N, D9F, D9N, D9M, 00F…)"),
            ));
        }
        // An ENDDATE other than 99999999 retires the code (J-FAGY 2025-04-01 retires two
        // oranges re-coded under the new オレンジ); the J-FAGY FHIR CodeSystem drops them too.
        let end = end_col.map_or("", |c| record.get(c));
        if !end.is_empty() && end != "99999999" {
            retired.push(code.to_string());
            continue;
        }
        let level = number(record, level_col, "LEVEL")?;
        for &s in systems {
            let chain = &mut open[s];
            while chain.last().is_some_and(|(l, _)| *l >= level) {
                chain.pop();
            }
            let parent = chain.last().map(|(_, c)| c.clone());
            builders[s].add(Some(record.line), code, text(record.get(term_col)), parent)?;
            chain.push((level, code.to_string()));
        }
    }

    let mut set = ImportSet::default();
    for builder in builders {
        if builder.len() > 0 {
            set.systems.push(builder.finish()?);
        }
    }
    set.value_sets.push(allergy_value_set());
    if !retired.is_empty() {
        set.notes.push(format!(
            "{}: {} retired codes (ENDDATE set) left out: {}",
            table.file,
            retired.len(),
            retired.join(", ")
        ));
    }
    Ok(set)
}

/// `JP_AllergyIntolerance_VS`, which JP-CLINS AllergyIntolerance binds `code.coding` to
/// (required) but no package here defines. It mirrors the jpfhir-terminology definition: every
/// code of the J-FAGY systems, the medication one split into its YCM and GCM forms.
fn allergy_value_set() -> Value {
    let include: Vec<Value> = SYSTEMS
        .iter()
        .map(|(url, _, _)| json!({ "system": url }))
        .collect();
    json!({
        "resourceType": "ValueSet",
        "url": ALLERGY_VS,
        "name": "JP_AllergyIntolerance_VS",
        "title": "JP Core AllergyIntolerance ValueSet",
        "status": "active",
        "compose": { "include": include }
    })
}
