//! The basic interactions over HTTP: create, read, vread, update, delete, history, and the error
//! statuses with their OperationOutcomes.

use crate::common;

use common::{FHIR_JSON, first_issue};
use serde_json::{Value, json};

backend_test!(create_read_vread_update_delete_round_trip, |srv| {
    let patient = common::example("patient.json");
    let r = srv.post("Patient", &patient);
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert!(r.headers().contains_key("last-modified"));
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let created: Value = r.json().unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(location, srv.url(&format!("Patient/{id}/_history/1")));
    assert_eq!(created["meta"]["versionId"], "1");
    assert_eq!(created["name"][0]["family"], "共有");

    let r = srv.get(&format!("Patient/{id}"));
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(FHIR_JSON)
    );
    assert_eq!(r.json::<Value>().unwrap(), created);

    let mut changed = created.clone();
    changed["gender"] = json!("other");
    let r = srv.put(&format!("Patient/{id}"), &changed);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "W/\"2\"");
    let updated: Value = r.json().unwrap();
    assert_eq!(updated["meta"]["versionId"], "2");

    let v1: Value = srv.get(&format!("Patient/{id}/_history/1")).json().unwrap();
    assert_eq!(v1["gender"], "female");
    assert_eq!(srv.get(&format!("Patient/{id}/_history/3")).status(), 404);

    let r = srv.delete(&format!("Patient/{id}"));
    assert_eq!(r.status(), 204);
    let r = srv.get(&format!("Patient/{id}"));
    assert_eq!(r.status(), 410);
    assert_eq!(first_issue(&r.json().unwrap())["code"], "deleted");
    // Deleting again is not an error and writes no new version.
    assert_eq!(srv.delete(&format!("Patient/{id}")).status(), 204);

    let history: Value = srv.get(&format!("Patient/{id}/_history")).json().unwrap();
    assert_eq!(history["type"], "history");
    assert_eq!(history["total"], 3);
    let methods: Vec<_> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request"]["method"].clone())
        .collect();
    assert_eq!(methods, [json!("DELETE"), json!("PUT"), json!("POST")]);

    // The version that records the deletion answers 410 on vread too.
    assert_eq!(srv.get(&format!("Patient/{id}/_history/3")).status(), 410);
});

backend_test!(update_as_create_uses_the_client_id, |srv| {
    let r = srv.put(
        "Patient/client-chosen-1",
        &json!({"resourceType": "Patient", "id": "client-chosen-1", "active": true}),
    );
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"], "W/\"1\"");
    assert_eq!(srv.get("Patient/client-chosen-1").status(), 200);
});

backend_test!(if_match_mismatch_is_refused_with_412, |srv| {
    let created = srv.create(&json!({"resourceType": "Patient", "active": true}));
    let id = created["id"].as_str().unwrap();
    let mut body = created.clone();
    body["active"] = json!(false);
    let r = srv
        .client
        .put(srv.url(&format!("Patient/{id}")))
        .header("content-type", FHIR_JSON)
        .header("if-match", "W/\"2\"")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 412);
    assert_eq!(first_issue(&r.json().unwrap())["severity"], "error");
    let r = srv
        .client
        .put(srv.url(&format!("Patient/{id}")))
        .header("content-type", FHIR_JSON)
        .header("if-match", "W/\"1\"")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // The stale version is now refused too.
    let r = srv
        .client
        .put(srv.url(&format!("Patient/{id}")))
        .header("content-type", FHIR_JSON)
        .header("if-match", "W/\"1\"")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 412);
});

backend_test!(prefer_return_is_honoured, |srv| {
    let body = json!({"resourceType": "Patient", "active": true});
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .header("prefer", "return=minimal")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("location"));
    assert_eq!(r.text().unwrap(), "");
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .header("prefer", "return=OperationOutcome")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().unwrap()["resourceType"],
        "OperationOutcome"
    );
});

backend_test!(error_statuses_carry_operation_outcomes, |srv| {
    // 400 malformed JSON, naming line and column.
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .body("{\"resourceType\": \"Patient\",\n \"active\": tru}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let outcome: Value = r.json().unwrap();
    assert!(
        first_issue(&outcome)["diagnostics"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{outcome}"
    );
    // 400 body type does not match the URL, with the element named.
    let r = srv.post("Patient", &json!({"resourceType": "Observation"}));
    assert_eq!(r.status(), 400);
    assert_eq!(
        first_issue(&r.json().unwrap())["expression"][0],
        "Patient.resourceType"
    );
    // 400 update without the URL's id.
    let r = srv.put("Patient/abc", &json!({"resourceType": "Patient"}));
    assert_eq!(r.status(), 400);
    assert_eq!(
        first_issue(&r.json().unwrap())["expression"][0],
        "Patient.id"
    );
    // 404 unknown type, unknown id, unknown route.
    assert_eq!(srv.get("Patiant/1").status(), 404);
    assert_eq!(
        first_issue(&srv.get("Patient/nope").json().unwrap())["code"],
        "not-found"
    );
    assert_eq!(srv.get("Patient/1/_history/1/extra").status(), 404);
    // 405 a method the endpoint does not take.
    let r = srv.client.patch(srv.url("metadata")).send().unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(first_issue(&r.json().unwrap())["code"], "not-supported");
    // 415 a body that is not declared as JSON.
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    // 406 a response format we cannot produce.
    let r = srv
        .client
        .get(srv.url("metadata"))
        .header("accept", "text/turtle")
        .send()
        .unwrap();
    assert_eq!(r.status(), 406);
    assert_eq!(srv.get("metadata?_format=turtle").status(), 406);
    assert_eq!(srv.get("metadata?_format=json").status(), 200);
    // 400 an invalid id.
    assert_eq!(srv.get("Patient/bad_id!").status(), 400);
});

backend_test!(body_over_the_limit_is_refused_with_413, |srv| {
    let big = "x".repeat(10 * 1024 * 1024 + 1);
    let body = format!("{{\"resourceType\":\"Patient\",\"text\":{{\"div\":\"{big}\"}}}}");
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(first_issue(&r.json().unwrap())["code"], "too-long");
    assert_eq!(srv.search("Patient")["total"], 0);
});

backend_test!(json_nesting_beyond_the_limit_is_refused, |srv| {
    let depth = 100;
    let body = format!(
        "{{\"resourceType\":\"Patient\",\"extension\":{}1{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let r = srv
        .client
        .post(srv.url("Patient"))
        .header("content-type", FHIR_JSON)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let outcome: Value = r.json().unwrap();
    assert!(
        first_issue(&outcome)["diagnostics"]
            .as_str()
            .unwrap()
            .contains("nesting"),
        "{outcome}"
    );
});

backend_test!(capability_statement_lists_what_is_implemented, |srv| {
    let cs: Value = srv.get("metadata").json().unwrap();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let rest = &cs["rest"][0];
    let observation = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Observation")
        .unwrap();
    let interactions: Vec<_> = observation["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    for code in [
        "read",
        "vread",
        "update",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    ] {
        assert!(interactions.contains(&code), "{code}");
    }
    let params: Vec<_> = observation["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in [
        "_id",
        "_lastUpdated",
        "code",
        "patient",
        "subject",
        "category",
        "status",
        "date",
    ] {
        assert!(params.contains(&p), "{p}");
    }
    // What is refused rather than ignored is written where clients look (issue #25).
    let documentation = observation["documentation"].as_str().unwrap();
    for words in [
        "_summary supports true, text, data, count",
        "Chained parameters (ref.param, ref:Type.param) and _has",
        "refused with 400",
    ] {
        assert!(documentation.contains(words), "{documentation}");
    }
    let system: Vec<_> = rest["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert!(system.contains(&"transaction") && system.contains(&"batch"));
});

// Issue #26: the statement lists no write a type always refuses, and no type nothing serves.
backend_test!(capability_statement_claims_only_what_is_served, |srv| {
    let cs: Value = srv.get("metadata").json().unwrap();
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    let of = |t: &str| resources.iter().find(|r| r["type"] == t);
    let codes = |r: &Value| -> Vec<String> {
        r["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    // Prescriptions enter only from documents: their create and update answer 422.
    let rx = of("MedicationRequest").unwrap();
    let rx_codes = codes(rx);
    assert!(!rx_codes.contains(&"create".to_string()), "{rx}");
    assert!(!rx_codes.contains(&"update".to_string()), "{rx}");
    assert!(rx_codes.contains(&"read".to_string()), "{rx}");
    assert_eq!(rx["updateCreate"], false);
    assert_eq!(rx["conditionalCreate"], false);
    let r = srv.post(
        "MedicationRequest",
        &json!({"resourceType": "MedicationRequest", "status": "completed"}),
    );
    assert_eq!(r.status(), 422);
    // Other types keep their writes, and conditional read is declared.
    let patient = of("Patient").unwrap();
    assert!(codes(patient).contains(&"create".to_string()));
    assert_eq!(patient["updateCreate"], true);
    assert_eq!(patient["conditionalRead"], "full-support");

    // Nothing delivers notifications: Subscription is not listed and its writes are refused
    // as an unsupported type's, directly and in bundles.
    assert!(of("Subscription").is_none());
    let sub = json!({"resourceType": "Subscription", "status": "requested",
                     "reason": "notify", "criteria": "Observation?code=x",
                     "channel": {"type": "rest-hook", "endpoint": "https://example.org/hook"}});
    let r = srv.post("Subscription", &sub);
    assert_eq!(r.status(), 404);
    let outcome: Value = r.json().unwrap();
    assert_eq!(first_issue(&outcome)["code"], "not-supported");
    assert!(
        first_issue(&outcome)["diagnostics"]
            .as_str()
            .unwrap()
            .contains("Subscription is not supported"),
        "{outcome}"
    );
    let mut with_id = sub.clone();
    with_id["id"] = json!("s1");
    assert_eq!(srv.put("Subscription/s1", &with_id).status(), 404);
    let r = srv
        .client
        .post(srv.url("Subscription"))
        .header("content-type", FHIR_JSON)
        .header("if-none-exist", "status=requested")
        .body(sub.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5b1c0000-0000-4000-8000-000000000001", "resource": sub,
         "request": {"method": "POST", "url": "Subscription"}}]});
    let r = srv.post("", &tx);
    assert_eq!(r.status(), 404);
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": with_id, "request": {"method": "PUT", "url": "Subscription/s1"}}]});
    let answer: Value = srv.post("", &batch).json().unwrap();
    assert_eq!(answer["entry"][0]["response"]["status"], "404 Not Found");
    assert_eq!(srv.search("Subscription")["total"], 0);
});

// Issue #26: a 405 says which methods the route takes (RFC 9110 §15.5.6).
backend_test!(every_405_lists_the_methods_its_route_takes, |srv| {
    let allow = |r: reqwest::blocking::Response| -> String {
        assert_eq!(r.status(), 405);
        r.headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let c = &srv.client;
    assert_eq!(
        allow(c.post(srv.url("Patient/1")).send().unwrap()),
        "GET, HEAD, PUT, PATCH, DELETE"
    );
    assert_eq!(
        allow(
            c.request(reqwest::Method::OPTIONS, srv.url("Patient"))
                .send()
                .unwrap()
        ),
        "GET, HEAD, POST, PUT, PATCH, DELETE"
    );
    assert_eq!(
        allow(c.post(srv.url("metadata")).send().unwrap()),
        "GET, HEAD"
    );
    assert_eq!(
        allow(c.delete(srv.url("")).send().unwrap()),
        "GET, HEAD, POST"
    );
    assert_eq!(allow(c.get(srv.url("_search")).send().unwrap()), "POST");
    assert_eq!(
        allow(c.get(srv.url("Patient/_search")).send().unwrap()),
        "POST"
    );
    assert_eq!(
        allow(c.delete(srv.url("Patient/1/_history/1")).send().unwrap()),
        "GET, HEAD"
    );
    // Terminology is read-only, also when a transaction tries to write it.
    let cs = json!({"resourceType": "CodeSystem", "status": "active", "content": "complete"});
    assert_eq!(allow(srv.post("CodeSystem", &cs)), "GET, HEAD");
    assert_eq!(
        allow(c.put(srv.url("CodeSystem/$lookup")).send().unwrap()),
        "GET, HEAD, POST"
    );
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5b1c0000-0000-4000-8000-000000000002", "resource": cs,
         "request": {"method": "POST", "url": "CodeSystem"}}]});
    assert_eq!(allow(srv.post("", &tx)), "POST");
    // Still an OperationOutcome, in XML when asked for.
    let r = c.post(srv.url("Patient/1?_format=xml")).send().unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD, PUT, PATCH, DELETE");
    assert!(r.text().unwrap().contains("OperationOutcome"));
});

#[test]
fn a_slow_body_runs_into_the_request_time_limit() {
    use std::io::{Read, Write};
    let srv = common::TestServer::start_with(
        common::Backend::Sqlite,
        common::Options {
            configure: Box::new(|a| a.request_timeout_secs = Some(0.5)),
            ..Default::default()
        },
    );
    let addr = srv.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{{\"resourceType\"").unwrap();
    let started = std::time::Instant::now();
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("OperationOutcome"), "{response}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

backend_test!(
    answers_are_gzip_compressed_when_the_client_accepts_it,
    |srv| {
        use std::io::Read;
        let patient = srv.create(&common::example("patient.json"));
        let path = format!("Patient/{}", patient["id"].as_str().unwrap());
        let plain = srv.get(&path);
        assert_eq!(plain.status(), 200);
        assert!(!plain.headers().contains_key("content-encoding"));
        let expected: Value = plain.json().unwrap();

        let zipped = srv
            .client
            .get(srv.url(&path))
            .header("Accept-Encoding", "gzip")
            .send()
            .unwrap();
        assert_eq!(zipped.status(), 200);
        assert_eq!(zipped.headers()["content-encoding"], "gzip");
        assert_eq!(zipped.headers()["etag"], "W/\"1\"");
        let bytes = zipped.bytes().unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);

        // An error's OperationOutcome too.
        let missing = srv
            .client
            .get(srv.url("Patient/does-not-exist"))
            .header("Accept-Encoding", "gzip")
            .send()
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.headers()["content-encoding"], "gzip");

        // A gzip request body is not inflated: it is refused as unreadable, not expanded.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, serde_json::to_string(&patient).unwrap().as_bytes())
            .unwrap();
        let refused = srv
            .client
            .post(srv.url("Patient"))
            .header("Content-Type", FHIR_JSON)
            .header("Content-Encoding", "gzip")
            .body(gz.finish().unwrap())
            .send()
            .unwrap();
        assert_eq!(refused.status(), 400);
    }
);
