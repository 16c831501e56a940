//! An expanded value set as a membership index, and the set algebra of `compose` (union across
//! includes, intersection inside one include, exclusion).
//!
//! What could not be enumerated is kept as a reason rather than dropped, so a check answers
//! `Unknown` — never `NotMember` — for a code the value set might contain.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::terminology::codesystem::fold;
use crate::validation::binding_check::Membership;

/// The codes of one system in an expansion.
#[derive(Debug, Clone, Default)]
pub(crate) struct SystemPart {
    /// Lookup keys (lower case when `fold`) of the codes known to be members.
    pub codes: HashSet<String>,
    /// Codes are compared case-insensitively (the code system says `caseSensitive: false`).
    pub fold: bool,
    /// Set when more codes of the system may be members than `codes` lists: why they could not
    /// be enumerated.
    pub unknown: Option<String>,
}

impl SystemPart {
    fn contains(&self, code: &str) -> bool {
        self.codes.contains(fold(code, self.fold).as_ref())
    }
}

/// A value set's members, by system.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    pub(crate) systems: HashMap<String, SystemPart>,
    /// Set when codes of any system may be members (an imported value set is not loaded).
    pub(crate) unknown_any: Option<String>,
}

impl Expansion {
    pub(crate) fn unknown(why: String) -> Self {
        Expansion {
            systems: HashMap::new(),
            unknown_any: Some(why),
        }
    }

    pub(crate) fn single(system: String, part: SystemPart) -> Self {
        Expansion {
            systems: HashMap::from([(system, part)]),
            unknown_any: None,
        }
    }

    /// Every member is enumerated: nothing undecidable.
    pub fn is_complete(&self) -> bool {
        self.incomplete_reason().is_none()
    }

    /// The first reason (by system, for a stable answer) it is not complete.
    pub fn incomplete_reason(&self) -> Option<&str> {
        if let Some(why) = &self.unknown_any {
            return Some(why);
        }
        let sorted: BTreeMap<&String, &SystemPart> = self.systems.iter().collect();
        sorted.values().find_map(|p| p.unknown.as_deref())
    }

    /// The number of enumerated member codes.
    pub fn len(&self) -> usize {
        self.systems.values().map(|p| p.codes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Membership of `code` in `system` (already mapped from any alias); with no system, the
    /// system the code was found in.
    pub(crate) fn membership<'a>(
        &'a self,
        system: Option<&str>,
        code: &str,
    ) -> (Membership, Option<&'a str>) {
        match system {
            Some(s) => match self.systems.get_key_value(s) {
                Some((name, part)) if part.contains(code) => {
                    (Membership::Member, Some(name.as_str()))
                }
                Some((_, part)) => (
                    part.unknown
                        .as_ref()
                        .or(self.unknown_any.as_ref())
                        .map_or(Membership::NotMember, |w| Membership::Unknown(w.clone())),
                    None,
                ),
                None => (self.not_found(), None),
            },
            None => {
                // Value sets bound to plain `code` elements have one system in practice; the
                // first one that knows the code (in name order, for a stable answer) wins.
                let sorted: BTreeMap<&String, &SystemPart> = self.systems.iter().collect();
                if let Some((name, _)) = sorted.iter().find(|(_, p)| p.contains(code)) {
                    return (Membership::Member, Some(name.as_str()));
                }
                match self.incomplete_reason() {
                    Some(why) => (Membership::Unknown(why.to_string()), None),
                    None => (Membership::NotMember, None),
                }
            }
        }
    }

    fn not_found(&self) -> Membership {
        self.unknown_any
            .as_ref()
            .map_or(Membership::NotMember, |w| Membership::Unknown(w.clone()))
    }

    pub(crate) fn union(&mut self, other: Expansion) {
        for (system, part) in other.systems {
            let mine = self.systems.entry(system).or_insert_with(|| SystemPart {
                fold: part.fold,
                ..SystemPart::default()
            });
            merge_codes(mine, part.codes, part.fold);
            if mine.unknown.is_none() {
                mine.unknown = part.unknown;
            }
        }
        if self.unknown_any.is_none() {
            self.unknown_any = other.unknown_any;
        }
    }

    /// Codes in both. Where either side is undecided, the result is undecided too (it keeps
    /// only what both know), which may turn a clear `NotMember` into `Unknown` but never the
    /// other way round.
    pub(crate) fn intersect(self, other: Expansion) -> Expansion {
        let mut systems = HashMap::new();
        let names: HashSet<&String> = self.systems.keys().chain(other.systems.keys()).collect();
        for name in names {
            let a = self.side(name);
            let b = other.side(name);
            let (Some((a_codes, a_unknown, a_fold)), Some((b_codes, b_unknown, b_fold))) = (a, b)
            else {
                continue;
            };
            let fold = a_fold || b_fold;
            let b_keys: HashSet<String> = b_codes.iter().map(|c| fold_owned(c, fold)).collect();
            let codes = a_codes
                .iter()
                .map(|c| fold_owned(c, fold))
                .filter(|c| b_keys.contains(c))
                .collect();
            systems.insert(
                name.clone(),
                SystemPart {
                    codes,
                    fold,
                    unknown: a_unknown.or(b_unknown),
                },
            );
        }
        let unknown_any = match (&self.unknown_any, &other.unknown_any) {
            (Some(a), Some(_)) => Some(a.clone()),
            _ => None,
        };
        Expansion {
            systems,
            unknown_any,
        }
    }

    /// One side of an intersection for `system`: its codes and why it is undecided, if it is.
    /// A side that only says "anything may be a member" contributes its reason and no codes.
    #[allow(clippy::type_complexity)]
    fn side(&self, system: &str) -> Option<(Vec<&String>, Option<String>, bool)> {
        match (self.systems.get(system), &self.unknown_any) {
            (Some(p), any) => Some((
                p.codes.iter().collect(),
                p.unknown.clone().or_else(|| any.clone()),
                p.fold,
            )),
            (None, Some(why)) => Some((Vec::new(), Some(why.clone()), false)),
            (None, None) => None,
        }
    }

    /// Removes `other`'s codes. Where `other` is undecided for a system, every code of that
    /// system becomes undecided.
    pub(crate) fn subtract(&mut self, other: &Expansion) {
        for (name, part) in self.systems.iter_mut() {
            let (codes, unknown) = match (other.systems.get(name), &other.unknown_any) {
                (Some(o), any) => (Some(&o.codes), o.unknown.as_ref().or(any.as_ref())),
                (None, any) => (None, any.as_ref()),
            };
            if let Some(why) = unknown {
                part.codes.clear();
                part.unknown = Some(why.clone());
                continue;
            }
            if let Some(codes) = codes {
                let fold = part.fold;
                for c in codes {
                    part.codes.remove(fold_owned(c, fold).as_str());
                }
            }
        }
    }
}

fn fold_owned(code: &str, f: bool) -> String {
    fold(code, f).into_owned()
}

fn merge_codes(into: &mut SystemPart, codes: HashSet<String>, codes_folded: bool) {
    if into.fold && !codes_folded {
        into.codes.extend(codes.iter().map(|c| fold_owned(c, true)));
    } else {
        into.codes.extend(codes);
    }
}
