//! Test harness: starts the real server on a random loopback port, on SQLite (a fresh file) or,
//! when KYOYU_TEST_DATABASE_URL is set, on PostgreSQL (a fresh schema per test).

pub mod cli;
pub mod codesets;
pub mod documents;
pub mod hospitals;
pub mod metrics;
pub mod pki;
pub mod principals;
pub mod purge;
pub mod registry;
#[path = "../../../src/test_require.rs"]
mod require;

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use diesel::{Connection, RunQueryDsl};
use kyoyu::api::server::{self, Parts};
use kyoyu::clock::{Clock, FixedClock, IdGenerator, SystemClock, UuidIds};
use kyoyu::config::ConfigArgs;
use serde_json::Value;

pub const FHIR_JSON: &str = "application/fhir+json";
pub const JSON_PATCH: &str = "application/json-patch+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one test body on SQLite, and on PostgreSQL when KYOYU_TEST_DATABASE_URL is set (see
/// [`postgres_or_skip`]), as the tests `$name::sqlite` and `$name::postgres`. The body is a block
/// given the [`TestServer`]; or a function given what `$start` (a function of the [`Backend`])
/// starts, such as a server with principals; or a function given the [`Backend`] alone.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $start:path, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                ($body)(&$start($crate::common::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                if !$crate::common::postgres_or_skip() {
                    return;
                }
                ($body)(&$start($crate::common::Backend::Postgres));
            }
        }
    };
    ($name:ident, $run:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                $run($crate::common::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if !$crate::common::postgres_or_skip() {
                    return;
                }
                $run($crate::common::Backend::Postgres);
            }
        }
    };
    ($name:ident, |$srv:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let $srv = $crate::common::TestServer::start($crate::common::Backend::Sqlite);
                $body
            }

            #[test]
            fn postgres() {
                if !$crate::common::postgres_or_skip() {
                    return;
                }
                let $srv = $crate::common::TestServer::start($crate::common::Backend::Postgres);
                $body
            }
        }
    };
}

/// Whether a PostgreSQL variant runs. Without KYOYU_TEST_DATABASE_URL it prints one loud line and
/// returns false, or panics when `KYOYU_TEST_REQUIRE` lists `postgres` (as CI sets it): a backend
/// that did not run must show in the output, never pass silently. A URL that is set but
/// unreachable fails in [`TestDatabase::new`], not here.
pub fn postgres_or_skip() -> bool {
    if std::env::var("KYOYU_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    require::skip_or_fail(
        require::from_env().postgres,
        "postgres",
        "PostgreSQL variant not run, KYOYU_TEST_DATABASE_URL is not set",
    );
    false
}

/// The backends a test that loops over them runs on: SQLite, then PostgreSQL when
/// [`postgres_or_skip`] says so (asked only once SQLite's run is done, so its skip line or
/// failure comes after SQLite's output).
pub fn backends() -> impl Iterator<Item = Backend> {
    [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter(|b| *b == Backend::Sqlite || postgres_or_skip())
}

/// The admin URL of the test PostgreSQL server; panics when it is not set, so call it only after
/// [`postgres_or_skip`] said yes.
pub fn postgres_url() -> String {
    match std::env::var("KYOYU_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("KYOYU_TEST_DATABASE_URL is not set: the PostgreSQL variant cannot run"),
    }
}

/// ../shared/data, the official packages and examples: a documented prerequisite of the tests.
pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// `rel` under ../shared/data (empty for the directory itself). Panics naming the missing path:
/// a test without its data proves nothing, so it fails rather than passing in 0.00 s.
pub fn shared_data(rel: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(SHARED).join(rel);
    assert!(
        path.exists(),
        "{} is missing: the tests need the official FHIR packages and examples in ../shared/data",
        path.display()
    );
    path
}

/// Panics naming ../shared/data when it is missing; see [`shared_data`].
pub fn require_shared_data() {
    shared_data("");
}

/// A database for one test: a temporary SQLite file, or a PostgreSQL schema dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = dir.path().join("kyoyu.db").display().to_string();
                TestDatabase {
                    url,
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_url();
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("KYOYU_TEST_DATABASE_URL is set but PostgreSQL does not answer: {e}")
                });
                diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .unwrap();
                let sep = if admin.contains('?') { '&' } else { '?' };
                let url = format!("{admin}{sep}options=-csearch_path%3D{schema}");
                TestDatabase {
                    url,
                    _dir: None,
                    pg: Some((admin, schema)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, schema)) = &self.pg
            && let Ok(mut conn) = diesel::pg::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn);
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub client: reqwest::blocking::Client,
    pub backend: Backend,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    pub db: TestDatabase,
    /// The running server's store, for tests that reach under the API (fault injection).
    pub store: kyoyu::store::Store,
}

pub struct Options {
    pub clock: Option<Arc<FixedClock>>,
    pub configure: Box<dyn FnOnce(&mut ConfigArgs) + Send>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: None,
            configure: Box::new(|_| {}),
        }
    }
}

impl TestServer {
    pub fn start(backend: Backend) -> Self {
        Self::start_with(backend, Options::default())
    }

    pub fn start_with(backend: Backend, options: Options) -> Self {
        let db = TestDatabase::new(backend);
        let mut args = ConfigArgs {
            listen: Some("127.0.0.1:0".into()),
            database_url: Some(db.url.clone()),
            workers: Some(2),
            pool_size: Some(4),
            ..ConfigArgs::default()
        };
        // The shipped IG packages take seconds to load in a debug build: servers load them
        // only where a test asks for them (see `with_shipped_profiles`).
        args.validation.profiles = Some(NO_PROFILES.into());
        (options.configure)(&mut args);
        let config = args.resolve().unwrap();
        let clock: Arc<dyn Clock> = match options.clock {
            Some(c) => c,
            None => Arc::new(SystemClock),
        };
        let ids: Arc<dyn IdGenerator> = Arc::new(UuidIds);
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let running = server::start(&config, Parts { clock, ids }).await.unwrap();
                ready_tx
                    .send((running.base_url.clone(), running.store()))
                    .unwrap();
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                running.stop(true).await;
            });
        });
        let (base, store) = ready_rx.recv().unwrap();
        TestServer {
            base,
            client: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                // The server closes a keep-alive connection idle for 5 s; a request sent on it as
                // it closes fails with an incomplete message. Threads that wait for each other
                // (the access matrix's phases) left connections idle that long.
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            backend,
            stop: Some(stop_tx),
            thread: Some(thread),
            db,
            store,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client.get(self.url(path)).send().unwrap()
    }

    pub fn post(&self, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.client
            .post(self.url(path))
            .header("content-type", FHIR_JSON)
            .body(body.to_string())
            .send()
            .unwrap()
    }

    pub fn put(&self, path: &str, body: &Value) -> reqwest::blocking::Response {
        self.client
            .put(self.url(path))
            .header("content-type", FHIR_JSON)
            .body(body.to_string())
            .send()
            .unwrap()
    }

    /// POSTs `form` (already encoded) as `application/x-www-form-urlencoded`, as a search by
    /// POST is sent.
    pub fn post_form(&self, path: &str, form: &str) -> reqwest::blocking::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .unwrap()
    }

    pub fn delete(&self, path: &str) -> reqwest::blocking::Response {
        self.client.delete(self.url(path)).send().unwrap()
    }

    /// POSTs and returns the created resource, asserting 201.
    pub fn create(&self, body: &Value) -> Value {
        let t = body["resourceType"].as_str().unwrap();
        let r = self.post(t, body);
        assert_eq!(r.status(), 201, "create {t}");
        r.json().unwrap()
    }

    /// PUTs `resource` at its type and id, asserting it was created or updated.
    pub fn put_resource(&self, resource: &Value) {
        let path = format!(
            "{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        let r = self.put(&path, resource);
        let status = r.status();
        assert!(
            status == 200 || status == 201,
            "PUT {path}: {status} {}",
            r.text().unwrap()
        );
    }

    /// Runs the SQL statements `sql` on the server's database, beside the server (SQLite waits
    /// for the server's writes rather than failing busy).
    pub fn execute(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        match self.backend {
            Backend::Sqlite => diesel::sqlite::SqliteConnection::establish(&self.db.url)
                .unwrap()
                .batch_execute(&format!("PRAGMA busy_timeout = 5000; {sql}"))
                .unwrap(),
            Backend::Postgres => diesel::pg::PgConnection::establish(&self.db.url)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// GETs a search and returns the Bundle, asserting 200.
    pub fn search(&self, path: &str) -> Value {
        let r = self.get(path);
        let status = r.status();
        let body: Value = r.json().unwrap();
        assert_eq!(status, 200, "search {path}: {body}");
        body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The ids of the resources in a searchset, in order.
pub fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == "match")
                .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of the resources in a searchset, sorted.
pub fn sorted_ids(bundle: &Value) -> Vec<String> {
    let mut found = ids(bundle);
    found.sort();
    found
}

/// The `response.status` of entry `i` of a batch or transaction answer (`""` when it has none).
pub fn entry_status(answer: &Value, i: usize) -> &str {
    answer["entry"][i]["response"]["status"]
        .as_str()
        .unwrap_or_default()
}

/// A batch or transaction entry that PATCHes `url` with the JSON Patch `ops` (as a Binary).
pub fn patch_entry(url: &str, ops: &Value) -> Value {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(ops.to_string());
    serde_json::json!({
        "resource": {"resourceType": "Binary", "contentType": JSON_PATCH, "data": data},
        "request": {"method": "PATCH", "url": url}})
}

/// `Type/id` of the entries of `bundle` in search mode `mode` (`match`, `include`), in order.
pub fn entries_in_mode(bundle: &Value, mode: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|e| e["search"]["mode"] == mode)
                .map(|e| {
                    let r = &e["resource"];
                    format!(
                        "{}/{}",
                        r["resourceType"].as_str().unwrap(),
                        r["id"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The url of a Bundle's link of `relation`, if it has one.
pub fn link<'a>(bundle: &'a Value, relation: &str) -> Option<&'a str> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == relation)
        .and_then(|l| l["url"].as_str())
}

/// The first issue of an OperationOutcome body.
pub fn first_issue(outcome: &Value) -> &Value {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    &outcome["issue"][0]
}

/// Our sample requests under examples/, parsed.
pub fn example(name: &str) -> Value {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The three official packages (R4 core, JP-Core, JP-CLINS) in ../shared/data/packages.
pub const JP_PACKAGES: [&str; 3] = [
    "hl7.fhir.r4.core-4.0.1.tgz",
    "jp-core.r4-1.1.2-url.tgz",
    "jp-clins.r4-1.5.2-snap.tgz",
];

/// A profiles folder that does not exist: no shipped IG context is loaded.
pub const NO_PROFILES: &str = "/nonexistent";

/// The shipped profiles/ of the repository (every IG context igs.toml declares), as a server
/// started with no flag from the repository root loads them.
pub fn with_shipped_profiles(a: &mut ConfigArgs) {
    a.validation.profiles = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles").into());
    a.validation.package_store = Some(NO_PROFILES.into());
}

/// [`JP_PACKAGES`] and no package store, for servers that validate against the Japanese
/// profiles.
pub fn with_jp_packages(a: &mut ConfigArgs) {
    a.validation.packages = JP_PACKAGES
        .iter()
        .map(|p| shared_data(&format!("packages/{p}")))
        .collect();
    a.validation.package_store = Some("/nonexistent".into());
}
