//! Writes racing each other: conditional creates must not duplicate, updates must not lose
//! versions.

use crate::common;

use common::FHIR_JSON;
use serde_json::{Value, json};

backend_test!(
    twenty_parallel_identical_conditional_creates_yield_one_resource,
    |srv| {
        let body = json!({
        "resourceType": "Patient",
        "identifier": [{"system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID", "value": "00012345:1:2:01"}]
    })
    .to_string();
        let criteria =
            "identifier=http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID|00012345:1:2:01";
        let barrier = std::sync::Barrier::new(20);
        let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let r = srv
                            .client
                            .post(srv.url("Patient"))
                            .header("content-type", FHIR_JSON)
                            .header("if-none-exist", criteria)
                            .body(body.clone())
                            .send()
                            .unwrap();
                        let status = r.status().as_u16();
                        let v: Value = r.json().unwrap();
                        (status, v["id"].as_str().unwrap_or_default().to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|(s, _)| *s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|(s, _)| *s == 200).count(),
            19,
            "{statuses:?}"
        );
        let first = &statuses[0].1;
        assert!(
            statuses.iter().all(|(_, id)| id == first),
            "all answers name the same resource"
        );
        let bundle = srv.search(&format!("Patient?{criteria}"));
        assert_eq!(bundle["total"], 1);
    }
);

backend_test!(
    a_conditional_create_matching_two_resources_is_refused,
    |srv| {
        let body =
            json!({"resourceType": "Patient", "identifier": [{"system": "urn:s", "value": "dup"}]});
        srv.create(&body);
        srv.create(&body);
        let r = srv
            .client
            .post(srv.url("Patient"))
            .header("content-type", FHIR_JSON)
            .header("if-none-exist", "identifier=urn:s|dup")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 412);
        assert_eq!(
            common::first_issue(&r.json().unwrap())["code"],
            "multiple-matches"
        );
        assert_eq!(srv.search("Patient?identifier=urn:s|dup")["total"], 2);
    }
);

backend_test!(
    conditional_criteria_with_unknown_parameters_are_refused,
    |srv| {
        let r = srv
            .client
            .post(srv.url("Patient"))
            .header("content-type", FHIR_JSON)
            .header("if-none-exist", "idntifier=urn:s|x")
            .body(json!({"resourceType": "Patient"}).to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(srv.search("Patient")["total"], 0);
    }
);

backend_test!(
    parallel_updates_of_one_resource_each_get_their_own_version,
    |srv| {
        let created =
            srv.create(&json!({"resourceType": "Patient", "id": "ignored", "active": true}));
        let id = created["id"].as_str().unwrap().to_string();
        let srv = &srv;
        std::thread::scope(|s| {
            for i in 0..10 {
                let id = id.clone();
                s.spawn(move || {
                let body = json!({"resourceType": "Patient", "id": id, "birthDate": format!("19{:02}-01-01", 50 + i)});
                let r = srv.put(&format!("Patient/{id}"), &body);
                assert_eq!(r.status(), 200);
            });
            }
        });
        let history: Value = srv
            .get(&format!("Patient/{id}/_history?_count=50"))
            .json()
            .unwrap();
        assert_eq!(history["total"], 11);
        let mut versions: Vec<i64> = history["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["resource"]["meta"]["versionId"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        versions.sort_unstable();
        assert_eq!(versions, (1..=11).collect::<Vec<_>>());
    }
);

/// Another connection holding a lock a write needs past the wait allowed — on SQLite the file's
/// write lock (`BEGIN IMMEDIATE` from another process) past the busy timeout (5 s), on
/// PostgreSQL the table past a `lock_timeout` the server's connections are given — is a passing
/// state: the write answers 503 with `Retry-After` and a `transient` issue, is counted as
/// contention (`kyoyu_db_contention_total{kind="busy"}`), and goes through once the lock is
/// released.
fn a_write_kept_waiting_on_another_connections_lock(backend: common::Backend) {
    use common::metrics::{sample, scrape};
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection;

    let srv = common::TestServer::start_with(
        backend,
        common::Options {
            configure: Box::new(move |a| {
                a.metrics = Some(true);
                // The URL's last parameter is the schema's `options`: one more setting for
                // every connection of the server, so a wait ends in 0.3 s rather than never.
                if backend == common::Backend::Postgres {
                    a.database_url = a
                        .database_url
                        .take()
                        .map(|u| format!("{u}%20-clock_timeout%3D300"));
                }
            }),
            ..common::Options::default()
        },
    );
    let busy = || sample(&scrape(&srv), "kyoyu_db_contention_total{kind=\"busy\"}");
    assert_eq!(busy(), 0.0);
    let post = || {
        srv.client
            .post(srv.url("Patient"))
            .header("content-type", FHIR_JSON)
            .body(json!({"resourceType": "Patient"}).to_string())
            .send()
            .unwrap()
    };
    let mut hold: Box<dyn SimpleConnection> = match backend {
        common::Backend::Sqlite => {
            let mut c = diesel::sqlite::SqliteConnection::establish(&srv.db.url).unwrap();
            c.batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE")
                .unwrap();
            Box::new(c)
        }
        common::Backend::Postgres => {
            let mut c = diesel::pg::PgConnection::establish(&srv.db.url).unwrap();
            c.batch_execute("BEGIN; LOCK TABLE resources IN EXCLUSIVE MODE")
                .unwrap();
            Box::new(c)
        }
    };
    let refused = post();
    hold.batch_execute("ROLLBACK").unwrap();
    assert_eq!(refused.status(), 503);
    let retry = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry.is_some_and(|s| (1..=5).contains(&s)),
        "{:?}",
        refused.headers()
    );
    let outcome: Value = refused.json().unwrap();
    assert_eq!(
        common::first_issue(&outcome)["code"],
        "transient",
        "{outcome}"
    );
    assert!(
        !outcome.to_string().contains("lock timeout"),
        "the database's words stay in the log: {outcome}"
    );
    assert_eq!(busy(), 1.0);
    assert_eq!(post().status(), 201);
    assert_eq!(busy(), 1.0);
}

backend_test!(
    a_write_kept_waiting_on_another_connections_lock_answers_503_and_is_counted,
    a_write_kept_waiting_on_another_connections_lock
);
