//! FHIR XML over HTTP: bodies in XML on create, update, transaction and $validate; responses in
//! XML by Accept or `_format`, error OperationOutcomes included; malformed and hostile XML
//! refused with the place named; validation identical whichever format arrived.

use crate::common;

use common::{Backend, TestServer};
use kyoyu::fhir::xml::{parse_resource, to_xml};
use reqwest::blocking::Response;
use serde_json::{Value, json};

const XML: &str = "application/fhir+xml";

fn xml(resource: &Value) -> String {
    to_xml(resource, false).unwrap()
}

fn send(srv: &TestServer, method: &str, path: &str, body: String, accept: &str) -> Response {
    srv.client
        .request(method.parse().unwrap(), srv.url(path))
        .header("content-type", XML)
        .header("accept", accept)
        .body(body)
        .send()
        .unwrap()
}

/// The status and the body of an XML response, read back as JSON.
fn read_xml(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let mime = r.headers()["content-type"].to_str().unwrap().to_string();
    let text = r.text().unwrap();
    assert!(mime.starts_with(XML), "{status} {mime}: {text}");
    let value = parse_resource(text.as_bytes(), 64).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, value)
}

fn get_xml(srv: &TestServer, path: &str) -> (u16, Value) {
    read_xml(
        srv.client
            .get(srv.url(path))
            .header("accept", XML)
            .send()
            .unwrap(),
    )
}

/// The issues of an OperationOutcome, in a fixed order: validation reports them in the order of
/// the JSON properties, and XML → JSON yields definition order, which a client's JSON need not.
fn issues(outcome: &Value) -> Vec<Value> {
    let mut issues = outcome["issue"].as_array().unwrap().clone();
    // By content, not by text: the two formats list an issue's members in different orders.
    issues.sort_by_key(|i| (i["expression"].to_string(), i["diagnostics"].to_string()));
    issues
}

/// `$validate` of a resource sent as XML; the outcome in JSON.
fn validate_xml(srv: &TestServer, path: &str, resource: &Value) -> Value {
    let r = send(srv, "POST", path, xml(resource), "application/fhir+json");
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn patient() -> Value {
    json!({"resourceType": "Patient", "active": true,
        "name": [{"family": "山田", "given": ["太郎", "ジロウ"],
            "_given": [null, {"extension": [{"url": "http://example.org/kana", "valueBoolean": true}]}]}],
        "gender": "male", "birthDate": "1970-01-01"})
}

backend_test!(create_read_update_and_search_in_xml, |srv| {
    let (status, created) = read_xml(send(&srv, "POST", "Patient", xml(&patient()), XML));
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["name"], patient()["name"]);
    assert_eq!(created["birthDate"], "1970-01-01");
    // Stored as the same internal form: JSON reads it back identically.
    let as_json: Value = srv.get(&format!("Patient/{id}")).json().unwrap();
    assert_eq!(as_json, created);
    let (_, by_format) = read_xml(srv.get(&format!("Patient/{id}?_format=xml")));
    assert_eq!(by_format, created);
    let r = srv
        .client
        .get(srv.url(&format!("Patient/{id}?_format=text/xml&_pretty=true")))
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-8");
    assert!(r.text().unwrap().contains("\n  <"));

    let mut changed = created.clone();
    changed["gender"] = json!("female");
    let (status, updated) = read_xml(send(
        &srv,
        "PUT",
        &format!("Patient/{id}"),
        xml(&changed),
        XML,
    ));
    assert_eq!(status, 200);
    assert_eq!(updated["meta"]["versionId"], "2");
    let (_, v1) = get_xml(&srv, &format!("Patient/{id}/_history/1"));
    assert_eq!(v1["gender"], "male");

    let (status, bundle) = get_xml(&srv, "Patient?gender=female");
    assert_eq!(status, 200);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"][0]["resource"]["id"], id.as_str());
    let (_, history) = get_xml(&srv, &format!("Patient/{id}/_history"));
    assert_eq!(history["total"], 2);
    let (status, statement) = get_xml(&srv, "metadata");
    assert_eq!(status, 200);
    assert!(
        statement["format"]
            .as_array()
            .unwrap()
            .contains(&json!("application/fhir+xml"))
    );
});

backend_test!(a_transaction_in_xml_answers_in_xml, |srv| {
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b0e5b3a-7c2f-4f3e-9a51-1d2c3b4a5f60", "resource": patient(),
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final",
            "code": {"text": "体温"}, "subject": {"reference": "urn:uuid:0b0e5b3a-7c2f-4f3e-9a51-1d2c3b4a5f60"},
            "valueQuantity": {"value": 36.5, "unit": "Cel"}},
         "request": {"method": "POST", "url": "Observation"}}
    ]});
    let (status, response) = read_xml(send(&srv, "POST", "", xml(&bundle), XML));
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["type"], "transaction-response");
    assert_eq!(response["entry"][1]["response"]["status"], "201 Created");
    let observations = srv.search("Observation");
    let observation = &observations["entry"][0]["resource"];
    assert_eq!(observation["valueQuantity"]["value"], json!(36.5));
    assert!(
        observation["subject"]["reference"]
            .as_str()
            .unwrap()
            .starts_with("Patient/")
    );
});

backend_test!(validation_reports_the_same_issues_for_json_and_xml, |srv| {
    let bad = json!({"resourceType": "Patient", "birthDate": "1970-13-45", "gender": "unknown-code",
        "active": "yes", "name": [{"given": ["a"], "period": {"start": "not a date"}}]});
    let from_json: Value = srv.post("Patient/$validate", &bad).json().unwrap();
    let from_xml = validate_xml(&srv, "Patient/$validate", &bad);
    assert!(
        from_json["issue"].as_array().unwrap().len() >= 3,
        "{from_json}"
    );
    assert_eq!(issues(&from_xml), issues(&from_json));
    // A write of it is refused with the same outcome, in XML when asked.
    let (status, outcome) = read_xml(send(&srv, "POST", "Patient", xml(&bad), XML));
    assert_eq!(status, 422);
    assert_eq!(issues(&outcome), issues(&from_json));
});

backend_test!(
    errors_are_operation_outcomes_in_xml_when_xml_was_asked,
    |srv| {
        let (status, outcome) = get_xml(&srv, "Patient/nobody");
        assert_eq!(status, 404);
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        let (status, outcome) = read_xml(srv.get("Patient/nobody?_format=xml"));
        assert_eq!(
            (status, outcome["issue"][0]["code"].as_str()),
            (404, Some("not-found"))
        );
        // The format the answer is written in does not depend on the body's.
        let r = srv.client.get(srv.url("Patient/nobody")).send().unwrap();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json")
        );
    }
);

backend_test!(malformed_xml_is_400_naming_line_and_column, |srv| {
    let body = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <active value=\"true\">\n</Patient>";
    let (status, outcome) = read_xml(send(&srv, "POST", "Patient", body.into(), XML));
    assert_eq!(status, 400);
    let text = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(text.contains("line 3, column"), "{text}");
    let body = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <nickname value=\"x\"/>\n</Patient>";
    let r = send(
        &srv,
        "POST",
        "Patient",
        body.into(),
        "application/fhir+json",
    );
    assert_eq!(r.status(), 400);
    let outcome: Value = r.json().unwrap();
    let text = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        text.contains("line 2, column 3") && text.contains("nickname"),
        "{text}"
    );
    assert_eq!(srv.search("Patient")["total"], 0);
});

backend_test!(hostile_xml_is_refused, |srv| {
    let refused = |body: String| {
        let r = send(&srv, "POST", "Patient", body, "application/fhir+json");
        let status = r.status().as_u16();
        let outcome: Value = r.json().unwrap();
        (
            status,
            outcome["issue"][0]["code"].as_str().unwrap().to_string(),
        )
    };
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>"#;
    assert_eq!(refused(laughs.into()), (400, "security".into()));
    let external = r#"<!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>"#;
    assert_eq!(refused(external.into()), (400, "security".into()));
    let undefined = r#"<Patient xmlns="http://hl7.org/fhir"><gender value="&x;"/></Patient>"#;
    assert_eq!(refused(undefined.into()), (400, "structure".into()));
    let deep = format!(
        r#"<Questionnaire xmlns="http://hl7.org/fhir">{}{}</Questionnaire>"#,
        "<item>".repeat(200),
        "</item>".repeat(200)
    );
    assert_eq!(refused(deep), (400, "too-costly".into()));
    let big = format!(
        r#"<Patient xmlns="http://hl7.org/fhir"><id value="{}"/></Patient>"#,
        "x".repeat(11 << 20)
    );
    assert_eq!(refused(big), (413, "too-long".into()));
    assert_eq!(srv.search("Patient")["total"], 0);
});

#[test]
fn the_official_examples_are_accepted_in_xml_as_in_json() {
    let srv = TestServer::start(Backend::Sqlite);
    for name in [
        "Patient-Example-JP-Patient-eCS-MAKINO.json",
        "Bundle-Bundle-CLINS-Referral-Example-01.json",
    ] {
        let path = format!(
            "{}/../shared/data/examples/clins/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let example: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let from_json: Value = srv.post("$validate", &example).json().unwrap();
        let from_xml = validate_xml(&srv, "$validate", &example);
        assert_eq!(issues(&from_xml), issues(&from_json), "{name}");
    }
}
