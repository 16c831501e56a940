//! Conditional read (issue #26): `If-None-Match` with the version ETag and `If-Modified-Since`
//! against `meta.lastUpdated` answer 304 without a body on read and vread; the 304 is a read
//! like any other — through the caller's scope and in the audit trail.
//! Spec: https://hl7.org/fhir/R4/http.html#cread

use crate::common;

use common::hospitals::{EVERYONE, Who, reads_of};
use common::principals::SignedIn;
use common::{Backend, TestServer};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

fn get_with(srv: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut req = srv.client.get(srv.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A 304: the version's ETag and Last-Modified, and nothing else to read.
fn assert_not_modified(r: reqwest::blocking::Response, etag: &str) {
    assert_eq!(r.status(), 304);
    assert_eq!(header(&r, "etag"), etag);
    assert!(!header(&r, "last-modified").is_empty());
    assert!(r.bytes().unwrap().is_empty());
}

backend_test!(a_current_etag_or_date_answers_304_without_a_body, |srv| {
    let created = srv.create(&json!({"resourceType": "Patient", "active": true}));
    let id = created["id"].as_str().unwrap();
    let path = format!("Patient/{id}");

    let r = srv.get(&path);
    assert_eq!(r.status(), 200);
    let last_modified = header(&r, "last-modified");
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");

    assert_not_modified(
        get_with(&srv, &path, &[("if-none-match", "W/\"1\"")]),
        "W/\"1\"",
    );
    // A list naming the version, and `*`, match too.
    let listed = get_with(&srv, &path, &[("if-none-match", "W/\"7\", W/\"1\"")]);
    assert_not_modified(listed, "W/\"1\"");
    assert_not_modified(get_with(&srv, &path, &[("if-none-match", "*")]), "W/\"1\"");
    assert_not_modified(
        get_with(
            &srv,
            &path,
            &[("if-modified-since", last_modified.as_str())],
        ),
        "W/\"1\"",
    );
    // An older copy, a date before the write, or a date that is no date: the full answer.
    let r = get_with(&srv, &path, &[("if-none-match", "W/\"2\"")]);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["id"], id);
    let before = "Sat, 01 Jan 2000 00:00:00 GMT";
    assert_eq!(
        get_with(&srv, &path, &[("if-modified-since", before)]).status(),
        200
    );
    assert_eq!(
        get_with(&srv, &path, &[("if-modified-since", "yesterday")]).status(),
        200
    );
    // If-None-Match decides when both are sent (RFC 9110 §13.2.2).
    let both = [
        ("if-none-match", "W/\"2\""),
        ("if-modified-since", last_modified.as_str()),
    ];
    assert_eq!(get_with(&srv, &path, &both).status(), 200);

    // After an update the old ETag no longer matches; vread of the old version still does.
    let mut changed = created.clone();
    changed["active"] = json!(false);
    assert_eq!(srv.put(&path, &changed).status(), 200);
    let r = get_with(&srv, &path, &[("if-none-match", "W/\"1\"")]);
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "etag"), "W/\"2\"");
    let v1 = format!("{path}/_history/1");
    assert_not_modified(
        get_with(&srv, &v1, &[("if-none-match", "W/\"1\"")]),
        "W/\"1\"",
    );
    assert_not_modified(
        get_with(&srv, &v1, &[("if-modified-since", last_modified.as_str())]),
        "W/\"1\"",
    );
    let r = get_with(&srv, &v1, &[]);
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "last-modified"), last_modified);

    // A deleted resource is gone, whatever the client holds.
    assert_eq!(srv.delete(&path).status(), 204);
    let r = get_with(&srv, &path, &[("if-none-match", "W/\"2\"")]);
    assert_eq!(r.status(), 410);
    // Nor does a condition make an unknown resource exist.
    let r = get_with(&srv, "Patient/nobody", &[("if-none-match", "*")]);
    assert_eq!(r.status(), 404);
});

fn scoped_and_audited(backend: Backend) {
    let s = SignedIn::start(backend, &EVERYONE, |a: &mut ConfigArgs| {
        a.validate_on_write = Some(false)
    });
    let patient = s.create(
        Who::HospitalA,
        &json!({"resourceType": "Patient", "name": [{"family": "山田"}]}),
    );
    let condition = s.create(
        Who::HospitalA,
        &json!({"resourceType": "Condition", "code": {"text": "病名"},
                "subject": {"reference": format!("Patient/{patient}")}}),
    );
    let path = format!("Condition/{condition}");
    let current = [("if-none-match", "W/\"1\"")];

    // Another institution holding the right ETag learns nothing: the same 404 as without it.
    let (plain, refused) = s.get(Who::HospitalB, &path);
    let (conditional, refused_too) =
        s.send(Who::HospitalB, reqwest::Method::GET, &path, None, &current);
    assert_eq!((plain, conditional), (404, 404), "{refused_too}");
    assert_eq!(refused, refused_too);
    let vread = format!("{path}/_history/1");
    let (status, _) = s.send(Who::HospitalB, reqwest::Method::GET, &vread, None, &current);
    assert_eq!(status, 404);

    // The writer's 304 is a read in the trail, like a 200.
    let reference = format!("Condition/{condition}");
    let before = reads_of(&s, Who::HospitalA, &reference);
    let (status, body) = s.send(Who::HospitalA, reqwest::Method::GET, &path, None, &current);
    assert_eq!((status, body), (304, Value::Null));
    assert_eq!(reads_of(&s, Who::HospitalA, &reference), before + 1);
    let (status, _) = s.send(Who::HospitalA, reqwest::Method::GET, &vread, None, &current);
    assert_eq!(status, 304);
}

#[test]
fn a_304_is_scoped_and_audited_like_a_read_sqlite() {
    scoped_and_audited(Backend::Sqlite);
}

#[test]
fn a_304_is_scoped_and_audited_like_a_read_postgres() {
    if common::postgres_or_skip() {
        scoped_and_audited(Backend::Postgres);
    }
}
