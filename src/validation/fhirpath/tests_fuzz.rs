//! Property tests of the FHIRPath parser: damaged expressions never panic or take more than a
//! bound, and nesting past [`MAX_NESTING`](super::parser::MAX_NESTING) is a parse error, not a
//! stack overflow.

use std::time::{Duration, Instant};

use crate::bench::fuzz::mutate_text;
use crate::bench::rng::Rng;

use super::Expression;
use super::parser::{MAX_LINKS, MAX_NESTING};

const SEEDS: &[&str] = &[
    "name.given.first() + ' ' + name.family",
    "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())",
    "identifier.where(system = 'urn:oid:1.2.392.100495.20.3.51.11311234567').value.matches('^[0-9]{8}$')",
    "effective.ofType(dateTime) >= @2024-01-01T00:00:00+09:00 and valueQuantity.value > 1.5 'mg'",
    "entry.resource.select(($this as Observation).code.coding[0].code) contains 'x'",
    "-(1 + 2) * 3 div 4 mod 5 | {} | %resource.id.length()",
    "iif(a.exists(), b.count() = 1, c.all($this is string))",
];

#[test]
fn damaged_expressions_are_refused_cleanly_and_quickly() {
    let mut rng = Rng::seeded(64);
    for case in 0..4000 {
        let text = mutate_text(&mut rng, SEEDS[case % SEEDS.len()]);
        let started = Instant::now();
        let _ = Expression::parse(&text);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "case {case} took {:?}: {text}",
            started.elapsed()
        );
    }
}

fn nested(levels: usize, open: &str, close: &str) -> String {
    format!("{}1{}", open.repeat(levels), close.repeat(levels))
}

#[test]
fn nesting_past_the_limit_is_a_parse_error() {
    for (open, close) in [("(", ")"), ("a[", "]"), ("f(", ")"), ("-", ""), ("+", "")] {
        let at_limit = nested(MAX_NESTING, open, close);
        let past = nested(MAX_NESTING + 1, open, close);
        let far_past = nested(100_000, open, close);
        if open != "f(" {
            assert!(Expression::parse(&at_limit).is_ok(), "{open}: {at_limit}");
        }
        let e = Expression::parse(&past)
            .err()
            .unwrap_or_else(|| panic!("{open}"));
        assert!(e.message.contains("nested deeper"), "{}", e.message);
        assert!(Expression::parse(&far_past).is_err());
    }
}

#[test]
fn chains_past_the_limit_are_a_parse_error() {
    let ok = vec!["1"; MAX_LINKS + 1].join(" + ");
    assert!(Expression::parse(&ok).is_ok());
    let long = vec!["1"; MAX_LINKS + 2].join(" + ");
    assert!(Expression::parse(&long).is_err());
    let path = format!("a{}", ".b".repeat(100_000));
    assert!(Expression::parse(&path).is_err());
}
