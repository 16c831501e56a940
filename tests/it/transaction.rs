//! Transactions and batches over HTTP (POST [base] with a Bundle): reference rewriting,
//! conditional creates, all-or-nothing rollback, the DELETE → POST → PUT → GET processing order,
//! independent batch entries, and how the writes show in history.
//! Spec: https://hl7.org/fhir/R4/http.html#transaction

use crate::common;

use common::{FHIR_JSON, TestServer, first_issue};
use serde_json::{Value, json};

fn bundle(kind: &str, entries: Vec<Value>) -> Value {
    // FHIR JSON has no empty arrays: an empty Bundle has no `entry` at all.
    if entries.is_empty() {
        return json!({"resourceType": "Bundle", "type": kind});
    }
    json!({"resourceType": "Bundle", "type": kind, "entry": entries})
}

/// POSTs a Bundle to the base URL; returns the status and the body.
fn submit(srv: &TestServer, body: &Value) -> (u16, Value) {
    let r = srv.post("", body);
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

/// POSTs a Bundle that must succeed; returns the response Bundle.
fn commit(srv: &TestServer, body: &Value) -> Value {
    let (status, response) = submit(srv, body);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["resourceType"], "Bundle");
    let entries = body["entry"].as_array().map_or(0, Vec::len);
    assert_eq!(response["entry"].as_array().map_or(0, Vec::len), entries);
    response
}

fn post_entry(resource: Value) -> Value {
    let t = resource["resourceType"].as_str().unwrap().to_string();
    json!({"resource": resource, "request": {"method": "POST", "url": t}})
}

fn put_entry(resource: Value) -> Value {
    let t = resource["resourceType"].as_str().unwrap();
    let id = resource["id"].as_str().unwrap();
    let url = format!("{t}/{id}");
    json!({"resource": resource, "request": {"method": "PUT", "url": url}})
}

fn request_entry(method: &str, url: &str) -> Value {
    json!({"request": {"method": method, "url": url}})
}

/// `Type/id` from a Location like `http://…/Type/id/_history/1`.
fn reference_of(location: &str) -> String {
    let parts: Vec<&str> = location.rsplitn(4, '/').collect();
    assert_eq!(parts[1], "_history", "{location}");
    let type_and_id = location.trim_end_matches(&format!("/_history/{}", parts[0]));
    let mut segments = type_and_id.rsplitn(3, '/');
    let id = segments.next().unwrap();
    let t = segments.next().unwrap();
    format!("{t}/{id}")
}

fn entry_status(response: &Value, i: usize) -> &str {
    response["entry"][i]["response"]["status"].as_str().unwrap()
}

fn entry_reference(response: &Value, i: usize) -> String {
    reference_of(
        response["entry"][i]["response"]["location"]
            .as_str()
            .unwrap(),
    )
}

fn read(srv: &TestServer, reference: &str) -> Value {
    let r = srv.get(reference);
    assert_eq!(r.status(), 200, "GET {reference}");
    r.json().unwrap()
}

fn total(srv: &TestServer, path: &str) -> i64 {
    srv.search(path)["total"].as_i64().unwrap()
}

fn history_total(srv: &TestServer, path: &str) -> i64 {
    let r = srv.get(path);
    assert_eq!(r.status(), 200, "{path}");
    r.json::<Value>().unwrap()["total"].as_i64().unwrap()
}

fn put(srv: &TestServer, resource: &Value) -> Value {
    let t = resource["resourceType"].as_str().unwrap();
    let id = resource["id"].as_str().unwrap();
    let r = srv.put(&format!("{t}/{id}"), resource);
    assert!(r.status() == 200 || r.status() == 201, "PUT {t}/{id}");
    r.json().unwrap()
}

backend_test!(
    example_transaction_creates_the_patient_once_and_links_each_condition,
    |srv| {
        let example = common::example("transaction.json");
        let response = commit(&srv, &example);
        assert_eq!(response["type"], "transaction-response");
        for i in 0..2 {
            assert!(entry_status(&response, i).starts_with("201"), "{response}");
            let location = response["entry"][i]["response"]["location"]
                .as_str()
                .unwrap();
            assert!(location.starts_with(&srv.base), "{location}");
            assert!(location.ends_with("/_history/1"), "{location}");
            assert_eq!(response["entry"][i]["response"]["etag"], "W/\"1\"");
            assert!(response["entry"][i]["response"]["lastModified"].is_string());
        }
        let patient_ref = entry_reference(&response, 0);
        let condition_ref = entry_reference(&response, 1);
        assert!(patient_ref.starts_with("Patient/"), "{patient_ref}");
        assert!(condition_ref.starts_with("Condition/"), "{condition_ref}");
        assert_eq!(
            response["entry"][0]["fullUrl"],
            format!("{}/{patient_ref}", srv.base)
        );
        // The entries carry the stored resources (return=representation is the default).
        assert_eq!(response["entry"][0]["resource"]["resourceType"], "Patient");

        let condition = read(&srv, &condition_ref);
        assert_eq!(condition["subject"]["reference"], patient_ref);
        let patient = read(&srv, &patient_ref);
        assert_eq!(patient["name"][0]["family"], "共有");
        // Both are indexed under the rewritten reference.
        let by_subject = srv.search(&format!("Condition?subject={patient_ref}"));
        assert_eq!(common::ids(&by_subject).len(), 1);

        // Again: the Patient matches its ifNoneExist and is not created twice; a new Condition is,
        // pointing at the same Patient.
        let again = commit(&srv, &example);
        assert!(entry_status(&again, 0).starts_with("200"), "{again}");
        assert_eq!(entry_reference(&again, 0), patient_ref);
        assert!(entry_status(&again, 1).starts_with("201"), "{again}");
        let second_condition = entry_reference(&again, 1);
        assert_ne!(second_condition, condition_ref);
        assert_eq!(
            read(&srv, &second_condition)["subject"]["reference"],
            patient_ref
        );
        assert_eq!(total(&srv, "Patient?_count=0"), 1);
        assert_eq!(
            total(&srv, &format!("Condition?patient={patient_ref}&_count=0")),
            2
        );
        assert_eq!(read(&srv, &patient_ref)["meta"]["versionId"], "1");
    }
);

/// The state a failed transaction must leave untouched.
fn snapshot(srv: &TestServer) -> Vec<i64> {
    vec![
        total(srv, "Patient?_count=0"),
        total(srv, "Observation?_count=0"),
        history_total(srv, "Patient/_history"),
        history_total(srv, "Observation/_history"),
        history_total(srv, "_history"),
        history_total(srv, "Patient/keep/_history"),
    ]
}

backend_test!(
    a_failing_third_entry_rolls_back_the_whole_transaction,
    |srv| {
        put(
            &srv,
            &json!({"resourceType": "Patient", "id": "keep", "active": true}),
        );
        put(
            &srv,
            &json!({"resourceType": "Observation", "id": "obs-keep", "status": "final",
                      "code": {"text": "kept"}}),
        );
        for id in ["dup-1", "dup-2"] {
            put(
                &srv,
                &json!({"resourceType": "Patient", "id": id,
                          "identifier": [{"system": "urn:dup", "value": "1"}]}),
            );
        }
        let before = snapshot(&srv);

        let keep_changed = json!({"resourceType": "Patient", "id": "keep", "active": false});
        let mut wrong_id = keep_changed.clone();
        wrong_id["id"] = json!("someone-else");
        let mut if_match = put_entry(keep_changed.clone());
        if_match["request"]["ifMatch"] = json!("W/\"7\"");
        let mut ambiguous = post_entry(json!({"resourceType": "Patient", "active": true}));
        ambiguous["request"]["ifNoneExist"] = json!("identifier=urn:dup|1");
        let failing = [
            // Checked while the other entries are already written: processed after POST and DELETE.
            (if_match, 412, "Bundle.entry[2]"),
            (
                request_entry("GET", "Patient/does-not-exist"),
                404,
                "Bundle.entry[2]",
            ),
            // Refused before anything is written.
            (
                put_entry(wrong_id).tap_url("Patient/keep"),
                400,
                "Bundle.entry[2].resource.id",
            ),
            (ambiguous, 412, "Bundle.entry[2]"),
        ];
        for (third, status, expression) in failing {
            let tx = bundle(
                "transaction",
                vec![
                    post_entry(
                        json!({"resourceType": "Patient", "identifier": [{"system": "urn:tx", "value": "new"}]}),
                    ),
                    request_entry("DELETE", "Observation/obs-keep"),
                    third.clone(),
                    put_entry(
                        json!({"resourceType": "Observation", "id": "obs-new", "status": "final",
                                 "code": {"text": "new"}}),
                    ),
                ],
            );
            let (got, outcome) = submit(&srv, &tx);
            assert_eq!(got, status, "{third}: {outcome}");
            let issue = first_issue(&outcome);
            assert_eq!(issue["severity"], "error");
            let written = issue["expression"][0].as_str().unwrap();
            assert!(written.starts_with("Bundle.entry[2]"), "{written}");
            assert_eq!(written, expression);
            // Nothing of entries 0, 1 and 3 stayed.
            assert_eq!(snapshot(&srv), before, "{third}");
            assert_eq!(read(&srv, "Observation/obs-keep")["meta"]["versionId"], "1");
            assert_eq!(srv.get("Observation/obs-new").status(), 404);
            assert_eq!(total(&srv, "Patient?identifier=urn:tx|new"), 0);
            assert_eq!(read(&srv, "Patient/keep")["active"], true);
        }
        // The same Bundle without the failing entry goes through.
        let ok = bundle(
            "transaction",
            vec![
                post_entry(
                    json!({"resourceType": "Patient", "identifier": [{"system": "urn:tx", "value": "new"}]}),
                ),
                request_entry("DELETE", "Observation/obs-keep"),
            ],
        );
        commit(&srv, &ok);
        assert_eq!(total(&srv, "Patient?identifier=urn:tx|new"), 1);
        assert_eq!(srv.get("Observation/obs-keep").status(), 410);
    }
);

backend_test!(entries_run_as_delete_then_post_then_put_then_get, |srv| {
    put(
        &srv,
        &json!({"resourceType": "Patient", "id": "a", "gender": "female"}),
    );
    put(
        &srv,
        &json!({"resourceType": "Patient", "id": "b", "gender": "male"}),
    );
    // Listed in the reverse of the processing order.
    let tx = bundle(
        "transaction",
        vec![
            request_entry("GET", "Patient/a"),
            put_entry(json!({"resourceType": "Patient", "id": "a", "gender": "other"})),
            json!({"fullUrl": "urn:uuid:8f0a8a3e-4a4e-4f4e-8d0e-000000000001",
                   "resource": {"resourceType": "Observation", "status": "final",
                                "code": {"text": "order"},
                                "subject": {"reference": "Patient/a"}},
                   "request": {"method": "POST", "url": "Observation"}}),
            request_entry("DELETE", "Patient/b"),
        ],
    );
    let response = commit(&srv, &tx);
    assert_eq!(response["type"], "transaction-response");
    // Responses are in request order; the GET saw the PUT.
    assert!(entry_status(&response, 0).starts_with("200"), "{response}");
    let got = &response["entry"][0]["resource"];
    assert_eq!(got["id"], "a");
    assert_eq!(got["gender"], "other");
    assert_eq!(got["meta"]["versionId"], "2");
    assert!(entry_status(&response, 1).starts_with("200"));
    assert_eq!(response["entry"][1]["response"]["etag"], "W/\"2\"");
    assert!(entry_status(&response, 2).starts_with("201"));
    assert!(entry_status(&response, 3).starts_with("204"));
    assert!(response["entry"][3].get("resource").is_none());
    assert_eq!(srv.get("Patient/b").status(), 410);
    assert_eq!(read(&srv, "Patient/a")["gender"], "other");

    // A PUT may create, and a GET in the same transaction then finds the new resource.
    let tx = bundle(
        "transaction",
        vec![
            request_entry("GET", "Patient/c"),
            put_entry(json!({"resourceType": "Patient", "id": "c", "active": true})),
            request_entry("GET", "Patient/a/_history/1"),
        ],
    );
    let response = commit(&srv, &tx);
    assert_eq!(response["entry"][0]["resource"]["id"], "c");
    assert!(entry_status(&response, 1).starts_with("201"));
    assert_eq!(response["entry"][2]["resource"]["gender"], "female");

    // A GET of what a DELETE in the same transaction removed fails the transaction.
    let tx = bundle(
        "transaction",
        vec![
            request_entry("GET", "Patient/c"),
            request_entry("DELETE", "Patient/c"),
        ],
    );
    let (status, outcome) = submit(&srv, &tx);
    assert_eq!(status, 410, "{outcome}");
    assert_eq!(first_issue(&outcome)["expression"][0], "Bundle.entry[0]");
    assert_eq!(read(&srv, "Patient/c")["active"], true);
});

// Issue #26: `GET [type]?params` entries answer their searchset Bundle as the entry's resource;
// in a transaction the search runs after the writes and sees them.
backend_test!(search_entries_answer_their_searchset, |srv| {
    for family in ["Searched", "Searched", "Other"] {
        srv.create(&json!({"resourceType": "Patient", "name": [{"family": family}]}));
    }
    let batch = bundle(
        "batch",
        vec![
            request_entry("GET", "Patient?family=searched"),
            request_entry("GET", "Patient?family=nobody"),
            request_entry("GET", "Patient?family=searched&unknown-param=1&_count=1"),
            request_entry("GET", "Patient?birthdate=not-a-date"),
            request_entry("GET", "Nonsense?x=1"),
            request_entry("GET", &format!("{}/Patient", srv.base)),
        ],
    );
    let response = commit(&srv, &batch);
    let statuses: Vec<&str> = (0..6).map(|i| &entry_status(&response, i)[..3]).collect();
    assert_eq!(
        statuses,
        ["200", "200", "200", "400", "404", "200"],
        "{response}"
    );
    let found = |i: usize| &response["entry"][i]["resource"];
    assert_eq!(found(0)["resourceType"], "Bundle");
    assert_eq!(found(0)["type"], "searchset");
    assert_eq!(found(0)["total"], 2, "{response}");
    assert_eq!(found(1)["total"], 0);
    // Paging and the note of an ignored parameter, as a direct search gives them.
    let paged = found(2);
    assert_eq!(paged["total"], 2);
    let modes: Vec<&str> = paged["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["search"]["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["match", "outcome"], "{paged}");
    assert!(paged["link"].to_string().contains("next"), "{paged}");
    // A batch entry is a request of its own: its outcome names the parameter, as a GET's does.
    assert_eq!(
        response["entry"][3]["response"]["outcome"]["issue"][0]["expression"][0],
        "birthdate"
    );
    assert_eq!(found(5)["total"], 3);

    // In a transaction the search sees the entry created before it, whatever the listing.
    let tx = bundle(
        "transaction",
        vec![
            request_entry("GET", "Patient?family=searched"),
            post_entry(json!({"resourceType": "Patient", "name": [{"family": "Searched"}]})),
        ],
    );
    let response = commit(&srv, &tx);
    assert!(entry_status(&response, 0).starts_with("200"), "{response}");
    assert_eq!(response["entry"][0]["resource"]["total"], 3, "{response}");
    assert!(entry_status(&response, 1).starts_with("201"));
    // A search a direct GET would refuse refuses the whole transaction, naming the entry.
    let tx = bundle(
        "transaction",
        vec![
            post_entry(json!({"resourceType": "Patient", "name": [{"family": "Never"}]})),
            request_entry("GET", "Patient?birthdate=not-a-date"),
        ],
    );
    let (status, outcome) = submit(&srv, &tx);
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(
        first_issue(&outcome)["expression"][0],
        "Bundle.entry[1].request.url"
    );
    assert_eq!(total(&srv, "Patient?family=never"), 0);
    // Terminology and the audit trail are not searched in bundles; nor is history.
    for url in [
        "CodeSystem?url=urn:x",
        "AuditEvent?patient=x",
        "_history",
        "Patient/_history",
    ] {
        let batch = bundle("batch", vec![request_entry("GET", url)]);
        let response = commit(&srv, &batch);
        assert!(
            entry_status(&response, 0).starts_with("400"),
            "{url}: {response}"
        );
    }
});

backend_test!(batch_entries_succeed_or_fail_on_their_own, |srv| {
    put(
        &srv,
        &json!({"resourceType": "Patient", "id": "existing", "active": true}),
    );
    let mut stale =
        put_entry(json!({"resourceType": "Patient", "id": "existing", "active": false}));
    stale["request"]["ifMatch"] = json!("W/\"3\"");
    let batch = bundle(
        "batch",
        vec![
            post_entry(json!({"resourceType": "Patient", "name": [{"family": "Batch"}]})),
            request_entry("GET", "Patient/missing"),
            put_entry(json!({"resourceType": "Patient", "id": "other", "active": true}))
                .tap_url("Patient/not-other"),
            stale,
            post_entry(json!({"resourceType": "Observation", "status": "final",
                              "code": {"text": "batch"}})),
            request_entry("GET", "Patient/existing"),
            request_entry("PATCH", "Patient/existing"),
        ],
    );
    let response = commit(&srv, &batch);
    assert_eq!(response["type"], "batch-response");
    let statuses: Vec<&str> = (0..7).map(|i| &entry_status(&response, i)[..3]).collect();
    assert_eq!(
        statuses,
        ["201", "404", "400", "412", "201", "200", "400"],
        "{response}"
    );
    for i in [1, 2, 3, 6] {
        let outcome = &response["entry"][i]["response"]["outcome"];
        assert_eq!(
            outcome["resourceType"], "OperationOutcome",
            "{i}: {response}"
        );
        assert_eq!(outcome["issue"][0]["severity"], "error");
        assert!(response["entry"][i].get("resource").is_none());
    }
    assert_eq!(
        response["entry"][1]["response"]["outcome"]["issue"][0]["code"],
        "not-found"
    );
    assert_eq!(response["entry"][5]["resource"]["active"], true);
    // The successful entries were stored, the failed ones changed nothing.
    assert_eq!(total(&srv, "Patient?family=batch"), 1);
    assert_eq!(total(&srv, "Observation?_count=0"), 1);
    assert_eq!(read(&srv, "Patient/existing")["meta"]["versionId"], "1");
    assert_eq!(srv.get("Patient/other").status(), 404);
    assert_eq!(srv.get("Patient/not-other").status(), 404);

    // A batch without entries is answered with an empty batch-response.
    let empty = commit(&srv, &bundle("batch", vec![]));
    assert_eq!(empty["type"], "batch-response");
});

trait TapUrl {
    fn tap_url(self, url: &str) -> Value;
}

impl TapUrl for Value {
    /// The entry with its request URL replaced.
    fn tap_url(mut self, url: &str) -> Value {
        self["request"]["url"] = json!(url);
        self
    }
}

backend_test!(
    only_transaction_and_batch_bundles_are_accepted_at_the_base,
    |srv| {
        let collection = bundle(
            "collection",
            vec![json!({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}})],
        );
        let (status, outcome) = submit(&srv, &collection);
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["expression"][0], "Bundle.type");
        let (status, outcome) = submit(&srv, &json!({"resourceType": "Bundle"}));
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["expression"][0], "Bundle.type");
        let (status, outcome) = submit(&srv, &json!({"resourceType": "Patient", "active": true}));
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["code"], "invalid");
        let (status, _) = submit(
            &srv,
            &json!({"resourceType": "Bundle", "type": "transaction", "entry": {"request": {}}}),
        );
        assert_eq!(status, 400);
        // Not a form, not XML.
        let r = srv.post_form("", "a=b");
        assert_eq!(r.status(), 415);
        // Nothing was stored by any of them.
        assert_eq!(history_total(&srv, "_history"), 0);
        // The base URL takes POST, and GET as a system-level search.
        assert_eq!(srv.get("").status(), 200);
        assert_eq!(srv.delete("").status(), 405);
        // An empty transaction is a valid, empty transaction.
        let response = commit(&srv, &bundle("transaction", vec![]));
        assert_eq!(response["type"], "transaction-response");
    }
);

/// Entries that are malformed in themselves, with the expression naming what is wrong.
fn malformed_entries() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"resource": {"resourceType": "Patient"}}),
            "Bundle.entry[1].request",
        ),
        (request_entry("POST", ""), "Bundle.entry[1].request.url"),
        (request_entry("POST", "Patient"), "Bundle.entry[1].resource"),
        (
            json!({"resource": {"active": true}, "request": {"method": "POST", "url": "Patient"}}),
            "Bundle.entry[1].resource.resourceType",
        ),
        (
            json!({"resource": {"resourceType": "Patient", "id": "x"},
                   "request": {"method": "PUT", "url": "Patient/x", "ifMatch": "seven"}}),
            "Bundle.entry[1].request.ifMatch",
        ),
        (
            json!({"resource": {"resourceType": "Patient"},
                   "request": {"method": "POST", "url": "Patient", "ifNoneExist": "foo=bar"}}),
            "Bundle.entry[1].request.ifNoneExist",
        ),
        (
            request_entry("FETCH", "Patient/x"),
            "Bundle.entry[1].request.method",
        ),
    ]
}

/// Posts `[valid POST, entry]` as a transaction, which must fail naming entry 1 — with 422 when
/// validation of the Bundle catches it, 400 when processing does; returns the expression given.
fn refused_second_entry(srv: &TestServer, entry: Value) -> String {
    let first = post_entry(json!({"resourceType": "Patient"}));
    let (status, outcome) = submit(srv, &bundle("transaction", vec![first, entry.clone()]));
    assert!(
        status == 400 || status == 422,
        "{entry}: {status} {outcome}"
    );
    let got = first_issue(&outcome)["expression"][0]
        .as_str()
        .unwrap_or_default();
    assert!(got.starts_with("Bundle.entry[1]"), "{entry}: {outcome}");
    got.to_string()
}

backend_test!(
    malformed_entries_fail_the_transaction_naming_the_entry,
    |srv| {
        for (entry, _) in malformed_entries() {
            refused_second_entry(&srv, entry);
        }
        // Inside the resource, the element is named as in the resource.
        let wrong_type = json!({"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
                            "request": {"method": "POST", "url": "Patient"}});
        assert_eq!(
            refused_second_entry(&srv, wrong_type),
            "Bundle.entry[1].resource.resourceType"
        );
        let wrong_id = json!({"resource": {"resourceType": "Patient", "id": "y"},
                          "request": {"method": "PUT", "url": "Patient/x"}});
        assert_eq!(
            refused_second_entry(&srv, wrong_id),
            "Bundle.entry[1].resource.id"
        );
        // Two entries may not claim the same fullUrl.
        let mut first = post_entry(json!({"resourceType": "Patient"}));
        first["fullUrl"] = json!("urn:uuid:11111111-1111-4111-8111-111111111111");
        let (status, outcome) = submit(&srv, &bundle("transaction", vec![first.clone(), first]));
        assert_eq!(status, 400);
        let got = first_issue(&outcome)["expression"][0].as_str().unwrap();
        assert!(got.starts_with("Bundle.entry[1]"), "{outcome}");
        assert_eq!(history_total(&srv, "_history"), 0);
    }
);

backend_test!(entry_errors_name_the_element_of_the_entry, |srv| {
    let mut wrong = Vec::new();
    for (entry, expression) in malformed_entries() {
        let got = refused_second_entry(&srv, entry.clone());
        if got != expression {
            wrong.push(format!("{entry}: expected {expression}, got {got}"));
        }
    }
    let mut first = post_entry(json!({"resourceType": "Patient"}));
    first["fullUrl"] = json!("urn:uuid:11111111-1111-4111-8111-111111111111");
    let (_, outcome) = submit(&srv, &bundle("transaction", vec![first.clone(), first]));
    let got = first_issue(&outcome)["expression"][0].as_str().unwrap();
    if got != "Bundle.entry[1].fullUrl" {
        wrong.push(format!(
            "duplicate fullUrl: expected Bundle.entry[1].fullUrl, got {got}"
        ));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
});

backend_test!(
    history_shows_transaction_writes_and_since_filters_them,
    |srv| {
        let first = commit(&srv, &common::example("transaction.json"));
        let patient_ref = entry_reference(&first, 0);
        let first_at = first["entry"][0]["response"]["lastModified"]
            .as_str()
            .unwrap()
            .to_string();
        // One transaction, one instant.
        assert_eq!(
            first["entry"][1]["response"]["lastModified"],
            first_at.as_str()
        );

        let mut patient = read(&srv, &patient_ref);
        patient["gender"] = json!("other");
        let second = commit(
            &srv,
            &bundle(
                "transaction",
                vec![
                    put_entry(patient),
                    post_entry(json!({"resourceType": "Observation", "status": "final",
                                  "code": {"text": "later"},
                                  "subject": {"reference": patient_ref}})),
                ],
            ),
        );
        let second_at = second["entry"][0]["response"]["lastModified"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(second_at > first_at, "{first_at} {second_at}");

        let history = |path: &str| {
            let r = srv.get(path);
            assert_eq!(r.status(), 200, "{path}");
            let h: Value = r.json().unwrap();
            assert_eq!(h["type"], "history");
            h
        };
        let methods = |h: &Value| -> Vec<String> {
            h["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let t = e["resource"]["resourceType"].as_str().unwrap_or("?");
                    format!("{} {t}", e["request"]["method"].as_str().unwrap())
                })
                .collect()
        };

        let patients = history("Patient/_history");
        assert_eq!(patients["total"], 2);
        assert_eq!(methods(&patients), ["PUT Patient", "POST Patient"]);
        assert_eq!(patients["entry"][0]["resource"]["meta"]["versionId"], "2");
        assert_eq!(patients["entry"][1]["response"]["status"], "201 Created");
        assert_eq!(patients["entry"][0]["response"]["status"], "200 OK");
        assert_eq!(history("Condition/_history")["total"], 1);

        let all = history("_history");
        assert_eq!(all["total"], 4);
        let mut newest: Vec<String> = methods(&all)[..2].to_vec();
        newest.sort();
        assert_eq!(newest, ["POST Observation", "PUT Patient"]);
        let mut oldest: Vec<String> = methods(&all)[2..].to_vec();
        oldest.sort();
        assert_eq!(oldest, ["POST Condition", "POST Patient"]);

        // _since is inclusive: versions at or after the instant.
        let since_second = history(&format!("_history?_since={second_at}"));
        assert_eq!(since_second["total"], 2);
        let mut got = methods(&since_second);
        got.sort();
        assert_eq!(got, ["POST Observation", "PUT Patient"]);
        assert!(
            since_second["link"][0]["url"]
                .as_str()
                .unwrap()
                .contains("_since="),
            "{since_second}"
        );
        assert_eq!(history(&format!("_history?_since={first_at}"))["total"], 4);
        assert_eq!(
            history(&format!("Patient/_history?_since={second_at}"))["total"],
            1
        );
        assert_eq!(
            history(&format!("Condition/_history?_since={second_at}"))["total"],
            0
        );
        assert_eq!(
            history(&format!("{patient_ref}/_history?_since={second_at}"))["total"],
            1
        );
        assert_eq!(history("_history?_since=2999-01-01T00:00:00Z")["total"], 0);
        assert_eq!(
            history("_history?_since=2000-01-01T00:00:00%2B09:00")["total"],
            4
        );
        // _since is an instant: a zone is required.
        assert_eq!(srv.get("_history?_since=2024-01-01").status(), 400);

        // A failed transaction leaves no trace in history.
        let failing = bundle(
            "transaction",
            vec![
                post_entry(json!({"resourceType": "Patient"})),
                request_entry("GET", "Patient/nope"),
            ],
        );
        assert_eq!(submit(&srv, &failing).0, 404);
        assert_eq!(history("_history")["total"], 4);

        // Paging through system history.
        let page = history("_history?_count=3");
        assert_eq!(page["entry"].as_array().unwrap().len(), 3);
        let next = page["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .to_string();
        let rest: Value = srv.client.get(next).send().unwrap().json().unwrap();
        assert_eq!(rest["entry"].as_array().unwrap().len(), 1);
    }
);

backend_test!(
    prefer_return_minimal_leaves_resources_out_of_the_response,
    |srv| {
        let r = srv
            .client
            .post(srv.url(""))
            .header("content-type", FHIR_JSON)
            .header("prefer", "return=minimal")
            .body(common::example("transaction.json").to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let response: Value = r.json().unwrap();
        for entry in response["entry"].as_array().unwrap() {
            assert!(entry.get("resource").is_none(), "{entry}");
            assert!(entry["response"]["location"].is_string());
        }
    }
);

backend_test!(
    conditional_create_sees_a_delete_earlier_in_the_same_transaction,
    |srv| {
        put(
            &srv,
            &json!({"resourceType": "Patient", "id": "old",
                      "identifier": [{"system": "urn:mrn", "value": "42"}]}),
        );
        let mut create = post_entry(json!({"resourceType": "Patient",
                                       "identifier": [{"system": "urn:mrn", "value": "42"}]}));
        create["request"]["ifNoneExist"] = json!("identifier=urn:mrn|42");
        let response = commit(
            &srv,
            &bundle(
                "transaction",
                vec![request_entry("DELETE", "Patient/old"), create],
            ),
        );
        // DELETEs are processed before POSTs, so the criteria match nothing and a new Patient is made.
        assert!(entry_status(&response, 1).starts_with("201"), "{response}");
        assert_ne!(entry_reference(&response, 1), "Patient/old");
        assert_eq!(total(&srv, "Patient?identifier=urn:mrn|42"), 1);
    }
);

backend_test!(a_resource_touched_twice_fails_the_transaction, |srv| {
    put(
        &srv,
        &json!({"resourceType": "Patient", "id": "twice", "active": true}),
    );
    let tx = bundle(
        "transaction",
        vec![
            request_entry("DELETE", "Patient/twice"),
            put_entry(json!({"resourceType": "Patient", "id": "twice", "active": false})),
        ],
    );
    let (status, outcome) = submit(&srv, &tx);
    assert_eq!(status, 400, "{outcome}");
    assert_eq!(read(&srv, "Patient/twice")["meta"]["versionId"], "1");
});
