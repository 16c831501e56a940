//! Property tests of the JSON and XML readers over seeded mutations of our sample bodies: no
//! input makes them panic, and none takes more than a bound, whatever it holds.

use std::time::{Duration, Instant};

use crate::bench::fuzz::{mutate_bytes, mutate_json};
use crate::bench::rng::Rng;

use super::{json, xml};

/// A debug build on a busy machine; a reader parses these bodies in well under a millisecond.
const BOUND: Duration = Duration::from_secs(2);
const DEPTH: usize = 64;

fn seeds() -> Vec<serde_json::Value> {
    [
        include_str!("../../examples/patient.json"),
        include_str!("../../examples/observation.json"),
        include_str!("../../examples/transaction.json"),
    ]
    .iter()
    .map(|s| serde_json::from_str(s).unwrap())
    .collect()
}

fn timed<T>(what: &str, case: usize, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    assert!(
        started.elapsed() < BOUND,
        "{what} case {case} took {:?}",
        started.elapsed()
    );
    out
}

#[test]
fn the_json_reader_refuses_damaged_bodies_cleanly_and_quickly() {
    let mut rng = Rng::seeded(22);
    let seeds = seeds();
    for case in 0..3000 {
        let seed = &seeds[case % seeds.len()];
        let body = if case % 2 == 0 {
            mutate_bytes(&mut rng, seed.to_string().as_bytes())
        } else {
            mutate_json(&mut rng, seed).to_string().into_bytes()
        };
        if let Ok(value) = timed("json", case, || json::parse_resource(&body, DEPTH)) {
            // What was read can be written as XML, or is refused as unwritable.
            let _ = timed("to_xml", case, || xml::to_xml(&value, false));
        }
    }
}

#[test]
fn the_xml_reader_refuses_damaged_bodies_cleanly_and_quickly() {
    let mut rng = Rng::seeded(23);
    let seeds: Vec<String> = seeds()
        .iter()
        .map(|v| xml::to_xml(v, case_pretty(v)).unwrap())
        .collect();
    for case in 0..3000 {
        let body = mutate_bytes(&mut rng, seeds[case % seeds.len()].as_bytes());
        let _ = timed("xml", case, || xml::parse_resource(&body, DEPTH));
    }
}

fn case_pretty(v: &serde_json::Value) -> bool {
    v["resourceType"] == "Patient"
}

#[test]
fn nesting_past_the_limit_is_refused_not_recursed_into() {
    for open in ["[", "{\"a\":"] {
        let body = format!(
            "{{\"resourceType\":\"Patient\",\"x\":{}",
            open.repeat(200_000)
        );
        assert!(json::parse_resource(body.as_bytes(), DEPTH).is_err());
    }
    let body = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">{}",
        "<name>".repeat(200_000)
    );
    assert!(xml::parse_resource(body.as_bytes(), DEPTH).is_err());
}
