//! Scope by construction (issue #20, items 7–9): what a caller may not read answers exactly as
//! what does not exist, on read, vread and history; old versions follow their own patient;
//! conditional matches (`If-None-Exist`, transaction and batch `ifNoneExist`) never find what
//! the caller may not read. The matrix over every resource type is in `access_matrix.rs`.

use crate::common;

use common::hospitals::{MEMBER_1, MEMBER_2, MEMBER_SYSTEM, Who};
use common::principals::SignedIn;
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

type Scoped = SignedIn<Who>;

impl Scoped {
    fn patient(&self, who: Who, member: &str) -> String {
        self.create(who, &common::hospitals::patient(member))
    }
}

fn condition(patient: &str, text: &str) -> Value {
    json!({"resourceType": "Condition", "code": {"text": text},
           "subject": {"reference": format!("Patient/{patient}")}})
}

/// An OperationOutcome with every mention of `id` replaced, for comparing refusals.
fn shape(outcome: &Value, id: &str) -> String {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome.to_string().replace(id, "<id>")
}

fn both(test: fn(&Scoped)) {
    let everyone = [Who::HospitalA, Who::HospitalB, Who::Patient1, Who::Patient2];
    // Access, not profiles, is under test here.
    Scoped::on_each_backend(
        &everyone,
        |a: &mut ConfigArgs| a.validate_on_write = Some(false),
        test,
    );
}

/// Finding 7: a Condition moved from patient 2 to patient 1 by PUT. Patient 1 must not read
/// version 1 (patient 2's) by vread or history; patient 2 keeps reading what was about them.
#[test]
fn old_versions_follow_their_own_patient() {
    both(|s| {
        let p1 = s.patient(Who::HospitalA, MEMBER_1);
        let p2 = s.patient(Who::HospitalA, MEMBER_2);
        let id = s.create(Who::HospitalA, &condition(&p2, "patient 2's diagnosis"));
        let mut moved = condition(&p1, "patient 1's diagnosis");
        moved["id"] = json!(id);
        assert_eq!(
            s.put(Who::HospitalA, &format!("Condition/{id}"), &moved).0,
            200
        );

        let (status, body) = s.get(Who::Patient1, &format!("Condition/{id}/_history/1"));
        assert_eq!(status, 404, "patient 1 reads patient 2's version: {body}");
        let (status, _) = s.get(Who::Patient1, &format!("Condition/{id}/_history/2"));
        assert_eq!(status, 200);
        let (status, history) = s.get(Who::Patient1, &format!("Condition/{id}/_history"));
        assert_eq!(status, 200, "{history}");
        assert_eq!(history["total"], 1, "{history}");
        assert!(!history.to_string().contains("patient 2's"), "{history}");

        assert_eq!(s.get(Who::Patient2, &format!("Condition/{id}")).0, 404);
        let (status, old) = s.get(Who::Patient2, &format!("Condition/{id}/_history/1"));
        assert_eq!(status, 200, "{old}");
        let (_, history) = s.get(Who::Patient2, &format!("Condition/{id}/_history"));
        assert_eq!(history["total"], 1, "{history}");
        assert!(!history.to_string().contains("patient 1's"), "{history}");
        // The writer sees every version.
        let (_, history) = s.get(Who::HospitalA, &format!("Condition/{id}/_history"));
        assert_eq!(history["total"], 2, "{history}");
    });
}

/// Finding 8: an `ifNoneExist` matching another institution's Patient must not answer it.
/// Invisible is no match: the entry creates the caller's own Patient.
#[test]
fn conditional_creates_never_match_what_the_caller_may_not_read() {
    both(|s| {
        let theirs = s.patient(Who::HospitalA, MEMBER_1);
        let criteria = format!(
            "identifier={}",
            form_urlencoded::byte_serialize(format!("{MEMBER_SYSTEM}|{MEMBER_1}").as_bytes())
                .collect::<String>()
        );
        let entry = json!({
            "fullUrl": "urn:uuid:6a1c0000-0000-4000-8000-000000000001",
            "resource": {"resourceType": "Patient",
                         "identifier": [{"system": MEMBER_SYSTEM, "value": MEMBER_1}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": criteria}
        });
        // The transaction creates B's own Patient; the batch then finds that one, never A's.
        let mut mine = String::new();
        for (kind, want) in [("transaction", "201"), ("batch", "200")] {
            let bundle = json!({"resourceType": "Bundle", "type": kind, "entry": [entry]});
            let (status, answer) = s.post(Who::HospitalB, "", &bundle);
            assert_eq!(status, 200, "{kind}: {answer}");
            assert!(
                !answer.to_string().contains(&theirs),
                "{kind} reveals A's Patient: {answer}"
            );
            let response = &answer["entry"][0]["response"];
            assert_eq!(
                response["status"].as_str().unwrap().split(' ').next(),
                Some(want),
                "{kind}: {answer}"
            );
            let id = answer["entry"][0]["resource"]["id"].as_str().unwrap();
            if mine.is_empty() {
                mine = id.to_string();
            }
            assert_eq!(id, mine, "{kind}: {answer}");
        }
        // The If-None-Exist header: B's own Patient now matches, A's still does not.
        let (status, answer) = s.send(
            Who::HospitalB,
            reqwest::Method::POST,
            "Patient",
            Some(&entry["resource"]),
            &[("If-None-Exist", &criteria)],
        );
        assert!(
            !answer.to_string().contains(&theirs),
            "If-None-Exist reveals A's Patient: {status} {answer}"
        );
        // A still finds only its own.
        let (_, found) = s.get(Who::HospitalA, &format!("Patient?{criteria}"));
        assert_eq!(common::ids(&found), vec![theirs.clone()]);
    });
}

/// Finding 9: a resource the caller may not read answers as one that does not exist, with the
/// same OperationOutcome, on read, vread (any version number) and instance history; writes by
/// a non-owner that may not read it reveal nothing either.
#[test]
fn what_may_not_be_read_answers_as_what_does_not_exist() {
    both(|s| {
        let p1 = s.patient(Who::HospitalA, MEMBER_1);
        let id = s.create(Who::HospitalA, &condition(&p1, "diagnosis"));
        for n in 0..2 {
            let mut next = condition(&p1, &format!("diagnosis {n}"));
            next["id"] = json!(id);
            assert_eq!(
                s.put(Who::HospitalA, &format!("Condition/{id}"), &next).0,
                200
            );
        }
        let missing = "0f7e0000-0000-4000-8000-00000000dead";
        for suffix in ["", "/_history", "/_history/1", "/_history/3", "/_history/9"] {
            let (status, refused) = s.get(Who::HospitalB, &format!("Condition/{id}{suffix}"));
            let (absent_status, absent) =
                s.get(Who::HospitalB, &format!("Condition/{missing}{suffix}"));
            assert_eq!(absent_status, 404, "{suffix}: {absent}");
            assert_eq!(status, 404, "B reads Condition/{id}{suffix}: {refused}");
            assert_eq!(shape(&refused, &id), shape(&absent, missing), "{suffix}");
        }
        // Patient 2 is no more told than institution B.
        assert_eq!(s.get(Who::Patient2, &format!("Condition/{id}")).0, 404);
        assert_eq!(
            s.get(Who::Patient2, &format!("Condition/{id}/_history/3"))
                .0,
            404
        );
        // A PUT by B finds nothing to update, as for an id that does not exist it cannot
        // create one that is taken; its DELETE deletes nothing, as of what does not exist.
        let mut theirs = condition(&p1, "overwritten");
        theirs["id"] = json!(id);
        let (status, refused) = s.put(Who::HospitalB, &format!("Condition/{id}"), &theirs);
        assert_eq!(status, 404, "{refused}");
        let (status, _) = s.send(
            Who::HospitalB,
            reqwest::Method::DELETE,
            &format!("Condition/{id}"),
            None,
            &[],
        );
        let (absent_status, _) = s.send(
            Who::HospitalB,
            reqwest::Method::DELETE,
            &format!("Condition/{missing}"),
            None,
            &[],
        );
        assert_eq!(status, absent_status);
        let (status, current) = s.get(Who::HospitalA, &format!("Condition/{id}"));
        assert_eq!(status, 200);
        assert_eq!(current["meta"]["versionId"], "3", "{current}");
        // Searches leave it out, totals included.
        let (_, found) = s.get(Who::HospitalB, &format!("Condition?_id={id}"));
        assert_eq!(found["total"], 0, "{found}");
        let (_, count) = s.get(Who::HospitalB, "Condition?_summary=count");
        assert_eq!(count["total"], 0, "{count}");
    });
}

/// Issue #26: a search entry of a batch or transaction finds what a direct search would, within
/// the caller's scope, and the patient's trail shows the bundle that returned their data.
#[test]
fn bundle_search_entries_are_scoped_and_audited() {
    both(|s| {
        let p1 = s.patient(Who::HospitalA, MEMBER_1);
        let id = s.create(Who::HospitalA, &condition(&p1, "A's diagnosis"));
        let url = format!("Condition?subject=Patient/{p1}");
        let (status, direct) = s.get(Who::HospitalB, &url);
        assert_eq!(status, 200, "{direct}");
        for kind in ["batch", "transaction"] {
            let bundle = json!({"resourceType": "Bundle", "type": kind, "entry": [
                {"request": {"method": "GET", "url": url}}]});
            let (status, answer) = s.post(Who::HospitalA, "", &bundle);
            assert_eq!(status, 200, "{kind}: {answer}");
            let found = &answer["entry"][0]["resource"];
            assert_eq!(found["type"], "searchset", "{kind}: {answer}");
            assert_eq!(found["total"], 1, "{kind}: {answer}");
            assert_eq!(found["entry"][0]["resource"]["id"], id.as_str());
            // Another institution without consent finds what its direct search finds: nothing.
            let (status, answer) = s.post(Who::HospitalB, "", &bundle);
            assert_eq!(status, 200, "{kind}: {answer}");
            assert_eq!(answer["entry"][0]["resource"]["total"], direct["total"]);
            assert!(!answer.to_string().contains(&id), "{kind}: {answer}");
        }
        let (status, trail) = s.get(Who::Patient1, "AuditEvent?_count=1000");
        assert_eq!(status, 200, "{trail}");
        let reference = format!("Condition/{id}");
        for subtype in ["search-type", "transaction"] {
            let shown = trail["entry"].as_array().unwrap().iter().any(|e| {
                let e = &e["resource"];
                e["subtype"][0]["code"] == subtype
                    && e["entity"].as_array().is_some_and(|es| {
                        es.iter()
                            .any(|x| x["what"]["reference"].as_str() == Some(&reference))
                    })
            });
            assert!(shown, "no {subtype} event names {reference}: {trail}");
        }
    });
}
