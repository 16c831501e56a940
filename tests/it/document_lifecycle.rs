//! The lifecycle of CLINS documents over HTTP: replacing a referral replaces its extracted
//! resources, a cancel empties the inbox and the patient's record and a re-post undoes it, an
//! older version is refused, and prescriptions are never written directly.

use crate::common;

use common::documents::*;
use common::first_issue;
use serde_json::{Value, json};

backend_test!(
    replacing_a_referral_replaces_its_extracted_resources,
    |srv| {
        common::require_shared_data();
        let doc = referral_with_discharge();
        let id = post_document(&srv, &doc, 201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let pid = patient_id(&srv, &doc);
        let before = extracted(&srv, &pid);
        assert_eq!(before.len(), clinical_entries(&doc));
        assert_eq!(clinical_entries(&doc), 11);
        let rx = common::ids(&srv.search(&format!("MedicationRequest?patient={pid}")));
        assert_eq!(rx.len(), 1);

        // An identical re-post writes nothing.
        let same = post_document(&srv, &doc, 200);
        assert_eq!(same["meta"]["versionId"], "1");

        // Version 2 without the discharge summary and with new condition identifiers.
        let v2 = referral_version_2();
        let replaced = post_document(&srv, &v2, 200);
        assert_eq!(replaced["id"], id.as_str());
        assert_eq!(replaced["meta"]["versionId"], "2");
        let after = extracted(&srv, &pid);
        assert_eq!(after.len(), clinical_entries(&v2));
        for (t, old) in before.iter().filter(|(t, _)| t != "AllergyIntolerance") {
            assert_eq!(
                srv.get(&format!("{t}/{old}")).status(),
                404,
                "{t}/{old} is still there"
            );
        }
        // Unchanged allergies keep their ids.
        let allergies = |v: &[(String, String)]| {
            v.iter()
                .filter(|(t, _)| t == "AllergyIntolerance")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(allergies(&before), allergies(&after));
        assert_eq!(inbox(&srv, ADDRESSEE), [id.as_str()]);

        // An older version is refused and changes nothing.
        let r = srv.post("Bundle", &doc);
        assert_eq!(r.status(), 409);
        assert_eq!(extracted(&srv, &pid), after);
    }
);

backend_test!(
    cancelling_a_referral_empties_the_inbox_and_reposting_undoes_it,
    |srv| {
        common::require_shared_data();
        let doc = referral_with_discharge();
        let id = post_document(&srv, &doc, 201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let pid = patient_id(&srv, &doc);
        let r = srv.delete(&format!("Bundle?document-identifier={DOC_ID}"));
        assert_eq!(r.status(), 200);
        assert!(inbox(&srv, ADDRESSEE).is_empty());
        assert!(extracted(&srv, &pid).is_empty());
        assert_eq!(srv.get(&format!("Bundle/{id}")).status(), 404);
        let r = srv.delete(&format!("Bundle?document-identifier={DOC_ID}"));
        assert_eq!(r.status(), 404);

        // Undo: the same document again, under the same Bundle id.
        let again = post_document(&srv, &doc, 201);
        assert_eq!(again["id"], id.as_str());
        assert_eq!(inbox(&srv, ADDRESSEE), [id.as_str()]);
        assert_eq!(extracted(&srv, &pid).len(), clinical_entries(&doc));

        // DELETE of the document's Bundle cancels it too.
        let r = srv.delete(&format!("Bundle/{id}"));
        assert_eq!(r.status(), 200);
        assert!(inbox(&srv, ADDRESSEE).is_empty());
        assert!(extracted(&srv, &pid).is_empty());
    }
);

backend_test!(prescriptions_are_never_written_directly, |srv| {
    let rx = json!({"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
        "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/p"}});
    let r = srv.post("MedicationRequest", &rx);
    assert_eq!(r.status(), 422);
    let body: Value = r.json().unwrap();
    assert!(
        first_issue(&body)["diagnostics"]
            .as_str()
            .unwrap()
            .contains("extracted from referral")
    );
    let mut with_id = rx.clone();
    with_id["id"] = json!("rx1");
    assert_eq!(srv.put("MedicationRequest/rx1", &with_id).status(), 422);
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": rx, "request": {"method": "POST", "url": "MedicationRequest"}}]});
    let r = srv.post("", &tx);
    assert_eq!(r.status(), 422);
    let body: Value = r.json().unwrap();
    assert_eq!(
        first_issue(&body)["expression"][0],
        "Bundle.entry[0].resource.resourceType"
    );
    assert_eq!(srv.search("MedicationRequest")["total"], 0);
});

backend_test!(
    a_report_unit_and_a_document_keep_their_own_resource_of_one_identifier,
    |srv| {
        common::require_shared_data();
        let doc = referral();
        post_document(&srv, &doc, 201);
        let pid = patient_id(&srv, &doc);
        // A report unit from the referral's sender, for its patient, with a condition of the
        // same resource identifier as one the referral contributed.
        let patient = doc["entry"][1].clone();
        let patient_url = patient["fullUrl"].as_str().unwrap();
        let unit_id = "1318814790^2024^same-condition";
        let unit = json!({
            "resourceType": "Bundle",
            "meta": {
                "profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS|1"],
                "tag": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS",
                         "code": "Condition"}]
            },
            "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": unit_id},
            "type": "collection",
            "entry": [patient, {
                "fullUrl": "urn:uuid:3f0c9a11-0000-4000-8000-000000000001",
                "resource": {"resourceType": "Condition",
                    "identifier": [{"system": RESOURCE_ID, "value": "192838"}],
                    "subject": {"reference": patient_url}, "code": {"text": "高血圧症"}}
            }]
        });
        let r = srv.post("Bundle", &unit);
        assert_eq!(r.status(), 201, "{:?}", r.text());
        let same = || {
            common::ids(&srv.search(&format!(
                "Condition?patient={pid}&identifier={}",
                enc(&format!("{RESOURCE_ID}|192838"))
            )))
        };
        let both = same();
        assert_eq!(both.len(), 2, "the unit's and the referral's");
        // Deleting the unit leaves what the referral contributed, and the reverse.
        let r = srv.delete(&format!(
            "Bundle?identifier={}",
            enc(&format!(
                "http://jpfhir.jp/fhir/clins/bundle-identifier|{unit_id}"
            ))
        ));
        assert_eq!(r.status(), 200, "{:?}", r.text());
        let left = same();
        assert_eq!(left.len(), 1);
        assert!(both.contains(&left[0]));
        let r = srv.post("Bundle", &unit);
        assert_eq!(r.status(), 201, "{:?}", r.text());
        let r = srv.delete(&format!("Bundle?document-identifier={DOC_ID}"));
        assert_eq!(r.status(), 200);
        let unit_only = same();
        assert_eq!(unit_only.len(), 1);
        assert!(!unit_only.contains(&left[0]));
    }
);
