//! Disease and modifier codes: MEDIS 標準病名マスター (管理番号, 交換用コード, and the same for
//! modifiers) and the レセ電 (receipt) masters B and Z. The uncoded values (`99999999`,
//! `0000999`) have the shape of any other code.
//!
//! The classes come from the masters: all 26,725 病名交換用コード and 2,434 修飾語交換用コード are
//! 4 uppercase letters or digits, all 27,437 傷病名 codes 7 digits, all 2,349 修飾語 codes
//! 4 digits. The 修飾語管理番号 master is not at hand; JP-CLINS's own example
//! (`27000358`) and MEDIS's layout give it the 8 digits of the 病名管理番号.

use super::fields::{Field, Layout};
use crate::messages::codes::{CodeField, Coded};

const fn single(label: Coded, field: &'static [Field]) -> Layout {
    Layout {
        label,
        fields: field,
    }
}

const EIGHT_DIGITS: &[Field] = &[Field {
    name: CodeField::Code,
    pattern: "99999999",
}];

const FOUR_ALPHANUMERICS: &[Field] = &[Field {
    name: CodeField::Code,
    pattern: "XXXX",
}];

pub(super) const KEY_NUMBER: Layout = single(Coded::DiseaseKeyNumber, EIGHT_DIGITS);
pub(super) const EXCHANGE: Layout = single(Coded::DiseaseExchange, FOUR_ALPHANUMERICS);
pub(super) const MODIFIER_KEY_NUMBER: Layout = single(Coded::ModifierKeyNumber, EIGHT_DIGITS);
pub(super) const MODIFIER_EXCHANGE: Layout = single(Coded::ModifierExchange, FOUR_ALPHANUMERICS);

pub(super) const RECEIPT_DISEASE: Layout = single(
    Coded::ReceiptDisease,
    &[Field {
        name: CodeField::Code,
        pattern: "9999999",
    }],
);

pub(super) const RECEIPT_MODIFIER: Layout = single(
    Coded::ReceiptModifier,
    &[Field {
        name: CodeField::Code,
        pattern: "9999",
    }],
);
