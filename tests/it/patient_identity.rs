//! Whose patient a resource is, and whose Patient a Patient is (DESIGN §9), end to end on both
//! backends: every type of the FHIR Patient compartment is its patient's data (by literal
//! reference, member identifier or contained Patient; an unresolvable patient is its writer's
//! alone); each institution writes its own Patient of a person, so another institution's report
//! unit can neither take it over nor be blocked by a decoy; consents, emergencies and the
//! patient's own view match by person across institutions.

use crate::common;

use common::Backend;
use common::documents::{CONSENT_CATEGORY, MEMBER_ID, SHARED, enc};
use common::principals::{Principal, SignedIn, emergency, grant};
use serde_json::{Value, json};

const HOSPITAL: &str = "1318814790"; // the example report unit's institution
const CLINIC: &str = "1311234567";
/// The example unit's patient, and someone else.
const MEMBER_1: &str = "00012345:あいう:１８７:01";
const MEMBER_2: &str = "00012345:かきく:２２:02";
const UNIT: &str = "examples/clins/Bundle-Bundle-CLINS-Observations-Example-01.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Hospital,
    Clinic,
    ClinicEmergency,
    Patient1,
    Patient2,
    Operator,
}

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::Hospital => grant::institution(HOSPITAL),
            Who::Clinic => grant::institution(CLINIC),
            Who::ClinicEmergency => grant::emergency_practitioner(CLINIC),
            Who::Patient1 => grant::patient(MEMBER_ID, MEMBER_1),
            Who::Patient2 => grant::patient(MEMBER_ID, MEMBER_2),
            Who::Operator => grant::operator(),
        }
    }

    fn headers(self) -> Vec<(&'static str, String)> {
        match self {
            Who::ClinicEmergency => emergency(&enc("意識障害で救急搬送")),
            _ => Vec::new(),
        }
    }
}

type Server = SignedIn<Who>;

fn server(backend: Backend) -> Server {
    common::require_shared_data();
    let everyone = [
        Who::Hospital,
        Who::Clinic,
        Who::ClinicEmergency,
        Who::Patient1,
        Who::Patient2,
        Who::Operator,
    ];
    // Rows written before their Patient must link to it once it is: referential integrity
    // would refuse them.
    Server::start(backend, &everyone, |a: &mut kyoyu::config::ConfigArgs| {
        a.referential_integrity = Some(false)
    })
}

impl Server {
    /// Whether `who` reads `t/id`, and finds it by `_id` (a search never shows what a read
    /// refuses, and the other way round).
    fn reads(&self, who: Who, t: &str, id: &str) -> bool {
        let (status, body) = self.get(who, &format!("{t}/{id}"));
        let (s, found) = self.get(who, &format!("{t}?_id={id}"));
        let listed = s == 200 && common::ids(&found).contains(&id.to_string());
        assert_eq!(
            status == 200,
            listed,
            "{who:?}: read {t}/{id} answered {status}, its search listed it: {listed}: {body} {found}"
        );
        if s == 200 {
            assert_eq!(found["total"].as_u64(), Some(u64::from(listed)), "{found}");
        }
        status == 200
    }

    fn own_patients(&self, who: Who, member: &str) -> Vec<String> {
        let (status, found) = self.get(
            who,
            &format!(
                "Patient?identifier={}",
                enc(&format!("{MEMBER_ID}|{member}"))
            ),
        );
        assert_eq!(status, 200, "{found}");
        common::ids(&found)
    }
}

fn member(value: &str) -> Value {
    json!({"system": MEMBER_ID, "value": value})
}

fn patient(value: &str, family: &str) -> Value {
    json!({"resourceType": "Patient", "identifier": [member(value)],
           "name": [{"family": family}], "address": [{"text": format!("{family}の住所")}]})
}

/// A resource of each of a spread of compartment types that were "no patient data" before,
/// naming its patient by `subject`.
fn compartment_resources(subject: &Value) -> Vec<Value> {
    let code = json!({"text": "x"});
    vec![
        json!({"resourceType": "DiagnosticReport", "status": "final", "code": code, "subject": subject}),
        json!({"resourceType": "Immunization", "status": "completed", "vaccineCode": code,
               "patient": subject, "occurrenceDateTime": "2024-01-01"}),
        json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": subject}),
        json!({"resourceType": "MedicationStatement", "status": "active",
               "medicationCodeableConcept": code, "subject": subject}),
        json!({"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": subject}),
        json!({"resourceType": "FamilyMemberHistory", "status": "completed", "patient": subject,
               "relationship": {"text": "father"}}),
    ]
}

fn consent_for_clinic(patient: &Value) -> Value {
    json!({
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "conditions-infections"}]}],
        "patient": patient,
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {"period": {"start": "2020-01-01"}}
    })
}

/// Finding 1: a DiagnosticReport (and every other compartment type) about patient 1 is patient
/// 1's data: not readable by patient 2, another institution without consent or the operator.
fn every_compartment_type_is_patient_data(s: &Server) {
    let p1 = s.create(Who::Hospital, &patient(MEMBER_1, "一"));
    let p2 = s.create(Who::Hospital, &patient(MEMBER_2, "二"));
    let by_reference = json!({"reference": format!("Patient/{p1}")});
    let by_identifier = json!({"type": "Patient", "identifier": member(MEMBER_1)});
    let mut written = Vec::new();
    for subject in [&by_reference, &by_identifier] {
        for r in compartment_resources(subject) {
            let t = r["resourceType"].as_str().unwrap().to_string();
            written.push((t, s.create(Who::Hospital, &r)));
        }
    }
    let mut contained = json!({"resourceType": "DiagnosticReport", "status": "final",
        "code": {"text": "x"}, "subject": {"reference": "#p"},
        "contained": [{"resourceType": "Patient", "id": "p", "identifier": [member(MEMBER_1)]}]});
    written.push((
        "DiagnosticReport".into(),
        s.create(Who::Hospital, &contained),
    ));
    for (t, id) in &written {
        assert!(s.reads(Who::Hospital, t, id), "the writer reads {t}/{id}");
        assert!(s.reads(Who::Patient1, t, id), "patient 1 reads {t}/{id}");
        assert!(
            s.reads(Who::ClinicEmergency, t, id),
            "an emergency reads {t}/{id}"
        );
        for who in [Who::Patient2, Who::Clinic, Who::Operator] {
            assert!(!s.reads(who, t, id), "{who:?} must not read {t}/{id}");
        }
    }
    // A patient the server cannot resolve: the writer's alone, emergencies included.
    contained["contained"][0]
        .as_object_mut()
        .unwrap()
        .remove("identifier");
    let unknown = [
        s.create(Who::Hospital, &contained),
        s.create(
            Who::Hospital,
            &json!({"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "x"},
                    "subject": {"display": "牧野 爛漫"}}),
        ),
        s.create(
            Who::Hospital,
            &json!({"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "x"},
                    "subject": {"reference": "Patient/not-written-yet"}}),
        ),
    ];
    for id in &unknown {
        assert!(s.reads(Who::Hospital, "DiagnosticReport", id));
        for who in [
            Who::Patient1,
            Who::Patient2,
            Who::Clinic,
            Who::ClinicEmergency,
            Who::Operator,
        ] {
            assert!(
                !s.reads(who, "DiagnosticReport", id),
                "{who:?} reads an unknown patient's report"
            );
        }
    }
    // Shared data stays shared.
    let org = s.create(
        Who::Hospital,
        &json!({"resourceType": "Organization", "name": "病院"}),
    );
    for who in [Who::Patient2, Who::Clinic, Who::Operator] {
        assert!(s.reads(who, "Organization", &org));
    }
    // The clinic, holding no Patient of its own, records patient 1's consent by member
    // identifier: it then reads every institution's records of that person, and no one else's.
    s.create(Who::Clinic, &consent_for_clinic(&by_identifier));
    for (t, id) in &written {
        assert!(s.reads(Who::Clinic, t, id), "consented: {t}/{id}");
    }
    assert!(
        s.reads(Who::Clinic, "Patient", &p1),
        "consented: patient 1's Patient"
    );
    assert!(!s.reads(Who::Clinic, "Patient", &p2));
    assert!(!s.reads(Who::Clinic, "DiagnosticReport", &unknown[1]));
}

backend_test!(
    every_compartment_type_is_patient_data,
    server,
    every_compartment_type_is_patient_data
);

/// A row takes its person from its Patient when that Patient is written later by the same
/// institution, and follows it when the Patient's member identifier changes; another
/// institution creating a Patient under an id someone named claims nothing.
fn rows_follow_their_patient(s: &Server) {
    let report = |subject: &str| {
        json!({"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "x"},
               "subject": {"reference": format!("Patient/{subject}")}})
    };
    let early = s.create(Who::Hospital, &report("later"));
    let claimed = s.create(Who::Hospital, &report("claimed"));
    assert!(!s.reads(Who::Patient1, "DiagnosticReport", &early));
    let put = |who: Who, id: &str, member: &str| {
        let mut body = patient(member, "後");
        body["id"] = json!(id);
        let (status, b) = s.put(who, &format!("Patient/{id}"), &body);
        assert!(
            status == 200 || status == 201,
            "{who:?} PUT Patient/{id}: {b}"
        );
    };
    put(Who::Hospital, "later", MEMBER_1);
    assert!(
        s.reads(Who::Patient1, "DiagnosticReport", &early),
        "written before its Patient"
    );
    put(Who::Clinic, "claimed", MEMBER_1);
    assert!(
        !s.reads(Who::Patient1, "DiagnosticReport", &claimed),
        "the clinic's Patient must not claim the hospital's row"
    );
    // The Patient's member identifier changes: its rows go with it.
    put(Who::Hospital, "later", MEMBER_2);
    assert!(!s.reads(Who::Patient1, "DiagnosticReport", &early));
    assert!(s.reads(Who::Patient2, "DiagnosticReport", &early));
}

backend_test!(rows_follow_their_patient, server, rows_follow_their_patient);

/// The official example unit, or the same sent by `institution` with other demographics.
fn unit(institution: &str, address: &str) -> Value {
    let text = std::fs::read_to_string(format!("{SHARED}/{UNIT}")).unwrap();
    let mut unit: Value = serde_json::from_str(&text.replace(HOSPITAL, institution)).unwrap();
    unit["entry"][0]["resource"]["address"] = json!([{"text": address}]);
    unit
}

/// Finding 2: the clinic's report unit for the same member registers the clinic's own Patient;
/// the hospital's stays as it wrote it, readable by it, and unreadable by the clinic.
fn no_takeover(s: &Server) {
    let (status, body) = s.post(Who::Hospital, "Bundle", &unit(HOSPITAL, "高知県高知市"));
    assert_eq!(status, 201, "{body}");
    let hospitals = s.own_patients(Who::Hospital, MEMBER_1);
    assert_eq!(hospitals.len(), 1);
    let pid = &hospitals[0];
    let (status, body) = s.post(Who::Clinic, "Bundle", &unit(CLINIC, "東京都千代田区"));
    assert_eq!(status, 201, "{body}");

    let (status, own) = s.get(Who::Hospital, &format!("Patient/{pid}"));
    assert_eq!(status, 200, "the hospital reads its own Patient: {own}");
    assert_eq!(own["meta"]["versionId"], "1", "{own}");
    assert_eq!(own["address"][0]["text"], "高知県高知市");
    assert_eq!(s.own_patients(Who::Hospital, MEMBER_1), hospitals);

    let clinics = s.own_patients(Who::Clinic, MEMBER_1);
    assert_eq!(clinics.len(), 1, "the clinic finds its own Patient only");
    assert_ne!(&clinics[0], pid);
    let (_, theirs) = s.get(Who::Clinic, &format!("Patient/{}", clinics[0]));
    assert_eq!(theirs["address"][0]["text"], "東京都千代田区");
    for path in [
        format!("Patient/{pid}"),
        format!("Patient/{pid}/_history/1"),
        format!("Patient/{pid}/_history"),
    ] {
        let (status, body) = s.get(Who::Clinic, &path);
        assert_ne!(status, 200, "the clinic reads {path}: {body}");
    }
    // The person sees both institutions' records of them.
    let (_, mine) = s.get(Who::Patient1, "Patient");
    let mut seen = common::ids(&mine);
    seen.sort();
    let mut both = vec![pid.clone(), clinics[0].clone()];
    both.sort();
    assert_eq!(seen, both, "{mine}");
    // So does their summary, through either Patient: each institution's unit of 4 results.
    for p in &both {
        let (status, summary) = s.get(Who::Patient1, &format!("Patient/{p}/$summary"));
        assert_eq!(status, 200, "{summary}");
        let results = summary["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Observation")
            .count();
        assert_eq!(results, 8, "{summary}");
    }
    // A re-send changes the sender's own Patient only.
    let (status, body) = s.post(Who::Clinic, "Bundle", &unit(CLINIC, "大阪府大阪市"));
    assert_eq!(status, 200, "{body}");
    let (_, own) = s.get(Who::Hospital, &format!("Patient/{pid}"));
    assert_eq!(own["meta"]["versionId"], "1", "{own}");
}

backend_test!(
    another_institutions_report_unit_does_not_take_over_a_patient,
    server,
    no_takeover
);

/// Finding 3: a Patient another institution posts with the member's identifier blocks
/// nothing: the hospital's units for that member keep registering, without a 412 revealing it.
fn no_decoy(s: &Server) {
    let (status, body) = s.post(Who::Hospital, "Bundle", &unit(HOSPITAL, "高知県高知市"));
    assert_eq!(status, 201, "{body}");
    for _ in 0..2 {
        s.create(Who::Clinic, &patient(MEMBER_1, "偽"));
    }
    let (status, body) = s.post(Who::Hospital, "Bundle", &unit(HOSPITAL, "高知県南国市"));
    assert_eq!(status, 200, "a re-send after the decoys: {body}");
    let mut other = unit(HOSPITAL, "高知県南国市");
    other["identifier"]["value"] = json!(format!("{HOSPITAL}^2024^0123-IDa-000000000002"));
    let (status, body) = s.post(Who::Hospital, "Bundle", &other);
    assert_eq!(status, 201, "a new unit after the decoys: {body}");
    let hospitals = s.own_patients(Who::Hospital, MEMBER_1);
    assert_eq!(
        hospitals.len(),
        1,
        "the hospital's one Patient of the member"
    );
    let (_, own) = s.get(Who::Hospital, &format!("Patient/{}", hospitals[0]));
    assert_eq!(own["address"][0]["text"], "高知県南国市");
    // The decoys are the clinic's own, unchanged.
    for id in s.own_patients(Who::Clinic, MEMBER_1) {
        let (_, decoy) = s.get(Who::Clinic, &format!("Patient/{id}"));
        assert_eq!(decoy["name"][0]["family"], "偽", "{decoy}");
        assert_eq!(decoy["meta"]["versionId"], "1");
    }
}

backend_test!(a_decoy_patient_does_not_block_submissions, server, no_decoy);
