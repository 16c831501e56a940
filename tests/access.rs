//! Access control end to end (DESIGN §9): principals from bearer tokens; own data, consent by
//! category (none / active / expired / revoked), referral addressees, hidden conditions,
//! emergency viewing with and without the permission and the declaration, the patient's own
//! view, operators; and the audit trail each of these leaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::documents::{MEMBER_ID, enc, referral, shared_present};
use common::{Backend, Options, TestServer};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const HOSPITAL: &str = "1318814790"; // the referral's sender (its Bundle-ID)
const CLINIC: &str = "1311234567"; // the referral's addressee
const OTHER: &str = "2712345678"; // obtains (or not) the patient's consent
const MEMBER: &str = "00012345:あいう:１８７:05";
const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
const CONSENT_CATEGORY: &str = "urn:kyoyu:CodeSystem:consent-category";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Hospital,
    Clinic,
    Other,
    Practitioner,
    EmergencyPractitioner,
    Patient,
    Operator,
}

const EVERYONE: [Who; 7] = [
    Who::Hospital,
    Who::Clinic,
    Who::Other,
    Who::Practitioner,
    Who::EmergencyPractitioner,
    Who::Patient,
    Who::Operator,
];

fn token(who: Who) -> String {
    format!("{who:?}-token-0123456789abcdef0123456789")
}

fn principals() -> String {
    let entry = |who: Who, body: &str| {
        format!(
            "[[principal]]\nname = \"{who:?}\"\ntoken = \"{}\"\n{body}\n\n",
            token(who)
        )
    };
    [
        entry(
            Who::Hospital,
            &format!("role = \"system\"\ninstitution = \"{HOSPITAL}\""),
        ),
        entry(
            Who::Clinic,
            &format!("role = \"system\"\ninstitution = \"{CLINIC}\""),
        ),
        entry(
            Who::Other,
            &format!("role = \"system\"\ninstitution = \"{OTHER}\""),
        ),
        entry(
            Who::Practitioner,
            &format!("role = \"practitioner\"\ninstitution = \"{OTHER}\""),
        ),
        entry(
            Who::EmergencyPractitioner,
            &format!("role = \"practitioner\"\ninstitution = \"{OTHER}\"\nemergency = true"),
        ),
        entry(
            Who::Patient,
            &format!("role = \"patient\"\npatient = \"{MEMBER_ID}|{MEMBER}\""),
        ),
        entry(Who::Operator, "role = \"operator\""),
    ]
    .concat()
}

struct Access {
    srv: TestServer,
    _dir: tempfile::TempDir,
}

fn server(backend: Backend) -> Access {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("principals.toml");
    std::fs::write(&file, principals()).unwrap();
    let srv = TestServer::start_with(
        backend,
        Options {
            configure: Box::new(move |a: &mut ConfigArgs| a.principals = Some(file)),
            ..Options::default()
        },
    );
    Access { srv, _dir: dir }
}

/// How a request declares emergency viewing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    No,
    Full,
    ReasonOnly,
}

impl Access {
    fn send(
        &self,
        who: Who,
        declared: Declared,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .srv
            .client
            .request(method, self.srv.url(path))
            .bearer_auth(token(who));
        if declared != Declared::No {
            req = req.header("X-Emergency-Reason", enc("意識障害で救急搬送"));
        }
        if declared == Declared::Full {
            req = req.header("X-Emergency-2FA", "totp");
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(b.to_string());
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn get(&self, who: Who, declared: Declared, path: &str) -> (u16, Value) {
        self.send(who, declared, reqwest::Method::GET, path, None)
    }

    fn post(&self, who: Who, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, Declared::No, reqwest::Method::POST, path, Some(body))
    }

    fn put(&self, who: Who, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, Declared::No, reqwest::Method::PUT, path, Some(body))
    }

    fn create(&self, who: Who, body: &Value) -> String {
        let t = body["resourceType"].as_str().unwrap();
        let (status, created) = self.post(who, t, body);
        assert_eq!(status, 201, "create {t}: {created}");
        created["id"].as_str().unwrap().to_string()
    }
}

/// The data of the matrix, all written by the hospital about one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Condition,
    Uninformed,
    Undelivered,
    Infection,
    Lab,
    Allergy,
    Referral,
    PatientRecord,
    Organization,
}

// Prescriptions enter only as extracted from a document, and the official referral carries none;
// they share category B with allergies and labs (see `access::classify`).
const ITEMS: [Item; 9] = [
    Item::Condition,
    Item::Uninformed,
    Item::Undelivered,
    Item::Infection,
    Item::Lab,
    Item::Allergy,
    Item::Referral,
    Item::PatientRecord,
    Item::Organization,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsentState {
    None,
    Active,
    Expired,
    Revoked,
}

fn tagged(code: &str) -> Value {
    json!({"tag": [{"system": FLAGS, "code": code}]})
}

fn setup(a: &Access) -> (String, BTreeMap<Item, (String, String)>) {
    let (status, stored) = a.post(Who::Hospital, "Bundle", &referral());
    assert_eq!(status, 201, "{stored}");
    let referral_id = stored["id"].as_str().unwrap().to_string();
    let (_, found) = a.get(
        Who::Hospital,
        Declared::No,
        &format!(
            "Patient?identifier={}",
            enc(&format!("{MEMBER_ID}|{MEMBER}"))
        ),
    );
    let pid = found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = json!({"reference": format!("Patient/{pid}")});
    let code = json!({"text": "x"});
    let mut items = BTreeMap::new();
    let mut add = |item: Item, body: Value| {
        let t = body["resourceType"].as_str().unwrap().to_string();
        items.insert(item, (t, a.create(Who::Hospital, &body)));
    };
    add(
        Item::Condition,
        json!({"resourceType": "Condition", "subject": subject, "code": code}),
    );
    add(
        Item::Uninformed,
        json!({"resourceType": "Condition", "meta": tagged("UNINFORMED"), "subject": subject, "code": code}),
    );
    add(
        Item::Undelivered,
        json!({"resourceType": "Condition", "meta": tagged("UNDELIVERED"), "subject": subject, "code": code}),
    );
    add(
        Item::Infection,
        json!({"resourceType": "Observation", "status": "final", "subject": subject,
               "code": {"coding": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_InfectionLabo_CS", "code": "x"}]}}),
    );
    add(
        Item::Lab,
        json!({"resourceType": "Observation", "status": "final", "subject": subject, "code": code}),
    );
    add(
        Item::Allergy,
        json!({"resourceType": "AllergyIntolerance", "patient": subject, "code": code,
               "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]}}),
    );
    add(
        Item::Organization,
        json!({"resourceType": "Organization", "name": "病院"}),
    );
    items.insert(Item::Referral, ("Bundle".into(), referral_id));
    items.insert(Item::PatientRecord, ("Patient".into(), pid.clone()));
    (pid, items)
}

fn consent(pid: &str, state: ConsentState) -> Value {
    let period = match state {
        ConsentState::Expired => json!({"start": "2020-01-01", "end": "2021-01-01"}),
        _ => json!({"start": "2020-01-01"}),
    };
    json!({
        "resourceType": "Consent",
        "id": "consent-other",
        "status": if state == ConsentState::Revoked { "inactive" } else { "active" },
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "conditions-infections"}]}],
        "patient": {"reference": format!("Patient/{pid}")},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {"period": period}
    })
}

/// Whether `who` may read `item` (OTHER's consent covers conditions + infections only).
fn expected(who: Who, declared: Declared, item: Item, state: ConsentState) -> u16 {
    use Item::*;
    let yes = |b: bool| if b { 200 } else { 403 };
    if declared != Declared::No {
        // Only a practitioner holding the permission may declare, and only completely.
        if who != Who::EmergencyPractitioner || declared == Declared::ReasonOnly {
            return 403;
        }
        return yes(!matches!(item, Undelivered | Referral));
    }
    match who {
        Who::Hospital => 200,
        Who::Operator => yes(item == Organization),
        Who::Patient => yes(matches!(
            item,
            Condition | Infection | Lab | Allergy | PatientRecord | Organization
        )),
        Who::Clinic => yes(matches!(item, Referral | Organization)),
        Who::Other | Who::Practitioner | Who::EmergencyPractitioner => {
            let consented = state == ConsentState::Active;
            yes(item == Organization
                || consented && matches!(item, Condition | Uninformed | Infection | PatientRecord))
        }
    }
}

fn search_path(item: Item, pid: &str, id: &str) -> String {
    match item {
        Item::Allergy => format!("AllergyIntolerance?patient={pid}"),
        Item::Referral => format!("Bundle?_id={id}"),
        Item::PatientRecord => format!("Patient?_id={pid}"),
        Item::Organization => format!("Organization?_id={id}"),
        Item::Condition | Item::Uninformed | Item::Undelivered => {
            format!("Condition?patient={pid}")
        }
        Item::Infection | Item::Lab => format!("Observation?patient={pid}"),
    }
}

fn matrix(a: &Access) {
    let (pid, items) = setup(a);
    let mut checked = 0;
    for state in [
        ConsentState::None,
        ConsentState::Active,
        ConsentState::Expired,
        ConsentState::Revoked,
    ] {
        if state != ConsentState::None {
            let (status, body) = a.put(Who::Other, "Consent/consent-other", &consent(&pid, state));
            assert!(status == 200 || status == 201, "{state:?}: {body}");
        }
        for who in EVERYONE {
            for declared in [Declared::No, Declared::Full, Declared::ReasonOnly] {
                for item in ITEMS {
                    let (t, id) = &items[&item];
                    let want = expected(who, declared, item, state);
                    let (status, body) = a.get(who, declared, &format!("{t}/{id}"));
                    assert_eq!(
                        status, want,
                        "{who:?} {declared:?} reads {item:?} under consent {state:?}: {body}"
                    );
                    if declared == Declared::ReasonOnly {
                        continue;
                    }
                    let (status, found) = a.get(who, declared, &search_path(item, &pid, id));
                    if want == 200 {
                        assert_eq!(status, 200, "{who:?} searches {item:?}: {found}");
                    }
                    let listed = status == 200
                        && common::ids(&found).contains(id)
                        && found["total"].as_u64().unwrap_or(0) as usize
                            >= common::ids(&found).len();
                    assert_eq!(
                        listed,
                        want == 200,
                        "{who:?} {declared:?} search lists {item:?} under consent {state:?}: {found}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 400, "{checked}");
}

fn run(backend: Backend, test: fn(&Access)) {
    if !shared_present() {
        return;
    }
    if backend == Backend::Postgres && !common::postgres_available() {
        eprintln!("KYOYU_TEST_DATABASE_URL not set: PostgreSQL variant skipped");
        return;
    }
    test(&server(backend));
}

#[test]
fn the_role_data_consent_matrix_holds_sqlite() {
    run(Backend::Sqlite, matrix);
}

#[test]
fn the_role_data_consent_matrix_holds_postgres() {
    run(Backend::Postgres, matrix);
}

/// Writes: only institutions write, each its own; a consent is recorded for oneself; a CLINS
/// submission names the caller's institution.
fn writes(a: &Access) {
    let (pid, items) = setup(a);
    let (t, id) = &items[&Item::Condition];
    let mut body = json!({"resourceType": "Condition", "id": id, "code": {"text": "y"},
                          "subject": {"reference": format!("Patient/{pid}")}});
    assert_eq!(a.put(Who::Other, &format!("{t}/{id}"), &body).0, 403);
    let (s, _) = a.send(
        Who::Other,
        Declared::No,
        reqwest::Method::DELETE,
        &format!("{t}/{id}"),
        None,
    );
    assert_eq!(s, 403);
    assert_eq!(a.put(Who::Hospital, &format!("{t}/{id}"), &body).0, 200);
    body.as_object_mut().unwrap().remove("id");
    for who in [Who::Patient, Who::Operator] {
        assert_eq!(a.post(who, "Condition", &body).0, 403, "{who:?} creates");
    }
    // The hospital may not submit for another institution: the referral's Bundle-ID is its own,
    // so the clinic posting it is refused.
    assert_eq!(a.post(Who::Clinic, "Bundle", &referral()).0, 403);
    // Consent for somebody else is not the writer's to record.
    let mut c = consent(&pid, ConsentState::Active);
    c["organization"] = json!([{"identifier": {
        "system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no",
        "value": CLINIC}}]);
    let (s, outcome) = a.post(Who::Other, "Consent", &c);
    assert_eq!(s, 400, "{outcome}");
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Consent.organization[0].identifier.value"
    );
    // Only the addressee acknowledges a referral, for itself.
    let (_, rid) = &items[&Item::Referral];
    let receipt = |who: Who, institution: &str| {
        a.post(
            who,
            &format!("Bundle/{rid}/$receipt"),
            &json!({"resourceType": "Parameters", "parameter": [
                {"name": "institution", "valueString": institution}]}),
        )
        .0
    };
    assert_eq!(receipt(Who::Other, CLINIC), 403);
    assert_eq!(receipt(Who::Clinic, CLINIC), 200);
}

#[test]
fn only_owners_write_sqlite() {
    run(Backend::Sqlite, writes);
}

#[test]
fn only_owners_write_postgres() {
    run(Backend::Postgres, writes);
}

fn events(a: &Access, who: Who, query: &str) -> Vec<Value> {
    let (status, bundle) = a.get(who, Declared::No, &format!("AuditEvent?{query}"));
    assert_eq!(status, 200, "{bundle}");
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|x| x["resource"].clone()).collect())
        .unwrap_or_default()
}

fn audit(a: &Access) {
    // Credentials first: none → 401 with a challenge; an unknown token → 401.
    let r = a.srv.get("Condition");
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let r = a
        .srv
        .client
        .get(a.srv.url("Condition"))
        .bearer_auth("not-a-token-0000000000000000000000000")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        a.srv.get("metadata").status(),
        200,
        "the CapabilityStatement is public"
    );

    let (pid, items) = setup(a);
    let (t, id) = &items[&Item::Lab];
    assert_eq!(
        a.get(
            Who::EmergencyPractitioner,
            Declared::Full,
            &format!("{t}/{id}")
        )
        .0,
        200
    );
    assert_eq!(a.get(Who::Other, Declared::No, &format!("{t}/{id}")).0, 403);
    let (s, _) = a.get(
        Who::Hospital,
        Declared::No,
        &format!("Observation?patient={pid}"),
    );
    assert_eq!(s, 200);
    // A write refused by validation leaves its event, and nothing else.
    let (s, _) = a.post(
        Who::Hospital,
        "Condition",
        &json!({"resourceType": "Condition", "subject": 7}),
    );
    assert!(s == 400 || s == 422, "{s}");

    let all = events(a, Who::Operator, "_count=100");
    let recorded: Vec<&str> = all.iter().filter_map(|e| e["recorded"].as_str()).collect();
    assert_eq!(recorded.len(), all.len());
    assert!(
        recorded.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {recorded:?}"
    );
    // `date=ge` is a key range over the time-ordered ids, then the exact bound.
    let middle = recorded[recorded.len() / 2];
    let since = events(a, Who::Operator, &format!("date=ge{middle}&_count=100"));
    let expected = recorded.iter().filter(|r| **r >= middle).count();
    assert_eq!(since.len(), expected, "since {middle}");
    assert!(events(a, Who::Operator, "date=ge2999-01-01&_count=100").is_empty());
    let about_patient = events(a, Who::Operator, &format!("patient={pid}&_count=100"));
    assert!(about_patient.len() < all.len());
    let emergency: Vec<&Value> = about_patient
        .iter()
        .filter(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT")
        .collect();
    assert_eq!(emergency.len(), 1, "{about_patient:?}");
    let e = emergency[0];
    assert_eq!(e["action"], "R");
    assert_eq!(e["outcome"], "0");
    assert_eq!(e["agent"][0]["who"]["identifier"]["value"], OTHER);
    assert_eq!(e["purposeOfEvent"][0]["text"], "意識障害で救急搬送");
    assert!(
        e["entity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["what"]["reference"] == format!("{t}/{id}"))
    );
    let refused = about_patient.iter().filter(|e| e["outcome"] == "4").count();
    assert!(refused >= 1, "the refused read is recorded");
    let searched = about_patient
        .iter()
        .find(|e| e["subtype"][0]["code"] == "search-type")
        .expect("the search is recorded");
    assert!(searched["entity"].as_array().unwrap().len() >= 2);
    let rejected = all
        .iter()
        .filter(|e| e["action"] == "C" && e["outcome"] == "4")
        .count();
    assert_eq!(rejected, 1, "the rejected create is recorded");
    // No clinical content, no credentials in the trail.
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains("token-0123456789"));
    assert!(!text.contains(MEMBER));

    // The patient sees who read their record, emergency included; nobody else's.
    let own = events(a, Who::Patient, "_count=100");
    assert!(
        own.iter()
            .any(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT")
    );
    assert_eq!(
        a.get(
            Who::Patient,
            Declared::No,
            "AuditEvent?patient=someone-else"
        )
        .0,
        403
    );
    // Institutions do not read the trail; nobody writes it.
    assert_eq!(a.get(Who::Hospital, Declared::No, "AuditEvent").0, 403);
    assert_eq!(
        a.post(
            Who::Operator,
            "AuditEvent",
            &json!({"resourceType": "AuditEvent"})
        )
        .0,
        405
    );
    let one = e["id"].as_str().unwrap();
    assert_eq!(
        a.get(Who::Patient, Declared::No, &format!("AuditEvent/{one}"))
            .0,
        200
    );
}

#[test]
fn every_access_is_audited_sqlite() {
    run(Backend::Sqlite, audit);
}

#[test]
fn every_access_is_audited_postgres() {
    run(Backend::Postgres, audit);
}
