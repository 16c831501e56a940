//! The insurer (保険者) and the patient's self-service, end to end (DESIGN §9, issue #21): an
//! insurer reads the checkup reports of the persons it insures (by the member identifier's insurer
//! number or a Coverage payor) and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::documents::{MEMBER_ID, checkup, minimal_referral};
use common::{Backend, Options, TestServer};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

/// The checkup institution (the checkup fixture's sender).
const CHECKUP_CENTRE: &str = "1311234567";
/// The referral fixture's sender.
const HOSPITAL: &str = "1318814790";
/// The insurer of the checkup fixture's patient (`06123456:記号:番号:01`).
const INSURER: &str = "06123456";
/// The insurer of the referral fixture's patient (`00012345:記号:番号:01`).
const REFERRAL_INSURER: &str = "00012345";
const INSURER_SYSTEM: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    CheckupCentre,
    Hospital,
    Insurer,
    ReferralInsurer,
    Patient,
}

fn token(who: Who) -> String {
    format!("{who:?}-token-0123456789abcdef0123456789")
}

fn principals() -> String {
    [
        (
            Who::CheckupCentre,
            format!("role = \"system\"\ninstitution = \"{CHECKUP_CENTRE}\""),
        ),
        (
            Who::Hospital,
            format!("role = \"system\"\ninstitution = \"{HOSPITAL}\""),
        ),
        (
            Who::Insurer,
            format!("role = \"insurer\"\ninsurer = \"{INSURER}\""),
        ),
        (
            Who::ReferralInsurer,
            format!("role = \"insurer\"\ninsurer = \"{REFERRAL_INSURER}\""),
        ),
        (
            Who::Patient,
            format!("role = \"patient\"\npatient = \"{MEMBER_ID}|06123456:記号:番号:01\""),
        ),
    ]
    .iter()
    .map(|(who, body)| {
        format!(
            "[[principal]]\nname = \"{who:?}\"\ntoken = \"{}\"\n{body}\n\n",
            token(*who)
        )
    })
    .collect()
}

struct Server {
    srv: TestServer,
    _dir: tempfile::TempDir,
}

fn server(backend: Backend) -> Server {
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
    Server { srv, _dir: dir }
}

impl Server {
    fn send(
        &self,
        who: Who,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .srv
            .client
            .request(method, self.srv.url(path))
            .bearer_auth(token(who));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/fhir+json")
                .body(b.to_string());
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn get(&self, who: Who, path: &str) -> (u16, Value) {
        self.send(who, reqwest::Method::GET, path, None)
    }

    fn post(&self, who: Who, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, reqwest::Method::POST, path, Some(body))
    }

    fn put(&self, who: Who, path: &str, body: &Value) -> (u16, Value) {
        self.send(who, reqwest::Method::PUT, path, Some(body))
    }

    /// Registers a document, asserting 201, and returns its Bundle id.
    fn register(&self, who: Who, doc: &Value) -> String {
        let (status, body) = self.post(who, "Bundle", doc);
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
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

/// One test body on SQLite, and on PostgreSQL when KYOYU_TEST_DATABASE_URL is set, each on a
/// server with this file's principals.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn sqlite() {
                ($body)(&server(Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                if !common::postgres_available() {
                    eprintln!("KYOYU_TEST_DATABASE_URL not set: PostgreSQL variant skipped");
                    return;
                }
                ($body)(&server(Backend::Postgres));
            }
        }
    };
}

both!(
    an_insurer_reads_the_checkup_reports_of_its_insured_and_nothing_else,
    |s: &Server| {
        let own = s.register(Who::CheckupCentre, &checkup());
        let by_coverage = s.register(
            Who::CheckupCentre,
            &checkup_of(2, "22222222:記号:番号:01", Some(INSURER)),
        );
        let other = s.register(
            Who::CheckupCentre,
            &checkup_of(3, "11111111:記号:番号:01", None),
        );
        let condition = json!({"resourceType": "Condition",
            "identifier": [{"system": common::documents::RESOURCE_ID, "value": "ins-c1"}],
            "code": {"text": "高血圧症"}});
        let referral = s.register(
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
