//! The Bundle rules (`bundle`) and the narrative rules through the walk: each rule broken
//! once on a small sound instance, with the element named; the bdl invariants that say the
//! rest are shown to be evaluated.

use serde_json::{Value, json};

use super::tests_support::{engine, show, validate};
use crate::fhir::{Issue, IssueSeverity};

fn issues(v: &Value) -> Vec<Issue> {
    let profile = format!(
        "http://hl7.org/fhir/StructureDefinition/{}",
        v["resourceType"].as_str().unwrap()
    );
    validate(engine().unwrap(), v, &profile)
}

/// The issues of `severity` at `at`, as text.
fn at(issues: &[Issue], severity: IssueSeverity, at: &str) -> String {
    let found: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.severity == severity && i.expression.iter().any(|e| e == at))
        .collect();
    show(&found)
}

fn no_errors(v: &Value) {
    let issues = issues(v);
    let errors: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .collect();
    assert!(errors.is_empty(), "{}", show(&errors));
}

fn expect(v: &Value, severity: IssueSeverity, location: &str, text: &str) {
    let issues = issues(v);
    let found = at(&issues, severity, location);
    assert!(
        found.contains(text),
        "no {} with '{text}' at {location}; all issues:\n{}",
        severity.as_str(),
        show(&issues.iter().collect::<Vec<_>>())
    );
}

fn refused(v: &Value, location: &str, text: &str) {
    expect(v, IssueSeverity::Error, location, text);
}

/// The sound [`document`] changed by `change` is refused at `location` with `text`.
fn refused_document(change: impl FnOnce(&mut Value), location: &str, text: &str) {
    let mut d = document();
    change(&mut d);
    refused(&d, location, text);
}

fn document() -> Value {
    json!({"resourceType": "Bundle", "type": "document",
    "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3a3e3e-5a86-4a4e-9a59-2b1c4a4d8e01"},
    "timestamp": "2024-04-01T10:00:00+09:00",
    "entry": [
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000001", "resource": {
            "resourceType": "Composition", "status": "final", "type": {"text": "referral"},
            "date": "2024-04-01", "title": "referral",
            "subject": {"reference": "urn:uuid:c0000000-0000-4000-8000-000000000002"},
            "author": [{"reference": "urn:uuid:c0000000-0000-4000-8000-000000000003"}],
            "section": [{"title": "results", "entry": [{"reference": "urn:uuid:c0000000-0000-4000-8000-000000000004"}]}]}},
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000002", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000003", "resource": {"resourceType": "Practitioner"}},
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000004", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"text": "K"},
            "subject": {"reference": "urn:uuid:c0000000-0000-4000-8000-000000000002"}}}
    ]})
}

fn collection(entries: Value) -> Value {
    json!({"resourceType": "Bundle", "type": "collection", "entry": entries})
}

#[test]
fn a_sound_document_has_no_errors() {
    no_errors(&document());
}

#[test]
fn a_document_or_message_without_entries_is_refused() {
    let mut d = document();
    d["entry"] = json!([]);
    d.as_object_mut().unwrap().remove("entry");
    refused(&d, "Bundle", "the first one its Composition");
    let m = json!({"resourceType": "Bundle", "type": "message", "timestamp": "2024-04-01T10:00:00+09:00"});
    refused(&m, "Bundle", "the first one its MessageHeader");
}

#[test]
fn document_requirements_are_the_bdl_invariants() {
    let mut d = document();
    d["entry"].as_array_mut().unwrap().swap(0, 1);
    refused(&d, "Bundle", "bdl-11");
    let mut d = document();
    d.as_object_mut().unwrap().remove("identifier");
    refused(&d, "Bundle", "bdl-9");
    let mut d = document();
    d.as_object_mut().unwrap().remove("timestamp");
    refused(&d, "Bundle", "bdl-10");
    let mut d = document();
    d["type"] = json!("message");
    refused(&d, "Bundle", "bdl-12");
}

#[test]
fn what_the_composition_refers_to_must_be_in_the_document() {
    // (element of the Composition, a reference to nothing in the Bundle)
    let cases = [
        ("subject", "Patient/elsewhere"),
        (
            "section[0].entry[0]",
            "https://example.org/fhir/Observation/9",
        ),
        ("author[0]", "urn:uuid:c0000000-0000-4000-8000-00000000dead"),
    ];
    for (element, reference) in cases {
        let pointer = format!(
            "/entry/0/resource/{}",
            element.replace(['[', '.'], "/").replace(']', "")
        );
        refused_document(
            |d| *d.pointer_mut(&pointer).unwrap() = json!({"reference": reference}),
            &format!("Bundle.entry[0].resource.{element}.reference"),
            "is not in the document",
        );
    }
}

#[test]
fn a_urn_reference_that_resolves_to_nothing_is_an_error_in_any_bundle() {
    let b = collection(json!([
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000004", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"text": "K"},
            "subject": {"reference": "urn:uuid:c0000000-0000-4000-8000-00000000dead"}}}
    ]));
    refused(
        &b,
        "Bundle.entry[0].resource.subject.reference",
        "resolves to no entry of the Bundle",
    );
    let mut t = b.clone();
    t["type"] = json!("transaction");
    t["entry"][0]["request"] = json!({"method": "POST", "url": "Observation"});
    refused(
        &t,
        "Bundle.entry[0].resource.subject.reference",
        "resolves to no entry of the Bundle",
    );
    // A relative reference in a transaction names a resource on the server.
    t["entry"][0]["resource"]["subject"] = json!({"reference": "Patient/123"});
    no_errors(&t);
}

#[test]
fn a_reference_is_checked_against_the_targets_of_its_element() {
    refused_document(
        |d| {
            d["entry"][3]["resource"]["subject"] =
                json!({"reference": "urn:uuid:c0000000-0000-4000-8000-000000000003"})
        },
        "Bundle.entry[3].resource.subject.reference",
        "points to a Practitioner",
    );
}

#[test]
fn a_reference_naming_a_type_must_resolve_to_that_type() {
    let b = collection(json!([
        {"fullUrl": "https://example.org/fhir/Observation/1", "resource": {
            "resourceType": "Observation", "id": "1", "status": "final", "code": {"text": "K"},
            "subject": {"reference": "Patient/2"}}},
        {"fullUrl": "https://example.org/fhir/Patient/2", "resource": {"resourceType": "Group", "id": "2", "type": "person", "actual": true}}
    ]));
    refused(
        &b,
        "Bundle.entry[0].resource.subject.reference",
        "names a Patient, but resolves to the Group in entry 1",
    );
}

#[test]
fn full_urls_are_absolute_and_agree_with_the_resource() {
    let entry = |url: &str, id: Option<&str>| {
        let mut r = json!({"resourceType": "Patient"});
        if let Some(id) = id {
            r["id"] = json!(id);
        }
        json!({"fullUrl": url, "resource": r})
    };
    let sound = collection(json!([
        entry("https://example.org/fhir/Patient/1", Some("1")),
        entry("urn:uuid:c0000000-0000-4000-8000-000000000002", Some("x")),
        entry("urn:oid:1.2.392.100495.20.3.51.1", None),
        entry("https://example.org/patients?id=7", None),
    ]));
    no_errors(&sound);
    let b = collection(json!([entry("Patient/1", Some("1"))]));
    refused(&b, "Bundle.entry[0].fullUrl", "is not absolute");
    let b = collection(json!([entry(
        "https://example.org/fhir/Patient/1",
        Some("2")
    )]));
    refused(
        &b,
        "Bundle.entry[0].fullUrl",
        "does not end with the resource's type and id (Patient/2)",
    );
    let b = collection(json!([entry(
        "https://example.org/fhir/Observation/1",
        Some("1")
    )]));
    refused(&b, "Bundle.entry[0].fullUrl", "(Patient/1)");
    let b = collection(json!([entry("https://example.org/fhir/Patient/1", None)]));
    refused(&b, "Bundle.entry[0].fullUrl", "the resource has no id");
}

#[test]
fn full_url_is_required_but_in_transactions_and_batches() {
    let b = collection(json!([{"resource": {"resourceType": "Patient"}}]));
    refused(&b, "Bundle.entry[0]", "must have a fullUrl");
    let t = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}]});
    no_errors(&t);
}

#[test]
fn one_resource_in_two_entries_is_a_warning_but_versions_in_a_history() {
    let b = collection(json!([
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000001", "resource": {"resourceType": "Patient", "id": "1"}},
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000002", "resource": {"resourceType": "Patient", "id": "1"}}
    ]));
    expect(
        &b,
        IssueSeverity::Warning,
        "Bundle.entry[1]",
        "Patient/1 is in entry 0 and again in entry 1",
    );
    let version = |v: &str| {
        json!({"fullUrl": "https://example.org/fhir/Patient/1",
            "resource": {"resourceType": "Patient", "id": "1", "meta": {"versionId": v}},
            "request": {"method": "PUT", "url": "Patient/1"}, "response": {"status": "200"}})
    };
    let h =
        json!({"resourceType": "Bundle", "type": "history", "entry": [version("2"), version("1")]});
    let issues = issues(&h);
    assert!(
        at(&issues, IssueSeverity::Warning, "Bundle.entry[1]").is_empty(),
        "{}",
        show(&issues.iter().collect::<Vec<_>>())
    );
}

#[test]
fn a_document_entry_nothing_links_to_is_refused() {
    let mut d = document();
    d["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000005",
        "resource": {"resourceType": "Organization", "name": "stray"}}));
    refused(&d, "Bundle.entry[4]", "is not reached from the Composition");
    // What refers to the document's content (a Provenance) belongs to it.
    let mut d = document();
    d["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000006",
        "resource": {"resourceType": "Provenance", "recorded": "2024-04-01T10:00:00+09:00",
            "target": [{"reference": "urn:uuid:c0000000-0000-4000-8000-000000000001"}],
            "agent": [{"who": {"reference": "urn:uuid:c0000000-0000-4000-8000-000000000003"}}]}}));
    no_errors(&d);
}

#[test]
fn a_message_focus_must_be_in_the_message() {
    let m = json!({"resourceType": "Bundle", "type": "message", "timestamp": "2024-04-01T10:00:00+09:00", "entry": [
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000001", "resource": {
            "resourceType": "MessageHeader", "eventCoding": {"system": "http://example.org/events", "code": "x"},
            "source": {"endpoint": "https://example.org/src"},
            "focus": [{"reference": "urn:uuid:c0000000-0000-4000-8000-000000000002"}, {"reference": "Patient/9"}]}},
        {"fullUrl": "urn:uuid:c0000000-0000-4000-8000-000000000002", "resource": {"resourceType": "Patient"}}
    ]});
    refused(
        &m,
        "Bundle.entry[0].resource.focus[1].reference",
        "is not in the message",
    );
    let issues = issues(&m);
    assert!(
        at(
            &issues,
            IssueSeverity::Error,
            "Bundle.entry[0].resource.focus[0].reference"
        )
        .is_empty()
    );
}

#[test]
fn relative_references_resolve_against_the_base_of_the_entry() {
    let mut d = document();
    let entries = d["entry"].as_array_mut().unwrap();
    entries[1]["fullUrl"] = json!("https://example.org/fhir/Patient/p1");
    entries[0]["resource"]["subject"] = json!({"reference": "Patient/p1"});
    entries[3]["resource"]["subject"] = json!({"reference": "https://example.org/fhir/Patient/p1"});
    no_errors(&d);
}

#[test]
fn a_narrative_refusal_names_the_div() {
    let p = json!({"resourceType": "Patient", "text": {"status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">山田</p></div>"}});
    refused(&p, "Patient.text.div", "event attribute 'onclick'");
    let mut d = document();
    d["entry"][1]["resource"]["text"] = json!({"status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">&nbsp;</div>"});
    refused(&d, "Bundle.entry[1].resource.text.div", "&nbsp;");
}

/// `n` Basic entries, entry i referring to `target(i)`.
fn chain(n: usize, target: impl Fn(usize) -> String) -> Value {
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            json!({"fullUrl": format!("urn:uuid:c0000000-0000-4000-8000-{i:012}"), "resource": {
                "resourceType": "Basic", "code": {"text": "x"}, "subject": {"reference": target(i)}}})
        })
        .collect();
    collection(json!(entries))
}

#[test]
fn many_bad_references_stop_at_the_issue_limit() {
    let b = chain(3000, |i| {
        format!("urn:uuid:d0000000-0000-4000-8000-{i:012}")
    });
    let mut out = Vec::new();
    let profile = "http://hl7.org/fhir/StructureDefinition/Bundle";
    let stopped = engine()
        .unwrap()
        .validate_within(&b, profile, "Bundle", &mut out, 50);
    assert!(stopped);
    assert_eq!(out.len(), 50, "{}", show(&out.iter().collect::<Vec<_>>()));
}

#[test]
fn a_long_chain_of_entries_is_reached_from_the_composition() {
    // The Composition's section names the last entry, which refers to the one before, and so on.
    let mut d = chain(1000, |i| {
        format!(
            "urn:uuid:c0000000-0000-4000-8000-{:012}",
            i.saturating_sub(1)
        )
    });
    d["type"] = json!("document");
    d["identifier"] = document()["identifier"].clone();
    d["timestamp"] = document()["timestamp"].clone();
    d["entry"][0] = document()["entry"][0].clone();
    d["entry"][0]["fullUrl"] = json!("urn:uuid:c0000000-0000-4000-8000-000000000000");
    d["entry"][0]["resource"]["subject"] =
        json!({"reference": "urn:uuid:c0000000-0000-4000-8000-000000000001"});
    d["entry"][0]["resource"]["author"][0] = json!({"display": "author"});
    d["entry"][0]["resource"]["section"][0]["entry"][0] =
        json!({"reference": "urn:uuid:c0000000-0000-4000-8000-000000000999"});
    no_errors(&d);
}
