//! The insurer (保険者) and the patient's self-service, end to end (DESIGN §9, issue #21): an
//! insurer reads the checkup reports of the persons it insures (by the member identifier's insurer
//! number or a Coverage payor) and nothing else; a patient grants, holds (閲覧保留) and withdraws
//! their own viewing consent, never another's, audited; and reads the status of their documents
//! (閲覧可 / 閲覧保留 / 取得済).

use crate::common;

use common::Backend;
use common::documents::{
    ADDRESSEE, CONSENT_CATEGORY, INSURER_SYSTEM, MEMBER_ID, checkup, minimal_referral,
};
use common::principals::{Principal, SignedIn, grant};
use serde_json::{Value, json};

/// The checkup institution (the checkup fixture's sender).
const CHECKUP_CENTRE: &str = "1311234567";
/// The referral fixture's sender.
const HOSPITAL: &str = "1318814790";
/// The insurer of the checkup fixture's patient (`06123456:記号:番号:01`).
const INSURER: &str = "06123456";
/// The insurer of the referral fixture's patient (`00012345:記号:番号:01`).
const REFERRAL_INSURER: &str = "00012345";
/// An institution the patient grants, holds and withdraws consent for.
const OTHER: &str = "2712345678";
/// The checkup fixture's patient: the patient principal.
const PATIENT_MEMBER: &str = "06123456:記号:番号:01";
const INSTITUTION_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
const STATUS_SYSTEM: &str = "urn:kyoyu:CodeSystem:document-status";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    CheckupCentre,
    Hospital,
    Insurer,
    ReferralInsurer,
    Patient,
    /// Another person (the referral fixture's patient).
    OtherPatient,
    Other,
    Operator,
}

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::CheckupCentre => grant::institution(CHECKUP_CENTRE),
            Who::Hospital => grant::institution(HOSPITAL),
            Who::Insurer => grant::insurer(INSURER),
            Who::ReferralInsurer => grant::insurer(REFERRAL_INSURER),
            Who::Patient => grant::patient(MEMBER_ID, PATIENT_MEMBER),
            Who::OtherPatient => grant::patient(MEMBER_ID, "00012345:記号:番号:01"),
            Who::Other => grant::institution(OTHER),
            Who::Operator => grant::operator(),
        }
    }
}

/// One document as `$document-status` lists it.
#[derive(Debug)]
struct Listed {
    kind: String,
    status: String,
    viewable_by: Vec<String>,
    held_for: Vec<String>,
    received: bool,
}

type Server = SignedIn<Who>;

fn server(backend: Backend) -> Server {
    let everyone = [
        Who::CheckupCentre,
        Who::Hospital,
        Who::Insurer,
        Who::ReferralInsurer,
        Who::Patient,
        Who::OtherPatient,
        Who::Other,
        Who::Operator,
    ];
    Server::start(backend, &everyone, |_| {})
}

impl Server {
    /// The patient's documents, as `$document-status` lists them.
    fn statuses(&self) -> Vec<Listed> {
        let (status, body) = self.get(Who::Patient, "Bundle/$document-status");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["resourceType"], "Parameters", "{body}");
        body["parameter"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let parts = p["part"].as_array().unwrap();
                let values = |name: &str| -> Vec<&Value> {
                    parts.iter().filter(|q| q["name"] == name).collect()
                };
                let institutions = |name: &str| -> Vec<String> {
                    values(name)
                        .iter()
                        .map(|q| q["valueIdentifier"]["value"].as_str().unwrap().to_string())
                        .collect()
                };
                let coding = &values("status")[0]["valueCoding"];
                assert_eq!(coding["system"], STATUS_SYSTEM);
                Listed {
                    kind: values("type")[0]["valueCode"].as_str().unwrap().to_string(),
                    status: coding["code"].as_str().unwrap().to_string(),
                    viewable_by: institutions("viewableBy"),
                    held_for: institutions("heldFor"),
                    received: !values("received").is_empty(),
                }
            })
            .collect()
    }

    /// The status of the patient's one document of `kind`: (status, viewableBy, heldFor,
    /// received).
    fn status_of(&self, kind: &str) -> (String, Vec<String>, Vec<String>, bool) {
        let mut of_kind = self.statuses().into_iter().filter(|s| s.kind == kind);
        let one = of_kind.next().unwrap();
        assert!(of_kind.next().is_none());
        (one.status, one.viewable_by, one.held_for, one.received)
    }

    /// The ids a search lists for `who`, and its total.
    fn search(&self, who: Who, path: &str) -> (Vec<String>, u64) {
        let (status, body) = self.get(who, path);
        assert_eq!(status, 200, "{who:?} GET {path}: {body}");
        (common::ids(&body), body["total"].as_u64().unwrap())
    }
}

/// The checkup fixture under another document identifier, for `member`, with a Coverage whose
/// payor is the insurer Organization `payor` when given.
fn checkup_of(n: u32, member: &str, payor: Option<&str>) -> Value {
    let mut doc = checkup();
    let id = format!("{CHECKUP_CENTRE}^2024^ck-{n}");
    doc["identifier"]["value"] = json!(id);
    doc["entry"][0]["resource"]["identifier"]["value"] = json!(id);
    doc["entry"][1]["resource"]["identifier"][0]["value"] = json!(member);
    if let Some(payor) = payor {
        let entries = doc["entry"].as_array_mut().unwrap();
        let patient = entries[1]["fullUrl"].clone();
        entries.push(
            json!({"fullUrl": "urn:uuid:0b5e7a34-0000-4000-8000-0000000000f1",
            "resource": {"resourceType": "Organization",
                "identifier": [{"system": INSURER_SYSTEM, "value": payor}]}}),
        );
        entries.push(
            json!({"fullUrl": "urn:uuid:0b5e7a34-0000-4000-8000-0000000000f2",
            "resource": {"resourceType": "Coverage", "status": "active",
                "beneficiary": {"reference": patient},
                "payor": [{"reference": "urn:uuid:0b5e7a34-0000-4000-8000-0000000000f1"}]}}),
        );
    }
    doc
}

backend_test!(
    an_insurer_reads_the_checkup_reports_of_its_insured_and_nothing_else,
    server,
    |s: &Server| {
        let own = s.create(Who::CheckupCentre, &checkup());
        let by_coverage = s.create(
            Who::CheckupCentre,
            &checkup_of(2, "22222222:記号:番号:01", Some(INSURER)),
        );
        let other = s.create(
            Who::CheckupCentre,
            &checkup_of(3, "11111111:記号:番号:01", None),
        );
        let condition = json!({"resourceType": "Condition",
            "identifier": [{"system": common::documents::RESOURCE_ID, "value": "ins-c1"}],
            "code": {"text": "高血圧症"}});
        let referral = s.create(
            Who::Hospital,
            &minimal_referral("ins-ref-1", vec![condition]),
        );

        // Read, vread, instance history and searches of what it insures.
        for id in [&own, &by_coverage] {
            for path in [format!("Bundle/{id}"), format!("Bundle/{id}/_history/1")] {
                let (status, body) = s.get(Who::Insurer, &path);
                assert_eq!(
                    (status, body["id"].as_str()),
                    (200, Some(id.as_str())),
                    "{path}: {body}"
                );
            }
            let (status, body) = s.get(Who::Insurer, &format!("Bundle/{id}/_history"));
            assert_eq!((status, body["total"].as_u64()), (200, Some(1)), "{body}");
        }
        let mut want = vec![own.clone(), by_coverage.clone()];
        want.sort();
        for path in [
            "Bundle?_count=50".to_string(),
            "Bundle?document-type=53576-5".to_string(),
            format!("Bundle?insurer={INSURER}"),
            format!("Bundle?insurer={INSURER_SYSTEM}|{INSURER}"),
        ] {
            let (mut ids, total) = s.search(Who::Insurer, &path);
            ids.sort();
            assert_eq!((ids, total), (want.clone(), 2), "{path}");
        }
        // Another insurer's insured, the patients themselves, their other data: as absent.
        for path in [
            format!("Bundle/{other}"),
            format!("Bundle/{other}/_history/1"),
            format!("Bundle/{referral}"),
        ] {
            let (status, _) = s.get(Who::Insurer, &path);
            assert_eq!(status, 404, "{path}");
        }
        for t in ["Patient", "Observation", "Condition", "Consent"] {
            assert_eq!(s.search(Who::Insurer, &format!("{t}?_count=0")).1, 0, "{t}");
        }
        // The referral's patient is insured by the other insurer, who still sees no referral and
        // none of what it contributed: an insurer reads checkup reports only.
        assert_eq!(s.search(Who::ReferralInsurer, "Bundle").1, 0);
        assert_eq!(s.search(Who::ReferralInsurer, "Condition?_count=0").1, 0);
        assert_eq!(
            s.get(Who::ReferralInsurer, &format!("Bundle/{referral}")).0,
            404
        );
        // It reads one resource's history at a time, and writes nothing.
        assert_eq!(s.get(Who::Insurer, "Bundle/_history").0, 403);
        let (status, _) = s.post(
            Who::Insurer,
            "Observation",
            &json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}}),
        );
        assert_eq!(status, 403);
        let (status, _) = s.put(
            Who::Insurer,
            "Basic/ins-1",
            &json!({"resourceType": "Basic", "id": "ins-1", "code": {"text": "x"}}),
        );
        assert_eq!(status, 403);
        assert_eq!(s.get(Who::Insurer, "AuditEvent").0, 403);
    }
);

/// A consent of the patient principal's person for `OTHER` in both categories.
fn consent(status: &str) -> Value {
    json!({"resourceType": "Consent", "status": status,
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "patient": {"identifier": {"system": MEMBER_ID, "value": PATIENT_MEMBER}},
        "organization": [{"identifier": {"system": INSTITUTION_SYSTEM, "value": OTHER}}],
        "category": [
            {"coding": [{"system": CONSENT_CATEGORY, "code": "conditions-infections"}]},
            {"coding": [{"system": CONSENT_CATEGORY, "code": "allergies-labs-prescriptions"}]}],
        "provision": {"period": {"start": "2020-01-01"}}})
}

fn condition(id: &str) -> Value {
    json!({"resourceType": "Condition",
        "identifier": [{"system": common::documents::RESOURCE_ID, "value": id}],
        "code": {"text": "高血圧症"}})
}

fn with_id(mut c: Value, id: &str) -> Value {
    c["id"] = json!(id);
    c
}

backend_test!(
    a_patient_grants_holds_and_withdraws_their_own_consent,
    server,
    |s: &Server| {
        let checkup = s.create(Who::CheckupCentre, &checkup());
        let read = |who| s.get(who, &format!("Bundle/{checkup}")).0;
        assert_eq!(read(Who::Other), 404);
        assert_eq!(s.status_of("checkup").0, "viewable");

        // Grant: the institution reads under it at once.
        let (status, created) = s.post(Who::Patient, "Consent", &consent("active"));
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(read(Who::Other), 200);
        let (code, viewable, held, _) = s.status_of("checkup");
        assert_eq!(code, "viewable");
        assert_eq!(viewable, [CHECKUP_CENTRE, OTHER]);
        assert!(held.is_empty());
        assert_eq!(s.get(Who::Patient, &format!("Consent/{id}")).0, 200);

        // Hold (閲覧保留): no reading under it, and the document shows on hold.
        let (status, body) = s.put(
            Who::Patient,
            &format!("Consent/{id}"),
            &with_id(consent("draft"), &id),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(read(Who::Other), 404);
        let (code, viewable, held, _) = s.status_of("checkup");
        assert_eq!(
            (code.as_str(), viewable, held),
            (
                "on-hold",
                vec![CHECKUP_CENTRE.to_string()],
                vec![OTHER.to_string()]
            )
        );

        // Resume, then withdraw.
        let (status, _) = s.put(
            Who::Patient,
            &format!("Consent/{id}"),
            &with_id(consent("active"), &id),
        );
        assert_eq!(status, 200);
        assert_eq!(read(Who::Other), 200);
        let (status, _) = s.put(
            Who::Patient,
            &format!("Consent/{id}"),
            &with_id(consent("inactive"), &id),
        );
        assert_eq!(status, 200);
        assert_eq!(read(Who::Other), 404);
        let (code, viewable, held, _) = s.status_of("checkup");
        assert_eq!(
            (code.as_str(), viewable, held),
            ("viewable", vec![CHECKUP_CENTRE.to_string()], vec![])
        );
        assert_eq!(s.delete(Who::Patient, &format!("Consent/{id}")), 204);
        assert_eq!(s.get(Who::Patient, &format!("Consent/{id}")).0, 410);

        // A consent the institution recorded at the card reader: the patient holds it, and it
        // stays the institution's, which may change it again.
        let mut recorded = consent("active");
        recorded.as_object_mut().unwrap().remove("organization");
        let (status, body) = s.post(Who::Other, "Consent", &recorded);
        assert_eq!(status, 201, "{body}");
        let theirs = body["id"].as_str().unwrap().to_string();
        assert_eq!(read(Who::Other), 200);
        recorded["status"] = json!("draft");
        let (status, body) = s.put(
            Who::Patient,
            &format!("Consent/{theirs}"),
            &with_id(recorded.clone(), &theirs),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(read(Who::Other), 404);
        assert_eq!(s.status_of("checkup").0, "on-hold");
        assert_eq!(s.get(Who::Other, &format!("Consent/{theirs}")).0, 200);
        recorded["status"] = json!("active");
        let (status, body) = s.put(
            Who::Other,
            &format!("Consent/{theirs}"),
            &with_id(recorded, &theirs),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(read(Who::Other), 200);

        // Every change is in the audit trail, with the patient as its agent.
        let (status, trail) = s.get(Who::Operator, "AuditEvent?_count=200");
        assert_eq!(status, 200);
        let by_patient = |subtype: &str, what: &str| {
            trail["entry"].as_array().unwrap().iter().any(|e| {
                let ev = &e["resource"];
                ev["subtype"][0]["code"] == subtype
                    && ev["agent"][0]["role"][0]["text"] == "patient"
                    && ev["entity"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["what"]["reference"] == what)
            })
        };
        assert!(by_patient("create", &format!("Consent/{id}")), "{trail}");
        assert!(
            by_patient("update", &format!("Consent/{theirs}")),
            "{trail}"
        );
        // A delete's event names no entity (the trail's own rule for deletes): its kind and
        // agent are checked.
        let deleted = trail["entry"].as_array().unwrap().iter().any(|e| {
            e["resource"]["subtype"][0]["code"] == "delete"
                && e["resource"]["agent"][0]["role"][0]["text"] == "patient"
        });
        assert!(deleted, "{trail}");
    }
);

backend_test!(
    a_patient_writes_no_one_elses_consent,
    server,
    |s: &Server| {
        let (status, created) = s.post(Who::Patient, "Consent", &consent("active"));
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_string();
        // Another person's consent: as one that does not exist.
        let (status, _) = s.put(
            Who::OtherPatient,
            &format!("Consent/{id}"),
            &with_id(consent("inactive"), &id),
        );
        assert_eq!(status, 404);
        assert_eq!(s.delete(Who::OtherPatient, &format!("Consent/{id}")), 204);
        assert_eq!(s.get(Who::Patient, &format!("Consent/{id}")).0, 200);
        // A consent about another person, by member identifier or by Patient: 403, nothing stored.
        let (status, body) = s.post(Who::OtherPatient, "Consent", &consent("active"));
        assert_eq!(status, 403, "{body}");
        let (status, _) = s.put(
            Who::Patient,
            &format!("Consent/{id}"),
            &with_id(
                {
                    let mut c = consent("active");
                    c["patient"]["identifier"]["value"] = json!("00012345:記号:番号:01");
                    c
                },
                &id,
            ),
        );
        assert_eq!(status, 403);
        let referral = minimal_referral("cons-ref-1", vec![condition("cons-c1")]);
        s.create(Who::Hospital, &referral);
        let (status, found) = s.get(Who::OtherPatient, "Patient");
        assert_eq!(status, 200);
        let theirs = found["entry"][0]["resource"]["id"].as_str().unwrap();
        let mut by_reference = consent("active");
        by_reference["patient"] = json!({"reference": format!("Patient/{theirs}")});
        assert_eq!(s.post(Who::Patient, "Consent", &by_reference).0, 403);
        // The institution granted is named: a patient is no institution.
        let mut unnamed = consent("active");
        unnamed.as_object_mut().unwrap().remove("organization");
        assert_eq!(s.post(Who::Patient, "Consent", &unnamed).0, 400);
        // Consents only, and not inside a transaction.
        let observation =
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}});
        assert_eq!(s.post(Who::Patient, "Observation", &observation).0, 403);
        let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": consent("active"), "request": {"method": "POST", "url": "Consent"}}]});
        assert_eq!(s.post(Who::Patient, "", &tx).0, 403);
        // An insurer records no consent.
        assert_eq!(s.post(Who::Insurer, "Consent", &consent("active")).0, 403);
    }
);

backend_test!(
    a_patient_reads_the_status_of_their_documents,
    server,
    |s: &Server| {
        let mut referral = minimal_referral("status-ref-1", vec![condition("status-c1")]);
        referral["entry"][1]["resource"]["identifier"][0]["value"] = json!(PATIENT_MEMBER);
        let letter = s.create(Who::Hospital, &referral);
        s.create(Who::CheckupCentre, &checkup());
        s.create(
            Who::CheckupCentre,
            &checkup_of(4, "11111111:記号:番号:01", None),
        );
        let all = s.statuses();
        assert_eq!(
            all.len(),
            2,
            "another person's checkup is not listed: {all:?}"
        );
        let (code, viewable, held, received) = s.status_of("referral");
        assert_eq!((code.as_str(), received), ("viewable", false));
        assert_eq!(viewable, [ADDRESSEE, HOSPITAL]);
        assert!(held.is_empty());
        // The addressee acknowledges it: 取得済.
        let receipt = json!({"resourceType": "Parameters",
        "parameter": [{"name": "institution", "valueString": ADDRESSEE}]});
        let (status, body) = s.post(
            Who::CheckupCentre,
            &format!("Bundle/{letter}/$receipt"),
            &receipt,
        );
        assert_eq!(status, 200, "{body}");
        let (code, _, _, received) = s.status_of("referral");
        assert_eq!((code.as_str(), received), ("received", true));
        // The patient still does not read the letter itself.
        assert_eq!(s.get(Who::Patient, &format!("Bundle/{letter}")).0, 404);
        // The status is the patient's view of their own documents.
        for who in [Who::CheckupCentre, Who::Insurer, Who::Operator] {
            assert_eq!(s.get(who, "Bundle/$document-status").0, 403, "{who:?}");
        }
        // Read-only, and audited.
        assert_eq!(
            s.post(Who::Patient, "Bundle/$document-status", &json!({}))
                .0,
            405
        );
        let (_, trail) = s.get(Who::Operator, "AuditEvent?_count=200");
        assert!(
            trail["entry"]
                .as_array()
                .unwrap()
                .iter()
                .any(
                    |e| e["resource"]["subtype"][0]["code"] == "$document-status"
                        && e["resource"]["agent"][0]["role"][0]["text"] == "patient"
                ),
            "{trail}"
        );
    }
);

backend_test!(
    checkup_reports_registered_before_insurers_get_their_index,
    server,
    |s: &Server| {
        let id = s.create(Who::CheckupCentre, &checkup());
        assert_eq!(s.get(Who::Insurer, &format!("Bundle/{id}")).0, 200);
        // As a report registered before the index existed: the index is what lets it be read.
        s.srv
            .execute("DELETE FROM search_token WHERE param = 'insurer'");
        assert_eq!(s.get(Who::Insurer, &format!("Bundle/{id}")).0, 404);
        let backfill = match s.srv.backend {
            Backend::Sqlite => {
                include_str!("../../migrations/sqlite/2026-11-21-000014_checkup_insurers/up.sql")
            }
            Backend::Postgres => {
                include_str!("../../migrations/postgres/2026-11-21-000014_checkup_insurers/up.sql")
            }
        };
        // Twice: a row indexed already is left as it is.
        s.srv.execute(backfill);
        s.srv.execute(backfill);
        assert_eq!(s.get(Who::Insurer, &format!("Bundle/{id}")).0, 200);
        assert_eq!(
            s.search(Who::Insurer, &format!("Bundle?insurer={INSURER}")),
            (vec![id], 1)
        );
        assert_eq!(s.search(Who::ReferralInsurer, "Bundle").1, 0);
    }
);
