//! J-FAGY allergen codes: a 3-character meta-code that names the code system, then the rest.
//!
//! - food `J9F` and non-food `J9N`: an uppercase letter (the category: A–H for food, J–U for
//!   non-food in the 2025-04-01 list) and 8 digits, 12 characters in all; the list's roots
//!   `00F` (食品) and `00N` (非食品・非医薬品) are codes of their systems too;
//! - drugs `YCM` + a YJ code and `GCM` + a 一般名処方 code ending in `ZZZ`: 15 characters, as
//!   DESIGN §6 and the official example `GCM2260701F1ZZZ` have it (DESIGN §7's "3 + 9" holds
//!   only for the food, non-food and dummy codes);
//! - dummies `D9F000000000`, `D9N000000000`, and `D9M000000000` in both drug systems.

use super::Finding;
use super::fields::{Field, Layout, full_width, shown};
use super::medication::{general_name_findings, yj_findings};
use super::systems::{JFAGY_DRUG_GENERAL, JFAGY_DRUG_YJ, JFAGY_FOOD, JFAGY_NON_FOOD};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Food,
    NonFood,
    DrugYj,
    DrugGeneral,
}

impl Kind {
    fn url(self) -> &'static str {
        match self {
            Kind::Food => JFAGY_FOOD,
            Kind::NonFood => JFAGY_NON_FOOD,
            Kind::DrugYj => JFAGY_DRUG_YJ,
            Kind::DrugGeneral => JFAGY_DRUG_GENERAL,
        }
    }

    /// This system's meta-codes, for the message on an unknown one.
    fn expected(self) -> &'static str {
        match self {
            Kind::Food => "J9F (or the dummy D9F000000000)",
            Kind::NonFood => "J9N (or the dummy D9N000000000)",
            Kind::DrugYj => "YCM (or the dummy D9M000000000)",
            Kind::DrugGeneral => "GCM (or the dummy D9M000000000)",
        }
    }
}

/// Meta-code, what it stands for, and the systems it belongs to.
const META_CODES: &[(&str, &str, &[Kind])] = &[
    ("J9F", "food allergen", &[Kind::Food]),
    ("D9F", "food dummy", &[Kind::Food]),
    ("00F", "food root", &[Kind::Food]),
    ("J9N", "non-food allergen", &[Kind::NonFood]),
    ("D9N", "non-food dummy", &[Kind::NonFood]),
    ("00N", "non-food root", &[Kind::NonFood]),
    ("YCM", "drug by YJ code", &[Kind::DrugYj]),
    ("GCM", "drug by 一般名処方 code", &[Kind::DrugGeneral]),
    ("D9M", "drug dummy", &[Kind::DrugYj, Kind::DrugGeneral]),
];

/// A food or non-food code; the layout covers the 9 characters after the meta-code.
const ALLERGEN: Layout = Layout {
    label: "J-FAGY code",
    summary: Some("meta-code 3 + category 1 + number 8"),
    fields: &[
        Field {
            name: "category",
            pattern: "A",
            expect: "an uppercase letter",
        },
        Field {
            name: "number",
            pattern: "99999999",
            expect: "8 digits",
        },
    ],
};

pub(super) fn check(kind: Kind, code: &str) -> Vec<Finding> {
    let chars: Vec<char> = code.chars().collect();
    let what = format!("J-FAGY code {}", shown(code));
    if let Some(finding) = full_width(&what, &chars) {
        return vec![finding];
    }
    let meta: String = chars.iter().take(3).collect();
    let Some(&(meta, meaning, owners)) = META_CODES.iter().find(|(m, ..)| *m == meta) else {
        return vec![Finding::error(format!(
            "{what}: the meta-code (characters 1–3) must be {}, found {meta:?}",
            kind.expected()
        ))];
    };
    if !owners.contains(&kind) {
        let belongs = owners
            .iter()
            .map(|k| k.url())
            .collect::<Vec<_>>()
            .join(" or ");
        return vec![Finding::error(format!(
            "{what}: meta-code {meta} ({meaning}) belongs to {belongs}, not to {}",
            kind.url()
        ))];
    }
    match meta {
        "00F" | "00N" if chars.len() == 3 => Vec::new(),
        "00F" | "00N" => vec![Finding::error(format!(
            "{what}: {meta} is the 3-character root of its system and takes nothing after it"
        ))],
        "D9F" | "D9N" | "D9M" => {
            let dummy = format!("{meta}000000000");
            if code == dummy {
                Vec::new()
            } else {
                vec![Finding::error(format!(
                    "{what}: the only {meaning} code is {dummy}"
                ))]
            }
        }
        "YCM" | "GCM" if chars.len() != 15 => {
            let part = if meta == "YCM" {
                "a 12-character YJ code"
            } else {
                "a 12-character 一般名処方 code"
            };
            vec![Finding::error(format!(
                "{what}: must be 15 characters ({meta} + {part}), found {}",
                chars.len()
            ))]
        }
        "YCM" => yj_findings(&what, "the YJ", &chars, 3),
        "GCM" => general_name_findings(&what, "the 一般名処方", &chars, 3, true),
        _ => allergen_findings(&what, &chars),
    }
}

fn allergen_findings(what: &str, chars: &[char]) -> Vec<Finding> {
    if chars.len() != 12 {
        return vec![Finding::error(format!(
            "{what}: must be 12 characters ({}), found {}",
            ALLERGEN.summary.unwrap_or_default(),
            chars.len()
        ))];
    }
    ALLERGEN
        .field_errors(&chars[3..], 3)
        .iter()
        .map(|e| e.finding(what, "the"))
        .collect()
}
