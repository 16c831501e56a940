//! J-FAGY allergen codes: a 3-character meta-code that names the code system, then the rest.
//!
//! - food `J9F` and non-food `J9N`: an uppercase letter (the category: A–H for food, J–U for
//!   non-food in the 2025-04-01 list) and 8 digits, 12 characters in all; the list's roots
//!   `00F` (食品) and `00N` (非食品・非医薬品) are codes of their systems too;
//! - drugs `YCM` + a YJ code and `GCM` + a 一般名処方 code ending in `ZZZ`: 15 characters, as
//!   DESIGN §6 and the official example `GCM2260701F1ZZZ` have it (DESIGN §7's "3 + 9" holds
//!   only for the food, non-food and dummy codes);
//! - dummies `D9F000000000`, `D9N000000000`, and `D9M000000000` in both drug systems.

use super::fields::{Field, Layout, full_width};
use super::medication::{general_name_findings, yj_findings};
use super::systems::{JFAGY_DRUG_GENERAL, JFAGY_DRUG_YJ, JFAGY_FOOD, JFAGY_NON_FOOD};
use super::{Finding, What};
use crate::messages::codes::{Breakdown, CodeField, Coded, Embedded, MetaMeaning, SyntaxProblem};

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

    /// This system's meta-code and dummy code, for the message on an unknown meta-code.
    fn expected(self) -> (&'static str, &'static str) {
        match self {
            Kind::Food => ("J9F", "D9F000000000"),
            Kind::NonFood => ("J9N", "D9N000000000"),
            Kind::DrugYj => ("YCM", "D9M000000000"),
            Kind::DrugGeneral => ("GCM", "D9M000000000"),
        }
    }
}

/// Meta-code, what it stands for, and the systems it belongs to.
const META_CODES: &[(&str, MetaMeaning, &[Kind])] = &[
    ("J9F", MetaMeaning::FoodAllergen, &[Kind::Food]),
    ("D9F", MetaMeaning::FoodDummy, &[Kind::Food]),
    ("00F", MetaMeaning::FoodRoot, &[Kind::Food]),
    ("J9N", MetaMeaning::NonFoodAllergen, &[Kind::NonFood]),
    ("D9N", MetaMeaning::NonFoodDummy, &[Kind::NonFood]),
    ("00N", MetaMeaning::NonFoodRoot, &[Kind::NonFood]),
    ("YCM", MetaMeaning::DrugByYj, &[Kind::DrugYj]),
    ("GCM", MetaMeaning::DrugByGeneralName, &[Kind::DrugGeneral]),
    (
        "D9M",
        MetaMeaning::DrugDummy,
        &[Kind::DrugYj, Kind::DrugGeneral],
    ),
];

/// A food or non-food code; the layout covers the 9 characters after the meta-code.
const ALLERGEN: Layout = Layout {
    label: Coded::Jfagy,
    fields: &[
        Field {
            name: CodeField::Category,
            pattern: "A",
        },
        Field {
            name: CodeField::Number,
            pattern: "99999999",
        },
    ],
};

pub(super) fn check(kind: Kind, code: &str) -> Vec<Finding> {
    let chars: Vec<char> = code.chars().collect();
    let what = What::new(Coded::Jfagy, code);
    if let Some(finding) = full_width(&what, &chars) {
        return vec![finding];
    }
    let meta: String = chars.iter().take(3).collect();
    let Some(&(meta, meaning, owners)) = META_CODES.iter().find(|(m, ..)| *m == meta) else {
        let (expected, dummy) = kind.expected();
        return vec![what.error(SyntaxProblem::MetaCodeUnknown {
            expected,
            dummy,
            found: format!("{meta:?}"),
        })];
    };
    if !owners.contains(&kind) {
        return vec![what.error(SyntaxProblem::MetaCodeOtherSystem {
            meta: meta.to_string(),
            meaning,
            belongs: owners.iter().map(|k| k.url()).collect(),
            system: kind.url(),
        })];
    }
    match meta {
        "00F" | "00N" if chars.len() == 3 => Vec::new(),
        "00F" | "00N" => vec![what.error(SyntaxProblem::RootWithSuffix {
            meta: meta.to_string(),
        })],
        "D9F" | "D9N" | "D9M" => {
            let dummy = format!("{meta}000000000");
            if code == dummy {
                Vec::new()
            } else {
                vec![what.error(SyntaxProblem::DummyOnly { meaning, dummy })]
            }
        }
        "YCM" | "GCM" if chars.len() != 15 => {
            let code = if meta == "YCM" {
                Embedded::Yj
            } else {
                Embedded::GeneralName
            };
            vec![what.error(SyntaxProblem::Length {
                expected: 15,
                breakdown: Breakdown::MetaAndCode {
                    meta: meta.to_string(),
                    code,
                },
                found: chars.len(),
            })]
        }
        "YCM" => yj_findings(&what, Some(Embedded::Yj), &chars, 3),
        "GCM" => general_name_findings(&what, Some(Embedded::GeneralName), &chars, 3, true),
        _ => allergen_findings(&what, &chars),
    }
}

fn allergen_findings(what: &What, chars: &[char]) -> Vec<Finding> {
    if chars.len() != 12 {
        let mut breakdown = vec![(CodeField::MetaCode, 3)];
        breakdown.extend(ALLERGEN.breakdown());
        return vec![what.error(SyntaxProblem::Length {
            expected: 12,
            breakdown: Breakdown::Fields(breakdown),
            found: chars.len(),
        })];
    }
    ALLERGEN
        .field_errors(&chars[3..], 3)
        .iter()
        .map(|e| e.finding(what, None))
        .collect()
}
