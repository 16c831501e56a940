//! The names writers serialise on ([`Conn::lock`](super::Conn::lock)), rendered in one place.
//!
//! On PostgreSQL a key becomes a transaction-scoped advisory lock on the stable hash of its text,
//! so every server instance sharing a database must render the same key to the same text: a
//! change of rendering would let an old and a new instance write the same thing at once during a
//! rolling upgrade. The tests pin each rendering. On SQLite there is one writer, so none is taken.
//! One key is no name: a referenced resource is held as its own row
//! ([`LockKey::ReferenceTarget`]), which the writers of that row wait for without taking any key.

use std::fmt;

/// What a writer serialises on, until its transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey<'a> {
    /// One logical resource: its PUTs and DELETEs one at a time (`Patient/123`).
    Resource { res_type: &'a str, id: &'a str },
    /// A conditional match's criteria, so that concurrent identical conditional creates find
    /// each other (`Patient?identifier=a&name=b`, the applied `name=value` pairs sorted).
    Criteria {
        res_type: &'a str,
        applied: &'a [(String, String)],
    },
    /// A 6-information report unit, by its routing key: its submissions, cancellations and
    /// deletions one at a time.
    ReportUnit(&'a str),
    /// A CLINS document, by its key: its submission, receipt and cancellation one at a time.
    Document(&'a str),
    /// The Patient an institution's submissions file under one member id, so two submissions
    /// for a new person create one Patient.
    MemberPatient {
        institution: &'a str,
        person: &'a str,
    },
    /// The retention purgers: with several servers on one database, one purges at a time.
    Purge,
    /// The current row of a resource a write references, held shared until the write commits,
    /// so a concurrent delete or update of it waits: a reference checked against it stays true
    /// at commit. On PostgreSQL a row lock (`FOR SHARE`), not an advisory one: the delete it
    /// holds off takes no key of ours, it updates the row. Its rendering is for logs only.
    ReferenceTarget { res_type: &'a str, id: &'a str },
    /// The installation of the access rule's PostgreSQL function at start-up: with several
    /// servers starting on one database, one compares and replaces it at a time.
    AccessRule,
}

/// Separates the parts of a key: a character no institution number, routing key or member id
/// contains, so two different part lists never render alike.
const SEP: char = '\u{1f}';

impl fmt::Display for LockKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockKey::Resource { res_type, id } => write!(f, "{res_type}/{id}"),
            LockKey::Criteria { res_type, applied } => {
                let mut pairs: Vec<String> =
                    applied.iter().map(|(k, v)| format!("{k}={v}")).collect();
                pairs.sort();
                write!(f, "{res_type}?{}", pairs.join("&"))
            }
            LockKey::ReportUnit(key) => write!(f, "unit{SEP}{key}"),
            LockKey::Document(key) => write!(f, "document{SEP}{key}"),
            LockKey::MemberPatient {
                institution,
                person,
            } => write!(f, "patient{SEP}{institution}{SEP}{person}"),
            LockKey::Purge => f.write_str("retention purge"),
            LockKey::ReferenceTarget { res_type, id } => {
                write!(f, "referenced{SEP}{res_type}/{id}")
            }
            LockKey::AccessRule => f.write_str("access rule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::stable_hash;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The texts the keys had when each was written out with `format!` at its call site: a
    /// running deployment's instances must keep agreeing on them.
    #[test]
    fn every_key_renders_as_it_always_has() {
        let applied = pairs(&[("name", "b"), ("identifier", "a")]);
        let cases = [
            (
                LockKey::Resource {
                    res_type: "Patient",
                    id: "123",
                },
                "Patient/123",
            ),
            (
                LockKey::Criteria {
                    res_type: "Patient",
                    applied: &applied,
                },
                "Patient?identifier=a&name=b",
            ),
            (
                LockKey::Criteria {
                    res_type: "Patient",
                    applied: &[],
                },
                "Patient?",
            ),
            (LockKey::ReportUnit("k1"), "unit\u{1f}k1"),
            (LockKey::Document("d1"), "document\u{1f}d1"),
            (
                LockKey::MemberPatient {
                    institution: "1311234567",
                    person: "00012345",
                },
                "patient\u{1f}1311234567\u{1f}00012345",
            ),
            (LockKey::Purge, "retention purge"),
            (
                LockKey::ReferenceTarget {
                    res_type: "Patient",
                    id: "123",
                },
                "referenced\u{1f}Patient/123",
            ),
            (LockKey::AccessRule, "access rule"),
        ];
        for (key, text) in cases {
            assert_eq!(key.to_string(), text, "{key:?}");
        }
    }

    /// The advisory lock ids themselves, computed from the texts above: FNV-1a must not change
    /// either.
    #[test]
    fn the_advisory_lock_ids_are_unchanged() {
        let id = |key: LockKey<'_>| stable_hash(&key.to_string());
        assert_eq!(id(LockKey::Purge), -8_120_597_309_295_919_490);
        assert_eq!(
            id(LockKey::Resource {
                res_type: "Patient",
                id: "123"
            }),
            4_183_197_384_880_771_405
        );
        assert_eq!(id(LockKey::ReportUnit("k1")), -1_316_942_783_299_736_904);
    }

    #[test]
    fn criteria_in_any_order_share_one_key() {
        let one = pairs(&[("a", "1"), ("b", "2")]);
        let other = pairs(&[("b", "2"), ("a", "1")]);
        let key = |applied| LockKey::Criteria {
            res_type: "Observation",
            applied,
        };
        assert_eq!(key(&one).to_string(), key(&other).to_string());
    }
}
