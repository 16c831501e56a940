//! Bounded cost per request: the issue limit stops validation, long arrays are refused at the
//! edge, validations run on a bounded pool off the HTTP workers, and structural errors are named
//! in words on their elements.

use crate::common;

use std::time::{Duration, Instant};

use common::{Backend, FHIR_JSON, Options, TestServer};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

fn server(
    backend: Backend,
    configure: impl FnOnce(&mut ConfigArgs) + Send + 'static,
) -> TestServer {
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(configure),
            ..Options::default()
        },
    )
}

/// Runs `body` on SQLite, and on PostgreSQL when KYOYU_TEST_DATABASE_URL is set.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn sqlite() {
                ($body)(Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if !common::postgres_or_skip() {
                    return;
                }
                ($body)(Backend::Postgres);
            }
        }
    };
}

/// `{"resourceType":"Patient","name":[{"given":[<items>]}]}` written out directly: a million
/// `serde_json::Value`s would cost the test more than the server.
fn patient_with_given(items: &str, count: usize, last: Option<&str>) -> String {
    let mut body = String::with_capacity(count * (items.len() + 1) + 64);
    body.push_str(r#"{"resourceType":"Patient","name":[{"given":["#);
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str(items);
    }
    if let Some(last) = last {
        body.push(',');
        body.push_str(last);
    }
    body.push_str("]}]}");
    body
}

fn post_raw(srv: &TestServer, path: &str, body: String) -> reqwest::blocking::Response {
    srv.client
        .post(srv.url(path))
        .header("content-type", FHIR_JSON)
        .body(body)
        .send()
        .unwrap()
}

fn issues(outcome: &Value) -> &Vec<Value> {
    outcome["issue"].as_array().unwrap()
}

#[test]
fn a_million_bad_items_answer_quickly_with_a_capped_outcome() {
    let srv = server(Backend::Sqlite, |a| a.max_array_items = Some(2_000_000));
    let body = patient_with_given("1", 1_000_000, None);
    let started = Instant::now();
    let r = post_raw(&srv, "Patient/$validate", body);
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    let outcome: Value = r.json().unwrap();
    let list = issues(&outcome);
    assert_eq!(list.len(), 101, "{}", list.len());
    assert_eq!(list[0]["expression"][0], "Patient.name[0].given[0]");
    assert_eq!(list[100]["code"], "too-costly");
    assert_eq!(list[100]["severity"], "error");
    // Generous for a debug build on a shared machine; the uncapped walk took minutes.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

on_both!(
    a_write_with_a_million_bad_items_is_refused_with_a_capped_outcome,
    |backend| {
        let srv = server(backend, |a| {
            a.max_array_items = Some(2_000_000);
            a.max_issues = Some(5);
        });
        let r = post_raw(&srv, "Patient", patient_with_given("1", 1_000_000, None));
        assert_eq!(r.status(), 422);
        let outcome: Value = r.json().unwrap();
        let list = issues(&outcome);
        assert_eq!(list.len(), 6, "{outcome}");
        assert!(
            list[5]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("stopped early"),
            "{outcome}"
        );
        assert_eq!(srv.search("Patient")["total"], 0);
    }
);

on_both!(
    missing_status_and_two_more_errors_are_three_readable_issues,
    |backend| {
        let srv = server(backend, |_| {});
        let observation = json!({
            "resourceType": "Observation",
            "subject": {"reference": "Patient/p1"},
            "foo": "bar"
        });
        let r = srv.post("Observation", &observation);
        assert_eq!(r.status(), 422);
        let outcome: Value = r.json().unwrap();
        let errors: Vec<&Value> = issues(&outcome)
            .iter()
            .filter(|i| i["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 3, "{outcome:#}");
        let at = |path: &str| {
            errors
                .iter()
                .find(|i| i["expression"][0] == path)
                .unwrap_or_else(|| panic!("no issue at {path}: {outcome:#}"))
        };
        assert_eq!(
            at("Observation.status")["diagnostics"],
            "Observation.status: required element missing"
        );
        assert_eq!(
            at("Observation.code")["diagnostics"],
            "Observation.code: required element missing"
        );
        assert_eq!(at("Observation.foo")["code"], "structure");
        for e in &errors {
            let text = e["diagnostics"].as_str().unwrap();
            assert!(!text.contains("anyOf") && !text.contains('{'), "{text}");
        }
    }
);

on_both!(an_array_over_the_limit_is_refused_naming_it, |backend| {
    let srv = server(backend, |a| a.max_array_items = Some(3));
    let ok = json!({"resourceType": "Patient", "name": [{"given": ["a", "b", "c"]}]});
    assert_eq!(srv.post("Patient", &ok).status(), 201);
    let long = json!({"resourceType": "Patient", "name": [{"given": ["a", "b", "c", "d"]}]});
    let r = srv.post("Patient", &long);
    assert_eq!(r.status(), 400);
    let outcome: Value = r.json().unwrap();
    assert_eq!(outcome["issue"][0]["code"], "too-costly");
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Patient.name[0].given"
    );
    let xml = r#"<Patient xmlns="http://hl7.org/fhir"><name><given value="a"/><given value="b"/><given value="c"/><given value="d"/></name></Patient>"#;
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", "application/fhir+xml")
        .header("accept", FHIR_JSON)
        .body(xml)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let outcome: Value = r.json().unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Patient.name[0].given"
    );
    assert_eq!(srv.search("Patient")["total"], 1);
});

/// A create whose validation walks `count` valid items before the one bad item at the end:
/// seconds of CPU in a debug build, and a one-issue answer.
fn heavy_create(srv: &TestServer, count: usize) -> (u16, Duration) {
    let started = Instant::now();
    let r = post_raw(
        srv,
        "Patient",
        patient_with_given("\"a\"", count, Some("1")),
    );
    (r.status().as_u16(), started.elapsed())
}

const HEAVY: usize = 200_000;

#[test]
fn metadata_answers_while_two_heavy_validations_run() {
    let srv = std::sync::Arc::new(server(Backend::Sqlite, |a| {
        a.max_array_items = Some(1_000_000);
        a.cpu_threads = Some(2);
    }));
    // How long one heavy validation takes alone on this machine.
    let (status, alone) = heavy_create(&srv, HEAVY);
    assert_eq!(status, 422);
    assert!(
        alone > Duration::from_millis(300),
        "too light to tell: {alone:?}"
    );
    let heavies: Vec<_> = (0..2)
        .map(|_| {
            let srv = std::sync::Arc::clone(&srv);
            std::thread::spawn(move || heavy_create(&srv, HEAVY))
        })
        .collect();
    // Let both bodies arrive and their validations start.
    std::thread::sleep(alone / 3);
    let started = Instant::now();
    let r = srv.get("metadata");
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    let still_running = heavies.iter().filter(|h| !h.is_finished()).count();
    for h in heavies {
        assert_eq!(h.join().unwrap().0, 422);
    }
    assert_eq!(
        still_running, 2,
        "the heavy validations ended first: nothing shown"
    );
    assert!(
        took < alone / 2,
        "GET /metadata took {took:?} while validations ({alone:?} each) ran"
    );
}

#[test]
fn a_full_validation_queue_answers_503_with_retry_after() {
    let srv = std::sync::Arc::new(server(Backend::Sqlite, |a| {
        a.max_array_items = Some(1_000_000);
        a.cpu_threads = Some(1);
        a.cpu_queue = Some(0);
    }));
    let heavy = {
        let srv = std::sync::Arc::clone(&srv);
        // It may itself meet a probe holding the only thread: then it tries again.
        std::thread::spawn(move || {
            loop {
                let answer = heavy_create(&srv, HEAVY * 2);
                if answer.0 != 503 {
                    return answer;
                }
            }
        })
    };
    let light = json!({"resourceType": "Patient", "active": true});
    let deadline = Instant::now() + Duration::from_secs(60);
    let busy = loop {
        let r = srv.post("Patient/$validate", &light);
        if r.status() == 503 {
            break r;
        }
        assert_eq!(r.status(), 200);
        assert!(
            !heavy.is_finished() && Instant::now() < deadline,
            "the heavy validation never filled the pool"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let retry = busy
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    assert!(retry.is_some_and(|s| s > 0), "{:?}", busy.headers());
    let outcome: Value = busy.json().unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "transient");
    assert_eq!(heavy.join().unwrap().0, 422);
    // Once the pool is free, the same request passes.
    assert_eq!(srv.post("Patient/$validate", &light).status(), 200);
}
