//! Bad data refused at the edge, in JSON and XML alike: each with a 400 OperationOutcome that
//! names the element, and nothing stored. Also what must be accepted: a leading byte order mark.

use crate::common;

use common::{TestServer, first_issue};
use reqwest::blocking::Response;
use serde_json::Value;

const JSON: &str = "application/fhir+json";
const XML: &str = "application/fhir+xml";

fn send(srv: &TestServer, content_type: &str, path: &str, body: impl Into<Vec<u8>>) -> Response {
    srv.client
        .post(srv.url(path))
        .header("content-type", content_type)
        .header("accept", JSON)
        .body(body.into())
        .send()
        .unwrap()
}

/// The status, and the first issue's diagnostics and expression.
fn refused(r: Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let outcome: Value = r.json().unwrap();
    let issue = first_issue(&outcome);
    (
        status,
        issue["diagnostics"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        issue["expression"][0]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn patients_stored(srv: &TestServer) -> u64 {
    srv.search("Patient?_summary=count")["total"]
        .as_u64()
        .unwrap()
}

backend_test!(duplicate_json_keys_are_refused_at_any_depth, |srv| {
    let twice = r#"{"resourceType":"Patient","resourceType":"Patient","active":true}"#;
    let (status, text, at) = refused(send(&srv, JSON, "Patient", twice));
    assert_eq!(status, 400, "{text}");
    assert_eq!(at, "Patient.resourceType", "{text}");
    assert!(text.contains("duplicate key"), "{text}");
    let nested = r#"{"resourceType":"Patient","name":[{"family":"山田","family":"田中"}]}"#;
    let (status, text, at) = refused(send(&srv, JSON, "Patient", nested));
    assert_eq!(status, 400, "{text}");
    assert_eq!(at, "Patient.name[0].family");
    assert_eq!(patients_stored(&srv), 0);
});

backend_test!(control_characters_are_refused_in_json_and_xml, |srv| {
    let nul = r#"{"resourceType":"Patient","name":[{"family":"山\u0000田"}]}"#;
    let (status, text, at) = refused(send(&srv, JSON, "Patient", nul));
    assert_eq!(status, 400, "{text}");
    assert_eq!(at, "Patient.name[0].family");
    assert!(text.contains("U+0000"), "{text}");
    let escape = r#"{"resourceType":"Patient","gender":"male","name":[{"given":["a","b\u001b"]}]}"#;
    let (status, _, at) = refused(send(&srv, JSON, "Patient", escape));
    assert_eq!((status, at.as_str()), (400, "Patient.name[0].given[1]"));
    let xml =
        r#"<Patient xmlns="http://hl7.org/fhir"><name><family value="a&#1;b"/></name></Patient>"#;
    let (status, text, _) = refused(send(&srv, XML, "Patient", xml));
    assert_eq!(status, 400, "{text}");
    let tab_and_newline = r#"{"resourceType":"Patient","name":[{"text":"a\tb\r\nc"}]}"#;
    assert_eq!(send(&srv, JSON, "Patient", tab_and_newline).status(), 201);
    assert_eq!(patients_stored(&srv), 1);
});

backend_test!(a_leading_byte_order_mark_is_accepted, |srv| {
    let mut json = b"\xEF\xBB\xBF".to_vec();
    json.extend_from_slice(br#"{"resourceType":"Patient","active":true}"#);
    let r = send(&srv, JSON, "Patient", json);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    xml.extend_from_slice(
        br#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>"#,
    );
    let r = send(&srv, XML, "Patient", xml);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    assert_eq!(patients_stored(&srv), 2);
});

backend_test!(bodies_that_are_not_utf8_get_a_clear_400, |srv| {
    // "山田" in Shift_JIS.
    let json = b"{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\x8eR\x93c\"}]}".to_vec();
    let (status, text, _) = refused(send(&srv, JSON, "Patient", json));
    assert_eq!(status, 400);
    assert!(text.contains("not UTF-8"), "{text}");
    let xml = b"<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"\x8eR\x93c\"/></name></Patient>".to_vec();
    let (status, text, _) = refused(send(&srv, XML, "Patient", xml));
    assert_eq!(status, 400);
    assert!(text.contains("not UTF-8"), "{text}");
    assert_eq!(patients_stored(&srv), 0);
});

/// The issue that names `at`, if any; validation may report more than one.
fn issue_at<'o>(outcome: &'o Value, at: &str) -> Option<&'o Value> {
    outcome["issue"]
        .as_array()?
        .iter()
        .find(|i| i["expression"][0] == at)
}

/// POSTs a Patient that validation must refuse with an issue at `at`; that issue's diagnostics.
fn refused_at(srv: &TestServer, content_type: &str, body: String, at: &str) -> String {
    let r = send(srv, content_type, "Patient", body);
    let status = r.status().as_u16();
    let outcome: Value = r.json().unwrap();
    assert!(matches!(status, 400 | 422), "{status} {outcome}");
    let issue = issue_at(&outcome, at).unwrap_or_else(|| panic!("{at}: {outcome}"));
    issue["diagnostics"].as_str().unwrap().to_string()
}

backend_test!(dates_and_times_that_do_not_exist_are_refused, |srv| {
    for (field, value, at) in [
        ("birthDate", "2024-02-30", "Patient.birthDate"),
        ("birthDate", "2023-02-29", "Patient.birthDate"),
        (
            "deceasedDateTime",
            "2026-04-31T10:00:00+09:00",
            "Patient.deceased.ofType(dateTime)",
        ),
        (
            "deceasedDateTime",
            "2026-01-01T12:00:60+09:00",
            "Patient.deceased.ofType(dateTime)",
        ),
    ] {
        let json = format!(r#"{{"resourceType":"Patient","{field}":"{value}"}}"#);
        let xml =
            format!(r#"<Patient xmlns="http://hl7.org/fhir"><{field} value="{value}"/></Patient>"#);
        for (content_type, body) in [(JSON, json), (XML, xml)] {
            let r = send(&srv, content_type, "Patient", body);
            let status = r.status().as_u16();
            let outcome: Value = r.json().unwrap();
            assert!(matches!(status, 400 | 422), "{value}: {status} {outcome}");
            let issue = issue_at(&outcome, at).unwrap_or_else(|| panic!("{at}: {outcome}"));
            assert!(
                issue["diagnostics"].as_str().unwrap().contains(value),
                "{issue}"
            );
        }
    }
    let leap = r#"{"resourceType":"Patient","birthDate":"2024-02-29","deceasedDateTime":"2017-01-01T08:59:60+09:00"}"#;
    let r = send(&srv, JSON, "Patient", leap);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    assert_eq!(patients_stored(&srv), 1);
});

fn get_text(srv: &TestServer, path: &str, accept: &str) -> String {
    let r = srv
        .client
        .get(srv.url(path))
        .header("accept", accept)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().unwrap()
}

/// `Type/id` of what a 201 answer created.
fn created(r: Response) -> String {
    assert_eq!(r.status(), 201);
    let body: Value = r.json().unwrap();
    format!(
        "{}/{}",
        body["resourceType"].as_str().unwrap(),
        body["id"].as_str().unwrap()
    )
}

backend_test!(decimals_keep_their_exact_text_through_json_and_xml, |srv| {
    let json = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
        "valueQuantity":{"value":1.50,"unit":"mg"},
        "referenceRange":[{"low":{"value":1e-99999},"high":{"value":120.000}}]}"#;
    let path = created(send(&srv, JSON, "Observation", json));
    let back = get_text(&srv, &path, JSON);
    for exact in [
        r#""value":1.50"#,
        r#""value":1e-99999"#,
        r#""value":120.000"#,
    ] {
        assert!(back.contains(exact), "{exact} in {back}");
    }
    let back = get_text(&srv, &path, XML);
    for exact in [
        r#"<value value="1.50"/>"#,
        r#"<value value="1e-99999"/>"#,
        r#"<value value="120.000"/>"#,
    ] {
        assert!(back.contains(exact), "{exact} in {back}");
    }

    let xml = r#"<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="2.50"/><unit value="mg"/></valueQuantity></Observation>"#;
    let path = created(send(&srv, XML, "Observation", xml));
    let back = get_text(&srv, &path, JSON);
    assert!(back.contains(r#""value":2.50"#), "{back}");
    let back = get_text(&srv, &path, XML);
    assert!(back.contains(r#"<value value="2.50"/>"#), "{back}");
});

backend_test!(narratives_outside_the_fhir_rules_are_refused, |srv| {
    let div = |inner: &str| format!(r#"<div xmlns="http://www.w3.org/1999/xhtml">{inner}</div>"#);
    for (inner, expect) in [
        ("<p>x</p><script>alert(1)</script>", "<script>"),
        (r#"<p onmouseover="alert(1)">x</p>"#, "onmouseover"),
        (
            r#"<img src="https://tracker.example/p.gif"/>"#,
            "refers outside",
        ),
        ("   ", "no text"),
    ] {
        let narrative = div(inner);
        let json = serde_json::json!({"resourceType": "Patient",
            "text": {"status": "generated", "div": narrative}})
        .to_string();
        let xml = format!(
            r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>{narrative}</text></Patient>"#
        );
        for (content_type, body) in [(JSON, json), (XML, xml)] {
            let text = refused_at(&srv, content_type, body, "Patient.text.div");
            assert!(text.contains(expect), "{text}");
        }
    }
    let fine = serde_json::json!({"resourceType": "Patient", "text": {"status": "generated",
        "div": div(r#"<p>山田 <b>太郎</b>&#160;<a href="https://example.org/x">x</a></p>"#)}});
    assert_eq!(srv.post("Patient", &fine).status(), 201);
    assert_eq!(patients_stored(&srv), 1);
});

backend_test!(
    every_listing_refuses_a_bad_page_parameter_alike_naming_it,
    |srv| {
        let created = srv.create(&serde_json::json!({"resourceType": "Patient"}));
        let id = created["id"].as_str().unwrap();
        // One parser reads the paging of every listing: the same 400, issue and wording.
        let cases = [
            ("Observation?_count=x", "_count"),
            ("Observation?_offset=-1", "_offset"),
            ("_history?_count=1.5", "_count"),
            ("Patient/_history?_offset=x", "_offset"),
            ("Patient/{id}/_history?_count=-1", "_count"),
            ("AuditEvent?_count=x", "_count"),
            ("AuditEvent?_offset=x", "_offset"),
            ("CodeSystem?_count=x", "_count"),
            ("ValueSet?_offset=x", "_offset"),
            ("Patient/{id}/$everything?_count=x", "_count"),
            ("Patient/{id}/$everything?_cursor=-5", "_cursor"),
            ("Patient/{id}/$everything?_cursor=x", "_cursor"),
        ];
        for (path, param) in cases {
            let path = path.replace("{id}", id);
            let r = srv.get(&path);
            let status = r.status().as_u16();
            let outcome: Value = r.json().unwrap();
            let issue = first_issue(&outcome);
            assert_eq!(status, 400, "{path}: {outcome}");
            assert_eq!(issue["code"], "value", "{path}: {outcome}");
            assert_eq!(issue["expression"][0], param, "{path}: {outcome}");
            let text = issue["diagnostics"].as_str().unwrap_or_default();
            assert!(
                text.contains(&format!("'{param}'"))
                    && text.contains("must be a non-negative integer"),
                "{path}: {text}"
            );
        }
        // Too large a page is reduced, on a history as on a search.
        let history = srv.search("_history?_count=100000");
        assert_eq!(history["resourceType"], "Bundle", "{history}");
    }
);
