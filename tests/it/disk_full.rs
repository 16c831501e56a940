//! A full disk (SQLite's page cap standing in for it: no test can fill a real disk without
//! root): a write answers 507 with `Retry-After` and an OperationOutcome, reads go on, the WAL
//! is truncated so freed space stays free, and writes work again once there is room.

use crate::common;

use std::time::{Duration, Instant};

use common::{Backend, TestServer};
use serde_json::{Value, json};

fn limit_pages(srv: &TestServer, pages: u64) {
    let store = srv.store.clone();
    actix_web::rt::System::new()
        .block_on(async move { store.limit_sqlite_pages(pages).await })
        .unwrap();
}

fn wal_len(srv: &TestServer) -> u64 {
    std::fs::metadata(format!("{}-wal", srv.db.url)).map_or(0, |m| m.len())
}

#[test]
fn a_full_disk_answers_507_and_writes_work_again_once_there_is_room() {
    let srv = TestServer::start(Backend::Sqlite);
    let small = srv.create(&json!({"resourceType": "Patient", "name": [{"family": "Small"}]}));
    let id = small["id"].as_str().unwrap();
    // Needs pages the capped file does not have.
    let big = json!({"resourceType": "Patient", "name": [{"family": "Big", "given": ["x".repeat(400_000)]}]});
    assert!(wal_len(&srv) > 0);

    limit_pages(&srv, 1);
    let r = srv.post("Patient", &big);
    assert_eq!(r.status(), 507);
    assert!(r.headers().get("retry-after").is_some());
    let outcome: Value = r.json().unwrap();
    assert_eq!(
        common::first_issue(&outcome)["code"],
        "no-store",
        "{outcome}"
    );
    // Reads need no space.
    assert_eq!(srv.get(&format!("Patient/{id}")).status(), 200);
    let started = Instant::now();
    while wal_len(&srv) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the WAL was not truncated after the full disk: {} bytes",
            wal_len(&srv)
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    limit_pages(&srv, 0);
    let created = srv.create(&big);
    let back = srv.get(&format!("Patient/{}", created["id"].as_str().unwrap()));
    assert_eq!(back.status(), 200);
    assert_eq!(srv.search("Patient?_count=0")["total"], 2);
}
