//! The patient compartment over HTTP (issue #25): `Patient/{id}/[type]` and `Patient/{id}/*`
//! searches, and `Patient/{id}/$everything` with `_type`, `_since` and keyset paging — always
//! within the caller's scope, and audited.

use crate::common;

use std::collections::BTreeSet;

use common::hospitals::{MEMBER_1, MEMBER_2, Who};
use common::link;
use common::principals::{Principal, SignedIn};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const LOCAL: &str = "urn:kyoyu:test:lab";
const FLAGS: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

type Srv = SignedIn<Who>;

fn both(test: fn(&Srv)) {
    for backend in common::backends() {
        let everyone = [Who::HospitalA, Who::HospitalB, Who::Operator, Who::Patient1];
        // The compartment, not profiles, is under test here; the charts reference records
        // across institutions, which referential integrity refuses.
        let s = Srv::start(backend, &everyone, |a: &mut ConfigArgs| {
            a.validate_on_write = Some(false);
            a.referential_integrity = Some(false);
        });
        test(&s);
    }
}

/// One patient of A's with its data, and another patient's data beside it.
struct Chart {
    patient: String,
    other: String,
    practitioner: String,
    /// A's observations of `patient`: code `a`, then code `b` (performed by `practitioner`).
    obs_a: String,
    obs_b: String,
    condition: String,
    others_obs: String,
}

fn patient(s: &Srv, who: Who, member: &str) -> String {
    s.create(who, &common::hospitals::patient(member))
}

fn observation(patient: &str, code: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final",
           "code": {"coding": [{"system": LOCAL, "code": code}]},
           "subject": {"reference": format!("Patient/{patient}")}})
}

fn chart(s: &Srv) -> Chart {
    let patient_id = patient(s, Who::HospitalA, MEMBER_1);
    let other = patient(s, Who::HospitalA, MEMBER_2);
    let practitioner = s.create(
        Who::HospitalA,
        &json!({"resourceType": "Practitioner", "name": [{"family": "医師"}]}),
    );
    let obs_a = s.create(Who::HospitalA, &observation(&patient_id, "a"));
    let mut b = observation(&patient_id, "b");
    b["performer"] = json!([{"reference": format!("Practitioner/{practitioner}")}]);
    let obs_b = s.create(Who::HospitalA, &b);
    let condition = s.create(
        Who::HospitalA,
        &json!({"resourceType": "Condition", "code": {"text": "病名"},
                "subject": {"reference": format!("Patient/{patient_id}")}}),
    );
    let others_obs = s.create(Who::HospitalA, &observation(&other, "a"));
    Chart {
        patient: patient_id,
        other,
        practitioner,
        obs_a,
        obs_b,
        condition,
        others_obs,
    }
}

fn get_ok(s: &Srv, who: Who, path: &str) -> Value {
    let (status, body) = s.get(who, path);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// `Type/id` of the entries in `mode`.
fn entries(bundle: &Value, mode: &str) -> Vec<String> {
    common::entries_in_mode(bundle, mode)
}

fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

/// The path of a link of the test server, for `SignedIn::get`.
fn path_of<'a>(s: &Srv, url: &'a str) -> &'a str {
    url.strip_prefix(s.srv.base.as_str()).unwrap()
}

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[test]
fn compartment_search_by_type_applies_the_parameters_within_the_patient() {
    both(|s| {
        let c = chart(s);
        let p = &c.patient;
        let all = get_ok(s, Who::HospitalA, &format!("Patient/{p}/Observation"));
        assert_eq!(
            set(&entries(&all, "match")),
            set(&[
                format!("Observation/{}", c.obs_a),
                format!("Observation/{}", c.obs_b)
            ]),
            "{all}"
        );
        assert_eq!(all["total"], 2, "{all}");
        let coded = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/Observation?code=a"),
        );
        assert_eq!(
            entries(&coded, "match"),
            vec![format!("Observation/{}", c.obs_a)]
        );
        assert!(
            link(&coded, "self")
                .unwrap()
                .contains(&format!("/Patient/{p}/Observation?")),
            "{coded}"
        );

        // Paging keeps the compartment form; following `next` reaches the second one.
        let first = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/Observation?_count=1"),
        );
        let next = link(&first, "next").expect("a next link");
        assert!(
            next.contains(&format!("/Patient/{p}/Observation?")),
            "{next}"
        );
        let second = get_ok(s, Who::HospitalA, path_of(s, next));
        let mut seen = entries(&first, "match");
        seen.extend(entries(&second, "match"));
        assert_eq!(set(&seen), set(&entries(&all, "match")));

        // POST …/_search takes the parameters from the form body.
        let r = s
            .srv
            .client
            .post(s.srv.url(&format!("Patient/{p}/Observation/_search")))
            .bearer_auth(Who::HospitalA.token())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("code=b")
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let posted: Value = r.json().unwrap();
        assert_eq!(
            entries(&posted, "match"),
            vec![format!("Observation/{}", c.obs_b)]
        );

        // Another patient's compartment holds only theirs.
        let theirs = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{}/Observation", c.other),
        );
        assert_eq!(
            entries(&theirs, "match"),
            vec![format!("Observation/{}", c.others_obs)]
        );
    });
}

#[test]
fn the_star_searches_every_compartment_type_of_the_patient() {
    both(|s| {
        let c = chart(s);
        let all = get_ok(s, Who::HospitalA, &format!("Patient/{}/*", c.patient));
        assert_eq!(
            set(&entries(&all, "match")),
            set(&[
                format!("Patient/{}", c.patient),
                format!("Observation/{}", c.obs_a),
                format!("Observation/{}", c.obs_b),
                format!("Condition/{}", c.condition),
            ]),
            "{all}"
        );
        assert!(
            link(&all, "self")
                .unwrap()
                .contains(&format!("/Patient/{}/*", c.patient))
        );
        // The common parameters apply across types.
        let one = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{}/*?_id={}", c.patient, c.condition),
        );
        assert_eq!(
            entries(&one, "match"),
            vec![format!("Condition/{}", c.condition)]
        );
    });
}

#[test]
fn a_type_outside_the_compartment_is_refused_with_an_outcome() {
    both(|s| {
        let c = chart(s);
        let (status, outcome) = s.get(
            Who::HospitalA,
            &format!("Patient/{}/Practitioner", c.patient),
        );
        assert_eq!(status, 400, "{outcome}");
        let issue = common::first_issue(&outcome);
        assert!(
            issue["diagnostics"]
                .as_str()
                .unwrap_or_default()
                .contains("compartment")
                || issue["details"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("compartment"),
            "{outcome}"
        );
        // AuditEvent is in the compartment, but served from the trail: the answer says where.
        let (status, outcome) = s.get(Who::HospitalA, &format!("Patient/{}/AuditEvent", c.patient));
        assert_eq!(status, 400, "{outcome}");
        assert!(
            outcome.to_string().contains("AuditEvent?patient="),
            "{outcome}"
        );
        let (status, outcome) = s.get(Who::HospitalA, &format!("Patient/{}/NoSuchType", c.patient));
        assert!((400..500).contains(&status), "{status} {outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
    });
}

#[test]
fn another_institutions_patient_answers_as_a_missing_one() {
    both(|s| {
        let c = chart(s);
        let missing = "0f7e0000-0000-4000-8000-00000000dead";
        for suffix in ["Observation", "*", "$everything"] {
            let (status, refused) =
                s.get(Who::HospitalB, &format!("Patient/{}/{suffix}", c.patient));
            let (absent_status, absent) =
                s.get(Who::HospitalB, &format!("Patient/{missing}/{suffix}"));
            assert_eq!(absent_status, 404, "{suffix}: {absent}");
            assert_eq!(status, 404, "B searches A's patient, {suffix}: {refused}");
            assert_eq!(
                refused.to_string().replace(&c.patient, "<id>"),
                absent.to_string().replace(missing, "<id>"),
                "{suffix}"
            );
        }
        // B's own patient: A's observation about it is A's data, unconsented, so not shown.
        let mine = patient(s, Who::HospitalB, MEMBER_1);
        let own_obs = s.create(Who::HospitalB, &observation(&mine, "a"));
        s.create(Who::HospitalA, &observation(&mine, "a"));
        let found = get_ok(s, Who::HospitalB, &format!("Patient/{mine}/*"));
        assert_eq!(
            set(&entries(&found, "match")),
            set(&[format!("Patient/{mine}"), format!("Observation/{own_obs}")]),
            "{found}"
        );
        let everything = get_ok(s, Who::HospitalB, &format!("Patient/{mine}/$everything"));
        assert_eq!(
            set(&entries(&everything, "match")),
            set(&entries(&found, "match"))
        );
    });
}

#[test]
fn everything_returns_the_patient_its_compartment_and_what_it_points_at() {
    both(|s| {
        let c = chart(s);
        let p = &c.patient;
        let all = get_ok(s, Who::HospitalA, &format!("Patient/{p}/$everything"));
        assert_eq!(
            set(&entries(&all, "match")),
            set(&[
                format!("Patient/{p}"),
                format!("Observation/{}", c.obs_a),
                format!("Observation/{}", c.obs_b),
                format!("Condition/{}", c.condition),
            ]),
            "{all}"
        );
        assert_eq!(all["total"], 4, "{all}");
        assert_eq!(
            entries(&all, "include"),
            vec![format!("Practitioner/{}", c.practitioner)]
        );
        assert!(!all.to_string().contains(&c.others_obs), "{all}");

        // `_type` keeps only the types named; an include only when its type is named.
        let obs = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_type=Observation"),
        );
        assert_eq!(entries(&obs, "match").len(), 2, "{obs}");
        assert!(entries(&obs, "include").is_empty(), "{obs}");
        let with = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_type=Observation,Practitioner"),
        );
        assert_eq!(entries(&with, "include").len(), 1, "{with}");
        let (status, outcome) = s.get(
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_type=Nope"),
        );
        assert_eq!(status, 400, "{outcome}");
        assert_eq!(common::first_issue(&outcome)["expression"][0], "_type");

        // `_since`: what was updated at or after the instant.
        let (_, later) = s.get(Who::HospitalA, &format!("Condition/{}", c.condition));
        let since = later["meta"]["lastUpdated"].as_str().unwrap();
        let recent = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_since={}", encoded(since)),
        );
        assert_eq!(
            entries(&recent, "match"),
            vec![format!("Condition/{}", c.condition)]
        );
        let (status, _) = s.get(
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_since=yesterday"),
        );
        assert_eq!(status, 400);

        // POST with a Parameters body.
        let (status, posted) = s.post(
            Who::HospitalA,
            &format!("Patient/{p}/$everything"),
            &json!({"resourceType": "Parameters",
                    "parameter": [{"name": "_type", "valueString": "Condition"}]}),
        );
        assert_eq!(status, 200, "{posted}");
        assert_eq!(
            entries(&posted, "match"),
            vec![format!("Condition/{}", c.condition)]
        );
    });
}

#[test]
fn everything_pages_through_next_links_showing_each_resource_once() {
    both(|s| {
        let c = chart(s);
        let p = &c.patient;
        for n in 0..5 {
            s.create(Who::HospitalA, &observation(p, &format!("extra-{n}")));
        }
        let whole = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_count=100"),
        );
        let expected = entries(&whole, "match");
        assert_eq!(expected.len(), 9, "{whole}");

        let mut seen: Vec<String> = Vec::new();
        let mut page = get_ok(
            s,
            Who::HospitalA,
            &format!("Patient/{p}/$everything?_count=2"),
        );
        let mut added = None;
        let mut pages = 1;
        loop {
            let shown = entries(&page, "match");
            assert!(shown.len() <= 2, "{page}");
            seen.extend(shown);
            // A write between pages neither repeats nor hides what was there.
            if added.is_none() {
                added = Some(s.create(Who::HospitalA, &observation(p, "late")));
            }
            let Some(next) = link(&page, "next") else {
                break;
            };
            assert!(
                next.contains(&format!("/Patient/{p}/$everything?")),
                "{next}"
            );
            page = get_ok(s, Who::HospitalA, path_of(s, next));
            pages += 1;
            assert!(pages < 20, "paging never ends");
        }
        let unique = set(&seen);
        assert_eq!(unique.len(), seen.len(), "a resource shown twice: {seen:?}");
        let mut wanted = set(&expected);
        wanted.insert(format!("Observation/{}", added.unwrap()));
        assert_eq!(unique, wanted);
    });
}

#[test]
fn compartment_reads_are_audited_with_the_patient() {
    both(|s| {
        let c = chart(s);
        let p = &c.patient;
        get_ok(s, Who::HospitalA, &format!("Patient/{p}/$everything"));
        get_ok(s, Who::HospitalA, &format!("Patient/{p}/Condition"));
        let trail = get_ok(s, Who::Operator, "AuditEvent?_count=1000");
        let events: Vec<&Value> = trail["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|e| e["agent"][0]["who"]["display"] == Who::HospitalA.name().as_str())
            .collect();
        let references = |subtype: &str| -> BTreeSet<String> {
            let event = events
                .iter()
                .find(|e| e["subtype"][0]["code"] == subtype)
                .unwrap_or_else(|| panic!("no {subtype} event in {trail}"));
            event["entity"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["what"]["reference"].as_str().map(str::to_string))
                .collect()
        };
        let everything = references("$everything");
        for r in [
            format!("Patient/{p}"),
            format!("Observation/{}", c.obs_a),
            format!("Observation/{}", c.obs_b),
            format!("Condition/{}", c.condition),
            format!("Practitioner/{}", c.practitioner),
        ] {
            assert!(everything.contains(&r), "{r} not in {everything:?}");
        }
        let search = references("search-type");
        assert!(search.contains(&format!("Patient/{p}")), "{search:?}");
        assert!(
            search.contains(&format!("Condition/{}", c.condition)),
            "{search:?}"
        );
    });
}

#[test]
fn the_capability_statement_declares_the_compartment_and_everything() {
    both(|s| {
        let statement = get_ok(s, Who::HospitalA, "metadata");
        let rest = &statement["rest"][0];
        assert_eq!(
            rest["compartment"],
            json!(["http://hl7.org/fhir/CompartmentDefinition/patient"]),
            "{rest}"
        );
        let patient = rest["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "Patient")
            .unwrap();
        assert!(
            patient["operation"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["name"] == "everything"
                    && o["definition"]
                        == "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
            "{patient}"
        );
    });
}

#[test]
fn the_patient_sees_their_everything_without_hidden_conditions() {
    both(|s| {
        let c = chart(s);
        let p = &c.patient;
        let hidden = s.create(
            Who::HospitalA,
            &json!({"resourceType": "Condition", "code": {"text": "未告知の病名"},
                    "meta": {"tag": [{"system": FLAGS, "code": "UNINFORMED"}]},
                    "subject": {"reference": format!("Patient/{p}")}}),
        );
        let hidden = format!("Condition/{hidden}");
        let writer = get_ok(s, Who::HospitalA, &format!("Patient/{p}/$everything"));
        assert!(entries(&writer, "match").contains(&hidden), "{writer}");
        for path in [
            format!("Patient/{p}/$everything"),
            format!("Patient/{p}/Condition"),
        ] {
            let own = get_ok(s, Who::Patient1, &path);
            let shown = entries(&own, "match");
            assert!(!shown.contains(&hidden), "{path}: {own}");
            assert!(
                shown.contains(&format!("Condition/{}", c.condition)),
                "{path}: {own}"
            );
        }
        let own = get_ok(s, Who::Patient1, &format!("Patient/{p}/$everything"));
        assert_eq!(
            own["total"], 4,
            "the total counts only what the patient may see: {own}"
        );
        // Another person's compartment is not theirs to search.
        let (status, _) = s.get(Who::Patient1, &format!("Patient/{}/*", c.other));
        assert_eq!(status, 404);
    });
}
