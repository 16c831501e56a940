//! JLAC10 and JLAC11 laboratory codes, alone and inside the CLINS lab item code systems.
//!
//! The character classes come from the masters: every code of the MEDIS 17-digit list (8,108),
//! the CLINS 43-item and infection lists and the JLAC10 column of the CLINS master table is a
//! digit, an uppercase letter and 15 digits; every JLAC11 code of the CLINS master (7,890) is an
//! uppercase letter and 14 digits followed by a 2-character unit code that is a digit or an
//! uppercase letter and a digit (`85`, `F7`, `B1`). JLAC11's unit table is alphanumeric, so
//! the unit field accepts any two uppercase letters or digits rather than that observed shape.

use super::Finding;
use super::fields::{Field, Layout};
use crate::messages::codes::{CodeField, Coded};

/// The CLINS "not coded" lab code, valid wherever JLAC10 is.
pub(super) const UNCODED: &str = "99999999999999999";

/// The fields JLAC10 and JLAC11 share after the analyte.
const IDENTIFICATION: Field = Field {
    name: CodeField::Identification,
    pattern: "9999",
};
const MATERIAL: Field = Field {
    name: CodeField::Material,
    pattern: "999",
};

pub(super) const JLAC10: Layout = Layout {
    label: Coded::Jlac10,
    fields: &[
        Field {
            name: CodeField::Analyte,
            pattern: "9A999",
        },
        IDENTIFICATION,
        MATERIAL,
        Field {
            name: CodeField::Method,
            pattern: "999",
        },
        Field {
            name: CodeField::Result,
            pattern: "99",
        },
    ],
};

pub(super) const JLAC11: Layout = Layout {
    label: Coded::Jlac11,
    fields: &[
        Field {
            name: CodeField::Analyte,
            pattern: "A9999",
        },
        IDENTIFICATION,
        MATERIAL,
        Field {
            name: CodeField::MethodOrReagentKit,
            pattern: "999",
        },
        Field {
            name: CodeField::Unit,
            pattern: "XX",
        },
    ],
};

pub(super) fn check_jlac10(code: &str) -> Vec<Finding> {
    if code == UNCODED {
        return Vec::new();
    }
    JLAC10.check(code)
}

/// A code of a CLINS lab item system: item codes (`ALB`, `HbA1c-NGSP`, `HIV-1P2-AB-P24-COI`)
/// have no syntax of their own and are left to membership; JLAC-looking codes get the JLAC10
/// or JLAC11 rule of the system's path, so that a mistyped JLAC code is reported by field.
pub(super) fn check_clins_item(code: &str, jlac11: bool) -> Vec<Finding> {
    if !looks_like_jlac(code) {
        Vec::new()
    } else if jlac11 {
        JLAC11.check(code)
    } else {
        check_jlac10(code)
    }
}

/// Whether a code of a CLINS item system is meant as a JLAC code: only ASCII letters and digits
/// with at least 10 digits. No item code of the CLINS systems has more than 2 digits, every
/// JLAC code has at least 14, so a JLAC code with a character too many or too few still counts.
pub(super) fn looks_like_jlac(code: &str) -> bool {
    code.chars().all(|c| c.is_ascii_alphanumeric())
        && code.chars().filter(char::is_ascii_digit).count() >= 10
}
