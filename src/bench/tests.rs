//! End-to-end tests of `run` against a tiny hand-written HTTP/1.1 server on
//! loopback, so the bench can be checked without the real FHIR server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Error, LoadOptions, run};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// 201 + Location for POST, 200 for GET, keep-alive.
    Fhir,
    /// Like `Fhir`, but closes the connection after every response.
    CloseEachResponse,
    /// Every POST fails with 500.
    PostFails,
    /// Like `Fhir`, but one answer in 200 takes 20 ms.
    Stalls,
}

#[derive(Default)]
struct Counters {
    posts: AtomicU64,
    gets: AtomicU64,
    searches: AtomicU64,
    connections: AtomicU64,
    stalls: AtomicU64,
}

async fn fake_server(mode: Mode) -> (SocketAddr, Arc<Counters>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counters = Arc::new(Counters::default());
    let c = Arc::clone(&counters);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            c.connections.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(serve(sock, mode, addr, Arc::clone(&c)));
        }
    });
    (addr, counters)
}

async fn serve(mut sock: TcpStream, mode: Mode, addr: SocketAddr, counters: Arc<Counters>) {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
            let content_length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.trim().parse::<usize>().unwrap());
            let total = head_end + 4 + content_length;
            if buf.len() < total {
                break;
            }
            let body = &buf[head_end + 4..total];
            let response = respond(&head, body, mode, addr, &counters);
            if mode == Mode::Stalls && counters.stalls.fetch_add(1, Ordering::Relaxed) % 200 == 199
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if sock.write_all(response.as_bytes()).await.is_err() {
                return;
            }
            buf.drain(..total);
            if mode == Mode::CloseEachResponse {
                return;
            }
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn respond(head: &str, body: &[u8], mode: Mode, addr: SocketAddr, counters: &Counters) -> String {
    let connection = if mode == Mode::CloseEachResponse {
        "close"
    } else {
        "keep-alive"
    };
    let request_line = head.lines().next().unwrap_or_default();
    let lower = head.to_ascii_lowercase();
    if request_line.starts_with("POST /Observation ") {
        let n = counters.posts.fetch_add(1, Ordering::Relaxed);
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let valid = lower.contains("content-type: application/fhir+json")
            && json.is_some_and(|v| v["resourceType"] == "Observation");
        if mode == Mode::PostFails {
            return format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
            );
        }
        if !valid {
            return format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
            );
        }
        let body = format!(r#"{{"resourceType":"Observation","id":"obs-{n}"}}"#);
        return format!(
            "HTTP/1.1 201 Created\r\nLocation: http://{addr}/Observation/obs-{n}/_history/1\r\n\
             Content-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        );
    }
    if let Some(rest) = request_line.strip_prefix("GET /Observation/obs-") {
        counters.gets.fetch_add(1, Ordering::Relaxed);
        let id = rest.split(' ').next().unwrap_or_default();
        // Large enough to span several reads, so the client must drain it.
        let body = format!(
            r#"{{"resourceType":"Observation","id":"obs-{id}","note":"{}"}}"#,
            "x".repeat(20_000)
        );
        return format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        );
    }
    if request_line.starts_with("PUT /Patient/bench-") {
        return format!(
            "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
        );
    }
    if request_line.starts_with("GET /Observation?subject=Patient/bench-")
        || request_line.starts_with("GET /Patient?_id=bench-")
    {
        counters.searches.fetch_add(1, Ordering::Relaxed);
        let body = r#"{"resourceType":"Bundle","type":"searchset","total":0}"#;
        return format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            body.len()
        );
    }
    format!("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n")
}

fn options(addr: SocketAddr) -> LoadOptions {
    LoadOptions {
        token: None,
        reader_token: None,
        base_url: format!("http://{addr}"),
        connections: 2,
        duration: Duration::from_millis(250),
        warmup: Duration::from_millis(50),
        stop: None,
        rate: None,
        includes: false,
        analyze: None,
    }
}

#[tokio::test]
async fn every_phase_succeeds_against_fake_server() {
    let (addr, counters) = fake_server(Mode::Fhir).await;
    let started = Instant::now();
    let report = run(&options(addr)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    println!("{}", report.to_text());

    assert_eq!(report.phases.len(), 3);
    let post = &report.phases[0];
    let get = &report.phases[1];
    let search = &report.phases[2];
    assert_eq!(post.name, "POST Observation");
    assert_eq!(get.name, "GET Observation/{id}");
    assert_eq!(search.name, "GET Observation?subject=…");
    for phase in &report.phases {
        assert!(phase.requests > 0, "{phase:?}");
        assert_eq!(phase.errors, 0, "{phase:?}");
        assert!(phase.elapsed >= Duration::from_millis(250), "{phase:?}");
        assert!(phase.p50 <= phase.p90 && phase.p90 <= phase.p99 && phase.p99 <= phase.max);
        assert!(phase.requests_per_second() > 0.0);
    }
    // Warmup requests happen but are not counted.
    assert!(counters.posts.load(Ordering::Relaxed) > post.requests);
    assert!(counters.gets.load(Ordering::Relaxed) > get.requests);
    assert!(counters.searches.load(Ordering::Relaxed) > search.requests);
    // Keep-alive: the two initial connections serve every phase (and one more writes the
    // Patients the Observations name, before the phases).
    assert_eq!(counters.connections.load(Ordering::Relaxed), 3);

    let text = report.to_text();
    assert!(text.contains("POST Observation") && text.contains("GET Observation/{id}"));
    assert_eq!(report.to_json()["phases"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn includes_add_two_search_phases_after_registering_the_patients() {
    let (addr, counters) = fake_server(Mode::Fhir).await;
    let report = run(&LoadOptions {
        includes: true,
        ..options(addr)
    })
    .await
    .unwrap();
    let names: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names[3..],
        [
            "GET Observation?subject=…&_include=Observation:subject",
            "GET Patient?_id=…&_revinclude=Observation:subject"
        ]
    );
    for phase in &report.phases {
        assert!(phase.requests > 0, "{phase:?}");
        assert_eq!(phase.errors, 0, "{phase:?}");
    }
    let searched: u64 = report.phases[2..].iter().map(|p| p.requests).sum();
    assert!(counters.searches.load(Ordering::Relaxed) > searched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_server_closes_connections() {
    let (addr, counters) = fake_server(Mode::CloseEachResponse).await;
    let report = run(&options(addr)).await.unwrap();
    for phase in &report.phases {
        assert!(phase.requests > 0, "{phase:?}");
        assert_eq!(phase.errors, 0, "{phase:?}");
    }
    assert!(counters.connections.load(Ordering::Relaxed) > 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_run_counts_the_requests_a_stall_kept_from_being_sent() {
    let (addr, _) = fake_server(Mode::Stalls).await;
    // One request due every millisecond on each connection; one answer in 200 takes 20 ms.
    // Timed from the send alone, 0.5 % of samples are slow and the p99 is a fast answer; the
    // ~19 requests each stall kept back would have waited 1-19 ms.
    let report = run(&LoadOptions {
        rate: Some(2000.0),
        duration: Duration::from_millis(600),
        ..options(addr)
    })
    .await
    .unwrap();
    let get = &report.phases[1];
    assert!(get.p99 >= Duration::from_millis(5), "{get:?}");
    // A machine too loaded to send on schedule makes every request late, which is the point of
    // timing from the schedule: the median says something only when the schedule was kept.
    let scheduled = 2000.0 * get.elapsed.as_secs_f64();
    if get.requests as f64 >= 0.9 * scheduled {
        assert!(get.p50 < Duration::from_millis(5), "{get:?}");
    }
    // Only sent requests count: at most the schedule's.
    assert!(get.requests_per_second() <= 2100.0, "{get:?}");
}

#[tokio::test]
async fn failing_posts_are_errors_and_abort_the_run() {
    let (addr, _) = fake_server(Mode::PostFails).await;
    match run(&options(addr)).await {
        Err(Error::NoObservationsCreated { errors }) => assert!(errors > 0),
        other => panic!("expected NoObservationsCreated, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    match run(&options(addr)).await {
        Err(e @ Error::Connect { .. }) => assert!(e.to_string().contains(&addr.to_string())),
        other => panic!("expected Connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn non_loopback_target_is_refused_before_connecting() {
    let mut opts = options("127.0.0.1:1".parse().unwrap());
    opts.base_url = "http://192.0.2.10:8080".into();
    let started = Instant::now();
    let err = run(&opts).await.unwrap_err();
    assert!(matches!(err, Error::NonLoopbackHost { .. }), "{err:?}");
    assert!(err.to_string().contains("192.0.2.10"));
    assert!(started.elapsed() < Duration::from_millis(100));
}
