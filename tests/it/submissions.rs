//! 6-information report units over HTTP: register, identical re-send, replace, delete whole,
//! the service rules, and concurrent posts of one unit.

use crate::common;

use common::documents::{SHARED, enc, jp_server};
use common::{Backend, FHIR_JSON, Options, TestServer, first_issue};
use serde_json::{Value, json};

const BUNDLE: &str = "Bundle-Bundle-CLINS-Observations-Example-01.json";
const MEMBER_ID: &str =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID|00012345:あいう:１８７:01";
const BUNDLE_ID: &str =
    "http://jpfhir.jp/fhir/clins/bundle-identifier|1318814790^2024^0123-IDa-203949583949";

fn example() -> Value {
    let text = std::fs::read_to_string(format!("{SHARED}/examples/clins/{BUNDLE}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn observations(srv: &TestServer, patient_id: &str) -> Vec<Value> {
    let bundle = srv.search(&format!("Observation?patient={patient_id}&_count=100"));
    bundle["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn patient_id(srv: &TestServer) -> String {
    let found = srv.search(&format!("Patient?identifier={}", enc(MEMBER_ID)));
    assert_eq!(found["total"], 1, "{found}");
    found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

backend_test!(
    a_report_unit_registers_resends_replaces_and_deletes_whole,
    |srv| {
        common::require_shared_data();
        let srv = jp_server(srv.backend);
        let unit = example();
        let r = srv.post("Bundle", &unit);
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("/Bundle/"), "{location}");
        let pid = patient_id(&srv);
        // The unit's Bundle is found by its patient.
        let bundles = common::ids(&srv.search(&format!("Bundle?patient={pid}")));
        assert!(
            location.contains(&format!("/Bundle/{}/", bundles[0])),
            "{location}"
        );
        let first = observations(&srv, &pid);
        assert_eq!(first.len(), 4);
        assert!(first.iter().all(|o| o["meta"]["versionId"] == "1"));
        assert!(
            first
                .iter()
                .all(|o| o["subject"]["reference"] == format!("Patient/{pid}"))
        );

        // Identical re-send: 200, nothing new.
        let r = srv.post("Bundle", &unit);
        assert_eq!(r.status(), 200);
        let again = observations(&srv, &pid);
        assert!(
            again.iter().all(|o| o["meta"]["versionId"] == "1"),
            "{again:?}"
        );
        assert_eq!(patient_id(&srv), pid);

        // Re-send with the last result dropped and the first one changed (interim → final).
        let mut changed = unit.clone();
        let entries = changed["entry"].as_array_mut().unwrap();
        let dropped_identifier_order = entries.len() - 1;
        entries.truncate(dropped_identifier_order);
        entries[1]["resource"]["status"] = json!("final");
        entries[1]["resource"]["valueQuantity"]["value"] = json!(4.9);
        let r = srv.post("Bundle", &changed);
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        let after = observations(&srv, &pid);
        assert_eq!(after.len(), 3, "{after:?}");
        let updated: Vec<&Value> = after
            .iter()
            .filter(|o| o["meta"]["versionId"] == "2")
            .collect();
        assert_eq!(updated.len(), 1, "{after:?}");
        assert_eq!(updated[0]["valueQuantity"]["value"], json!(4.9));
        assert!(first.iter().any(|o| o["id"] == updated[0]["id"]));
        let gone: Vec<&Value> = first
            .iter()
            .filter(|o| !after.iter().any(|a| a["id"] == o["id"]))
            .collect();
        assert_eq!(gone.len(), 1);
        // Purged, not FHIR-deleted: no trace (404, not 410).
        let r = srv.get(&format!("Observation/{}", gone[0]["id"].as_str().unwrap()));
        assert_eq!(r.status(), 404);

        // The unit is deleted whole by its Bundle-ID; the patient stays.
        let r = srv
            .client
            .delete(srv.url(&format!("Bundle?identifier={}", enc(BUNDLE_ID))))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        assert!(observations(&srv, &pid).is_empty());
        assert_eq!(
            srv.get(location.split("/_history").next().unwrap())
                .status(),
            404
        );
        assert_eq!(patient_id(&srv), pid);
        let r = srv
            .client
            .delete(srv.url(&format!("Bundle?identifier={}", enc(BUNDLE_ID))))
            .send()
            .unwrap();
        assert_eq!(r.status(), 404);
    }
);

backend_test!(service_rules_are_enforced_without_packages, |srv| {
    common::require_shared_data();
    let post = |b: &Value| {
        let r = srv.post("Bundle", b);
        let status = r.status().as_u16();
        (status, r.json::<Value>().unwrap())
    };
    // The tag says Condition, the entries are Observations.
    let mut wrong_tag = example();
    wrong_tag["meta"]["tag"][0]["code"] = json!("Condition");
    let (status, outcome) = post(&wrong_tag);
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(
        first_issue(&outcome)["expression"][0],
        "Bundle.entry[1].resource"
    );

    let mut no_patient_first = example();
    no_patient_first["entry"].as_array_mut().unwrap().swap(0, 1);
    let (status, outcome) = post(&no_patient_first);
    assert_eq!(status, 422);
    assert_eq!(
        first_issue(&outcome)["expression"][0],
        "Bundle.entry[0].resource"
    );

    let mut bad_id = example();
    bad_id["identifier"]["value"] = json!("1318814790^2199^x");
    let (status, outcome) = post(&bad_id);
    assert_eq!(status, 422);
    assert_eq!(
        first_issue(&outcome)["expression"][0],
        "Bundle.identifier.value"
    );

    // LTS belongs on infection results, not on lab results.
    let mut lts_on_lab = example();
    lts_on_lab["entry"][1]["resource"]["meta"]["tag"] = json!([{
        "system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication",
        "code": "LTS"
    }]);
    let (status, outcome) = post(&lts_on_lab);
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(
        first_issue(&outcome)["expression"][0],
        "Bundle.entry[1].resource.meta.tag[0]"
    );

    // A MedicationRequest is accepted but not processed: a warning, and it is not stored.
    let mut with_med = example();
    with_med["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:00000000-0000-0000-0000-00000000aaaa",
        "resource": {"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
            "medicationCodeableConcept": {"text": "x"},
            "subject": {"reference": "urn:uuid:b76ef6f6-f6e3-c110-5039-eee64ef6ab6a"}}
    }));
    let r = srv
        .client
        .post(srv.url("Bundle"))
        .header("content-type", FHIR_JSON)
        .header("prefer", "return=OperationOutcome")
        .json(&with_med)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let outcome: Value = r.json().unwrap();
    let warned =
        outcome["issue"].as_array().unwrap().iter().any(|i| {
            i["severity"] == "warning" && i["expression"][0] == "Bundle.entry[5].resource"
        });
    assert!(warned, "{outcome}");
    assert_eq!(srv.search("MedicationRequest")["total"], 0);
});

backend_test!(concurrent_posts_of_one_unit_leave_one_unit, |srv| {
    common::require_shared_data();
    let unit = example();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| srv.post("Bundle", &unit).status().as_u16()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    let pid = patient_id(&srv);
    assert_eq!(observations(&srv, &pid).len(), 4);
    assert_eq!(
        srv.search(&format!("Bundle?identifier={}", enc(BUNDLE_ID)))["total"],
        1
    );
});

backend_test!(conditional_delete_deletes_one_match_only, |srv| {
    let obs = |id: &str| {
        json!({"resourceType": "Observation", "status": "final",
            "identifier": [{"system": "http://example.org/ids", "value": id}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]}})
    };
    srv.create(&obs("a"));
    srv.create(&obs("b"));
    let delete = |q: &str| {
        srv.client
            .delete(srv.url(&format!("Observation?{q}")))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(delete("code=http://loinc.org|2951-2"), 412);
    assert_eq!(delete("identifier=http://example.org/ids|a"), 204);
    assert_eq!(delete("identifier=http://example.org/ids|a"), 404);
    assert_eq!(srv.search("Observation")["total"], 1);
    assert_eq!(delete("nonsense=1"), 400);
    let cs: Value = srv.get("metadata").json().unwrap();
    let bundle = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Bundle")
        .unwrap()
        .clone();
    assert_eq!(
        bundle["supportedProfile"][0],
        "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS"
    );
    assert_eq!(bundle["conditionalDelete"], "single");
});

#[test]
fn the_ingest_benchmark_posts_report_units_without_errors() {
    common::require_shared_data();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["bench", "--bundle"])
        .arg(format!("{SHARED}/examples/clins/{BUNDLE}"))
        .args([
            "--observations",
            "6",
            "--connections",
            "2",
            "--duration-secs",
            "0.5",
            "--warmup-secs",
            "0",
            "--format",
            "json",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let phase = &report["phases"][0];
    assert_eq!(phase["name"], "POST Bundle (report unit)", "{report}");
    assert_eq!(phase["errors"], 0, "{report}");
    assert!(phase["requests"].as_u64().unwrap() > 0, "{report}");
}

backend_test!(the_patient_summary_lists_the_current_6_information, |srv| {
    common::require_shared_data();
    assert_eq!(srv.post("Bundle", &example()).status(), 201);
    let pid = patient_id(&srv);
    let r = srv.get(&format!("Patient/{pid}/$summary"));
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().unwrap();
    assert_eq!(summary["type"], "collection");
    let entries = summary["entry"].as_array().unwrap();
    assert_eq!(entries[0]["resource"]["resourceType"], "Patient");
    let observations: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .collect();
    // The example's results are years old but each is among the latest 3 of its item.
    assert_eq!(observations.len(), 4, "{summary}");
    for e in observations {
        assert_eq!(e["extension"][0]["valueIdentifier"]["value"], "1318814790");
    }
    assert_eq!(srv.get("Patient/nobody/$summary").status(), 404);
});

backend_test!(
    a_report_unit_bundle_is_not_replaced_or_deleted_by_id,
    |srv| {
        common::require_shared_data();
        let srv = jp_server(srv.backend);
        let unit = example();
        let r = srv.post("Bundle", &unit);
        assert_eq!(r.status(), 201);
        let stored: serde_json::Value = r.json().unwrap();
        let id = stored["id"].as_str().unwrap().to_string();
        let pid = patient_id(&srv);
        // The unit itself, PUT back: refused, it is a submission.
        let r = srv.put(&format!("Bundle/{id}"), &stored);
        assert_eq!(r.status(), 422);
        // Any other Bundle over its id, or a DELETE by id: refused, the members would stay.
        let other = serde_json::json!({"resourceType": "Bundle", "id": id, "type": "collection"});
        let r = srv.put(&format!("Bundle/{id}"), &other);
        assert_eq!(r.status(), 422);
        let outcome: serde_json::Value = r.json().unwrap();
        assert!(
            outcome["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("DELETE [base]/Bundle?identifier="),
            "{outcome}"
        );
        assert_eq!(srv.delete(&format!("Bundle/{id}")).status(), 422);
        assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 200);
        assert_eq!(observations(&srv, &pid).len(), 4);
    }
);

backend_test!(
    a_stray_type_is_discarded_with_a_warning_even_where_the_profile_slicing_is_closed,
    |srv| {
        common::require_shared_data();
        // JP_Bundle_CLINS closes its entry slicing; DESIGN §4 discards other types instead.
        let srv = jp_server(srv.backend);
        let encounter: Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{SHARED}/examples/clins/Encounter-Example-JP-Encounter-eCS-01.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let mut unit = example();
        unit["entry"].as_array_mut().unwrap().push(json!({
            "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000e1", "resource": encounter
        }));
        let r = srv
            .client
            .post(srv.url("Bundle"))
            .header("content-type", FHIR_JSON)
            .header("prefer", "return=OperationOutcome")
            .json(&unit)
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        let outcome: Value = r.json().unwrap();
        let issues = outcome["issue"].as_array().unwrap();
        assert!(issues.iter().all(|i| i["severity"] != "error"), "{outcome}");
        assert!(
            issues.iter().any(|i| i["severity"] == "warning"
                && i["expression"][0] == "Bundle.entry[5].resource"
                && i["diagnostics"].as_str().unwrap().contains("discarded")),
            "{outcome}"
        );
        // Discarded: neither stored as a resource nor kept in the unit's Bundle.
        assert_eq!(srv.search("Encounter")["total"], 0);
        let pid = patient_id(&srv);
        assert_eq!(observations(&srv, &pid).len(), 4);
        let stored = srv.search(&format!("Bundle?identifier={}", enc(BUNDLE_ID)));
        let entries = stored["entry"][0]["resource"]["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 5);
        assert!(
            entries
                .iter()
                .all(|e| e["resource"]["resourceType"] != "Encounter")
        );
    }
);

/// A JP-packages server whose database holds the MEDIS disease exchange codes, imported from
/// the official list (its rows name the old OID), as `kyoyu codesets import` would.
fn medis_server(backend: Backend) -> TestServer {
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(|a| {
                common::with_jp_packages(a);
                let list =
                    format!("{SHARED}/terminology/disease/MEDIS_disease_exchange_code_v5.11.csv");
                let sets =
                    kyoyu::terminology::import::read_all(&[list.into()], &Default::default())
                        .unwrap();
                let store = kyoyu::store::Store::open(&a.resolve().unwrap().store).unwrap();
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(kyoyu::store::terminology_sync::store_imports(
                        &store, sets, 1,
                    ))
                    .unwrap();
                store.shutdown();
            }),
            ..Options::default()
        },
    )
}

/// The example unit's Patient with the official example Condition, coded by `coding`.
fn condition_unit(coding: Value) -> Value {
    let mut unit = example();
    let mut condition: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{SHARED}/examples/clins/Condition-Example-JP-Condition-eCS-01.json"
        ))
        .unwrap(),
    )
    .unwrap();
    condition["subject"] = json!({"reference": unit["entry"][0]["fullUrl"]});
    condition["code"]["coding"] = coding;
    // JP_Bundle_CLINS's validEntryProfile invariants take the profile without a version.
    condition["meta"]["profile"] =
        json!(["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS"]);
    unit["meta"]["tag"][0]["code"] = json!("Condition");
    let entries = unit["entry"].as_array_mut().unwrap();
    entries.truncate(1);
    entries.push(
        json!({"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000c1", "resource": condition}),
    );
    unit
}

backend_test!(
    old_medis_oids_are_accepted_as_aliases_of_their_urls,
    |srv| {
        common::require_shared_data();
        let srv = medis_server(srv.backend);
        let coded = |key: &str, exchange: &str| {
            condition_unit(json!([
                {"system": "urn:oid:1.2.392.200119.4.101.2", "code": key, "display": "十二指腸潰瘍"},
                {"system": "urn:oid:1.2.392.200119.4.101.6", "code": exchange, "display": "結節性肝硬変"}
            ]))
        };
        let r = srv.post("Bundle", &coded("20064049", "A006"));
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        // Judged as the URL forms: membership in the imported exchange codes, the key number's
        // syntax.
        let refused_at = |unit: &Value, at: &str, why: &str| {
            let r = srv.post("Bundle", unit);
            assert_eq!(r.status(), 422);
            let outcome: Value = r.json().unwrap();
            let named = outcome["issue"].as_array().unwrap().iter().any(|i| {
                i["severity"] == "error"
                    && i["expression"][0] == at
                    && i["diagnostics"].as_str().unwrap().contains(why)
            });
            assert!(named, "{at}: {outcome}");
        };
        refused_at(
            &coded("20064049", "ZZZZ"),
            "Bundle.entry[1].resource.code.coding[1].code",
            "code ZZZZ is not in code system http://medis.or.jp/CodeSystem/master-disease-exCode",
        );
        refused_at(
            &coded("2006404", "A006"),
            "Bundle.entry[1].resource.code.coding[0].code",
            "must be 8 digits",
        );
    }
);
