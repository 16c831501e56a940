//! Access control end to end (DESIGN §9): principals from bearer tokens; own data, consent by
//! category (none / either / both / expired / revoked) over every data category, referral
//! addressees, hidden conditions, emergency viewing with and without the permission and the
//! declaration, the patient's own view, operators; and the audit trail each of these leaves.

use crate::common;

use std::collections::BTreeMap;

use common::Backend;
use common::documents::{
    CONSENT_CATEGORY, MEMBER_ID, RESOURCE_ID, SHARED, checkup, enc, referral,
    referral_with_discharge,
};
use common::principals::{Principal, SignedIn, grant};
use serde_json::{Value, json};

const HOSPITAL: &str = "1318814790"; // the referral's sender (its Bundle-ID)
const CLINIC: &str = "1311234567"; // the referral's addressee
const OTHER: &str = "2712345678"; // obtains (or not) the patient's consent
const MEMBER: &str = "00012345:あいう:１８７:05";
const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
const SECTION: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
const CHECKUP_TYPE: &str = "53576-5";
const SUMMARY_TYPE: &str = "56447-6";
/// The resource identifier of the official prescription example the referral carries.
const PRESCRIPTION: &str = "1318814790-9990767-0A1720D83807672021070909210705-2";

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

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::Hospital => grant::institution(HOSPITAL),
            Who::Clinic => grant::institution(CLINIC),
            Who::Other => grant::institution(OTHER),
            Who::Practitioner => grant::practitioner(OTHER),
            Who::EmergencyPractitioner => grant::emergency_practitioner(OTHER),
            Who::Patient => grant::patient(MEMBER_ID, MEMBER),
            Who::Operator => grant::operator(),
        }
    }
}

type Access = SignedIn<Who>;

fn server(backend: Backend) -> Access {
    common::require_shared_data();
    Access::start(backend, &EVERYONE, |_| {})
}

/// How a request declares emergency viewing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    No,
    Full,
    ReasonOnly,
}

impl Access {
    /// A GET as `who`, declaring emergency viewing as `declared` says.
    fn get_declared(&self, who: Who, declared: Declared, path: &str) -> (u16, Value) {
        let reason = enc("意識障害で救急搬送");
        let headers: &[(&str, &str)] = match declared {
            Declared::No => &[],
            Declared::ReasonOnly => &[("X-Emergency-Reason", &reason)],
            Declared::Full => &[("X-Emergency-Reason", &reason), ("X-Emergency-2FA", "totp")],
        };
        self.send(who, reqwest::Method::GET, path, None, headers)
    }
}

/// The data of the matrix, all written by the hospital about one patient: one item of every
/// access category (`access::classify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Condition,
    Uninformed,
    Undelivered,
    Infection,
    Lab,
    Allergy,
    Prescription,
    /// The referral, with a discharge summary attached: the two are read as one Bundle.
    Referral,
    Checkup,
    PatientSummary,
    /// Patient data outside the consent categories and documents (here an Encounter).
    OtherData,
    PatientRecord,
    Organization,
}

const ITEMS: [Item; 13] = [
    Item::Condition,
    Item::Uninformed,
    Item::Undelivered,
    Item::Infection,
    Item::Lab,
    Item::Allergy,
    Item::Prescription,
    Item::Referral,
    Item::Checkup,
    Item::PatientSummary,
    Item::OtherData,
    Item::PatientRecord,
    Item::Organization,
];

/// OTHER's consent: none yet, active in category A (conditions-infections), B
/// (allergies-labs-prescriptions) or both, then both but ended, then both but revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConsentState {
    None,
    ActiveA,
    ActiveB,
    ActiveAB,
    Expired,
    Revoked,
}

const STATES: [ConsentState; 6] = [
    ConsentState::None,
    ConsentState::ActiveA,
    ConsentState::ActiveB,
    ConsentState::ActiveAB,
    ConsentState::Expired,
    ConsentState::Revoked,
];

impl ConsentState {
    /// The categories the Consent names, active or not.
    fn categories(self) -> &'static [&'static str] {
        match self {
            ConsentState::None => &[],
            ConsentState::ActiveA => &["conditions-infections"],
            ConsentState::ActiveB => &["allergies-labs-prescriptions"],
            _ => &["conditions-infections", "allergies-labs-prescriptions"],
        }
    }

    /// The categories it grants now: (A, B).
    fn grants(self) -> (bool, bool) {
        match self {
            ConsentState::ActiveA => (true, false),
            ConsentState::ActiveB => (false, true),
            ConsentState::ActiveAB => (true, true),
            _ => (false, false),
        }
    }

    /// Declarations do not depend on consent (an emergency bypasses it, a refused declaration
    /// is refused whatever it covers), so they are crossed with no consent and a full one only.
    fn declarations(self) -> &'static [Declared] {
        match self {
            ConsentState::None | ConsentState::ActiveAB => {
                &[Declared::No, Declared::Full, Declared::ReasonOnly]
            }
            _ => &[Declared::No],
        }
    }
}

fn tagged(code: &str) -> Value {
    json!({"tag": [{"system": FLAGS, "code": code}]})
}

/// The official referral with a discharge summary attached and a prescription of the official
/// examples in its medication section (430 投薬指示): prescriptions enter the store only as
/// extracted from such documents.
fn prescribing_referral() -> Value {
    let mut doc = referral_with_discharge();
    let patient = doc["entry"][1]["fullUrl"].clone();
    let path =
        format!("{SHARED}/examples/clins/MedicationRequest-Example-JP-MedReq-PO-TID-2days.json");
    let mut rx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    rx["subject"] = json!({"reference": patient});
    let url = "urn:uuid:3f0c2b9e-0000-4000-8000-0000000000b1";
    doc["entry"]
        .as_array_mut()
        .unwrap()
        .push(json!({"fullUrl": url, "resource": rx}));
    let structured = doc["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["code"]["coding"][0]["code"] == "300")
        .unwrap();
    structured["section"].as_array_mut().unwrap().push(json!({
        "title": "投薬指示",
        "code": {"coding": [{"system": SECTION, "code": "430"}]},
        "text": {"status": "additional",
                 "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">1日3回 毎食後 2日分</div>"},
        "entry": [{"reference": url}]
    }));
    doc
}

/// A document of the hospital about the matrix's patient: the checkup report fixture, or the
/// same recast as a patient summary.
fn hospital_document(document_type: &str) -> Value {
    let mut doc = checkup();
    let id = format!("{HOSPITAL}^2024^{document_type}");
    doc["identifier"]["value"] = json!(id);
    if document_type == SUMMARY_TYPE {
        doc["meta"]["profile"] =
            json!(["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_ePCS"]);
    }
    let composition = &mut doc["entry"][0]["resource"];
    composition["identifier"]["value"] = json!(id);
    if document_type == SUMMARY_TYPE {
        composition["type"]["coding"][0]["code"] = json!(SUMMARY_TYPE);
        composition["title"] = json!("患者サマリー");
    }
    doc["entry"][1]["resource"]["identifier"][0]["value"] = json!(MEMBER);
    doc
}

fn setup(a: &Access) -> (String, BTreeMap<Item, (String, String)>) {
    let post = |doc: &Value| {
        let (status, stored) = a.post(Who::Hospital, "Bundle", doc);
        assert_eq!(status, 201, "{stored}");
        stored["id"].as_str().unwrap().to_string()
    };
    let referral_id = post(&prescribing_referral());
    let checkup_id = post(&hospital_document(CHECKUP_TYPE));
    let summary_id = post(&hospital_document(SUMMARY_TYPE));
    let (_, found) = a.get_declared(
        Who::Hospital,
        Declared::No,
        &format!(
            "Patient?identifier={}",
            enc(&format!("{MEMBER_ID}|{MEMBER}"))
        ),
    );
    assert_eq!(found["total"], 1, "one patient for all documents: {found}");
    let pid = found["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The referral's own prescription, not the discharge summary's.
    let (_, found) = a.get_declared(
        Who::Hospital,
        Declared::No,
        &format!(
            "MedicationRequest?patient={pid}&identifier={}",
            enc(&format!("{RESOURCE_ID}|{PRESCRIPTION}"))
        ),
    );
    let prescription = common::ids(&found);
    assert_eq!(prescription.len(), 1, "{found}");
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
        Item::OtherData,
        json!({"resourceType": "Encounter", "status": "finished", "subject": subject,
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}),
    );
    add(
        Item::Organization,
        json!({"resourceType": "Organization", "name": "病院"}),
    );
    items.insert(
        Item::Prescription,
        ("MedicationRequest".into(), prescription[0].clone()),
    );
    items.insert(Item::Referral, ("Bundle".into(), referral_id));
    items.insert(Item::Checkup, ("Bundle".into(), checkup_id));
    items.insert(Item::PatientSummary, ("Bundle".into(), summary_id));
    items.insert(Item::PatientRecord, ("Patient".into(), pid.clone()));
    (pid, items)
}

fn consent(pid: &str, state: ConsentState) -> Value {
    let period = match state {
        ConsentState::Expired => json!({"start": "2020-01-01", "end": "2021-01-01"}),
        _ => json!({"start": "2020-01-01"}),
    };
    let category: Vec<Value> = state
        .categories()
        .iter()
        .map(|code| json!({"coding": [{"system": CONSENT_CATEGORY, "code": code}]}))
        .collect();
    json!({
        "resourceType": "Consent",
        "id": "consent-other",
        "status": if state == ConsentState::Revoked { "inactive" } else { "active" },
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": category,
        "patient": {"reference": format!("Patient/{pid}")},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {"period": period}
    })
}

/// Whether `who` may read `item` (README, Access): the rules as written, not as implemented.
/// What may not be read answers as what does not exist (404); a refused emergency declaration
/// is refused whatever it names (403).
fn expected(who: Who, declared: Declared, item: Item, state: ConsentState) -> u16 {
    use Item::*;
    let yes = |b: bool| if b { 200 } else { 404 };
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
        Who::Patient => yes(!matches!(item, Uninformed | Undelivered | Referral)),
        Who::Clinic => yes(matches!(item, Referral | Organization)),
        Who::Other | Who::Practitioner | Who::EmergencyPractitioner => {
            let (a, b) = state.grants();
            yes(match item {
                Organization => true,
                Condition | Uninformed | Infection => a,
                Lab | Allergy | Prescription => b,
                PatientRecord | Checkup | PatientSummary | OtherData => a || b,
                Undelivered | Referral => false,
            })
        }
    }
}

fn search_path(item: Item, pid: &str, id: &str) -> String {
    match item {
        Item::Allergy => format!("AllergyIntolerance?patient={pid}"),
        Item::Prescription => format!("MedicationRequest?patient={pid}"),
        Item::Referral => format!("Bundle?_id={id}"),
        Item::Checkup => format!("Bundle?patient={pid}&document-type={CHECKUP_TYPE}"),
        Item::PatientSummary => format!("Bundle?patient={pid}&document-type={SUMMARY_TYPE}"),
        Item::OtherData => format!("Encounter?patient={pid}"),
        Item::PatientRecord => format!("Patient?_id={pid}"),
        Item::Organization => format!("Organization?_id={id}"),
        Item::Condition | Item::Uninformed | Item::Undelivered => {
            format!("Condition?patient={pid}")
        }
        Item::Infection | Item::Lab => format!("Observation?patient={pid}"),
    }
}

/// What a successful read must show beyond its status: the flag of an UNINFORMED condition,
/// the discharge summary travelling inside the referral.
fn check_content(item: Item, body: &Value) {
    match item {
        Item::Uninformed => assert!(
            body["meta"]["tag"].as_array().is_some_and(|t| t
                .iter()
                .any(|t| t["system"] == FLAGS && t["code"] == "UNINFORMED")),
            "shown with its flag: {body}"
        ),
        Item::Referral => assert!(
            body["entry"].as_array().unwrap().iter().any(|e| {
                e["resource"]["meta"]["profile"][0]
                    == "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary"
            }),
            "the attached discharge summary is read with the referral"
        ),
        _ => {}
    }
}

fn matrix(a: &Access) {
    let (pid, items) = setup(a);
    let mut checked = 0;
    for state in STATES {
        if state != ConsentState::None {
            let (status, body) = a.put(Who::Other, "Consent/consent-other", &consent(&pid, state));
            assert!(status == 200 || status == 201, "{state:?}: {body}");
        }
        for who in EVERYONE {
            for &declared in state.declarations() {
                for item in ITEMS {
                    let (t, id) = &items[&item];
                    let want = expected(who, declared, item, state);
                    let (status, body) = a.get_declared(who, declared, &format!("{t}/{id}"));
                    assert_eq!(
                        status, want,
                        "{who:?} {declared:?} reads {item:?} under consent {state:?}: {body}"
                    );
                    if status == 200 {
                        check_content(item, &body);
                    }
                    checked += 1;
                    if declared == Declared::ReasonOnly {
                        continue;
                    }
                    let (status, found) =
                        a.get_declared(who, declared, &search_path(item, &pid, id));
                    if want == 200 {
                        assert_eq!(status, 200, "{who:?} searches {item:?}: {found}");
                    }
                    let shown = common::ids(&found);
                    // Every search here fits one page: its total is exactly what it shows.
                    if status == 200 {
                        assert_eq!(
                            found["total"].as_u64(),
                            Some(shown.len() as u64),
                            "{who:?} {declared:?} search total for {item:?} under consent {state:?}: {found}"
                        );
                    }
                    let listed = status == 200 && shown.contains(id);
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
    assert_eq!(checked, 1638, "reads and searches checked");
}

backend_test!(the_role_data_consent_matrix_holds, server, matrix);

/// Writes: only institutions write, each its own; a consent is recorded for oneself; a CLINS
/// submission names the caller's institution.
fn writes(a: &Access) {
    let (pid, items) = setup(a);
    let (t, id) = &items[&Item::Condition];
    let mut body = json!({"resourceType": "Condition", "id": id, "code": {"text": "y"},
                          "subject": {"reference": format!("Patient/{pid}")}});
    // Another institution that may not read it learns nothing: its PUT finds nothing (404),
    // its DELETE deletes nothing, as of a resource that does not exist (204, no version).
    assert_eq!(a.put(Who::Other, &format!("{t}/{id}"), &body).0, 404);
    assert_eq!(a.delete(Who::Other, &format!("{t}/{id}")), 204);
    assert_eq!(
        a.get_declared(Who::Hospital, Declared::No, &format!("{t}/{id}"))
            .0,
        200
    );
    assert_eq!(a.put(Who::Hospital, &format!("{t}/{id}"), &body).0, 200);
    body.as_object_mut().unwrap().remove("id");
    for who in [Who::Patient, Who::Operator] {
        assert_eq!(a.post(who, "Condition", &body).0, 403, "{who:?} creates");
    }
    // The hospital may not submit for another institution: the referral's Bundle-ID is its own,
    // so the clinic posting it is refused.
    assert_eq!(a.post(Who::Clinic, "Bundle", &referral()).0, 403);
    // Consent for somebody else is not the writer's to record.
    let mut c = consent(&pid, ConsentState::ActiveA);
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
    // An institution that may not read the letter learns nothing of it: the answers of a
    // Bundle that does not exist. Its sender, who reads it, is refused.
    let missing = a.post(
        Who::Other,
        "Bundle/no-such-bundle/$receipt",
        &json!({"resourceType": "Parameters", "parameter": [
            {"name": "institution", "valueString": OTHER}]}),
    );
    assert_eq!(missing.0, 404, "{}", missing.1);
    assert_eq!(receipt(Who::Other, OTHER), 404);
    assert_eq!(receipt(Who::Hospital, HOSPITAL), 403);
    assert_eq!(a.delete(Who::Other, &format!("Bundle/{rid}")), 204);
    assert_eq!(a.get(Who::Hospital, &format!("Bundle/{rid}")).0, 200);
    assert_eq!(receipt(Who::Clinic, CLINIC), 200);
}

backend_test!(only_owners_write, server, writes);

/// The events of a trail search, without the trail's own reads: each read of the trail is
/// recorded too, so counts taken between reads would otherwise move with every read.
fn events(a: &Access, who: Who, query: &str) -> Vec<Value> {
    a.trail(who, query)
        .into_iter()
        .filter(|e| e["entity"][0]["type"]["code"] != "AuditEvent")
        .collect()
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
        a.get_declared(
            Who::EmergencyPractitioner,
            Declared::Full,
            &format!("{t}/{id}")
        )
        .0,
        200
    );
    assert_eq!(
        a.get_declared(Who::Other, Declared::No, &format!("{t}/{id}"))
            .0,
        404
    );
    let (s, _) = a.get_declared(
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
    // Changes' records commit with the change (on SQLite in the clinical file, moved to the
    // audit file later): a trail read right after the writes has them, with their patients.
    let stored = |events: &[Value]| {
        events
            .iter()
            .filter(|e| ["C", "U"].contains(&e["action"].as_str().unwrap_or("")))
            .filter(|e| e["outcome"] == "0")
            .count()
    };
    assert!(stored(&all) >= 1, "the stored writes are recorded");
    assert!(stored(&about_patient) >= 1, "{about_patient:?}");
    let just_now = a.create(
        Who::Hospital,
        &json!({"resourceType": "Organization", "name": "診療所"}),
    );
    let newest = events(a, Who::Operator, "_count=5");
    assert!(
        newest.iter().any(|e| e["action"] == "C"
            && e["entity"].as_array().is_some_and(|es| es
                .iter()
                .any(|x| x["what"]["reference"] == format!("Organization/{just_now}")))),
        "a create of Organization/{just_now} is in the trail read right after it: {newest:?}"
    );
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
        a.get_declared(
            Who::Patient,
            Declared::No,
            "AuditEvent?patient=someone-else"
        )
        .0,
        403
    );
    // Institutions do not read the trail; nobody writes it.
    assert_eq!(
        a.get_declared(Who::Hospital, Declared::No, "AuditEvent").0,
        403
    );
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
        a.get_declared(Who::Patient, Declared::No, &format!("AuditEvent/{one}"))
            .0,
        200
    );
}

backend_test!(every_access_is_audited, server, audit);

/// The consent-path benchmark reads another institution's rows: every GET and search of its
/// phases must pass the consent check, not fail it.
#[test]
fn the_consent_benchmark_reads_through_consent_without_errors() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["bench", "--auth", "--consent"])
        .args(["--connections", "2", "--duration-secs", "0.5"])
        .args(["--warmup-secs", "0", "--format", "json"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for phase in report["phases"].as_array().unwrap() {
        assert_eq!(phase["errors"], 0, "{report}");
        assert!(phase["requests"].as_u64().unwrap() > 0, "{report}");
    }
}
