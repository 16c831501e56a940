//! System-level search (`GET [base]?_type=…`, `POST [base]/_search`) and `_list` over HTTP
//! (issue #25): which parameters apply across types and which answer 400, paging through the
//! next links, includes, and that neither a search of several types nor a List shows what the
//! caller may not read, while what it shows is audited.

use crate::common;

use common::hospitals::{MEMBER_1, Who};
use common::principals::SignedIn;
use common::{Backend, TestServer, first_issue, link};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

fn reference(to: &str) -> Value {
    json!({ "reference": to })
}

/// Two patients, pat-1 with two observations and a condition, pat-2 with a condition, and an
/// Organization.
fn records(srv: &TestServer) {
    for id in ["pat-1", "pat-2"] {
        srv.put_resource(&json!({"resourceType": "Patient", "id": id, "name": [{"family": id}]}));
    }
    srv.put_resource(&json!({"resourceType": "Organization", "id": "org-1", "name": "kyoyu"}));
    for (id, patient) in [("cond-1", "pat-1"), ("cond-2", "pat-2")] {
        srv.put_resource(&json!({"resourceType": "Condition", "id": id,
            "code": {"coding": [{"system": "http://example.org/dx", "code": "E11"}]},
            "subject": reference(&format!("Patient/{patient}"))}));
    }
    for id in ["obs-1", "obs-2"] {
        srv.put_resource(
            &json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": reference("Patient/pat-1")}),
        );
    }
}

/// `Type/id` of the entries of `bundle` in search mode `mode`, sorted.
fn entries(bundle: &Value, mode: &str) -> Vec<String> {
    let mut out = common::entries_in_mode(bundle, mode);
    out.sort();
    out
}

fn matches(srv: &TestServer, path: &str) -> Vec<String> {
    let bundle = srv.search(path);
    let found = entries(&bundle, "match");
    assert_eq!(bundle["total"], found.len(), "{path}: {bundle}");
    found
}

/// The status and the first issue's expression of a refused search.
fn refused(srv: &TestServer, path: &str) -> (u16, String) {
    let r = srv.get(path);
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    let issue = first_issue(&body);
    assert_eq!(issue["severity"], "error", "{path}: {body}");
    (
        status,
        issue["expression"][0].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn several_types_share_the_common_parameters_and_those_all_define() {
    for backend in common::backends() {
        let srv = TestServer::start(backend);
        records(&srv);
        assert_eq!(
            matches(&srv, "?_type=Observation,Condition"),
            [
                "Condition/cond-1",
                "Condition/cond-2",
                "Observation/obs-1",
                "Observation/obs-2"
            ]
        );
        // `patient` is a parameter of both.
        assert_eq!(
            matches(&srv, "?_type=Observation,Condition&patient=Patient/pat-1"),
            ["Condition/cond-1", "Observation/obs-1", "Observation/obs-2"]
        );
        assert_eq!(
            matches(&srv, "?_type=Condition,Observation&_id=obs-2,cond-2,pat-1"),
            ["Condition/cond-2", "Observation/obs-2"]
        );
        // The meta parameters are common to every type: a tag nobody wrote matches nothing.
        assert_eq!(
            matches(
                &srv,
                "?_type=Observation,Condition&_tag=http://example.org/t|none"
            ),
            Vec::<String>::new()
        );
        // Without `_type`: every type, common parameters only.
        assert_eq!(
            matches(&srv, "?_id=obs-1,pat-2,org-1"),
            ["Observation/obs-1", "Organization/org-1", "Patient/pat-2"]
        );
        assert_eq!(matches(&srv, "?_lastUpdated=gt2000-01-01").len(), 7);
        assert_eq!(matches(&srv, "?_lastUpdated=lt2000-01-01").len(), 0);
        // One type is that type's search, chains included; its links stay at the base.
        let bundle = srv.search("?_type=Observation&subject:Patient.name=pat-1");
        assert_eq!(
            entries(&bundle, "match"),
            ["Observation/obs-1", "Observation/obs-2"]
        );
        assert!(matches(&srv, "?_type=Observation&subject:Patient.name=pat-2").is_empty());
        // Includes follow the matches of the type they name.
        let bundle = srv
            .search("?_type=Observation,Condition&_id=obs-1,cond-2&_include=Observation:subject");
        assert_eq!(entries(&bundle, "include"), ["Patient/pat-1"]);
        let bundle = srv.search(
            "?_type=Observation,Condition&_id=obs-1,cond-2&_include=Observation:subject&_include=Condition:subject",
        );
        assert_eq!(
            entries(&bundle, "include"),
            ["Patient/pat-1", "Patient/pat-2"]
        );
        // _summary=count over several types.
        let bundle = srv.search("?_type=Observation,Condition&_summary=count");
        assert_eq!(bundle["total"], 4, "{bundle}");
        assert!(bundle.get("entry").is_none(), "{bundle}");
    }
}

#[test]
fn a_parameter_some_types_lack_chains_and_unknown_types_answer_400() {
    for backend in common::backends() {
        let srv = TestServer::start(backend);
        records(&srv);
        for (path, expression) in [
            // Organization has no `patient`: ignoring it there would return every Organization.
            (
                "?_type=Observation,Organization&patient=Patient/pat-1",
                "patient",
            ),
            ("?patient=Patient/pat-1", "patient"),
            ("?_type=Observation,Condition&_sort=date", "date"),
            (
                "?_type=Observation,Condition&subject:Patient.name=x",
                "subject:Patient.name",
            ),
            (
                "?_type=Observation,Condition&_has:Observation:subject:code=x",
                "_has:Observation:subject:code",
            ),
            ("?_type=Observation,Condition&_list=l1", "_list"),
            ("?_type=Observation,Nope", "_type"),
            ("?_type=AuditEvent,Observation", "_type"),
            ("?_type=CodeSystem", "_type"),
        ] {
            let (status, at) = refused(&srv, path);
            assert_eq!(status, 400, "{path}");
            assert_eq!(at, expression, "{path}");
        }
        // Known to no type: ignored with a warning unless strict.
        let bundle = srv.search("?_type=Observation,Condition&nonsense=1");
        assert_eq!(entries(&bundle, "match").len(), 4);
        assert!(bundle.to_string().contains("nonsense"), "{bundle}");
        let r = srv
            .client
            .get(srv.url("?_type=Observation,Condition&nonsense=1"))
            .header("prefer", "handling=strict")
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
    }
}

#[test]
fn pages_follow_next_links_across_types_and_post_search_agrees() {
    for backend in common::backends() {
        let srv = TestServer::start(backend);
        records(&srv);
        for sort in ["", "&_sort=-_lastUpdated", "&_sort=_id"] {
            let mut url = srv.url(&format!(
                "?_type=Observation,Condition,Patient&_count=2{sort}"
            ));
            let mut seen = Vec::new();
            let mut pages = 0;
            loop {
                let page: Value = srv.client.get(&url).send().unwrap().json().unwrap();
                assert_eq!(page["total"], 6, "{page}");
                seen.extend(entries(&page, "match"));
                pages += 1;
                match link(&page, "next") {
                    Some(next) => {
                        assert!(next.starts_with(&format!("{}?", srv.base)), "{next}");
                        assert!(
                            next.contains("_type=Observation%2CCondition%2CPatient"),
                            "{next}"
                        );
                        url = next.to_string();
                    }
                    None => break,
                }
                assert!(pages < 10, "no end of pages");
            }
            assert_eq!(pages, 3, "{sort}");
            let total = seen.len();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), total, "{sort}: a resource on two pages");
            assert_eq!(total, 6, "{sort}");
        }
        let r = srv.post_form(
            "_search",
            "_type=Observation,Condition&patient=Patient/pat-1",
        );
        assert_eq!(r.status(), 200);
        let bundle: Value = r.json().unwrap();
        assert_eq!(
            entries(&bundle, "match"),
            ["Condition/cond-1", "Observation/obs-1", "Observation/obs-2"]
        );
    }
}

#[test]
fn list_returns_the_items_of_the_searched_type() {
    for backend in common::backends() {
        let srv = TestServer::start(backend);
        records(&srv);
        srv.put_resource(
            &json!({"resourceType": "List", "id": "l1", "status": "current",
            "mode": "working", "subject": reference("Patient/pat-1"), "entry": [
                {"item": reference("Observation/obs-1")},
                {"item": reference("Condition/cond-2")},
                {"item": reference("Patient/pat-2")}]}),
        );
        srv.put_resource(
            &json!({"resourceType": "List", "id": "l2", "status": "current",
            "mode": "working", "entry": [{"item": reference("Observation/obs-2")}]}),
        );
        assert_eq!(matches(&srv, "Observation?_list=l1"), ["Observation/obs-1"]);
        assert_eq!(matches(&srv, "Condition?_list=l1"), ["Condition/cond-2"]);
        assert_eq!(matches(&srv, "Patient?_list=l1"), ["Patient/pat-2"]);
        assert_eq!(
            matches(&srv, "Observation?_list=l1,l2"),
            ["Observation/obs-1", "Observation/obs-2"]
        );
        assert!(matches(&srv, "Observation?_list=l1&_list=l2").is_empty());
        assert_eq!(
            matches(&srv, "?_type=Observation&_list=l2"),
            ["Observation/obs-2"]
        );
        // With other parameters, and in the patient's compartment.
        assert_eq!(
            matches(&srv, "Observation?_list=l1,l2&_id=obs-2"),
            ["Observation/obs-2"]
        );
        assert_eq!(
            matches(&srv, "Patient/pat-1/Observation?_list=l1"),
            ["Observation/obs-1"]
        );
        // An unknown List holds nothing; a functional list is not supported.
        assert!(matches(&srv, "Observation?_list=nope").is_empty());
        let (status, at) = refused(&srv, "Observation?_list=$current-problems");
        assert_eq!((status, at.as_str()), (400, "_list"));
        // The next link keeps the list.
        let bundle = srv.search("Observation?_list=l1,l2&_count=1");
        assert!(
            link(&bundle, "next").unwrap().contains("_list=l1%2Cl2"),
            "{bundle}"
        );
        // A deleted List holds nothing.
        assert_eq!(srv.delete("List/l2").status(), 204);
        assert!(matches(&srv, "Observation?_list=l2").is_empty());
        // A conditional delete by a list deletes only its items.
        assert_eq!(srv.delete("Observation?_list=l1").status(), 204);
        assert_eq!(matches(&srv, "Observation"), ["Observation/obs-2"]);
    }
}

/// Institution A's Patient, Observation and List; B, without consent, may read none of them:
/// a system-level search neither shows nor counts them, and A's List holds nothing for B, not
/// even B's own Observation it names, exactly as a List that does not exist.
#[test]
fn another_institutions_data_and_lists_never_show() {
    SignedIn::on_each_backend(
        &[Who::HospitalA, Who::HospitalB, Who::Patient1],
        // A's List names B's Observation, which referential integrity would refuse.
        |a: &mut ConfigArgs| {
            a.validate_on_write = Some(false);
            a.referential_integrity = Some(false);
        },
        |s| {
            let patient = common::hospitals::patient(MEMBER_1);
            let theirs = s.create(Who::HospitalA, &patient);
            let mine = s.create(Who::HospitalB, &patient);
            let observation = |p: &str| {
                json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": reference(&format!("Patient/{p}"))})
            };
            let their_obs = s.create(Who::HospitalA, &observation(&theirs));
            let my_obs = s.create(Who::HospitalB, &observation(&mine));
            let list = |items: &[&str]| {
                let entry: Vec<Value> = items
                    .iter()
                    .map(|i| json!({"item": reference(&format!("Observation/{i}"))}))
                    .collect();
                json!({"resourceType": "List", "status": "current", "mode": "working",
                "subject": reference(&format!("Patient/{theirs}")), "entry": entry})
            };
            let their_list = s.create(Who::HospitalA, &list(&[&their_obs, &my_obs]));
            let my_list = s.create(Who::HospitalB, &list(&[&their_obs, &my_obs]));

            let (status, bundle) = s.get(Who::HospitalB, "?_type=Observation,Patient,List");
            assert_eq!(status, 200, "{bundle}");
            assert_eq!(
                entries(&bundle, "match"),
                [
                    format!("List/{my_list}"),
                    format!("Observation/{my_obs}"),
                    format!("Patient/{mine}")
                ]
            );
            assert_eq!(bundle["total"], 3, "{bundle}");
            let (_, bundle) = s.get(
                Who::HospitalB,
                &format!("?_id={their_obs},{theirs},{their_list}"),
            );
            assert_eq!(bundle["total"], 0, "{bundle}");
            assert!(bundle.get("entry").is_none(), "{bundle}");

            // A's List: the same answer as a List that does not exist.
            let (status, unreadable) =
                s.get(Who::HospitalB, &format!("Observation?_list={their_list}"));
            assert_eq!(status, 200, "{unreadable}");
            assert_eq!(unreadable["total"], 0, "{unreadable}");
            let (_, unknown) = s.get(Who::HospitalB, "Observation?_list=no-such-list");
            assert_eq!(unknown["total"], 0);
            // B's own List holds A's Observation too, which B still does not see.
            let (_, bundle) = s.get(Who::HospitalB, &format!("Observation?_list={my_list}"));
            assert_eq!(entries(&bundle, "match"), [format!("Observation/{my_obs}")]);
            // A reads its own List's items, B's Observation not among them.
            let (_, bundle) = s.get(Who::HospitalA, &format!("Observation?_list={their_list}"));
            assert_eq!(
                entries(&bundle, "match"),
                [format!("Observation/{their_obs}")]
            );

            // The system-level search B ran is in the patient's trail, naming what it returned.
            let (status, trail) = s.get(Who::Patient1, "AuditEvent?_count=1000");
            assert_eq!(status, 200, "{trail}");
            let audited = trail["entry"].as_array().unwrap().iter().any(|e| {
                let e = &e["resource"];
                e["subtype"][0]["code"] == "search-system"
                    && e["entity"].as_array().is_some_and(|es| {
                        es.iter()
                            .any(|x| x["what"]["reference"] == format!("Observation/{my_obs}"))
                    })
            });
            assert!(
                audited,
                "no search-system event names Observation/{my_obs}: {trail}"
            );
        },
    );
}

#[test]
fn the_capability_statement_lists_system_search_list_and_chains() {
    let srv = TestServer::start(Backend::Sqlite);
    let statement = srv.search("metadata");
    let rest = &statement["rest"][0];
    let codes: Vec<&str> = rest["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(codes.contains(&"search-system"), "{codes:?}");
    assert!(codes.contains(&"history-system"), "{codes:?}");
    let names: Vec<&str> = rest["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "_id",
            "_lastUpdated",
            "_tag",
            "_security",
            "_profile",
            "_source",
            "_type"
        ]
    );
    let observation = rest["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Observation")
        .unwrap();
    let param = |name: &str| {
        observation["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    assert_eq!(param("_list")["type"], "special");
    let documentation = observation["documentation"].as_str().unwrap();
    assert!(
        documentation.contains("_at (the versions current"),
        "{documentation}"
    );
    let subject = param("subject")["documentation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(subject.contains("Chainable"), "{subject}");
    assert!(subject.contains("_has:Observation:subject"), "{subject}");
    assert!(
        !param("code")["documentation"]
            .as_str()
            .unwrap()
            .contains("Chainable")
    );
}
