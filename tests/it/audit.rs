//! The audit guarantees (DESIGN §9, issue #20 items 4–6): a patient's trail shows only what the
//! patient may read; a request whose audit record cannot be stored fails (503) and answers
//! nothing it read; every request of an authenticated caller leaves a record naming what it
//! touched, refused ones included.

use crate::common;

use common::Backend;
use common::hospitals::{A, B, MEMBER_1, MEMBER_2, MEMBER_SYSTEM};
use common::metrics::{sample, scrape};
use common::principals::{Principal, SignedIn, grant};
use diesel::{Connection, RunQueryDsl};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

#[derive(Debug, Clone, Copy)]
enum Who {
    HospitalA,
    HospitalB,
    /// A practitioner of B without the emergency permission.
    DoctorB,
    Patient1,
    Operator,
}

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::HospitalA => grant::institution(A),
            Who::HospitalB => grant::institution(B),
            Who::DoctorB => format!("role = \"practitioner\"\ninstitution = \"{B}\""),
            Who::Patient1 => grant::patient(MEMBER_SYSTEM, MEMBER_1),
            Who::Operator => grant::operator(),
        }
    }

    /// A principal's name as the trail would show it: never to a patient.
    fn name(self) -> String {
        format!("{self:?}-name")
    }
}

type Audited = SignedIn<Who>;

fn server(backend: Backend) -> Audited {
    let everyone = [
        Who::HospitalA,
        Who::HospitalB,
        Who::DoctorB,
        Who::Patient1,
        Who::Operator,
    ];
    // The audit, not profiles, is under test here.
    Audited::start(backend, &everyone, |a: &mut ConfigArgs| {
        a.validate_on_write = Some(false);
        a.metrics = Some(true);
    })
}

/// Runs `test` on SQLite, and on PostgreSQL when KYOYU_TEST_DATABASE_URL is set.
fn both(test: fn(&Audited)) {
    for backend in common::backends() {
        test(&server(backend));
    }
}

impl Audited {
    fn patient(&self, who: Who, member: &str) -> String {
        self.create(who, &common::hospitals::patient(member))
    }

    /// The whole trail as the operator sees it, newest first.
    fn operator_trail(&self) -> Vec<Value> {
        self.trail(Who::Operator, "_count=1000")
    }
}

fn resources(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|x| x["resource"].clone()).collect())
        .unwrap_or_default()
}

fn condition(patient: &str, flag: Option<&str>) -> Value {
    let mut c = json!({"resourceType": "Condition", "code": {"text": "病名"},
                       "subject": {"reference": format!("Patient/{patient}")}});
    if let Some(flag) = flag {
        c["meta"] = json!({"tag": [{"system": FLAGS, "code": flag}]});
    }
    c
}

fn observation(patient: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final", "code": {"text": "HbA1c"},
           "subject": {"reference": format!("Patient/{patient}")},
           "valueString": "secret-value-6.1"})
}

/// The events of `who`'s requests with `subtype`, as the operator sees them.
fn events_by<'a>(trail: &'a [Value], who: Who, subtype: &str) -> Vec<&'a Value> {
    trail
        .iter()
        .filter(|e| e["agent"][0]["who"]["display"] == who.name().as_str())
        .filter(|e| e["subtype"][0]["code"] == subtype)
        .collect()
}

fn references(event: &Value) -> Vec<String> {
    event["entity"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter_map(|e| e["what"]["reference"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn trail_shows_only_what_the_patient_may_read(s: &Audited) {
    let p1 = s.patient(Who::HospitalA, MEMBER_1);
    let p2 = s.patient(Who::HospitalA, MEMBER_2);
    let own = s.create(Who::HospitalA, &observation(&p1));
    let others = s.create(Who::HospitalA, &observation(&p2));
    let uninformed = s.create(Who::HospitalA, &condition(&p1, Some("UNINFORMED")));
    let undelivered = s.create(Who::HospitalA, &condition(&p1, Some("UNDELIVERED")));
    // One search page covering both patients; reads of the hidden conditions; another
    // institution's refused read of patient 1's data.
    let (status, page) = s.get(Who::HospitalA, "Observation?_count=100");
    assert_eq!(status, 200);
    assert_eq!(page["total"], 2, "{page}");
    for id in [&uninformed, &undelivered] {
        assert_eq!(s.get(Who::HospitalA, &format!("Condition/{id}")).0, 200);
    }
    assert_eq!(s.get(Who::HospitalB, &format!("Observation/{own}")).0, 404);

    let (status, bundle) = s.get(Who::Patient1, "AuditEvent?_count=1000");
    assert_eq!(status, 200, "{bundle}");
    let shown = resources(&bundle);
    assert_eq!(
        bundle["total"],
        shown.len(),
        "the total counts what is shown"
    );
    let text = serde_json::to_string(&shown).unwrap();
    for hidden in [&p2, &others, &uninformed, &undelivered] {
        assert!(!text.contains(hidden.as_str()), "{hidden} shown: {text}");
    }
    for who in [Who::HospitalA, Who::HospitalB, Who::Operator] {
        assert!(!text.contains(&who.name()), "{who:?} named: {text}");
    }
    for number in [A, B] {
        assert!(!text.contains(number), "institution {number} shown: {text}");
    }
    // What the patient may read is listed; the rest is "another record", agents by role.
    let search = shown
        .iter()
        .find(|e| e["subtype"][0]["code"] == "search-type" && e["action"] == "R")
        .expect("the search page that listed the patient's data");
    let listed = references(search);
    assert!(listed.contains(&format!("Observation/{own}")), "{search}");
    assert!(listed.contains(&format!("Patient/{p1}")), "{search}");
    assert!(
        search["entity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["description"] == "another record"),
        "{search}"
    );
    assert!(search["agent"][0]["who"].is_null(), "{search}");
    assert_eq!(search["agent"][0]["role"][0]["text"], "system");
    let hidden_reads = shown
        .iter()
        .filter(|e| e["subtype"][0]["code"] == "read" && references(e).len() == 1)
        .filter(|e| references(e)[0] == format!("Patient/{p1}"))
        .count();
    assert!(
        hidden_reads >= 2,
        "the reads of hidden conditions are shown without their ids: {text}"
    );
    let refused = shown
        .iter()
        .find(|e| e["outcome"] == "4")
        .expect("the refused read");
    assert!(refused["agent"][0]["who"].is_null(), "{refused}");
    // One event read alone is shown as in the search.
    let one = search["id"].as_str().unwrap();
    let (status, alone) = s.get(Who::Patient1, &format!("AuditEvent/{one}"));
    assert_eq!(status, 200, "{alone}");
    assert_eq!(&alone, search);
    // Pages add up to the whole trail, with the same total.
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let (status, page) = s.get(
            Who::Patient1,
            &format!("AuditEvent?_count=2&_offset={offset}"),
        );
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], bundle["total"], "{page}");
        let got = resources(&page);
        if got.is_empty() {
            break;
        }
        offset += got.len();
        paged.extend(got);
    }
    assert_eq!(paged, shown);
    // The operator still sees everything.
    let full = s.operator_trail();
    let full = events_by(&full, Who::HospitalA, "search-type");
    assert!(
        full.iter()
            .any(|e| references(e).contains(&format!("Observation/{others}")))
    );
}

#[test]
fn a_patients_trail_shows_only_what_the_patient_may_read() {
    both(trail_shows_only_what_the_patient_may_read);
}

/// Makes every insert into the audit trail fail, as a full disk would, or lets it succeed again.
fn break_audit_storage(s: &Audited, broken: bool) {
    let statements: &[&str] = if broken {
        match s.srv.backend {
            Backend::Sqlite => &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"],
            Backend::Postgres => &[
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS \
                 $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ \
                 LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
        }
    } else {
        match s.srv.backend {
            Backend::Sqlite => &["DROP TRIGGER refuse_audit"],
            Backend::Postgres => &["DROP TRIGGER refuse_audit ON audit_events"],
        }
    };
    match s.srv.backend {
        // Reads are recorded in the audit file, changes with the change in the clinical file.
        Backend::Sqlite => {
            for file in [s.srv.db.url.clone(), format!("{}-audit", s.srv.db.url)] {
                assert!(std::path::Path::new(&file).exists(), "{file}");
                let mut c = diesel::sqlite::SqliteConnection::establish(&file).unwrap();
                diesel::sql_query("PRAGMA busy_timeout = 10000")
                    .execute(&mut c)
                    .unwrap();
                for sql in statements {
                    diesel::sql_query(*sql).execute(&mut c).unwrap();
                }
            }
        }
        Backend::Postgres => {
            let mut c = diesel::pg::PgConnection::establish(&s.srv.db.url).unwrap();
            for sql in statements {
                diesel::sql_query(*sql).execute(&mut c).unwrap();
            }
        }
    }
}

fn assert_refused_unaudited(status: u16, body: &Value, secrets: &[&str]) {
    assert_eq!(status, 503, "{body}");
    let issue = common::first_issue(body);
    assert_eq!(issue["code"], "transient", "{body}");
    assert!(
        issue["diagnostics"]
            .as_str()
            .unwrap_or_default()
            .contains("audit record")
            || body.to_string().contains("audit record"),
        "{body}"
    );
    for secret in secrets {
        assert!(!body.to_string().contains(secret), "{secret} in {body}");
    }
}

fn fails_closed(s: &Audited) {
    let p1 = s.patient(Who::HospitalA, MEMBER_1);
    let obs = s.create(Who::HospitalA, &observation(&p1));
    let failures = "kyoyu_audit_write_failures_total";
    let failed_before = sample(&scrape(&s.srv), failures);
    break_audit_storage(s, true);
    // A read, a search, a change and a refusal: none is answered unaudited.
    let (status, body) = s.get(Who::HospitalA, &format!("Observation/{obs}"));
    assert_refused_unaudited(status, &body, &[&obs, "secret-value"]);
    let (status, body) = s.get(Who::HospitalA, &format!("Observation?patient={p1}"));
    assert_refused_unaudited(status, &body, &[&obs, "secret-value"]);
    let (status, body) = s.send(
        Who::HospitalA,
        reqwest::Method::POST,
        "Condition",
        Some(&condition(&p1, None)),
        &[],
    );
    assert_refused_unaudited(status, &body, &[]);
    let (status, body) = s.get(Who::HospitalB, &format!("Observation/{obs}"));
    assert_refused_unaudited(status, &body, &["secret-value"]);
    // The operator sees the failures: the read, the search and the refusal at least.
    assert!(sample(&scrape(&s.srv), failures) - failed_before >= 3.0);
    break_audit_storage(s, false);
    // The change was not kept; the server works again once its audit can be stored.
    let (status, found) = s.get(Who::HospitalA, &format!("Condition?patient={p1}"));
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["total"], 0,
        "a change whose record failed is undone: {found}"
    );
    let (status, read) = s.get(Who::HospitalA, &format!("Observation/{obs}"));
    assert_eq!(status, 200, "{read}");
    let trail = s.operator_trail();
    assert!(
        events_by(&trail, Who::HospitalA, "read")
            .iter()
            .any(|e| references(e).contains(&format!("Observation/{obs}"))),
        "the read answered is recorded"
    );
}

#[test]
fn a_request_whose_audit_record_cannot_be_stored_fails_with_503() {
    both(fails_closed);
}

fn leaves_no_gaps(s: &Audited) {
    let p1 = s.patient(Who::HospitalA, MEMBER_1);
    let obs = s.create(Who::HospitalA, &observation(&p1));
    let doomed = s.create(Who::HospitalA, &condition(&p1, None));
    // A refused emergency declaration (no permission) names the resource it asked for.
    let (status, _) = s.send(
        Who::DoctorB,
        reqwest::Method::GET,
        &format!("Observation/{obs}"),
        None,
        &[
            ("X-Emergency-Reason", "unconscious"),
            ("X-Emergency-2FA", "totp"),
        ],
    );
    assert_eq!(status, 403);
    // A successful DELETE.
    let (status, _) = s.send(
        Who::HospitalA,
        reqwest::Method::DELETE,
        &format!("Condition/{doomed}"),
        None,
        &[],
    );
    assert_eq!(status, 204);
    // A DELETE as a transaction's entry, beside a create.
    let doomed_in_tx = s.create(Who::HospitalA, &condition(&p1, None));
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": format!("Condition/{doomed_in_tx}")}},
        {"resource": condition(&p1, None), "request": {"method": "POST", "url": "Condition"}}]});
    let (status, answer) = s.send(Who::HospitalA, reqwest::Method::POST, "", Some(&tx), &[]);
    assert_eq!(status, 200, "{answer}");
    // An unknown route, a method not allowed, a 404 and a 403 refusal.
    assert_eq!(s.get(Who::HospitalB, "Observation/x/y/z/w").0, 404);
    let (status, _) = s.send(
        Who::HospitalB,
        reqwest::Method::POST,
        &format!("Observation/{obs}"),
        None,
        &[],
    );
    assert_eq!(status, 405);
    assert_eq!(s.get(Who::HospitalB, &format!("Observation/{obs}")).0, 404);
    assert_eq!(s.get(Who::HospitalB, "AuditEvent").0, 403);
    // The same refused read as a batch entry: each entry is a request of its own.
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Observation/{obs}")}}]});
    let (status, answer) = s.send(Who::HospitalB, reqwest::Method::POST, "", Some(&batch), &[]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["entry"][0]["response"]["status"], "404 Not Found",
        "{answer}"
    );
    // A successful $validate of a submitted resource: no interaction records it itself.
    let (status, body) = s.send(
        Who::HospitalA,
        reqwest::Method::POST,
        "Observation/$validate",
        Some(&observation(&p1)),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    // A trail read.
    let (status, _) = s.get(Who::Patient1, "AuditEvent");
    assert_eq!(status, 200);

    let trail = s.operator_trail();
    let target = format!("Observation/{obs}");
    let emergency: Vec<&Value> = trail
        .iter()
        .filter(|e| e["agent"][0]["who"]["display"] == Who::DoctorB.name().as_str())
        .filter(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT")
        .collect();
    assert_eq!(emergency.len(), 1, "the refused emergency declaration");
    assert_eq!(emergency[0]["outcome"], "4");
    assert!(references(emergency[0]).contains(&target));
    let deleted = events_by(&trail, Who::HospitalA, "delete");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["outcome"], "0");
    let refs = references(deleted[0]);
    assert!(refs.contains(&format!("Condition/{doomed}")), "{refs:?}");
    assert!(refs.contains(&format!("Patient/{p1}")), "{refs:?}");
    // The transaction names what it deleted as the DELETE does, and what it created.
    let transactions = events_by(&trail, Who::HospitalA, "transaction");
    assert_eq!(transactions.len(), 1, "{trail:?}");
    let refs = references(transactions[0]);
    assert!(
        refs.contains(&format!("Condition/{doomed_in_tx}")),
        "the deletion: {refs:?}"
    );
    assert!(refs.contains(&format!("Patient/{p1}")), "{refs:?}");
    let conditions = refs.iter().filter(|r| r.starts_with("Condition/")).count();
    assert_eq!(conditions, 2, "the deletion and the create: {refs:?}");
    let by_b: Vec<&Value> = trail
        .iter()
        .filter(|e| e["agent"][0]["who"]["display"] == Who::HospitalB.name().as_str())
        .collect();
    let detail = |e: &&Value| e["outcomeDesc"].as_str().unwrap_or_default().to_string();
    assert!(
        by_b.iter()
            .any(|e| detail(e).starts_with("HTTP 404") && e["entity"].is_null()),
        "the unknown route: {by_b:?}"
    );
    assert!(
        by_b.iter()
            .any(|e| detail(e).starts_with("HTTP 405") && references(e).contains(&target)),
        "the method not allowed names its target: {by_b:?}"
    );
    let refused_reads = by_b
        .iter()
        .filter(|e| e["subtype"][0]["code"] == "read")
        .filter(|e| detail(e).starts_with("HTTP 404") && references(e).contains(&target))
        .count();
    assert_eq!(
        refused_reads, 2,
        "the refused read, alone and in a batch: {by_b:?}"
    );
    assert!(
        by_b.iter().any(|e| detail(e).starts_with("HTTP 403")),
        "the refused trail read: {by_b:?}"
    );
    let validated = events_by(&trail, Who::HospitalA, "$validate");
    assert!(
        validated
            .iter()
            .any(|e| e["outcome"] == "0" && e["entity"][0]["type"]["code"] == "Observation"),
        "{validated:?}"
    );
    let trail_reads = events_by(&trail, Who::Patient1, "search-type");
    assert!(
        trail_reads
            .iter()
            .any(|e| e["outcome"] == "0" && e["entity"][0]["type"]["code"] == "AuditEvent"),
        "{trail_reads:?}"
    );
    // The operator's own trail read before this one is recorded too.
    let (status, again) = s.get(Who::Operator, "AuditEvent?_count=1000");
    assert_eq!(status, 200);
    assert!(
        !events_by(&resources(&again), Who::Operator, "search-type").is_empty(),
        "the operator's trail read"
    );
}

#[test]
fn every_request_of_an_authenticated_caller_is_recorded() {
    both(leaves_no_gaps);
}

/// A document's cancel and a report unit's delete purge the Bundle and what was extracted from
/// it; the record names each, with the patient concerned (DESIGN §9: every write auditable).
fn removals_name_what_they_removed(s: &Audited) {
    let named = |subtype: &str| -> (Vec<String>, bool) {
        let trail = s.operator_trail();
        let events = events_by(&trail, Who::HospitalA, subtype);
        assert_eq!(events.len(), 1, "{subtype}: {trail:?}");
        let patients = events[0]["entity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["role"]["code"] == "1");
        (references(events[0]), patients)
    };
    let removed = |outcome: &Value| -> usize {
        let text = outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or_default();
        text.split_whitespace()
            .find_map(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no count in {outcome}"))
    };

    let (status, stored) = s.post(Who::HospitalA, "Bundle", &common::documents::referral());
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().unwrap();
    let (status, outcome) = s.send(
        Who::HospitalA,
        reqwest::Method::DELETE,
        &format!("Bundle/{id}"),
        None,
        &[],
    );
    assert_eq!(status, 200, "{outcome}");
    let (refs, patients) = named("cancel-document");
    assert!(refs.contains(&format!("Bundle/{id}")), "{refs:?}");
    let extracted = removed(&outcome);
    assert!(extracted > 0, "{outcome}");
    let others: Vec<&String> = refs
        .iter()
        .filter(|r| *r != &format!("Bundle/{id}") && !r.starts_with("Patient/"))
        .collect();
    assert_eq!(others.len(), extracted, "{refs:?} {outcome}");
    assert!(patients, "the patient concerned is named: {refs:?}");

    let unit: Value = serde_json::from_str(
        &std::fs::read_to_string(common::shared_data(
            "examples/clins/Bundle-Bundle-CLINS-Observations-Example-01.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let (status, stored) = s.post(Who::HospitalA, "Bundle", &unit);
    assert_eq!(status, 201, "{stored}");
    let id = stored["id"].as_str().unwrap();
    let bundle_id = unit["identifier"]["value"].as_str().unwrap();
    let (status, outcome) = s.send(
        Who::HospitalA,
        reqwest::Method::DELETE,
        &format!("Bundle?identifier={}", common::documents::enc(bundle_id)),
        None,
        &[],
    );
    assert_eq!(status, 200, "{outcome}");
    let (refs, patients) = named("delete-report-unit");
    assert!(refs.contains(&format!("Bundle/{id}")), "{refs:?}");
    let observations = refs
        .iter()
        .filter(|r| r.starts_with("Observation/"))
        .count();
    assert!(observations > 0, "{refs:?} {outcome}");
    assert!(patients, "the patient concerned is named: {refs:?}");
}

#[test]
fn removals_of_submissions_name_what_they_removed() {
    common::require_shared_data();
    both(removals_name_what_they_removed);
}

/// A Questionnaire stored by another institution, read to validate B's QuestionnaireResponse
/// against it: forms are outside every patient compartment, so every caller may read them
/// (DESIGN §9), and the read is in B's trail like any other.
#[test]
fn a_stored_questionnaire_read_to_validate_a_response_is_in_the_trail() {
    both(|s| {
        let url = "http://kyoyu.test/Questionnaire/smoking";
        let q = s.create(
            Who::HospitalA,
            &json!({"resourceType": "Questionnaire", "url": url, "status": "active",
                    "item": [{"linkId": "smoker", "type": "boolean", "text": "smoker"}]}),
        );
        let qr = json!({"resourceType": "QuestionnaireResponse", "questionnaire": url,
                        "status": "completed",
                        "item": [{"linkId": "smoker", "text": "smoker",
                                  "answer": [{"valueString": "yes"}]}]});
        let (status, outcome) = s.post(Who::HospitalB, "QuestionnaireResponse/$validate", &qr);
        assert_eq!(status, 200, "{outcome}");
        let at = "QuestionnaireResponse.item[0].answer[0].valueString";
        assert!(
            outcome["issue"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["severity"] == "error" && i["expression"][0] == at),
            "{outcome}"
        );
        let trail = s.operator_trail();
        let reads = events_by(&trail, Who::HospitalB, "read");
        let wanted = format!("Questionnaire/{q}");
        assert!(
            reads.iter().any(|e| references(e).contains(&wanted)),
            "{trail:#?}"
        );
    });
}
