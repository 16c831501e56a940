//! A database that goes away: while PostgreSQL is unreachable (a proxy between the server and
//! the database is cut) every request gets a quick 503 with `Retry-After` and an
//! OperationOutcome, readiness says so, and everything works again once the link is back;
//! start-up waits for a database that is not there yet.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, Options, TestServer};
use serde_json::{Value, json};

/// A TCP relay the test can cut (every open connection closed, new ones closed at once) and
/// restore.
struct Proxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (cut2, open2) = (Arc::clone(&cut), Arc::clone(&open));
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if cut2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(target) else {
                    continue;
                };
                let mut open = open2.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(upstream.try_clone().unwrap());
                relay(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                relay(upstream, client);
            }
        });
        Proxy { addr, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Server options whose database URL goes through this proxy.
    fn options(&self, wait_secs: f64) -> Options {
        let addr = self.addr;
        Options {
            configure: Box::new(move |a| {
                a.database_url = a.database_url.take().map(|u| proxied(&u, addr));
                a.database_wait_secs = Some(wait_secs);
            }),
            ..Options::default()
        }
    }
}

/// `url` with its host and port replaced by `addr`.
fn proxied(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!("{scheme}://{}{addr}{path}", user.unwrap_or_default())
}

fn relay(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// The PostgreSQL server of KYOYU_TEST_DATABASE_URL, checked to answer: a variable that is set
/// but points nowhere fails the test instead of skipping it.
fn postgres_target() -> Option<(String, SocketAddr)> {
    if !common::postgres_or_skip() {
        return None;
    }
    let url = common::postgres_url();
    let rest = url.split_once("://").unwrap().1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host = authority.rsplit('@').next().unwrap();
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    let addr = host.to_socket_addrs().unwrap().next().unwrap();
    use diesel::Connection;
    if let Err(e) = diesel::pg::PgConnection::establish(&url) {
        panic!("KYOYU_TEST_DATABASE_URL is set but PostgreSQL does not answer: {e}");
    }
    Some((url, addr))
}

/// Sends one request and checks the answer of an unreachable database: 503, `Retry-After`, an
/// OperationOutcome, and no waiting.
fn assert_quick_503(request: reqwest::blocking::RequestBuilder, what: &str) {
    let started = Instant::now();
    let r = request.send().unwrap();
    let took = started.elapsed();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").cloned();
    let body: Value = r.json().unwrap_or(Value::Null);
    assert_eq!(status, 503, "{what}: {body}");
    assert!(retry.is_some(), "{what}: no Retry-After");
    assert_eq!(body["resourceType"], "OperationOutcome", "{what}: {body}");
    assert!(took <= Duration::from_millis(1500), "{what} took {took:?}");
}

/// Retries `GET path` until it answers 200 or `within` passes.
fn wait_for_200(srv: &TestServer, path: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = srv.get(path).status().as_u16();
        if status == 200 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{path} still answers {status} after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn requests_during_a_cut_get_a_quick_503_and_work_again_after() {
    let Some((_, target)) = postgres_target() else {
        return;
    };
    let proxy = Proxy::start(target);
    let srv = TestServer::start_with(Backend::Postgres, proxy.options(60.0));
    let patient = json!({"resourceType": "Patient", "name": [{"family": "Outage"}]});
    let id = srv.create(&patient)["id"].as_str().unwrap().to_string();
    assert_eq!(srv.get("health/ready").status(), 200);
    assert_eq!(srv.get("ready").status(), 200);

    proxy.cut();
    for round in 0..3 {
        let c = &srv.client;
        assert_quick_503(c.get(srv.url(&format!("Patient/{id}"))), "read");
        assert_quick_503(c.get(srv.url("Patient?family=Outage")), "search");
        assert_quick_503(
            c.post(srv.url("Patient"))
                .header("content-type", common::FHIR_JSON)
                .body(patient.to_string()),
            "create",
        );
        assert_quick_503(c.get(srv.url("health/ready")), &format!("ready {round}"));
        assert_quick_503(c.get(srv.url("ready")), &format!("short ready {round}"));
    }
    assert_eq!(srv.get("health/live").status(), 200);
    assert_eq!(srv.get("health").status(), 200);

    proxy.restore();
    wait_for_200(&srv, &format!("Patient/{id}"), Duration::from_secs(10));
    assert_eq!(srv.get("health/ready").status(), 200);
    srv.create(&patient);
    assert_eq!(srv.search("Patient?family=Outage")["total"], 2);
}

#[test]
fn start_up_waits_for_the_database() {
    let Some((_, target)) = postgres_target() else {
        return;
    };
    let proxy = Arc::new(Proxy::start(target));
    proxy.cut();
    let restorer = {
        let proxy = Arc::clone(&proxy);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            proxy.restore();
        })
    };
    let started = Instant::now();
    let srv = TestServer::start_with(Backend::Postgres, proxy.options(60.0));
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the server started before the database was reachable"
    );
    restorer.join().unwrap();
    assert_eq!(srv.get("health/ready").status(), 200);
    srv.create(&json!({"resourceType": "Patient"}));
}

#[test]
fn start_up_gives_up_at_once_without_a_wait() {
    let Some((url, target)) = postgres_target() else {
        return;
    };
    let proxy = Proxy::start(target);
    proxy.cut();
    let config = kyoyu::config::ConfigArgs {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(proxied(&url, proxy.addr)),
        database_wait_secs: Some(0.0),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let started = Instant::now();
    let result = actix_web::rt::System::new().block_on(async move {
        kyoyu::api::server::start(&config, Default::default())
            .await
            .map(|_| ())
    });
    assert!(result.is_err(), "started without a database");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

backend_test!(health_endpoints_answer_without_a_fhir_request, |srv| {
    let live = srv.get("health/live");
    assert_eq!(live.status(), 200);
    let ready = srv.get("health/ready");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().unwrap()["status"], "ready");
});
