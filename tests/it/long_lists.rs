//! Searches whose parameters carry long comma-separated (OR) lists: every kind of value, in a
//! search, in `_search` POSTs and in `If-None-Exist`, up to the configured limit; past it a 400
//! naming the limit, never a 500.

use crate::common;

use common::{Backend, Options, TestServer, first_issue, sorted_ids};
use serde_json::{Value, json};

/// A `_search` POST whose form body is `pairs`; returns status and body.
fn search_post(srv: &TestServer, res_type: &str, pairs: &[(&str, String)]) -> (u16, Value) {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    let r = srv.post_form(&format!("{res_type}/_search"), &form.finish());
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

/// `n` values from `make`, with the real ones spread among them.
fn list(n: usize, real: &[&str], make: impl Fn(usize) -> String) -> String {
    let mut values: Vec<String> = (0..n).map(make).collect();
    for (i, r) in real.iter().enumerate() {
        values[(i * 397) % n] = (*r).to_string();
    }
    values.join(",")
}

fn observation(id: &str, code: &str, patient: &str, date: &str) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": date,
        "valueString": format!("result {id}")
    })
}

/// Stores the Patients the observations reference: writes refuse a reference to nothing.
fn patients(srv: &TestServer, ids: &[&str]) {
    for id in ids {
        put(srv, &json!({"resourceType": "Patient", "id": id}));
    }
}

fn put(srv: &TestServer, resource: &Value) {
    let path = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap(),
        resource["id"].as_str().unwrap()
    );
    let r = srv.put(&path, resource);
    assert!(r.status().is_success(), "PUT {path}: {}", r.status());
}

backend_test!(a_thousand_values_of_every_kind_are_searched, |srv| {
    patients(&srv, &["p1", "p2", "p3"]);
    put(&srv, &observation("o1", "1-1", "p1", "2024-03-01"));
    put(&srv, &observation("o2", "2-2", "p2", "2024-04-01"));
    put(&srv, &observation("o3", "3-3", "p3", "2024-05-01"));
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "_id",
            list(998, &["o1", "o3"], |i| format!("x{i}")),
            vec!["o1", "o3"],
        ),
        (
            "code",
            list(1000, &["http://loinc.org|1-1", "2-2"], |i| {
                format!("http://loinc.org|{i}-9")
            }),
            vec!["o1", "o2"],
        ),
        ("code", list(1000, &["|1-1"], |i| format!("|{i}-9")), vec![]),
        (
            "subject",
            list(1000, &["Patient/p2", "p3"], |i| format!("Patient/q{i}")),
            vec!["o2", "o3"],
        ),
        (
            "date",
            list(1000, &["2024-03-01", "ge2024-05"], |i| {
                format!("19{:02}-01-{:02}", i % 100, 1 + i % 28)
            }),
            vec!["o1", "o3"],
        ),
        (
            "value-string",
            list(1000, &["result o2"], |i| format!("nothing {i}")),
            vec!["o2"],
        ),
        (
            "value-string:exact",
            list(1000, &["result o3"], |i| format!("nothing {i}")),
            vec!["o3"],
        ),
        (
            "code:not",
            list(1000, &["1-1", "2-2"], |i| format!("{i}-9")),
            vec!["o3"],
        ),
        (
            "_lastUpdated",
            list(1000, &["ge2000"], |i| format!("lt19{:02}", i % 100)),
            vec!["o1", "o2", "o3"],
        ),
    ];
    let mut wrong = Vec::new();
    for (param, values, want) in &cases {
        let (status, body) = search_post(&srv, "Observation", &[(param, values.clone())]);
        if status != 200 {
            wrong.push(format!("{param}: {status} {body}"));
            continue;
        }
        let got = sorted_ids(&body);
        if &got != want {
            wrong.push(format!("{param}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // A long list in the query string, as the issue reported it.
    let ids = list(998, &["o2"], |i| format!("x{i}"));
    let bundle = srv.search(&format!("Observation?_id={ids}"));
    assert_eq!(sorted_ids(&bundle), ["o2"]);
});

/// A conditional create of an Observation with `criteria`.
fn create_if_none_exist(srv: &TestServer, criteria: String) -> reqwest::blocking::Response {
    srv.client
        .post(srv.url("Observation"))
        .header("content-type", common::FHIR_JSON)
        .header("If-None-Exist", criteria)
        .body(observation("ignored", "9-9", "p1", "2024-01-01").to_string())
        .send()
        .unwrap()
}

backend_test!(
    if_none_exist_with_a_thousand_values_finds_its_match,
    |srv| {
        patients(&srv, &["p1"]);
        put(&srv, &observation("o1", "1-1", "p1", "2024-03-01"));
        let criteria = format!("_id={}", list(998, &["o1"], |i| format!("x{i}")));
        let r = create_if_none_exist(&srv, criteria);
        assert_eq!(r.status(), 200);
        let body: Value = r.json().unwrap();
        assert_eq!(body["id"], "o1");
        let criteria = format!("code={}", list(998, &[], |i| format!("{i}-7")));
        assert_eq!(create_if_none_exist(&srv, criteria).status(), 201);
    }
);

#[test]
fn values_past_the_configured_limit_are_refused_naming_it() {
    let srv = TestServer::start_with(
        Backend::Sqlite,
        Options {
            configure: Box::new(|a| a.search_max_values = Some(100)),
            ..Options::default()
        },
    );
    let at_limit = list(100, &[], |i| format!("x{i}"));
    let (status, _) = search_post(&srv, "Observation", &[("_id", at_limit)]);
    assert_eq!(status, 200);
    // The limit counts the values of the whole search, not of one parameter.
    let (status, body) = search_post(
        &srv,
        "Observation",
        &[
            ("_id", list(60, &[], |i| format!("x{i}"))),
            ("code", list(60, &[], |i| format!("{i}-9"))),
        ],
    );
    assert_eq!(status, 400, "{body}");
    let text = first_issue(&body)["diagnostics"].as_str().unwrap();
    assert!(text.contains("100"), "{text}");
    assert!(text.contains("search_max_values"), "{text}");
    let over = format!("_id={}", list(101, &[], |i| format!("x{i}")));
    let r = create_if_none_exist(&srv, over);
    assert_eq!(r.status(), 400);
}
