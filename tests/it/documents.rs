//! CLINS documents over HTTP: the official referral registers with the packages loaded and
//! reaches its addressee's inbox only, the addressee receives it, the service rules refuse
//! with the element named, a checkup report is found by patient and date, and the
//! CapabilityStatement documents it all; a QuestionnaireResponse entry is held to the form stored
//! on the server. Replacement and cancel: `document_lifecycle.rs`.

use crate::common;

use common::documents::*;
use common::{Backend, TestServer, first_issue};
use serde_json::{Value, json};

backend_test!(
    the_official_referral_reaches_only_its_addressees_inbox,
    |srv| {
        common::require_shared_data();
        let srv = jp_server(srv.backend);
        let doc = referral();
        let stored = post_document(&srv, &doc, 201);
        let id = stored["id"].as_str().unwrap().to_string();
        assert_eq!(inbox(&srv, ADDRESSEE), [id.as_str()]);
        let by_system = srv.search(&format!(
            "Bundle?recipient={}",
            enc(&format!(
                "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no|{ADDRESSEE}"
            ))
        ));
        assert_eq!(by_system["total"], 1);
        assert!(inbox(&srv, SENDER).is_empty());
        assert!(inbox(&srv, "1318814790").is_empty());
        let pid = patient_id(&srv, &doc);
        assert_eq!(extracted(&srv, &pid).len(), clinical_entries(&doc));
        assert_eq!(clinical_entries(&doc), 8);
        let found = srv.search(&format!(
            "Bundle?document-identifier={DOC_ID}&patient={pid}&_count=1"
        ));
        assert_eq!(common::ids(&found), [id.as_str()]);
    }
);

backend_test!(the_addressee_receives_a_referral_once, |srv| {
    common::require_shared_data();
    let (srv, clock) = clocked_server(srv.backend);
    let id = post_document(&srv, &referral(), 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let receipt = |institution: Value| {
        let params = json!({"resourceType": "Parameters", "parameter": [
            {"name": "institution", "valueIdentifier": institution}]});
        srv.post(&format!("Bundle/{id}/$receipt"), &params)
    };
    let other = json!({"system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no", "value": SENDER});
    let r = receipt(other);
    assert_eq!(r.status(), 403);
    let body: Value = r.json().unwrap();
    assert_eq!(first_issue(&body)["code"], "forbidden");

    let r = receipt(json!({"value": ADDRESSEE}));
    assert_eq!(r.status(), 200);
    let first: Value = r.json().unwrap();
    assert_eq!(first["resourceType"], "Parameters");
    assert_eq!(first["parameter"][3]["valueBoolean"], true, "{first}");
    let received = first["parameter"][2]["valueInstant"].clone();

    clock.advance_micros(3_600_000_000);
    let params = json!({"resourceType": "Parameters", "parameter": [
        {"name": "institution", "valueString": ADDRESSEE}]});
    let again: Value = srv
        .post(&format!("Bundle/{id}/$receipt"), &params)
        .json()
        .unwrap();
    assert_eq!(again["parameter"][3]["valueBoolean"], false, "{again}");
    assert_eq!(again["parameter"][2]["valueInstant"], received);

    let bad = json!({"resourceType": "Parameters", "parameter": [
        {"name": "institution", "valueString": "13112345"}]});
    let r = srv.post(&format!("Bundle/{id}/$receipt"), &bad);
    assert_eq!(r.status(), 400);
    let r = srv.post("Bundle/nonexistent/$receipt", &params);
    assert_eq!(r.status(), 404);
});

backend_test!(document_rules_refuse_with_the_element_named, |srv| {
    common::require_shared_data();
    let mut doc = referral();
    doc["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["code"]["coding"][0]["code"] != "910");
    let body = post_document(&srv, &doc, 422);
    let issue = first_issue(&body);
    assert_eq!(issue["expression"][0], "Bundle.entry[0].resource.section");
    assert!(issue["diagnostics"].as_str().unwrap().contains("910"));

    let summary = discharge_summary(&referral());
    let body = post_document(&srv, &summary, 422);
    let issue = first_issue(&body);
    assert_eq!(issue["expression"][0], "Bundle.meta.profile");
    assert!(
        issue["diagnostics"]
            .as_str()
            .unwrap()
            .contains("only attached to a referral")
    );
    assert_eq!(srv.search("Bundle")["total"], 0);
});

backend_test!(a_checkup_report_is_found_by_patient_and_date, |srv| {
    let doc = checkup();
    let id = post_document(&srv, &doc, 201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = patient_id(&srv, &doc);
    let hit = |q: &str| common::ids(&srv.search(&format!("Bundle?patient={pid}&{q}")));
    assert_eq!(hit("document-type=53576-5"), [id.as_str()]);
    assert_eq!(
        hit("document-date=ge2024-06-01&document-date=lt2024-07"),
        [id.as_str()]
    );
    assert!(hit("document-date=lt2024-06-01").is_empty());
    assert!(hit("document-type=57133-1").is_empty());
    // Nothing is extracted from a checkup report; it has no addressee to receive it.
    assert_eq!(
        srv.search(&format!("Observation?patient={pid}"))["total"],
        0
    );
    let params = json!({"resourceType": "Parameters", "parameter": [
        {"name": "institution", "valueString": ADDRESSEE}]});
    assert_eq!(
        srv.post(&format!("Bundle/{id}/$receipt"), &params).status(),
        422
    );
});

/// The CapabilityStatement's entry for Bundle.
fn bundle_capabilities(srv: &TestServer) -> Value {
    srv.search("metadata")["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Bundle")
        .unwrap()
        .clone()
}

#[test]
fn the_capability_statement_documents_the_inbox_and_receipt() {
    let srv = TestServer::start(Backend::Sqlite);
    let bundle = bundle_capabilities(&srv);
    let param = |name: &str| {
        bundle["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(param("recipient")["type"], "token");
    assert!(
        param("recipient")["documentation"]
            .as_str()
            .unwrap()
            .contains("section 910")
    );
    assert_eq!(param("patient")["type"], "reference");
    assert!(
        bundle["operation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "receipt")
    );
    let doc = bundle["documentation"].as_str().unwrap();
    assert!(
        doc.contains("document-identifier") && doc.contains("取消"),
        "{doc}"
    );
}

backend_test!(
    the_receipt_operation_is_defined_where_the_capability_statement_says,
    |srv| {
        let bundle = bundle_capabilities(&srv);
        let receipt = bundle["operation"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "receipt")
            .unwrap()
            .clone();
        let r = srv.get("OperationDefinition/Bundle-receipt");
        assert_eq!(r.status(), 200);
        let definition: Value = r.json().unwrap();
        assert_eq!(definition["resourceType"], "OperationDefinition");
        assert_eq!(definition["url"], receipt["definition"]);
        assert_eq!(definition["code"], "receipt");
        assert_eq!(definition["instance"], true);
    }
);

const SMOKING: &str = "http://kyoyu.test/Questionnaire/smoking";

/// A form with one required question.
fn smoking_questionnaire() -> Value {
    json!({"resourceType": "Questionnaire", "url": SMOKING, "status": "active",
           "item": [{"linkId": "smoker", "type": "boolean", "required": true, "text": "smoker"}]})
}

/// A completed response to [`smoking_questionnaire`], answering `smoker` when `answer` is some.
fn smoking_response(answer: Option<bool>) -> Value {
    let mut response = json!({"resourceType": "QuestionnaireResponse", "questionnaire": SMOKING,
           "status": "completed"});
    if let Some(b) = answer {
        response["item"] = json!([{"linkId": "smoker", "answer": [{"valueBoolean": b}]}]);
    }
    response
}

fn errors_naming(outcome: &Value, what: &str) -> usize {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "error")
        .filter(|i| i.to_string().contains(what))
        .count()
}

/// The QuestionnaireResponse of a submitted document is held to the Questionnaire stored on the
/// server, as on a plain write: omitting a required answer refuses the document (and `$validate`
/// names it), answering it is accepted. Forms are about no patient, so every caller may read
/// them (DESIGN §9): hospital A's submission is checked against hospital B's form, and the read
/// is in A's trail.
fn a_documents_response_is_checked_against_the_stored_questionnaire(backend: Backend) {
    use common::hospitals::{EVERYONE, Who, reads_of};
    let s = common::principals::SignedIn::start(backend, &EVERYONE, |_| {});
    let unanswered = |id: &str| minimal_referral(id, vec![smoking_response(None)]);
    // No form stored: it is unknown, which warns only.
    let (status, body) = s.post(Who::HospitalA, "Bundle", &unanswered("q-ref-0"));
    assert_eq!(status, 201, "{body}");
    let q = s.create(Who::HospitalB, &smoking_questionnaire());
    let (status, outcome) = s.post(Who::HospitalA, "Bundle", &unanswered("q-ref-1"));
    assert_eq!(status, 422, "{outcome}");
    assert_eq!(
        errors_naming(&outcome, "required item smoker"),
        1,
        "{outcome}"
    );
    let (status, outcome) = s.post(Who::HospitalA, "Bundle/$validate", &unanswered("q-ref-1"));
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(
        errors_naming(&outcome, "required item smoker"),
        1,
        "{outcome}"
    );
    let answered = minimal_referral("q-ref-2", vec![smoking_response(Some(false))]);
    let (status, body) = s.post(Who::HospitalA, "Bundle", &answered);
    assert_eq!(status, 201, "{body}");
    assert!(reads_of(&s, Who::HospitalA, &format!("Questionnaire/{q}")) >= 3);
}

#[test]
fn a_documents_response_is_checked_against_the_stored_questionnaire_sqlite() {
    a_documents_response_is_checked_against_the_stored_questionnaire(Backend::Sqlite);
}

#[test]
fn a_documents_response_is_checked_against_the_stored_questionnaire_postgres() {
    if common::postgres_or_skip() {
        a_documents_response_is_checked_against_the_stored_questionnaire(Backend::Postgres);
    }
}
