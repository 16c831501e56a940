//! HTTP fuzzing over mutated official examples (JP-CLINS, ../shared/data/examples/clins):
//! creates, updates, `$validate`, transactions, XML bodies, searches and odd headers. No answer
//! may be a 5xx and none may take 5 s. A short run is part of every test run; `fuzz_campaign`
//! (ignored: minutes) runs 20,000 cases and prints the figures.

use crate::common;

use std::time::{Duration, Instant};

use common::{Backend, FHIR_JSON, Options, TestServer};
use kyoyu::bench::fuzz::{mutate_bytes, mutate_json};
use kyoyu::bench::rng::Rng;
use serde_json::Value;

const SLOW: Duration = Duration::from_secs(5);
const FHIR_XML: &str = "application/fhir+xml";

/// The official examples; their absence fails the test (it would otherwise test nothing).
fn examples() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/examples/clins");
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("the official examples are needed in {dir}: {e}"));
    let mut out: Vec<Value> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap())
        .collect();
    out.sort_by_key(|v| v.to_string());
    assert!(out.len() >= 40, "only {} examples in {dir}", out.len());
    out
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    server_errors: Vec<String>,
    slow: Vec<String>,
    slowest: Duration,
    /// How many answers had each status (0: a request the client could not send).
    statuses: std::collections::BTreeMap<u16, usize>,
}

const ACCEPTS: &[&str] = &[
    FHIR_JSON,
    FHIR_XML,
    "application/json",
    "*/*",
    "text/html",
    "application/fhir+xml;q=0.1, application/fhir+json;q=0.2",
    "\u{7f}",
];

const QUERIES: &[&str] = &[
    "Patient?family=山田&_count=5",
    "Observation?code=http://jpfhir.jp/fhir/core/CodeSystem/JP_ObservationLabResultCode_CS|3F050000002327101&date=ge2020-01-01",
    "Observation?subject=Patient/1&_sort=-date&_count=1000",
    "Condition?_id=a,b,c,d&_total=accurate",
    "AllergyIntolerance?patient:missing=true",
    "Bundle?identifier=urn:ietf:rfc:3986|urn:uuid:x",
    "MedicationRequest?authoredon=lt2024-02-30",
    "Patient/_history?_since=2024-01-01T00:00:00Z",
    "metadata",
];

/// One mutated request: what it was (for the report) and its answer's status and time.
fn one_case(srv: &TestServer, rng: &mut Rng, examples: &[Value]) -> (String, u16, Duration) {
    let seed = &examples[rng.index(examples.len())];
    let t = seed["resourceType"]
        .as_str()
        .unwrap_or("Patient")
        .to_string();
    let json_body = |rng: &mut Rng| -> Vec<u8> {
        if rng.below(2) == 0 {
            mutate_json(rng, seed).to_string().into_bytes()
        } else {
            mutate_bytes(rng, seed.to_string().as_bytes())
        }
    };
    let c = &srv.client;
    let kind = rng.below(10);
    let (what, request) = match kind {
        0..=2 => (
            format!("POST {t}"),
            c.post(srv.url(&t))
                .header("content-type", FHIR_JSON)
                .body(json_body(rng)),
        ),
        3 => (
            format!("PUT {t}/fuzz"),
            c.put(srv.url(&format!("{t}/fuzz")))
                .header("content-type", FHIR_JSON)
                .body(json_body(rng)),
        ),
        4 => (
            format!("POST {t}/$validate"),
            c.post(srv.url(&format!("{t}/$validate")))
                .header("content-type", FHIR_JSON)
                .body(json_body(rng)),
        ),
        5 => {
            let bundles: Vec<&Value> = examples
                .iter()
                .filter(|e| e["resourceType"] == "Bundle")
                .collect();
            let b = bundles[rng.index(bundles.len())];
            let mut bundle = b.clone();
            bundle["type"] = Value::from(if rng.below(2) == 0 {
                "transaction"
            } else {
                "batch"
            });
            let body = mutate_json(rng, &bundle).to_string();
            (
                "POST / (bundle)".to_string(),
                c.post(srv.url(""))
                    .header("content-type", FHIR_JSON)
                    .body(body),
            )
        }
        6 => {
            let xml = kyoyu::fhir::xml::to_xml(seed, false).unwrap_or_default();
            (
                format!("POST {t} (xml)"),
                c.post(srv.url(&t))
                    .header("content-type", FHIR_XML)
                    .body(mutate_bytes(rng, xml.as_bytes())),
            )
        }
        7 | 8 => {
            let q = QUERIES[rng.index(QUERIES.len())];
            let damaged = mutate_bytes(rng, q.as_bytes());
            let q: String = String::from_utf8_lossy(&damaged)
                .chars()
                .map(|ch| {
                    if ch.is_control() || ch == ' ' || ch == '#' {
                        '_'
                    } else {
                        ch
                    }
                })
                .collect();
            (
                "GET (search)".to_string(),
                c.get(srv.url(&q))
                    .header("accept", ACCEPTS[rng.index(ACCEPTS.len())]),
            )
        }
        _ => {
            let criteria =
                String::from_utf8_lossy(&mutate_bytes(rng, b"identifier=urn:x|1,2&_id=a"))
                    .chars()
                    .filter(|ch| !ch.is_control())
                    .collect::<String>();
            (
                format!("POST {t} (headers)"),
                c.post(srv.url(&t))
                    .header(
                        "content-type",
                        if rng.below(3) == 0 {
                            "text/plain"
                        } else {
                            FHIR_JSON
                        },
                    )
                    .header("accept", ACCEPTS[rng.index(ACCEPTS.len())])
                    .header("if-none-exist", criteria)
                    .header("prefer", "return=OperationOutcome")
                    .body(seed.to_string()),
            )
        }
    };
    let started = Instant::now();
    let status = match request.send() {
        Ok(r) => {
            let status = r.status().as_u16();
            let _ = r.bytes();
            status
        }
        // A request reqwest itself refuses to build (a header it cannot send) is no case.
        Err(e) if e.is_builder() => 0,
        Err(e) => panic!("{what}: {e}"),
    };
    (what, status, started.elapsed())
}

fn campaign(cases: usize, seed: u64) -> Tally {
    let examples = examples();
    let srv = TestServer::start_with(
        Backend::Sqlite,
        Options {
            configure: Box::new(common::with_jp_packages),
            ..Options::default()
        },
    );
    let mut rng = Rng::seeded(seed);
    let mut tally = Tally::default();
    for case in 0..cases {
        let (what, status, took) = one_case(&srv, &mut rng, &examples);
        tally.cases += 1;
        tally.slowest = tally.slowest.max(took);
        *tally.statuses.entry(status).or_default() += 1;
        if status >= 500 {
            tally
                .server_errors
                .push(format!("case {case}: {what} -> {status}"));
        }
        if took >= SLOW {
            tally
                .slow
                .push(format!("case {case}: {what} took {took:?}"));
        }
    }
    tally
}

/// Resident memory of this process (the server runs in it), in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[test]
fn mutated_official_examples_never_get_a_5xx_or_take_5_s() {
    let tally = campaign(300, 22);
    assert!(tally.server_errors.is_empty(), "{:#?}", tally.server_errors);
    assert!(tally.slow.is_empty(), "{:#?}", tally.slow);
}

#[test]
#[ignore = "minutes: run with --ignored to measure"]
fn fuzz_campaign() {
    let started = Instant::now();
    let tally = campaign(20_000, 2026);
    println!(
        "fuzz campaign: {} cases in {:.0} s; 5xx: {}; over 5 s: {}; slowest {:?}; RSS at the end {:.0} MB",
        tally.cases,
        started.elapsed().as_secs_f64(),
        tally.server_errors.len(),
        tally.slow.len(),
        tally.slowest,
        rss_mb()
    );
    println!("  statuses: {:?}", tally.statuses);
    for line in tally.server_errors.iter().chain(&tally.slow).take(50) {
        println!("  {line}");
    }
    assert!(tally.server_errors.is_empty() && tally.slow.is_empty());
}
