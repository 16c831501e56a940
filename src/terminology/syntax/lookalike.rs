//! Look-alike CJK characters in text: Kangxi radicals, CJK Radicals Supplement and CJK
//! compatibility ideographs render like ordinary kanji (⾎ for 血) but are other characters, so
//! a display or name holding them matches nothing in search or in the masters. They come from
//! copying out of PDFs and from old input methods.
//!
//! Kangxi radicals and compatibility ideographs name their unified ideograph through their
//! Unicode decomposition (NFKC); the radicals supplement mostly has none, so it uses the
//! [`RADICALS_SUPPLEMENT`] table. The twelve unified ideographs that sit in the compatibility
//! block (U+FA0E 﨎, U+FA11 﨑, …) have no decomposition: they are proper characters (﨑 in
//! surnames) and are not flagged.

use unicode_normalization::char::decompose_compatible;

use super::radicals::RADICALS_SUPPLEMENT;
use crate::messages::codes::{Lookalike, LookalikeHint};

/// Distinct characters named before the hint is cut short.
const LISTED_MAX: usize = 10;

/// A hint when `text` contains look-alike CJK characters, naming each (once) with the unified
/// ideograph it stands for; `None` when clean.
pub fn lookalike_hint(text: &str) -> Option<LookalikeHint> {
    let mut seen: Vec<char> = Vec::new();
    let mut listed: Vec<Lookalike> = Vec::new();
    for c in text.chars() {
        let Some(unified) = lookalike(c) else {
            continue;
        };
        if seen.contains(&c) {
            continue;
        }
        seen.push(c);
        if listed.len() < LISTED_MAX {
            listed.push(Lookalike { found: c, unified });
        }
    }
    if seen.is_empty() {
        return None;
    }
    Some(LookalikeHint {
        more: seen.len() - listed.len(),
        listed,
    })
}

/// `None` when `c` is not a look-alike; `Some(None)` for a radical with no unified equivalent.
fn lookalike(c: char) -> Option<Option<char>> {
    match u32::from(c) {
        0x2E80 => Some(None),
        0x2E81..=0x2EFF => RADICALS_SUPPLEMENT
            .iter()
            .find(|&&(first, last, _)| (first..=last).contains(&c))
            .map(|&(_, _, unified)| Some(unified)),
        0x2F00..=0x2FDF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F => single_decomposition(c).map(Some),
        _ => None,
    }
}

/// The one character `c` decomposes to, if it decomposes to exactly one other.
fn single_decomposition(c: char) -> Option<char> {
    let mut parts = 0;
    let mut last = c;
    decompose_compatible(c, |d| {
        parts += 1;
        last = d;
    });
    (parts == 1 && last != c).then_some(last)
}
