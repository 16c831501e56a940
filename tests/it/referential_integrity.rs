//! Referential integrity on writes (issue #26): a local reference must name a resource the
//! writer may read when the write commits, else 422 naming the element; another institution's
//! resource answers as an absent one. Conditional references in transactions and batches
//! resolve to their one match in the caller's scope.

use crate::common;

use common::Backend;
use common::documents::enc;
use common::hospitals::Who;
use common::metrics::{sample, scrape};
use common::principals::SignedIn;
use common::{entry_status, patch_entry};
use kyoyu::config::ConfigArgs;
use serde_json::{Value, json};

const SYSTEM: &str = "urn:oid:1.2.392.100495.20.3.51.11318814790";

type Scoped = SignedIn<Who>;

/// The two hospitals' server; `integrity` switches the reference check.
fn start(backend: Backend, integrity: bool) -> Scoped {
    Scoped::start(
        backend,
        &[Who::HospitalA, Who::HospitalB],
        configure(integrity),
    )
}

fn configure(integrity: bool) -> impl FnOnce(&mut ConfigArgs) + Clone + Send + 'static {
    // References, not profiles, are under test here.
    move |a: &mut ConfigArgs| {
        a.validate_on_write = Some(false);
        a.referential_integrity = Some(integrity);
    }
}

fn both(test: fn(&Scoped)) {
    Scoped::on_each_backend(&[Who::HospitalA, Who::HospitalB], configure(true), test);
}

fn patient(s: &Scoped, who: Who, value: &str) -> String {
    s.create(
        who,
        &json!({"resourceType": "Patient", "identifier": [{"system": SYSTEM, "value": value}]}),
    )
}

fn observation(subject: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final", "code": {"text": "体温"},
           "subject": {"reference": subject}})
}

fn issue(outcome: &Value) -> (&str, &str) {
    let issue = &outcome["issue"][0];
    (
        issue["code"].as_str().unwrap_or_default(),
        issue["expression"][0].as_str().unwrap_or_default(),
    )
}

#[test]
fn a_dangling_reference_is_refused_naming_the_element() {
    both(|s| {
        let (status, outcome) = s.post(
            Who::HospitalA,
            "Observation",
            &observation("Patient/nobody"),
        );
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            issue(&outcome),
            ("not-found", "Observation.subject.reference")
        );
        let p = patient(s, Who::HospitalA, "1");
        s.create(Who::HospitalA, &observation(&format!("Patient/{p}")));
        // Absolute under this server's base URL is local; an external server's is not looked up.
        let absolute = format!("{}/Patient/{p}", s.srv.base);
        s.create(Who::HospitalA, &observation(&absolute));
        let missing = format!("{}/Patient/nobody", s.srv.base);
        assert_eq!(
            s.post(Who::HospitalA, "Observation", &observation(&missing))
                .0,
            422
        );
        s.create(
            Who::HospitalA,
            &observation("https://elsewhere.example/fhir/Patient/x"),
        );
        s.create(Who::HospitalA, &observation("#contained"));
        // A versioned reference needs that version.
        s.create(
            Who::HospitalA,
            &observation(&format!("Patient/{p}/_history/1")),
        );
        let (status, outcome) = s.post(
            Who::HospitalA,
            "Observation",
            &observation(&format!("Patient/{p}/_history/7")),
        );
        assert_eq!(status, 422, "{outcome}");
        // Update too, and nothing of the refused version is kept.
        let id = s.create(Who::HospitalA, &observation(&format!("Patient/{p}")));
        let mut changed = observation("Patient/nobody");
        changed["id"] = json!(id);
        let (status, outcome) = s.put(Who::HospitalA, &format!("Observation/{id}"), &changed);
        assert_eq!(status, 422, "{outcome}");
        let (_, current) = s.get(Who::HospitalA, &format!("Observation/{id}"));
        assert_eq!(current["meta"]["versionId"], "1", "{current}");
    });
}

#[test]
fn a_deleted_target_is_refused() {
    both(|s| {
        let p = patient(s, Who::HospitalA, "1");
        assert_eq!(s.delete(Who::HospitalA, &format!("Patient/{p}")), 204);
        let (status, outcome) = s.post(
            Who::HospitalA,
            "Observation",
            &observation(&format!("Patient/{p}")),
        );
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            issue(&outcome),
            ("not-found", "Observation.subject.reference")
        );
    });
}

/// A delete of the target racing a create that references it (PostgreSQL, whose writes run
/// side by side; SQLite has one writer, so nothing commits between a write's check and its
/// commit). The create is slowed after its check, by a trigger on its audit record, the last
/// row it writes; the delete, sent meanwhile, must wait for the create's commit (the create
/// then referenced a live target; deleting it afterwards is allowed) or have committed before
/// the check (the create answers 422). Never a create committed after the delete it did not see.
#[test]
fn a_delete_racing_a_referencing_create_waits_for_its_commit() {
    if !common::postgres_or_skip() {
        return;
    }
    let s = start(Backend::Postgres, true);
    let p = patient(&s, Who::HospitalA, "race");
    s.srv.execute(
        "CREATE FUNCTION slow_observation_create() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.interaction = 'create' AND NEW.res_type = 'Observation' THEN \
         PERFORM pg_sleep(2); END IF; RETURN NEW; END $$",
    );
    s.srv.execute(
        "CREATE TRIGGER slow_observation_create BEFORE INSERT ON audit_events \
         FOR EACH ROW EXECUTE FUNCTION slow_observation_create()",
    );
    let target = format!("Patient/{p}");
    let ((created, create_done), (deleted, delete_done)) = std::thread::scope(|scope| {
        let create = scope.spawn(|| {
            let (status, body) = s.post(Who::HospitalA, "Observation", &observation(&target));
            ((status, body), std::time::Instant::now())
        });
        // Well inside the create's two seconds after its check.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let deleted = s.delete(Who::HospitalA, &target);
        let delete_done = std::time::Instant::now();
        (create.join().unwrap(), (deleted, delete_done))
    });
    assert_eq!(deleted, 204);
    match created.0 {
        201 => assert!(
            delete_done >= create_done,
            "the delete committed while the create that saw its target was still open"
        ),
        422 => assert_eq!(
            issue(&created.1),
            ("not-found", "Observation.subject.reference")
        ),
        other => panic!("create answered {other}: {}", created.1),
    }
}

/// Two transactions that each update one Patient and reference the other (PostgreSQL): each
/// holds its own row from its update and waits, in its referential check, to hold the other's
/// `FOR SHARE`, so PostgreSQL aborts one as deadlocked (40P01). That one answers 409 conflict
/// (a race lost, worth sending again), never 500; the other commits. The updates are slowed by
/// a trigger so that both have written before either checks, which makes the deadlock certain.
/// The lost one is counted (`kyoyu_db_contention_total{kind="deadlock"}`).
#[test]
fn transactions_deadlocked_on_each_others_targets_answer_409_not_500() {
    if !common::postgres_or_skip() {
        return;
    }
    let s = Scoped::start(
        Backend::Postgres,
        &[Who::HospitalA, Who::HospitalB],
        |a: &mut ConfigArgs| {
            configure(true)(a);
            a.metrics = Some(true);
        },
    );
    let deadlocks = || {
        sample(
            &scrape(&s.srv),
            "kyoyu_db_contention_total{kind=\"deadlock\"}",
        )
    };
    assert_eq!(deadlocks(), 0.0);
    let a = patient(&s, Who::HospitalA, "deadlock-a");
    let b = patient(&s, Who::HospitalA, "deadlock-b");
    s.srv.execute(
        "CREATE FUNCTION slow_patient_update() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.res_type = 'Patient' THEN PERFORM pg_sleep(1); END IF; \
         RETURN NEW; END $$",
    );
    s.srv.execute(
        "CREATE TRIGGER slow_patient_update AFTER UPDATE ON resources \
         FOR EACH ROW EXECUTE FUNCTION slow_patient_update()",
    );
    let linking = |id: &str, other: &str, value: &str| {
        json!({"resourceType": "Bundle", "type": "transaction", "entry": [{
            "resource": {"resourceType": "Patient", "id": id,
                "identifier": [{"system": SYSTEM, "value": value}],
                "link": [{"other": {"reference": format!("Patient/{other}")}, "type": "seealso"}]},
            "request": {"method": "PUT", "url": format!("Patient/{id}")}}]})
    };
    let bundles = [linking(&a, &b, "deadlock-a"), linking(&b, &a, "deadlock-b")];
    let barrier = std::sync::Barrier::new(2);
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let sent: Vec<_> = bundles
            .iter()
            .map(|bundle| {
                let barrier = &barrier;
                let s = &s;
                scope.spawn(move || {
                    barrier.wait();
                    s.post(Who::HospitalA, "", bundle)
                })
            })
            .collect();
        sent.into_iter().map(|t| t.join().unwrap()).collect()
    });
    s.srv
        .execute("DROP TRIGGER slow_patient_update ON resources");
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{answers:?}");
    assert_eq!(deadlocks(), 1.0);
    for (i, (status, answer)) in answers.iter().enumerate() {
        if *status == 409 {
            assert_eq!(answer["issue"][0]["code"], "conflict", "{answer}");
            let said = answer["issue"][0]["diagnostics"]
                .as_str()
                .unwrap_or_default();
            assert!(said.contains("retry"), "{answer}");
            // Nothing of it was kept, and sent again it goes through.
            let (status, again) = s.post(Who::HospitalA, "", &bundles[i]);
            assert_eq!(status, 200, "{again}");
        }
    }
}

/// What another institution holds answers exactly as what does not exist, so the 422/201
/// difference cannot be used to probe for its ids.
#[test]
fn another_institutions_resource_answers_as_an_absent_one() {
    both(|s| {
        let theirs = patient(s, Who::HospitalA, "1");
        assert_eq!(s.get(Who::HospitalB, &format!("Patient/{theirs}")).0, 404);
        let (status, outcome) = s.post(
            Who::HospitalB,
            "Observation",
            &observation(&format!("Patient/{theirs}")),
        );
        assert_eq!(status, 422, "{outcome}");
        let absent = "0b7ad0d0-0000-4000-8000-000000000000";
        let (_, other) = s.post(
            Who::HospitalB,
            "Observation",
            &observation(&format!("Patient/{absent}")),
        );
        assert_eq!(
            outcome.to_string().replace(&theirs, "<id>"),
            other.to_string().replace(absent, "<id>")
        );
    });
}

#[test]
fn switched_off_nothing_is_looked_up() {
    for backend in common::backends() {
        start(backend, false).create(Who::HospitalA, &observation("Patient/nobody"));
    }
}

#[test]
fn a_transaction_refuses_an_unresolved_urn_and_keeps_nothing() {
    both(|s| {
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": "urn:uuid:8a1c0000-0000-4000-8000-000000000001",
             "resource": {"resourceType": "Patient",
                          "identifier": [{"system": SYSTEM, "value": "urn"}]},
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": observation("urn:uuid:8a1c0000-0000-4000-8000-000000000009"),
             "request": {"method": "POST", "url": "Observation"}}
        ]});
        let (status, outcome) = s.post(Who::HospitalA, "", &bundle);
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            issue(&outcome).1,
            "Bundle.entry[1].resource.subject.reference"
        );
        let (_, found) = s.get(
            Who::HospitalA,
            &format!("Patient?identifier={}", enc("urn")),
        );
        assert_eq!(found["total"], 0, "{found}");
        // Resolved inside the transaction, the same entry is stored.
        let mut resolved = bundle.clone();
        resolved["entry"][1]["resource"]["subject"]["reference"] =
            json!("urn:uuid:8a1c0000-0000-4000-8000-000000000001");
        let (status, answer) = s.post(Who::HospitalA, "", &resolved);
        assert_eq!(status, 200, "{answer}");
        // A target deleted by the same transaction does not exist at its commit.
        let p = patient(s, Who::HospitalA, "gone");
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": observation(&format!("Patient/{p}")),
             "request": {"method": "POST", "url": "Observation"}},
            {"request": {"method": "DELETE", "url": format!("Patient/{p}")}}
        ]});
        let (status, outcome) = s.post(Who::HospitalA, "", &bundle);
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            issue(&outcome).1,
            "Bundle.entry[0].resource.subject.reference"
        );
        assert_eq!(s.get(Who::HospitalA, &format!("Patient/{p}")).0, 200);
    });
}

fn conditional(value: &str) -> String {
    format!("Patient?identifier={}", enc(&format!("{SYSTEM}|{value}")))
}

fn transaction_of(observation: Value) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": observation, "request": {"method": "POST", "url": "Observation"}}
    ]})
}

#[test]
fn a_conditional_reference_in_a_transaction_resolves_to_its_one_match() {
    both(|s| {
        let one = patient(s, Who::HospitalA, "one");
        patient(s, Who::HospitalA, "two");
        patient(s, Who::HospitalA, "two");
        let theirs = patient(s, Who::HospitalB, "theirs");

        let (status, answer) = s.post(
            Who::HospitalA,
            "",
            &transaction_of(observation(&conditional("one"))),
        );
        assert_eq!(status, 200, "{answer}");
        let (_, found) = s.get(
            Who::HospitalA,
            &format!("Observation?subject=Patient/{one}"),
        );
        assert_eq!(found["total"], 1, "{found}");

        for (value, code) in [
            ("none", "conflict"),
            ("two", "multiple-matches"),
            ("theirs", "conflict"),
        ] {
            let (status, outcome) = s.post(
                Who::HospitalA,
                "",
                &transaction_of(observation(&conditional(value))),
            );
            assert_eq!(status, 412, "{value}: {outcome}");
            assert_eq!(issue(&outcome), (code, "Bundle.entry[0]"), "{value}");
            assert!(!outcome.to_string().contains(&theirs), "{outcome}");
        }
        // An unknown parameter would widen the match: refused, never dropped.
        let (status, outcome) = s.post(
            Who::HospitalA,
            "",
            &transaction_of(observation("Patient?nonsense=1")),
        );
        assert_eq!(status, 400, "{outcome}");
        // Outside a transaction or batch nothing resolves it.
        let (status, outcome) = s.post(
            Who::HospitalA,
            "Observation",
            &observation(&conditional("one")),
        );
        assert_eq!(status, 422, "{outcome}");
    });
}

#[test]
fn a_batch_entry_fails_alone() {
    both(|s| {
        let one = patient(s, Who::HospitalA, "one");
        let entry = |subject: &str| {
            json!({"resource": observation(subject),
                   "request": {"method": "POST", "url": "Observation"}})
        };
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
            entry("Patient/nobody"),
            entry(&format!("Patient/{one}")),
            entry(&conditional("one")),
            entry(&conditional("none")),
        ]});
        let (status, answer) = s.post(Who::HospitalA, "", &bundle);
        assert_eq!(status, 200, "{answer}");
        let statuses: Vec<_> = (0..4).map(|i| entry_status(&answer, i)).collect();
        assert_eq!(
            statuses,
            [
                "422 Unprocessable Entity",
                "201 Created",
                "201 Created",
                "412 Precondition Failed"
            ],
            "{answer}"
        );
        let (_, found) = s.get(
            Who::HospitalA,
            &format!("Observation?subject=Patient/{one}"),
        );
        assert_eq!(found["total"], 2, "{found}");
    });
}

#[test]
fn a_patch_or_conditional_update_that_adds_a_dangling_reference_is_refused() {
    both(|s| {
        let p = patient(s, Who::HospitalA, "1");
        let id = s.create(Who::HospitalA, &observation(&format!("Patient/{p}")));
        let patch = json!({"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
            {"name": "type", "valueCode": "replace"},
            {"name": "path", "valueString": "Observation.subject"},
            {"name": "value", "valueReference": {"reference": "Patient/nobody"}}]}]});
        let path = format!("Observation/{id}");
        let (status, outcome) = s.patch(Who::HospitalA, &path, &patch);
        assert_eq!(status, 422, "{outcome}");
        assert_eq!(
            issue(&outcome),
            ("not-found", "Observation.subject.reference")
        );
        let (_, current) = s.get(Who::HospitalA, &path);
        assert_eq!(current["meta"]["versionId"], "1", "{current}");
        // Conditional update, matching nothing (a create) or the one Observation (an update).
        let mut body = observation("Patient/nobody");
        body["identifier"] = json!([{"system": SYSTEM, "value": "obs-1"}]);
        let criteria = format!("Observation?identifier={}", enc(&format!("{SYSTEM}|obs-1")));
        let (status, outcome) = s.put(Who::HospitalA, &criteria, &body);
        assert_eq!(status, 422, "{outcome}");
        body["subject"]["reference"] = json!(format!("Patient/{p}"));
        let (status, outcome) = s.put(Who::HospitalA, &criteria, &body);
        assert_eq!(status, 201, "{outcome}");
    });
}

#[test]
fn a_patch_entry_that_adds_a_dangling_reference_fails_its_bundle_or_entry() {
    both(|s| {
        let p = patient(s, Who::HospitalA, "1");
        let id = s.create(Who::HospitalA, &observation(&format!("Patient/{p}")));
        let ops =
            json!([{"op": "replace", "path": "/subject/reference", "value": "Patient/nobody"}]);
        let entry = patch_entry(&format!("Observation/{id}"), &ops);
        let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [entry.clone()]});
        let (status, outcome) = s.post(Who::HospitalA, "", &tx);
        assert_eq!(status, 422, "{outcome}");
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [entry]});
        let (status, answer) = s.post(Who::HospitalA, "", &batch);
        assert_eq!(status, 200, "{answer}");
        assert!(entry_status(&answer, 0).starts_with("422"), "{answer}");
        let (_, current) = s.get(Who::HospitalA, &format!("Observation/{id}"));
        assert_eq!(current["meta"]["versionId"], "1", "{current}");
    });
}

/// The load benchmark's Observations name Patients: it writes them first, so a plain run against
/// a server that checks references stores and reads without errors.
#[test]
fn the_plain_benchmark_writes_the_patients_its_observations_name() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyoyu"))
        .args(["bench", "--connections", "2", "--duration-secs", "0.5"])
        .args(["--warmup-secs", "0", "--format", "json"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for phase in report["phases"].as_array().unwrap() {
        assert_eq!(phase["errors"], 0, "{report}");
        assert!(phase["requests"].as_u64().unwrap() > 0, "{report}");
    }
}
