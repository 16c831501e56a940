//! `_include` and `_revinclude` over HTTP (issue #25): what each adds after the matches, with
//! target types, `*`, `:iterate` to a fixed point, the cap, paging, refusals, POST `_search`
//! and bundle search entries; and that an included resource the caller may not read never
//! appears while the ones returned are audited.

use crate::common;

use common::hospitals::{MEMBER_1, Who};
use common::principals::SignedIn;
use common::{Options, TestServer, first_issue};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

fn reference(to: &str) -> Value {
    json!({ "reference": to })
}

/// Two patients; pat-1 has an encounter, a condition noted in it and two observations.
fn records(srv: &TestServer) {
    for id in ["pat-1", "pat-2"] {
        srv.put_resource(&json!({"resourceType": "Patient", "id": id, "name": [{"family": id}]}));
    }
    srv.put_resource(
        &json!({"resourceType": "Encounter", "id": "enc-1", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": reference("Patient/pat-1")}),
    );
    srv.put_resource(
        &json!({"resourceType": "Condition", "id": "cond-1", "code": {"text": "diabetes"},
        "subject": reference("Patient/pat-1"), "encounter": reference("Encounter/enc-1")}),
    );
    srv.put_resource(
        &json!({"resourceType": "Condition", "id": "cond-2", "code": {"text": "asthma"},
        "subject": reference("Patient/pat-2")}),
    );
    for id in ["obs-1", "obs-2"] {
        srv.put_resource(
            &json!({"resourceType": "Observation", "id": id, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "subject": reference("Patient/pat-1"), "encounter": reference("Encounter/enc-1")}),
        );
    }
}

/// `Type/id` of the entries of `bundle` in search mode `mode`, in order.
fn entries(bundle: &Value, mode: &str) -> Vec<String> {
    common::entries_in_mode(bundle, mode)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Searches `path` and returns (matches, included), checking `total` counts the matches only
/// and that every match comes before every included resource.
fn found(srv: &TestServer, path: &str) -> (Vec<String>, Vec<String>) {
    let bundle = srv.search(path);
    let matches = entries(&bundle, "match");
    let included = entries(&bundle, "include");
    assert_eq!(
        bundle["total"],
        matches.len(),
        "{path}: total counts matches only"
    );
    let modes: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["search"]["mode"].as_str())
        .filter(|m| *m != "outcome")
        .collect();
    assert!(
        modes
            .windows(2)
            .all(|w| !(w[0] == "include" && w[1] == "match")),
        "{path}: {modes:?}"
    );
    (sorted(matches), sorted(included))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Runs every `(path, matches, included)` case and reports all mismatches at once.
fn expect(srv: &TestServer, cases: &[(&str, &[&str], &[&str])]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(path, matches, included)| {
            let want = (sorted(strings(matches)), sorted(strings(included)));
            let got = found(srv, path);
            (got != want).then(|| format!("{path}: expected {want:?}, got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

backend_test!(includes_follow_references_forward_and_back, |srv| {
    records(&srv);
    expect(
        &srv,
        &[
            (
                "Condition?_include=Condition:subject",
                &["Condition/cond-1", "Condition/cond-2"],
                &["Patient/pat-1", "Patient/pat-2"],
            ),
            // Repeated parameters combine.
            (
                "Condition?_id=cond-1&_include=Condition:subject&_include=Condition:encounter",
                &["Condition/cond-1"],
                &["Patient/pat-1", "Encounter/enc-1"],
            ),
            (
                "Condition?_id=cond-1&_include=Condition:subject:Patient",
                &["Condition/cond-1"],
                &["Patient/pat-1"],
            ),
            // A target type the reference does not have adds nothing.
            (
                "Observation?_id=obs-1&_include=Observation:subject:Device",
                &["Observation/obs-1"],
                &[],
            ),
            (
                "Condition?_id=cond-1&_include=*",
                &["Condition/cond-1"],
                &["Patient/pat-1", "Encounter/enc-1"],
            ),
            (
                "Condition?_id=cond-1&_include=Condition:*",
                &["Condition/cond-1"],
                &["Patient/pat-1", "Encounter/enc-1"],
            ),
            // Each resource once: both observations and both parameters name pat-1.
            (
                "Observation?_include=Observation:subject&_include=Observation:patient",
                &["Observation/obs-1", "Observation/obs-2"],
                &["Patient/pat-1"],
            ),
            (
                "Patient?_id=pat-1&_revinclude=Condition:subject",
                &["Patient/pat-1"],
                &["Condition/cond-1"],
            ),
            (
                "Encounter?_revinclude=Condition:encounter&_revinclude=Observation:encounter",
                &["Encounter/enc-1"],
                &["Condition/cond-1", "Observation/obs-1", "Observation/obs-2"],
            ),
            // A match is never included again, whichever way it is reached.
            (
                "Patient?_id=pat-1&_revinclude=Observation:subject&_revinclude=Encounter:subject&_include=Patient:organization",
                &["Patient/pat-1"],
                &["Observation/obs-1", "Observation/obs-2", "Encounter/enc-1"],
            ),
        ],
    );
    // The CapabilityStatement lists what works.
    let statement = srv.search("metadata");
    let condition = statement["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Encounter")
        .unwrap();
    assert!(
        condition["searchInclude"]
            .as_array()
            .unwrap()
            .contains(&json!("Encounter:subject"))
    );
    assert!(
        condition["searchRevInclude"]
            .as_array()
            .unwrap()
            .contains(&json!("Condition:encounter"))
    );
});

backend_test!(
    iterate_applies_the_includes_to_what_they_added_until_nothing_is_new,
    |srv| {
        records(&srv);
        expect(
            &srv,
            &[
                // Without iterate a reverse include applies to the matches only: no Condition
                // references an Observation.
                (
                    "Observation?_id=obs-1&_include=Observation:encounter&_revinclude=Condition:encounter",
                    &["Observation/obs-1"],
                    &["Encounter/enc-1"],
                ),
                // With it, the encounter found brings its conditions, and those their patient.
                (
                    "Observation?_id=obs-1&_include=Observation:encounter&_revinclude:iterate=Condition:encounter&_include:iterate=Condition:subject",
                    &["Observation/obs-1"],
                    &["Encounter/enc-1", "Condition/cond-1", "Patient/pat-1"],
                ),
                // R4's older name.
                (
                    "Observation?_id=obs-1&_include=Observation:encounter&_revinclude:recurse=Condition:encounter",
                    &["Observation/obs-1"],
                    &["Encounter/enc-1", "Condition/cond-1"],
                ),
                // A cycle (patient → observations → patient) stops at its fixed point.
                (
                    "Patient?_id=pat-1&_revinclude:iterate=Observation:subject&_include:iterate=Observation:subject&_include:iterate=Observation:encounter",
                    &["Patient/pat-1"],
                    &["Observation/obs-1", "Observation/obs-2", "Encounter/enc-1"],
                ),
            ],
        );
    }
);

backend_test!(includes_follow_the_page_and_its_links, |srv| {
    records(&srv);
    let first = srv.search("Condition?_include=Condition:subject&_count=1&_sort=_id");
    assert_eq!(first["total"], 2);
    assert_eq!(entries(&first, "match"), ["Condition/cond-1"]);
    assert_eq!(entries(&first, "include"), ["Patient/pat-1"]);
    let next = first["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .unwrap();
    assert!(next.contains("_include=Condition%3Asubject"), "{next}");
    let this = first["link"][0]["url"].as_str().unwrap();
    assert!(this.contains("_include=Condition%3Asubject"), "{this}");
    let r = srv.client.get(next).send().unwrap();
    assert_eq!(r.status(), 200);
    let second: Value = r.json().unwrap();
    assert_eq!(entries(&second, "match"), ["Condition/cond-2"]);
    assert_eq!(entries(&second, "include"), ["Patient/pat-2"]);
    // Only the total: nothing is included.
    let count = srv.search("Condition?_include=Condition:subject&_summary=count");
    assert_eq!(count["total"], 2);
    assert!(count.get("entry").is_none(), "{count}");
});

backend_test!(
    posted_searches_and_bundle_search_entries_include_too,
    |srv| {
        records(&srv);
        let r = srv.post_form(
            "Condition/_search",
            "_id=cond-1&_include=Condition%3Asubject",
        );
        assert_eq!(r.status(), 200);
        let posted: Value = r.json().unwrap();
        assert_eq!(entries(&posted, "include"), ["Patient/pat-1"]);
        for kind in ["batch", "transaction"] {
            let bundle = json!({"resourceType": "Bundle", "type": kind, "entry": [
            {"request": {"method": "GET",
                         "url": "Condition?_id=cond-1&_include=Condition:encounter&_revinclude:iterate=Observation:encounter"}}]});
            let r = srv.post("", &bundle);
            assert_eq!(r.status(), 200, "{kind}");
            let answer: Value = r.json().unwrap();
            let found = &answer["entry"][0]["resource"];
            assert_eq!(found["total"], 1, "{kind}: {answer}");
            assert_eq!(entries(found, "match"), ["Condition/cond-1"], "{kind}");
            assert_eq!(
                sorted(entries(found, "include")),
                ["Encounter/enc-1", "Observation/obs-1", "Observation/obs-2"],
                "{kind}"
            );
        }
        // A bad include refuses the batch entry as it refuses the direct search.
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Condition?_include=Condition:code"}}]});
        let answer: Value = srv.post("", &bundle).json().unwrap();
        assert!(
            answer["entry"][0]["response"]["status"]
                .as_str()
                .unwrap()
                .starts_with("400"),
            "{answer}"
        );
    }
);

/// A search that must fail with 400: its first issue.
fn refused(srv: &TestServer, path: &str, language: &str) -> Value {
    let r = srv
        .client
        .get(srv.url(path))
        .header("accept-language", language)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "{path}");
    let outcome: Value = r.json().unwrap();
    first_issue(&outcome).clone()
}

backend_test!(
    an_include_the_server_cannot_follow_is_refused_naming_it,
    |srv| {
        for (path, code, expression, words) in [
            (
                "Observation?_include=Observation:code",
                "not-supported",
                "_include",
                "not a reference search parameter of Observation",
            ),
            (
                "Observation?_revinclude:iterate=Provenance:target",
                "not-supported",
                "_revinclude:iterate",
                "not a reference search parameter of Provenance",
            ),
            (
                "Observation?_include=Nonsense:subject",
                "invalid",
                "_include",
                "'Nonsense' is not a resource type",
            ),
            (
                "Observation?_include=Observation:subject:Nonsense",
                "invalid",
                "_include",
                "target type 'Nonsense'",
            ),
            (
                "Observation?_include=Observation:patient:Group",
                "invalid",
                "_include",
                "never references a Group",
            ),
            (
                "Observation?_include=Observation",
                "invalid",
                "_include",
                "[type]:[parameter]",
            ),
            (
                "Observation?_revinclude=*",
                "invalid",
                "_revinclude",
                "[type]:[parameter]",
            ),
        ] {
            let issue = refused(&srv, path, "en");
            assert_eq!(issue["code"], code, "{path}: {issue}");
            assert_eq!(issue["expression"][0], expression, "{path}: {issue}");
            let diagnostics = issue["diagnostics"].as_str().unwrap();
            assert!(diagnostics.contains(words), "{path}: {diagnostics}");
        }
        let issue = refused(&srv, "Observation?_include=Observation:code", "ja");
        let diagnostics = issue["diagnostics"].as_str().unwrap();
        assert!(
            diagnostics.contains("参照型検索パラメータではありません"),
            "{diagnostics}"
        );
    }
);

#[test]
fn past_the_cap_the_page_says_so() {
    for backend in common::backends() {
        let srv = TestServer::start_with(
            backend,
            Options {
                configure: Box::new(|a: &mut ConfigArgs| a.search_max_include = Some(2)),
                ..Options::default()
            },
        );
        records(&srv);
        let bundle = srv
            .search("Encounter?_revinclude=Condition:encounter&_revinclude=Observation:encounter");
        assert_eq!(entries(&bundle, "include").len(), 2, "{bundle}");
        let outcome = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["search"]["mode"] == "outcome")
            .unwrap_or_else(|| panic!("no warning: {bundle}"));
        let issue = first_issue(&outcome["resource"]);
        assert_eq!(issue["severity"], "warning");
        assert_eq!(issue["code"], "too-costly");
        assert!(
            issue["diagnostics"].as_str().unwrap().contains("first 2"),
            "{issue}"
        );
        // Exactly at the cap is no warning.
        let bundle = srv.search(
            "Observation?_id=obs-1&_include=Observation:subject&_include=Observation:encounter",
        );
        assert_eq!(entries(&bundle, "include").len(), 2, "{bundle}");
        assert!(entries(&bundle, "outcome").is_empty(), "{bundle}");
        assert!(!bundle.to_string().contains("too-costly"), "{bundle}");
    }
}

/// Institution A's Patient and Condition; institution B, without consent, may read neither,
/// even when its own resources reference them or they reference what B found.
#[test]
fn what_the_scope_forbids_is_never_included_and_what_is_included_is_audited() {
    for backend in common::backends() {
        let s = SignedIn::<Who>::start(
            backend,
            &[Who::HospitalA, Who::HospitalB, Who::Patient1],
            // A's resources reference B's, which referential integrity would refuse: what the
            // scope lets includes add is under test here.
            |a: &mut ConfigArgs| {
                a.validate_on_write = Some(false);
                a.referential_integrity = Some(false);
            },
        );
        let patient = common::hospitals::patient(MEMBER_1);
        let mine = s.create(Who::HospitalB, &patient);
        let theirs = s.create(Who::HospitalA, &patient);
        // A's Condition names B's Patient as asserter; B's names A's.
        let their_condition = s.create(
            Who::HospitalA,
            &json!({"resourceType": "Condition",
            "code": {"text": "A's diagnosis"}, "subject": reference(&format!("Patient/{theirs}")),
            "asserter": reference(&format!("Patient/{mine}"))}),
        );
        let my_condition = s.create(
            Who::HospitalB,
            &json!({"resourceType": "Condition",
            "code": {"text": "B's diagnosis"}, "subject": reference(&format!("Patient/{mine}")),
            "asserter": reference(&format!("Patient/{theirs}"))}),
        );

        let (status, bundle) = s.get(Who::HospitalB, "Condition?_include=Condition:*");
        assert_eq!(status, 200, "{bundle}");
        assert_eq!(
            entries(&bundle, "match"),
            [format!("Condition/{my_condition}")]
        );
        assert_eq!(entries(&bundle, "include"), [format!("Patient/{mine}")]);
        // Only the reference B's own Condition holds names it.
        assert_eq!(
            bundle.to_string().matches(theirs.as_str()).count(),
            1,
            "{bundle}"
        );
        let (_, bundle) = s.get(
            Who::HospitalB,
            &format!("Patient?_id={mine}&_revinclude=Condition:*"),
        );
        assert_eq!(entries(&bundle, "match"), [format!("Patient/{mine}")]);
        assert_eq!(
            entries(&bundle, "include"),
            [format!("Condition/{my_condition}")]
        );
        assert!(!bundle.to_string().contains(&their_condition), "{bundle}");

        // The writer finds its own; the Patient it reads only as included is in the search's
        // audit record, which its data subject sees.
        let (_, bundle) = s.get(
            Who::HospitalA,
            &format!("Condition?_id={their_condition}&_include=Condition:subject"),
        );
        assert_eq!(entries(&bundle, "include"), [format!("Patient/{theirs}")]);
        let (status, trail) = s.get(Who::Patient1, "AuditEvent?_count=1000");
        assert_eq!(status, 200, "{trail}");
        let audited = trail["entry"].as_array().unwrap().iter().any(|e| {
            let e = &e["resource"];
            let named: Vec<&str> = e["entity"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .filter_map(|x| x["what"]["reference"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            e["subtype"][0]["code"] == "search-type"
                && named.contains(&format!("Condition/{their_condition}").as_str())
                && named.contains(&format!("Patient/{theirs}").as_str())
        });
        assert!(
            audited,
            "no search-type event names the included Patient/{theirs}: {trail}"
        );
    }
}
