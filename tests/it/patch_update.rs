//! Conditional update (`PUT [type]?criteria`) and PATCH (JSON Patch) over HTTP, on both
//! backends: the 0/1/many outcomes, the caller's scope, concurrent creates, versions and ETags,
//! `If-Match`, failed and invalid patches, types that refuse direct writes, bundle entries, and
//! the audit records each leaves.

use crate::common;

use common::hospitals::{EVERYONE, Who};
use common::principals::{Principal, SignedIn};
use common::{JSON_PATCH, patch_entry};
use serde_json::{Value, json};

const SYSTEM: &str = "urn:kyoyu-test:mrn";

type Srv = SignedIn<Who>;

fn both(test: fn(&Srv)) {
    Srv::on_each_backend(&EVERYONE, |_| {}, test);
}

fn patient(mrn: &str, gender: &str) -> Value {
    json!({"resourceType": "Patient", "identifier": [{"system": SYSTEM, "value": mrn}],
           "gender": gender})
}

fn criteria(mrn: &str) -> String {
    format!("Patient?identifier={SYSTEM}|{mrn}")
}

impl Srv {
    /// A PATCH as `who` with a JSON Patch body: status, ETag and JSON body.
    fn json_patch(
        &self,
        who: Who,
        path: &str,
        ops: &Value,
        if_match: Option<&str>,
    ) -> (u16, String, Value) {
        let mut req = self
            .srv
            .client
            .patch(self.srv.url(path))
            .bearer_auth(who.token())
            .header("content-type", JSON_PATCH)
            .body(ops.to_string());
        if let Some(tag) = if_match {
            req = req.header("if-match", tag);
        }
        let r = req.send().unwrap();
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status().as_u16(), etag, r.json().unwrap_or(Value::Null))
    }

    /// The audit events of `subtype` (the FHIR interaction), newest last.
    fn events(&self, subtype: &str) -> Vec<Value> {
        self.trail(Who::Operator, "_count=1000")
            .into_iter()
            .filter(|e: &Value| e["subtype"][0]["code"] == subtype)
            .collect()
    }
}

/// The status code of a bundle answer's entry `i`.
fn status_of(answer: &Value, i: usize) -> &str {
    common::entry_status(answer, i)
        .split(' ')
        .next()
        .unwrap_or_default()
}

fn issue_text(outcome: &Value) -> String {
    outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn conditional_update_creates_updates_or_refuses_by_the_number_of_matches() {
    both(|s| {
        // No match: created under a new id.
        let (status, created) = s.put(Who::HospitalA, &criteria("1"), &patient("1", "male"));
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(created["meta"]["versionId"], "1");
        // One match: updated in place.
        let (status, updated) = s.put(Who::HospitalA, &criteria("1"), &patient("1", "female"));
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["id"], id.as_str());
        assert_eq!(updated["meta"]["versionId"], "2");
        assert_eq!(updated["gender"], "female");
        // The body may name the match's id; another id is 400.
        let mut same = patient("1", "other");
        same["id"] = json!(id);
        assert_eq!(s.put(Who::HospitalA, &criteria("1"), &same).0, 200);
        let mut other = patient("1", "other");
        other["id"] = json!("someone-else");
        let (status, refused) = s.put(Who::HospitalA, &criteria("1"), &other);
        assert_eq!(status, 400, "{refused}");
        assert!(issue_text(&refused).contains("someone-else"), "{refused}");
        // Several matches: 412, nothing written.
        let (status, _) = s.post(Who::HospitalA, "Patient", &patient("1", "unknown"));
        assert_eq!(status, 201);
        let (status, refused) = s.put(Who::HospitalA, &criteria("1"), &patient("1", "male"));
        assert_eq!(status, 412, "{refused}");
        assert_eq!(refused["issue"][0]["code"], "multiple-matches");
        let (_, found) = s.get(Who::HospitalA, &criteria("1"));
        assert_eq!(found["total"], 2);
        assert!(!found.to_string().contains("\"male\""), "{found}");
        // No match with an id in the body: created under that id (update as create) ...
        let mut chosen = patient("2", "male");
        chosen["id"] = json!("chosen-2");
        let (status, made) = s.put(Who::HospitalA, &criteria("2"), &chosen);
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["id"], "chosen-2");
        // ... but never over a resource the criteria do not pick (409).
        let (status, refused) = s.put(Who::HospitalA, &criteria("3"), &chosen);
        assert_eq!(status, 409, "{refused}");
        assert_eq!(
            s.get(Who::HospitalA, "Patient/chosen-2").1["meta"]["versionId"],
            "1"
        );
        // Criteria that cannot be applied are refused, never widened; none at all too.
        let (status, refused) = s.put(Who::HospitalA, "Patient?idntifier=x", &patient("4", "male"));
        assert_eq!(status, 400, "{refused}");
        assert_eq!(
            s.put(Who::HospitalA, "Patient", &patient("4", "male")).0,
            400
        );
        assert_eq!(s.get(Who::HospitalA, &criteria("4")).1["total"], 0);
    });
}

#[test]
fn conditional_update_honours_if_match() {
    both(|s| {
        let (_, created) = s.put(Who::HospitalA, &criteria("5"), &patient("5", "male"));
        let update = |tag: &str| {
            s.send(
                Who::HospitalA,
                reqwest::Method::PUT,
                &criteria("5"),
                Some(&patient("5", "female")),
                &[("If-Match", tag)],
            )
        };
        let (status, refused) = update("W/\"7\"");
        assert_eq!(status, 412, "{refused}");
        let (status, updated) = update("W/\"1\"");
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["id"], created["id"]);
        // Nothing matches and If-Match names a version: there is none to match (412).
        let (status, _) = s.send(
            Who::HospitalA,
            reqwest::Method::PUT,
            &criteria("6"),
            Some(&patient("6", "female")),
            &[("If-Match", "W/\"1\"")],
        );
        assert_eq!(status, 412);
        assert_eq!(s.get(Who::HospitalA, &criteria("6")).1["total"], 0);
    });
}

/// Another institution's resource that B may not read is no match for B: B's conditional
/// update creates B's own Patient, exactly as if A's did not exist, and A's is untouched.
#[test]
fn conditional_update_matches_only_within_the_callers_scope() {
    both(|s| {
        let (_, theirs) = s.put(Who::HospitalA, &criteria("7"), &patient("7", "male"));
        let theirs = theirs["id"].as_str().unwrap().to_string();
        let (status, mine) = s.put(Who::HospitalB, &criteria("7"), &patient("7", "female"));
        assert_eq!(status, 201, "{mine}");
        let mine = mine["id"].as_str().unwrap().to_string();
        assert_ne!(mine, theirs);
        // Now B's own matches for B, and A's still only for A: each updates its own.
        let (status, again) = s.put(Who::HospitalB, &criteria("7"), &patient("7", "other"));
        assert_eq!((status, again["id"].as_str()), (200, Some(mine.as_str())));
        assert_eq!(
            s.get(Who::HospitalA, &format!("Patient/{theirs}")).1["gender"],
            "male"
        );
        let (status, own) = s.put(Who::HospitalA, &criteria("7"), &patient("7", "unknown"));
        assert_eq!((status, own["id"].as_str()), (200, Some(theirs.as_str())));
        // B's PATCH by the same criteria finds B's own; A's id by PATCH is 404 for B.
        let ops = json!([{"op": "replace", "path": "/gender", "value": "male"}]);
        let (status, _, patched) = s.json_patch(Who::HospitalB, &criteria("7"), &ops, None);
        assert_eq!((status, patched["id"].as_str()), (200, Some(mine.as_str())));
        let (status, _, _) = s.json_patch(Who::HospitalB, &format!("Patient/{theirs}"), &ops, None);
        assert_eq!(status, 404);
        assert_eq!(
            s.get(Who::HospitalA, &format!("Patient/{theirs}")).1["gender"],
            "unknown"
        );
    });
}

#[test]
fn concurrent_conditional_updates_create_one_resource() {
    both(|s| {
        let barrier = std::sync::Barrier::new(8);
        let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let body = patient("8", if n % 2 == 0 { "male" } else { "female" });
                        barrier.wait();
                        let (status, answer) = s.put(Who::HospitalA, &criteria("8"), &body);
                        (
                            status,
                            answer["id"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let created = statuses.iter().filter(|(st, _)| *st == 201).count();
        let updated = statuses.iter().filter(|(st, _)| *st == 200).count();
        assert_eq!((created, updated), (1, 7), "{statuses:?}");
        assert!(statuses.iter().all(|(_, id)| *id == statuses[0].1));
        let (_, found) = s.get(Who::HospitalA, &criteria("8"));
        assert_eq!(found["total"], 1, "{found}");
        assert_eq!(found["entry"][0]["resource"]["meta"]["versionId"], "8");
    });
}

#[test]
fn conditional_update_as_transaction_and_batch_entries() {
    both(|s| {
        let entry = |gender: &str| {
            json!({"fullUrl": "urn:uuid:7d1c0000-0000-4000-8000-000000000009",
                   "resource": patient("9", gender),
                   "request": {"method": "PUT", "url": criteria("9")}})
        };
        let observation = json!({"resource": {"resourceType": "Observation", "status": "final",
            "code": {"text": "体温"},
            "subject": {"reference": "urn:uuid:7d1c0000-0000-4000-8000-000000000009"}},
            "request": {"method": "POST", "url": "Observation"}});
        let tx = json!({"resourceType": "Bundle", "type": "transaction",
                        "entry": [entry("male"), observation]});
        let (status, answer) = s.post(Who::HospitalA, "", &tx);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(status_of(&answer, 0), "201", "{answer}");
        let id = answer["entry"][0]["resource"]["id"].as_str().unwrap();
        // The reference to the entry's fullUrl names the id the criteria settled on.
        assert_eq!(
            answer["entry"][1]["resource"]["subject"]["reference"],
            format!("Patient/{id}").as_str(),
            "{answer}"
        );
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [entry("female")]});
        let (status, answer) = s.post(Who::HospitalA, "", &batch);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(status_of(&answer, 0), "200", "{answer}");
        assert_eq!(answer["entry"][0]["resource"]["id"], id);
        // Two entries of one transaction that settle on the same resource are refused.
        let twice = json!({"resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"resource": patient("9", "male"), "request": {"method": "PUT", "url": criteria("9")}},
            {"resource": {"resourceType": "Patient", "id": id, "gender": "male"},
             "request": {"method": "PUT", "url": format!("Patient/{id}")}}
        ]});
        let (status, refused) = s.post(Who::HospitalA, "", &twice);
        assert_eq!(status, 400, "{refused}");
    });
}

#[test]
fn json_patch_writes_the_next_version() {
    both(|s| {
        let id = s.create(Who::HospitalA, &patient("10", "male"));
        let ops = json!([
            {"op": "test", "path": "/gender", "value": "male"},
            {"op": "replace", "path": "/gender", "value": "female"},
            {"op": "add", "path": "/birthDate", "value": "1970-01-01"}
        ]);
        let (status, etag, patched) =
            s.json_patch(Who::HospitalA, &format!("Patient/{id}"), &ops, None);
        assert_eq!(status, 200, "{patched}");
        assert_eq!(etag, "W/\"2\"");
        assert_eq!(patched["gender"], "female");
        assert_eq!(patched["birthDate"], "1970-01-01");
        assert_eq!(patched["meta"]["versionId"], "2");
        let (_, read) = s.get(Who::HospitalA, &format!("Patient/{id}"));
        assert_eq!(read, patched);
        // If-Match of the current version passes; of another is 412 and writes nothing.
        let ops = json!([{"op": "replace", "path": "/gender", "value": "other"}]);
        let (status, _, refused) = s.json_patch(
            Who::HospitalA,
            &format!("Patient/{id}"),
            &ops,
            Some("W/\"1\""),
        );
        assert_eq!(status, 412, "{refused}");
        let (status, etag, _) = s.json_patch(
            Who::HospitalA,
            &format!("Patient/{id}"),
            &ops,
            Some("W/\"2\""),
        );
        assert_eq!((status, etag.as_str()), (200, "W/\"3\""));
        // Conditional PATCH: the one match; none is 404.
        let (status, _, by_criteria) = s.json_patch(Who::HospitalA, &criteria("10"), &ops, None);
        assert_eq!(
            (status, by_criteria["id"].as_str()),
            (200, Some(id.as_str()))
        );
        assert_eq!(
            s.json_patch(Who::HospitalA, &criteria("nobody"), &ops, None)
                .0,
            404
        );
        // A missing resource is 404.
        assert_eq!(
            s.json_patch(Who::HospitalA, "Patient/missing-1", &ops, None)
                .0,
            404
        );
    });
}

#[test]
fn a_patch_that_fails_or_makes_an_invalid_resource_is_refused() {
    both(|s| {
        let id = s.create(Who::HospitalA, &patient("11", "male"));
        let path = format!("Patient/{id}");
        // A failed test operation: 422 naming its index; nothing written.
        let ops = json!([
            {"op": "replace", "path": "/gender", "value": "female"},
            {"op": "test", "path": "/gender", "value": "male"}
        ]);
        let (status, _, refused) = s.json_patch(Who::HospitalA, &path, &ops, None);
        assert_eq!(status, 422, "{refused}");
        assert_eq!(
            refused["issue"][0]["expression"][0], "PATCH[1]",
            "{refused}"
        );
        assert!(issue_text(&refused).contains("operation 1"), "{refused}");
        // A path that does not exist.
        let ops = json!([{"op": "remove", "path": "/name/3"}]);
        assert_eq!(s.json_patch(Who::HospitalA, &path, &ops, None).0, 422);
        // A result that is no valid Patient: validated as an update is.
        let ops = json!([{"op": "add", "path": "/colour", "value": "blue"}]);
        let (status, _, refused) = s.json_patch(Who::HospitalA, &path, &ops, None);
        assert_eq!(status, 422, "{refused}");
        // The id and resourceType stay.
        let ops = json!([{"op": "replace", "path": "/id", "value": "another"}]);
        assert_eq!(s.json_patch(Who::HospitalA, &path, &ops, None).0, 422);
        // No JSON Patch: 400; no Parameters for a FHIRPath Patch: 400; another type: 415.
        let (status, _, _) = s.json_patch(Who::HospitalA, &path, &json!({"op": "add"}), None);
        assert_eq!(status, 400);
        let (status, _) = s.patch(Who::HospitalA, &path, &json!([]));
        assert_eq!(status, 400);
        let r = s
            .srv
            .client
            .patch(s.srv.url(&path))
            .bearer_auth(Who::HospitalA.token())
            .header("content-type", "text/plain")
            .body("[]")
            .send()
            .unwrap();
        assert_eq!(r.status(), 415);
        assert_eq!(s.get(Who::HospitalA, &path).1["meta"]["versionId"], "1");
        // Only the writer changes a resource: B may not read A's Patient, so it is 404.
        let ops = json!([{"op": "replace", "path": "/gender", "value": "female"}]);
        assert_eq!(s.json_patch(Who::HospitalB, &path, &ops, None).0, 404);
    });
}

#[test]
fn a_type_that_refuses_direct_writes_refuses_a_patch() {
    both(|s| {
        let ops = json!([{"op": "replace", "path": "/status", "value": "stopped"}]);
        let (status, _, refused) =
            s.json_patch(Who::HospitalA, "MedicationRequest/rx-1", &ops, None);
        assert_eq!(status, 422, "{refused}");
        assert!(
            issue_text(&refused).contains("MedicationRequest"),
            "{refused}"
        );
        let rx = json!({"resourceType": "MedicationRequest", "status": "active",
            "intent": "order", "medicationCodeableConcept": {"text": "x"},
            "subject": {"reference": "Patient/p"}});
        let (status, _) = s.put(Who::HospitalA, "MedicationRequest?status=active", &rx);
        assert_eq!(status, 422);
        // CodeSystem is read-only: 405.
        assert_eq!(
            s.json_patch(Who::HospitalA, "CodeSystem/x", &ops, None).0,
            405
        );
    });
}

#[test]
fn conditional_updates_and_patches_are_audited() {
    both(|s| {
        let (_, created) = s.put(Who::HospitalA, &criteria("12"), &patient("12", "male"));
        let id = created["id"].as_str().unwrap().to_string();
        s.put(Who::HospitalA, &criteria("12"), &patient("12", "female"));
        let ops = json!([{"op": "replace", "path": "/gender", "value": "other"}]);
        assert_eq!(
            s.json_patch(Who::HospitalA, &format!("Patient/{id}"), &ops, None)
                .0,
            200
        );
        let failed = json!([{"op": "test", "path": "/gender", "value": "male"}]);
        assert_eq!(
            s.json_patch(Who::HospitalA, &format!("Patient/{id}"), &failed, None)
                .0,
            422
        );
        let reference = format!("Patient/{id}");
        let names = |e: &Value| e.to_string().contains(&reference);
        let updates = s.events("update");
        assert_eq!(
            updates.iter().filter(|e| names(e)).count(),
            2,
            "{updates:?}"
        );
        let patches = s.events("patch");
        let outcomes: Vec<&str> = patches
            .iter()
            .filter(|e| names(e))
            .map(|e| e["outcome"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(outcomes.len(), 2, "{patches:?}");
        assert!(outcomes.contains(&"0"), "{patches:?}");
        assert!(outcomes.iter().any(|o| *o != "0"), "{patches:?}");
    });
}

/// A bundle entry's JSON Patch, by the R4 convention: a Binary holding it in base64.
#[test]
fn patches_as_batch_and_transaction_entries() {
    both(|s| {
        let id = s.create(Who::HospitalA, &patient("13", "male"));
        let path = format!("Patient/{id}");
        let to = |gender: &str| json!([{"op": "replace", "path": "/gender", "value": gender}]);
        let failing = json!([{"op": "test", "path": "/gender", "value": "nobody"}]);
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            patch_entry(&path, &to("female")),
            patch_entry(&path, &failing),
            patch_entry(&criteria("13"), &to("other")),
            {"request": {"method": "PATCH", "url": path}}
        ]});
        let (status, answer) = s.post(Who::HospitalA, "", &batch);
        assert_eq!(status, 200, "{answer}");
        let statuses: Vec<&str> = (0..4).map(|i| status_of(&answer, i)).collect();
        assert_eq!(statuses, ["200", "422", "200", "400"], "{answer}");
        assert_eq!(answer["entry"][0]["resource"]["gender"], "female");
        assert_eq!(answer["entry"][2]["resource"]["meta"]["versionId"], "3");
        // A transaction: the patch and the other entries commit together ...
        let observation = json!({"resource": {"resourceType": "Observation", "status": "final",
            "code": {"text": "体温"}, "subject": {"reference": path}},
            "request": {"method": "POST", "url": "Observation"}});
        let tx = json!({"resourceType": "Bundle", "type": "transaction",
                        "entry": [patch_entry(&path, &to("male")), observation]});
        let (status, answer) = s.post(Who::HospitalA, "", &tx);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["entry"][0]["resource"]["gender"], "male", "{answer}");
        assert_eq!(s.get(Who::HospitalA, &path).1["meta"]["versionId"], "4");
        // ... or not at all: a failed operation refuses the transaction, naming the entry.
        let tx = json!({"resourceType": "Bundle", "type": "transaction",
                        "entry": [observation, patch_entry(&path, &failing)]});
        let (status, refused) = s.post(Who::HospitalA, "", &tx);
        assert_eq!(status, 422, "{refused}");
        assert!(refused.to_string().contains("Bundle.entry[1]"), "{refused}");
        let (_, found) = s.get(Who::HospitalA, "Observation?_count=0");
        assert_eq!(found["total"], 1, "{found}");
        // B may not read A's Patient: its patch entry finds nothing.
        let batch = json!({"resourceType": "Bundle", "type": "batch",
                           "entry": [patch_entry(&path, &to("female"))]});
        let (_, answer) = s.post(Who::HospitalB, "", &batch);
        assert_eq!(status_of(&answer, 0), "404", "{answer}");
        assert_eq!(s.get(Who::HospitalA, &path).1["gender"], "male");
    });
}

fn fhirpath_op(kind: &str, path: &str, extra: Value) -> Value {
    let mut part = vec![
        json!({"name": "type", "valueCode": kind}),
        json!({"name": "path", "valueString": path}),
    ];
    part.extend(extra.as_array().cloned().unwrap_or_default());
    json!({"name": "operation", "part": part})
}

#[test]
fn fhirpath_patch_changes_what_its_paths_find() {
    both(|s| {
        let id = s.create(Who::HospitalA, &patient("14", "male"));
        let path = format!("Patient/{id}");
        let parameters = json!({"resourceType": "Parameters", "parameter": [
            fhirpath_op("replace", "Patient.gender",
                        json!([{"name": "value", "valueCode": "female"}])),
            fhirpath_op("add", "Patient", json!([
                {"name": "name", "valueString": "name"},
                {"name": "value", "part": [{"name": "family", "valueString": "山田"}]}])),
            fhirpath_op("delete", "Patient.birthDate", json!([]))
        ]});
        let (status, patched) = s.send(
            Who::HospitalA,
            reqwest::Method::PATCH,
            &path,
            Some(&parameters),
            &[("If-Match", "W/\"1\"")],
        );
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["gender"], "female");
        assert_eq!(patched["name"], json!([{"family": "山田"}]), "{patched}");
        assert_eq!(patched["meta"]["versionId"], "2");
        // As a batch entry, the Parameters is the entry's resource.
        let replace = json!({"resourceType": "Parameters", "parameter": [
            fhirpath_op("replace", "Patient.gender",
                        json!([{"name": "value", "valueCode": "other"}]))]});
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": replace, "request": {"method": "PATCH", "url": path}}]});
        let (status, answer) = s.post(Who::HospitalA, "", &batch);
        assert_eq!((status, status_of(&answer, 0)), (200, "200"), "{answer}");
        assert_eq!(
            answer["entry"][0]["resource"]["gender"], "other",
            "{answer}"
        );
        // An operation that finds nothing to replace: 422 naming it; nothing written.
        let failing = json!({"resourceType": "Parameters", "parameter": [
            fhirpath_op("replace", "Patient.birthDate",
                        json!([{"name": "value", "valueDate": "1970-01-01"}]))]});
        let (status, refused) = s.patch(Who::HospitalA, &path, &failing);
        assert_eq!(status, 422, "{refused}");
        assert_eq!(
            refused["issue"][0]["expression"][0], "Parameters.parameter[0]",
            "{refused}"
        );
        // A result that is no valid Patient is refused as an update would be.
        let invalid = json!({"resourceType": "Parameters", "parameter": [
            fhirpath_op("replace", "Patient.gender",
                        json!([{"name": "value", "valueCode": "robot"}]))]});
        let (status, refused) = s.patch(Who::HospitalA, &path, &invalid);
        assert_eq!(status, 422, "{refused}");
        assert_eq!(s.get(Who::HospitalA, &path).1["meta"]["versionId"], "3");
    });
}
