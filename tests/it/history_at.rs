//! `_history` with `_at` over HTTP (issue #25): at instance, type and system level, each
//! search prefix, with `_since` and paging; and that `_at` never tells a caller when a version
//! it may not read was written.

use crate::common;

use std::sync::Arc;

use common::principals::{Principal, SignedIn};
use common::{Backend, Options, TestServer, first_issue, link};
use kyoyu::clock::FixedClock;
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000_000;
/// 2024-01-01T00:00:00Z.
const T0: i64 = 1_704_067_200_000_000;

fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if common::postgres_or_skip() {
        out.push(Backend::Postgres);
    }
    out
}

/// `hours` after T0 (and `minutes`), as an instant a query can carry.
fn at(hours: i64, minutes: i64) -> String {
    format!("2024-01-01T{hours:02}:{minutes:02}:00Z")
}

/// `Type/id/_history/version` of each entry, in order.
fn versions(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| {
                    let full = e["fullUrl"].as_str().unwrap();
                    let tail: Vec<&str> = full.rsplit('/').take(2).collect();
                    let etag = e["response"]["etag"].as_str().unwrap();
                    let v = etag.trim_start_matches("W/").trim_matches('"');
                    format!("{}/{}/{v}", tail[1], tail[0])
                })
                .collect()
        })
        .unwrap_or_default()
}

fn history(srv: &TestServer, path: &str) -> Vec<String> {
    let bundle = srv.search(path);
    let found = versions(&bundle);
    assert_eq!(bundle["total"], found.len(), "{path}: {bundle}");
    found
}

/// p1: created at T0, updated at T0+1h and T0+2h, deleted at T0+3h; p2 created at T0+1h30.
fn server(backend: Backend) -> TestServer {
    let clock = Arc::new(FixedClock::at_micros(T0));
    let srv = TestServer::start_with(
        backend,
        Options {
            clock: Some(clock.clone()),
            ..Options::default()
        },
    );
    let patient =
        |family: &str| json!({"resourceType": "Patient", "id": "p1", "name": [{"family": family}]});
    srv.put_resource(&patient("one"));
    clock.set_micros(T0 + HOUR);
    srv.put_resource(&patient("two"));
    clock.set_micros(T0 + HOUR + HOUR / 2);
    srv.put_resource(&json!({"resourceType": "Patient", "id": "p2"}));
    clock.set_micros(T0 + 2 * HOUR);
    srv.put_resource(&patient("three"));
    clock.set_micros(T0 + 3 * HOUR);
    assert_eq!(srv.delete("Patient/p1").status(), 204);
    clock.set_micros(T0 + 4 * HOUR);
    srv
}

#[test]
fn at_selects_the_versions_current_then_with_every_prefix() {
    for backend in backends() {
        let srv = server(backend);
        let p1 =
            |v: &[u32]| -> Vec<String> { v.iter().map(|v| format!("Patient/p1/{v}")).collect() };
        let instance = |q: &str| history(&srv, &format!("Patient/p1/_history?{q}"));
        assert_eq!(instance(&format!("_at={}", at(0, 30))), p1(&[1]));
        // An instant at second precision is that second: version 2 began in it.
        assert_eq!(instance(&format!("_at={}", at(1, 0))), p1(&[2]));
        assert_eq!(instance(&format!("_at={}", at(2, 59))), p1(&[3]));
        // Deleted since: the deletion is the version current.
        assert_eq!(instance(&format!("_at={}", at(3, 30))), p1(&[4]));
        // A day: every version current some time in it (the server's zone is +09:00).
        assert_eq!(instance("_at=2024-01-01"), p1(&[4, 3, 2, 1]));
        assert_eq!(instance(&format!("_at=ge{}", at(2, 0))), p1(&[4, 3]));
        assert_eq!(instance(&format!("_at=gt{}", at(2, 0))), p1(&[4, 3]));
        assert_eq!(instance(&format!("_at=lt{}", at(1, 0))), p1(&[1]));
        assert_eq!(instance(&format!("_at=le{}", at(1, 0))), p1(&[2, 1]));
        assert_eq!(instance(&format!("_at=sa{}", at(1, 0))), p1(&[4, 3]));
        assert_eq!(instance(&format!("_at=eb{}", at(2, 0))), p1(&[2, 1]));
        assert_eq!(instance(&format!("_at=ne{}", at(1, 30))), p1(&[4, 3, 2, 1]));
        // Two `_at` are both met; `_since` narrows further.
        assert_eq!(
            instance(&format!("_at=ge{}&_at=le{}", at(1, 30), at(2, 30))),
            p1(&[3, 2])
        );
        assert_eq!(
            instance(&format!("_at=2024-01-01&_since={}", at(2, 0))),
            p1(&[4, 3])
        );
        // Before the resource existed: an empty history, not an unknown resource.
        assert!(instance("_at=2023").is_empty());
        assert_eq!(srv.get("Patient/nope/_history?_at=2024").status(), 404);

        // Type and system level.
        let then = format!("_at={}", at(1, 45));
        assert_eq!(
            history(&srv, &format!("Patient/_history?{then}")),
            ["Patient/p2/1", "Patient/p1/2"]
        );
        assert_eq!(
            history(&srv, &format!("_history?{then}")),
            ["Patient/p2/1", "Patient/p1/2"]
        );
        assert_eq!(
            history(&srv, &format!("_history?_at=lt{}", at(1, 0))),
            ["Patient/p1/1"]
        );

        // Pages keep `_at`.
        let first = srv.search("Patient/p1/_history?_at=2024-01-01&_count=3");
        assert_eq!(versions(&first), p1(&[4, 3, 2]));
        assert_eq!(first["total"], 4);
        let next = link(&first, "next").unwrap();
        assert!(next.contains("_at=2024-01-01"), "{next}");
        let second: Value = srv.client.get(next).send().unwrap().json().unwrap();
        assert_eq!(versions(&second), p1(&[1]));

        // Refused values name `_at`.
        for bad in ["ap2024-01-01", "yesterday", "2024-13"] {
            let r = srv.get(&format!("Patient/p1/_history?_at={bad}"));
            assert_eq!(r.status(), 400, "{bad}");
            let body: Value = r.json().unwrap();
            assert_eq!(first_issue(&body)["expression"][0], "_at", "{bad}: {body}");
        }
    }
}

const HOSPITAL: &str = "1318814790";
const OTHER: &str = "2712345678";
const MEMBER_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
const MEMBER: &str = "00012345:あいう:１８７:01";
const CONSENT_CATEGORY: &str = "urn:kyoyu:CodeSystem:consent-category";

#[derive(Debug, Clone, Copy)]
enum Who {
    Hospital,
    Other,
}

impl Principal for Who {
    fn grant(self) -> String {
        match self {
            Who::Hospital => format!("role = \"system\"\ninstitution = \"{HOSPITAL}\""),
            Who::Other => format!("role = \"system\"\ninstitution = \"{OTHER}\""),
        }
    }
}

/// The hospital's lab result becomes an infection result in its second version: another
/// institution whose consent covers labs only reads the first version and not the second.
/// To it the first lasts on: `_at` after the second was written still finds the first, so
/// no probe of `_at` tells when the version it may not read was written.
#[test]
fn at_never_dates_a_version_the_caller_may_not_read() {
    for backend in backends() {
        let s = SignedIn::<Who>::start(
            backend,
            &[Who::Hospital, Who::Other],
            |a: &mut ConfigArgs| {
                a.validate_on_write = Some(false);
                a.referential_integrity = Some(false);
            },
        );
        let pid = s.create(
            Who::Hospital,
            &json!({"resourceType": "Patient",
                "identifier": [{"system": MEMBER_SYSTEM, "value": MEMBER}], "name": [{"family": "山田"}]}),
        );
        let observation = |system: &str| {
            json!({"resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"coding": [{"system": system, "code": "x"}]},
                "subject": {"reference": format!("Patient/{pid}")}})
        };
        let (status, body) = s.put(
            Who::Hospital,
            "Observation/o1",
            &observation("http://loinc.org"),
        );
        assert_eq!(status, 201, "{body}");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let infection = "http://jpfhir.jp/fhir/eCS/CodeSystem/JP_InfectionLabo_CS";
        let (status, body) = s.put(Who::Hospital, "Observation/o1", &observation(infection));
        assert_eq!(status, 200, "{body}");
        let second_at = body["meta"]["lastUpdated"].as_str().unwrap().to_string();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let consent = json!({"resourceType": "Consent", "id": "consent-other", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": CONSENT_CATEGORY, "code": "allergies-labs-prescriptions"}]}],
            "patient": {"reference": format!("Patient/{pid}")},
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
            "provision": {"period": {"start": "2020-01-01"}}});
        let (status, body) = s.put(Who::Other, "Consent/consent-other", &consent);
        assert!(status == 200 || status == 201, "{body}");

        let (status, all) = s.get(Who::Other, "Observation/o1/_history");
        assert_eq!(status, 200, "{all}");
        assert_eq!(versions(&all), ["Observation/o1/1"], "{all}");
        let now = "2999-01-01T00:00:00Z";
        for q in [
            format!("_at={now}"),
            format!("_at=ge{second_at}"),
            format!("_at=gt{second_at}"),
        ] {
            let (status, bundle) = s.get(
                Who::Other,
                &format!("Observation/o1/_history?{}", q.replace('+', "%2B")),
            );
            assert_eq!(status, 200, "{q}: {bundle}");
            assert_eq!(versions(&bundle), ["Observation/o1/1"], "{q}: {bundle}");
        }
        // The writer sees both, and the first ended when the second began.
        let (_, bundle) = s.get(Who::Hospital, &format!("Observation/o1/_history?_at={now}"));
        assert_eq!(versions(&bundle), ["Observation/o1/2"], "{bundle}");
    }
}
