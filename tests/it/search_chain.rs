//! Chained parameters and `_has` over HTTP (issue #25): by name, identifier, `:Type`, several
//! links, reverse and nested reverse chains, refusals, paging and `_include` alongside; and
//! that no link looks at a resource the caller may not read.

use crate::common;

use common::hospitals::Who;
use common::principals::SignedIn;
use common::{TestServer, first_issue, ids, sorted_ids};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const LOINC: &str = "http://loinc.org";

fn observation(id: &str, patient: &str, code: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"reference": format!("Observation/{m}")}))
        .collect();
    let mut o = json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": LOINC, "code": code}]},
           "subject": {"reference": format!("Patient/{patient}")}});
    if !members.is_empty() {
        o["hasMember"] = json!(members);
    }
    o
}

/// A hospital; Yamada (its patient) with two results, Suzuki with one; a panel on Suzuki
/// whose member is Yamada's first result.
fn records(srv: &TestServer) {
    srv.put_resource(
        &json!({"resourceType": "Organization", "id": "org-1", "name": "Kyoyu Hospital"}),
    );
    srv.put_resource(
        &json!({"resourceType": "Patient", "id": "pat-1", "name": [{"family": "Yamada"}],
               "identifier": [{"system": "urn:example:mrn", "value": "111"}],
               "managingOrganization": {"reference": "Organization/org-1"}}),
    );
    srv.put_resource(
        &json!({"resourceType": "Patient", "id": "pat-2", "name": [{"family": "Suzuki"}],
               "identifier": [{"system": "urn:example:mrn", "value": "222"}]}),
    );
    srv.put_resource(&observation("obs-1", "pat-1", "2345-7", &[]));
    srv.put_resource(&observation("obs-2", "pat-2", "718-7", &[]));
    srv.put_resource(&observation("obs-3", "pat-1", "718-7", &[]));
    srv.put_resource(&observation("panel", "pat-2", "24323-8", &["obs-1"]));
}

backend_test!(
    chains_follow_references_by_name_identifier_type_and_links,
    |srv| {
        records(&srv);
        let cases: &[(&str, &[&str])] = &[
            (
                "Observation?subject:Patient.name=yamada",
                &["obs-1", "obs-3"],
            ),
            ("Observation?subject.name=yamada", &["obs-1", "obs-3"]),
            ("Observation?subject.name:exact=Suzuki", &["obs-2", "panel"]),
            (
                "Observation?subject.identifier=urn:example:mrn|222",
                &["obs-2", "panel"],
            ),
            ("Observation?subject:Patient._id=pat-1", &["obs-1", "obs-3"]),
            (
                "Observation?subject:Patient.organization.name=kyoyu",
                &["obs-1", "obs-3"],
            ),
            ("Observation?subject.name=yamada&code=718-7", &["obs-3"]),
            (
                "Observation?subject.name=yamada,suzuki&code=718-7",
                &["obs-2", "obs-3"],
            ),
            ("Observation?subject.name=nobody", &[]),
            (
                "Patient?_has:Observation:subject:code=718-7",
                &["pat-1", "pat-2"],
            ),
            ("Patient?_has:Observation:subject:code=2345-7", &["pat-1"]),
            (
                "Patient?_has:Observation:subject:_has:Observation:has-member:code=24323-8",
                &["pat-1"],
            ),
            (
                "Organization?_has:Patient:organization:_has:Observation:subject:code=2345-7",
                &["org-1"],
            ),
            (
                "Organization?_has:Patient:organization:_has:Observation:subject:code=24323-8",
                &[],
            ),
        ];
        for (path, want) in cases {
            let bundle = srv.search(path);
            assert_eq!(sorted_ids(&bundle), *want, "{path}");
            assert_eq!(bundle["total"], want.len(), "{path}");
        }
    }
);

backend_test!(chains_that_cannot_be_followed_answer_400, |srv| {
    records(&srv);
    for (path, expression) in [
        (
            "Observation?subject:Patient.nonsense=x",
            "subject:Patient.nonsense",
        ),
        ("Observation?subject.nonsense=x", "subject.nonsense"),
        ("Observation?code.name=x", "code.name"),
        (
            "Observation?subject:Patient._count=1",
            "subject:Patient._count",
        ),
        (
            "Patient?_has:Observation:subject=x",
            "_has:Observation:subject",
        ),
        (
            "Observation?subject:Patient.organization.partof.partof.name=x",
            "subject:Patient.organization.partof.partof.name",
        ),
    ] {
        // Refused however lenient the search: ignoring it would widen the answer.
        let r = srv.get(path);
        assert_eq!(r.status(), 400, "{path}");
        let outcome: Value = r.json().unwrap();
        assert_eq!(
            first_issue(&outcome)["expression"][0],
            expression,
            "{path}: {outcome}"
        );
    }
});

backend_test!(chains_page_and_include_like_any_search, |srv| {
    records(&srv);
    let path = "Observation?subject:Patient.name=yamada&_include=Observation:subject&_count=1";
    let first = srv.search(path);
    assert_eq!(first["total"], 2);
    assert_eq!(ids(&first), ["obs-1"]);
    let included: Vec<&Value> = first["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| &e["resource"]["id"])
        .collect();
    assert_eq!(included, [&json!("pat-1")]);
    let next = common::link(&first, "next").unwrap();
    assert!(next.contains("subject%3APatient.name=yamada"), "{next}");
    let r = srv.client.get(next).send().unwrap();
    assert_eq!(r.status(), 200);
    let second: Value = r.json().unwrap();
    assert_eq!(ids(&second), ["obs-3"]);
    assert!(common::link(&second, "next").is_none(), "{second}");
});

/// A chain must not tell an institution what it may not read: neither the name of another
/// institution's patient its own Observation names, nor that another institution's
/// Observation of a code is about one of its patients.
#[test]
fn a_chain_never_looks_at_what_the_caller_may_not_read() {
    // The fixture has each institution record data about the other's patient, which the
    // referential check (on by default) refuses: the chain is under test here.
    SignedIn::on_each_backend(
        &[Who::HospitalA, Who::HospitalB],
        |a: &mut ConfigArgs| {
            a.validate_on_write = Some(false);
            a.referential_integrity = Some(false);
        },
        |s| {
            let patient = |who, family: &str| {
                s.create(
                    who,
                    &json!({"resourceType": "Patient", "name": [{"family": family}]}),
                )
            };
            let of_a = patient(Who::HospitalA, "Akiyama");
            let of_b = patient(Who::HospitalB, "Baba");
            let obs = |who, patient: &str, code: &str| {
                let mut o = observation("x", patient, code, &[]);
                o.as_object_mut().unwrap().remove("id");
                s.create(who, &o)
            };
            let b_on_a = obs(Who::HospitalB, &of_a, "718-7");
            obs(Who::HospitalB, &of_b, "718-7");
            obs(Who::HospitalA, &of_b, "2345-7");
            let found = |who, path: &str| {
                let (status, bundle) = s.get(who, path);
                assert_eq!(status, 200, "{who:?} {path}: {bundle}");
                sorted_ids(&bundle)
            };
            // B reads its own Observation and its own patient, but not A's patient...
            assert_eq!(
                found(
                    Who::HospitalB,
                    &format!("Observation?subject=Patient/{of_a}")
                ),
                [b_on_a]
            );
            assert!(found(Who::HospitalB, "Patient?name=akiyama").is_empty());
            assert_eq!(found(Who::HospitalA, "Patient?name=akiyama"), [of_a]);
            // ...so a chain through A's patient finds nothing for B.
            assert!(found(Who::HospitalB, "Observation?subject:Patient.name=akiyama").is_empty());
            assert!(found(Who::HospitalB, "Observation?subject.name=akiyama").is_empty());
            assert_eq!(
                found(Who::HospitalB, "Observation?subject.name=baba").len(),
                1
            );
            // B's patient has A's Observation of 2345-7, which B may not read.
            assert_eq!(
                found(
                    Who::HospitalB,
                    "Patient?_has:Observation:subject:code=718-7"
                ),
                [of_b]
            );
            assert!(found(Who::HospitalB, "Observation?code=2345-7").is_empty());
            assert!(
                found(
                    Who::HospitalB,
                    "Patient?_has:Observation:subject:code=2345-7"
                )
                .is_empty()
            );
        },
    );
}
