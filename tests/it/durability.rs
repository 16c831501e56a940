//! The real binary as an operator runs it: a write answered 2xx survives `kill -9`, SIGTERM lets
//! in-flight requests finish, and the command line fails early and clearly on bad settings.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, FHIR_JSON, TestDatabase};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kyoyu");

/// Starts `kyoyu serve` on a random port and returns it with its base URL (read from its log).
fn spawn_server(database_url: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            database_url,
        ])
        .env("KYOYU_PROFILES", "/nonexistent")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, base) = std::sync::mpsc::channel();
    // Read the log on a thread, so a server that never says where it listens fails the test
    // instead of hanging it, and keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("address=").nth(1) {
                let _ = found.send(format!(
                    "http://{}",
                    rest.split_whitespace().next().unwrap_or_default()
                ));
            }
        }
    });
    let base = base
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not report its address");
    (child, base)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn acknowledged_writes_survive_kill_9(backend: Backend) {
    let db = TestDatabase::new(backend);
    let (mut child, base) = spawn_server(&db.url);
    let client = client();
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (client, base) = (&client, &base);
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let body = json!({"resourceType": "Patient", "identifier": [{"system": "urn:t", "value": format!("{t}-{i}")}]});
                            let r = client.post(format!("{base}/Patient")).header("content-type", FHIR_JSON).body(body.to_string()).send().unwrap();
                            assert_eq!(r.status(), 201);
                            r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    signal(&child, "-KILL");
    child.wait().unwrap();

    let (mut child, base) = spawn_server(&db.url);
    for id in &ids {
        let r = client.get(format!("{base}/Patient/{id}")).send().unwrap();
        assert_eq!(r.status(), 200, "Patient/{id} lost after kill -9");
    }
    let bundle: Value = client
        .get(format!("{base}/Patient?_count=0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(bundle["total"], 200);
    signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn acknowledged_writes_survive_kill_9_on_sqlite() {
    acknowledged_writes_survive_kill_9(Backend::Sqlite);
}

#[test]
fn acknowledged_writes_survive_kill_9_on_postgres() {
    if common::postgres_or_skip() {
        acknowledged_writes_survive_kill_9(Backend::Postgres);
    }
}

/// After `kill -9` the WAL index (`-shm`) is left behind; one SQLite cannot use (a directory
/// here) made the restarted server refuse every write, and garbage must be rebuilt.
#[test]
fn a_restart_after_kill_9_survives_a_damaged_wal_index() {
    let db = TestDatabase::new(Backend::Sqlite);
    let (mut child, base) = spawn_server(&db.url);
    let client = client();
    let post = |base: &str| {
        client
            .post(format!("{base}/Patient"))
            .header("content-type", FHIR_JSON)
            .body(json!({"resourceType": "Patient"}).to_string())
            .send()
            .unwrap()
    };
    let r = post(&base);
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    signal(&child, "-KILL");
    child.wait().unwrap();
    let clinical = format!("{}-shm", db.url);
    let audit = format!("{}-audit-shm", db.url);
    for shm in [&clinical, &audit] {
        assert!(
            std::path::Path::new(shm).is_file(),
            "{shm} was not left behind"
        );
    }
    std::fs::remove_file(&clinical).unwrap();
    std::fs::create_dir(&clinical).unwrap();
    std::fs::write(&audit, vec![0xA5u8; 32 * 1024]).unwrap();

    let (mut child, base) = spawn_server(&db.url);
    let r = client.get(format!("{base}/Patient/{id}")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(post(&base).status(), 201);
    signal(&child, "-TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let db = TestDatabase::new(Backend::Sqlite);
    let (mut child, base) = spawn_server(&db.url);
    let client = client();
    let outcomes: Vec<Result<u16, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (client, base) = (&client, &base);
                s.spawn(move || {
                    let body = json!({"resourceType": "Patient", "identifier": [{"system": "urn:t", "value": i.to_string()}]});
                    client
                        .post(format!("{base}/Patient"))
                        .header("content-type", FHIR_JSON)
                        .body(body.to_string())
                        .send()
                        .map(|r| r.status().as_u16())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5));
        signal(&child, "-TERM");
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(child.wait().unwrap().success(), "graceful shutdown exits 0");
    // Every request the server accepted was answered; none was cut off half-written.
    let created = outcomes.iter().filter(|o| matches!(o, Ok(201))).count();
    assert!(
        outcomes.iter().all(|o| matches!(o, Ok(201)) || o.is_err()),
        "{outcomes:?}"
    );
    let (mut child, base) = spawn_server(&db.url);
    let bundle: Value = client
        .get(format!("{base}/Patient?_count=0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        bundle["total"], created,
        "every 201 is stored, nothing else is"
    );
    signal(&child, "-TERM");
    child.wait().unwrap();
}

#[test]
fn help_documents_every_subcommand() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "bench"] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--database-url",
        "--config",
        "KYOYU_LISTEN",
        "KYOYU_DATABASE_URL",
    ] {
        assert!(text.contains(flag), "{flag} missing from serve --help");
    }
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = Command::new(BIN)
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("listen"), "{err}");

    let out = Command::new(BIN)
        .args(["serve"])
        .env("KYOYU_SQLITE_SYNCHRONOUS", "sometimes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("sqlite_synchronous")
    );
}

#[test]
fn migrate_applies_then_reports_up_to_date() {
    let db = TestDatabase::new(Backend::Sqlite);
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("applied"));
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("up to date")
    );
}
