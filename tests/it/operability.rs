//! Operability (issue #26): Prometheus `/metrics` (counts by route template, never an id;
//! off unless turned on; outside the audit), CORS for the configured origins only, and HEAD
//! answered like GET without a body, scoped and audited like it.

use crate::common;

use std::io::{Read, Write};

use common::Backend;
use common::hospitals::{A, EVERYONE, Who, reads_of};
use common::metrics::{sample, scrape};
use common::principals::{Principal, SignedIn};
use kyoyu::config::ConfigArgs;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const APP: &str = "https://app.example.jp";
const ELSEWHERE: &str = "https://elsewhere.example.com";

type Server = SignedIn<Who>;

fn server(backend: Backend, configure: fn(&mut ConfigArgs)) -> Server {
    Server::start(backend, &EVERYONE, move |a: &mut ConfigArgs| {
        // Validation is timed through `$validate` alone, so its count is known.
        a.validate_on_write = Some(false);
        configure(a);
    })
}

/// Runs `test` on SQLite, and on PostgreSQL when KYOYU_TEST_DATABASE_URL is set.
fn both(configure: fn(&mut ConfigArgs), test: fn(&Server, Backend)) {
    test(&server(Backend::Sqlite, configure), Backend::Sqlite);
    if common::postgres_or_skip() {
        test(&server(Backend::Postgres, configure), Backend::Postgres);
    }
}

fn patient(s: &Server) -> String {
    s.create(
        Who::HospitalA,
        &json!({"resourceType": "Patient", "name": [{"family": "山田"}]}),
    )
}

/// A request as `who` (`None`: without a credential) with extra headers.
fn request(
    s: &Server,
    who: Option<Who>,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = s.srv.client.request(method, s.srv.url(path));
    if let Some(who) = who {
        req = req.bearer_auth(who.token());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn cors_headers(r: &Response) -> Vec<String> {
    r.headers()
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

// ---- /metrics ----

const READ_OK: &str =
    "kyoyu_http_requests_total{route=\"/{type}/{id}\",method=\"GET\",status=\"200\"}";
const READ_MISSING: &str =
    "kyoyu_http_requests_total{route=\"/{type}/{id}\",method=\"GET\",status=\"404\"}";
const READ_TIMED: &str = "kyoyu_http_request_duration_seconds_count{route=\"/{type}/{id}\",method=\"GET\",status_class=\"2xx\"}";
const VALIDATIONS: &str = "kyoyu_validation_duration_seconds_count";
const AUDITED: &str = "kyoyu_audit_records_written_total";

fn metrics_on(a: &mut ConfigArgs) {
    a.metrics = Some(true);
}

fn metrics_follow_requests_by_template(s: &Server, backend: Backend) {
    let id = patient(s);
    let missing = "no-such-patient-4711";
    let before = scrape(&s.srv);
    for _ in 0..2 {
        assert_eq!(s.get(Who::HospitalA, &format!("Patient/{id}")).0, 200);
    }
    assert_eq!(s.get(Who::HospitalA, &format!("Patient/{missing}")).0, 404);
    let body = json!({"resourceType": "Patient", "name": [{"family": "山田"}]});
    assert_eq!(s.post(Who::HospitalA, "Patient/$validate", &body).0, 200);
    let after = scrape(&s.srv);
    assert_eq!(
        sample(&after, READ_OK) - sample(&before, READ_OK),
        2.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, READ_MISSING) - sample(&before, READ_MISSING),
        1.0
    );
    assert_eq!(
        sample(&after, READ_TIMED) - sample(&before, READ_TIMED),
        2.0
    );
    assert_eq!(
        sample(&after, VALIDATIONS) - sample(&before, VALIDATIONS),
        1.0
    );
    // Three reads and the $validate were recorded; the scrapes between them were not.
    assert_eq!(
        sample(&after, AUDITED) - sample(&before, AUDITED),
        4.0,
        "{after}"
    );
    assert_eq!(sample(&scrape(&s.srv), AUDITED), sample(&after, AUDITED));
    assert!(
        after.contains(
            "kyoyu_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}"
        ),
        "{after}"
    );
    // Nothing that names a resource, a caller or a path.
    for secret in [id.as_str(), missing, A, "Patient/", "HospitalA"] {
        assert!(!after.contains(secret), "{secret} in\n{after}");
    }
    // The store's pools: the test server has 4 connections (SQLite: readers).
    let pool = match backend {
        Backend::Sqlite => "sqlite-readers",
        Backend::Postgres => "postgresql",
    };
    let max = format!("kyoyu_db_pool_max_connections{{pool=\"{pool}\"}}");
    assert_eq!(sample(&after, &max), 4.0, "{after}");
    let busy = format!("kyoyu_db_pool_connections{{pool=\"{pool}\"}}");
    assert!(sample(&after, &busy) >= 1.0, "{after}");
    for series in [
        "kyoyu_audit_queue_length",
        "kyoyu_audit_write_failures_total",
        "kyoyu_purge_removed_resources_total",
        "kyoyu_purge_last_run_timestamp_seconds",
    ] {
        assert!(after.lines().any(|l| l.starts_with(series)), "{series}");
    }
}

#[test]
fn metrics_follow_requests_by_route_template_and_never_show_an_id() {
    both(metrics_on, metrics_follow_requests_by_template);
}

/// The background purger's runs show, timed by the server's clock.
fn purge_runs_show(backend: Backend) {
    // 2031-04-01T00:00:00Z.
    let at = 1_932_768_000;
    let clock = std::sync::Arc::new(kyoyu::clock::FixedClock::at_micros(at * 1_000_000));
    let srv = common::TestServer::start_with(
        backend,
        common::Options {
            clock: Some(clock),
            configure: Box::new(|a: &mut ConfigArgs| {
                a.metrics = Some(true);
                a.purge_interval_secs = Some(0.1);
            }),
        },
    );
    let runs = "kyoyu_purge_runs_total{outcome=\"ok\"}";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut text = scrape(&srv);
    while sample(&text, runs) < 2.0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        text = scrape(&srv);
    }
    assert!(sample(&text, runs) >= 2.0, "{text}");
    assert_eq!(
        sample(&text, "kyoyu_purge_last_run_timestamp_seconds"),
        at as f64,
        "{text}"
    );
    // Nothing had expired: the runs removed nothing and none failed.
    assert_eq!(sample(&text, "kyoyu_purge_removed_resources_total"), 0.0);
    assert_eq!(
        sample(&text, "kyoyu_purge_runs_total{outcome=\"failed\"}"),
        0.0
    );
}

#[test]
fn purge_runs_show_in_the_metrics() {
    purge_runs_show(Backend::Sqlite);
    if common::postgres_or_skip() {
        purge_runs_show(Backend::Postgres);
    }
}

/// A server with no operability setting: no metrics, no CORS.
#[test]
fn metrics_and_cors_are_off_by_default() {
    let s = server(Backend::Sqlite, |_| {});
    let r = request(&s, None, Method::GET, "metrics", &[]);
    assert_eq!(r.status(), 404);
    // Also for a signed-in caller: it is not a FHIR type either.
    let r = request(&s, Some(Who::Operator), Method::GET, "metrics", &[]);
    assert_eq!(r.status(), 404);
    let id = patient(&s);
    let r = request(
        &s,
        Some(Who::HospitalA),
        Method::GET,
        &format!("Patient/{id}"),
        &[("origin", APP)],
    );
    assert_eq!(r.status(), 200);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers());
    let r = preflight(&s, APP);
    assert_ne!(r.status(), 204);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers());
}

// ---- CORS ----

fn cors_on(a: &mut ConfigArgs) {
    a.cors_origins = vec![APP.to_string(), "http://localhost:3000".to_string()];
}

/// What a browser sends before a PUT with a bearer token; it carries no credential.
fn preflight(s: &Server, origin: &str) -> Response {
    request(
        s,
        None,
        Method::OPTIONS,
        "Patient/some-id",
        &[
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization, content-type, if-match",
            ),
        ],
    )
}

fn contains_all(list: Option<String>, names: &[&str]) {
    let list = list.unwrap_or_default().to_ascii_lowercase();
    let listed: Vec<&str> = list.split(',').map(str::trim).collect();
    for name in names {
        assert!(
            listed.contains(&name.to_ascii_lowercase().as_str()),
            "{name} in {list}"
        );
    }
}

fn cors_answers_the_configured_origins_only(s: &Server, _: Backend) {
    let r = preflight(s, APP);
    assert_eq!(r.status(), 204);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(APP)
    );
    contains_all(
        header(&r, "access-control-allow-methods"),
        &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    );
    contains_all(
        header(&r, "access-control-allow-headers"),
        &[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Exist",
            "Prefer",
        ],
    );
    assert_eq!(header(&r, "access-control-max-age").as_deref(), Some("600"));
    let r = preflight(s, ELSEWHERE);
    assert_eq!(r.status(), 204);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers());

    // A create and a read from the allowed page: the page may read ETag and Location.
    let body = json!({"resourceType": "Patient", "name": [{"family": "山田"}]});
    let r = s
        .srv
        .client
        .post(s.srv.url("Patient"))
        .bearer_auth(Who::HospitalA.token())
        .header("origin", APP)
        .header("content-type", common::FHIR_JSON)
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(APP)
    );
    contains_all(
        header(&r, "access-control-expose-headers"),
        &["ETag", "Location", "Content-Location", "Last-Modified"],
    );
    assert!(header(&r, "location").is_some());
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = format!("Patient/{id}");
    let r = request(
        s,
        Some(Who::HospitalA),
        Method::GET,
        &read,
        &[("origin", APP)],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(APP)
    );
    contains_all(header(&r, "access-control-expose-headers"), &["ETag"]);
    // A refusal from the allowed page is readable too, so the page can ask for a sign-in.
    let r = request(s, None, Method::GET, &read, &[("origin", APP)]);
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some(APP)
    );
    // Another origin, and no origin at all, get the answer without any CORS header.
    for origin in [Some(ELSEWHERE), Some("null"), None] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        let r = request(s, Some(Who::HospitalA), Method::GET, &read, &headers);
        assert_eq!(r.status(), 200);
        assert!(cors_headers(&r).is_empty(), "{origin:?}: {:?}", r.headers());
    }
}

#[test]
fn cors_answers_preflights_and_exposes_headers_to_the_configured_origins_only() {
    both(cors_on, cors_answers_the_configured_origins_only);
}

// ---- HEAD ----

/// Sends `HEAD path` on a connection of its own and reads until the server closes it: the
/// status line and headers, and whatever came after them (a body sent by mistake).
fn raw_head(s: &Server, who: Who, path: &str) -> (String, String) {
    let (head, rest) = raw(s, "HEAD", who, path, "");
    (head, String::from_utf8(rest).unwrap())
}

/// [`raw_head`] for any method, with extra header lines (each ending in CRLF); the body as
/// bytes (a gzip one is not text).
fn raw(s: &Server, method: &str, who: Who, path: &str, extra: &str) -> (String, Vec<u8>) {
    let addr = s.srv.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "{method} /{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n{extra}Connection: close\r\n\r\n",
        who.token()
    )
    .unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).unwrap();
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(answer[..end].to_vec()).unwrap();
    (head.to_ascii_lowercase(), answer[end + 4..].to_vec())
}

fn head_line<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

fn head_answers_like_get_without_a_body(s: &Server, _: Backend) {
    let id = patient(s);
    let read = format!("Patient/{id}");
    let get = request(s, Some(Who::HospitalA), Method::GET, &read, &[]);
    assert_eq!(get.status(), 200);
    let get_length = get.bytes().unwrap().len().to_string();
    let recorded = reads_of(s, Who::HospitalA, &read);

    let (head, rest) = raw_head(s, Who::HospitalA, &read);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(rest, "", "HEAD sent a body");
    assert_eq!(head_line(&head, "etag"), Some("w/\"1\""), "{head}");
    assert!(head_line(&head, "last-modified").is_some(), "{head}");
    assert_eq!(
        head_line(&head, "content-length"),
        Some(get_length.as_str())
    );
    assert!(
        head_line(&head, "content-type").is_some_and(|t| t.starts_with("application/fhir+json")),
        "{head}"
    );
    // Audited as the read it is.
    assert_eq!(reads_of(s, Who::HospitalA, &read), recorded + 1);

    let (head, rest) = raw_head(s, Who::HospitalA, &format!("Patient?_id={id}"));
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(rest, "", "HEAD of a search sent a body");
    let a = Some(Who::HospitalA);
    // What the GET would find HEAD finds; what it would not find or not show, HEAD does not
    // either; where GET is allowed HEAD is too, and a 405 says so.
    for (who, method, path, status, allow) in [
        (a, Method::HEAD, "metadata".to_string(), 200, None),
        (None, Method::HEAD, "health/live".to_string(), 200, None),
        (a, Method::HEAD, format!("{read}/_history"), 200, None),
        (a, Method::HEAD, "Patient/_history".to_string(), 200, None),
        (a, Method::HEAD, format!("{read}/_history/1"), 200, None),
        (
            a,
            Method::HEAD,
            "Patient/no-such-patient".to_string(),
            404,
            None,
        ),
        (Some(Who::HospitalB), Method::HEAD, read.clone(), 404, None),
        (None, Method::HEAD, read.clone(), 401, None),
        (
            a,
            Method::POST,
            read.clone(),
            405,
            Some("GET, HEAD, PUT, PATCH, DELETE"),
        ),
        (
            a,
            Method::HEAD,
            "Patient/_search".to_string(),
            405,
            Some("POST"),
        ),
    ] {
        let r = request(s, who, method.clone(), &path, &[]);
        assert_eq!(r.status(), status, "{method} {path}");
        assert_eq!(header(&r, "allow").as_deref(), allow, "{method} {path}");
        if status == 200 && path.contains("_history/") {
            assert_eq!(header(&r, "etag").as_deref(), Some("W/\"1\""));
        }
    }
}

/// The headers that describe the representation, as HEAD must repeat them from GET.
fn representation(head: &str) -> Vec<(String, String)> {
    let mut lines: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        // Differ from one answer to the next, or describe the connection, not the resource.
        .filter(|(k, _)| !["date", "x-request-id", "connection"].contains(&k.as_str()))
        .collect();
    lines.sort();
    lines
}

fn head_with_gzip_answers_like_get_with_gzip(s: &Server, _: Backend) {
    let id = patient(s);
    for path in [format!("Patient/{id}"), format!("Patient?_id={id}")] {
        let gzip = "Accept-Encoding: gzip\r\n";
        let (get, body) = raw(s, "GET", Who::HospitalA, &path, gzip);
        let (head, rest) = raw(s, "HEAD", Who::HospitalA, &path, gzip);
        assert!(get.starts_with("http/1.1 200"), "{get}");
        assert_eq!(head_line(&get, "content-encoding"), Some("gzip"), "{get}");
        assert!(!body.is_empty(), "GET {path} sent no body");
        assert_eq!(head.lines().next(), get.lines().next(), "{path}");
        assert_eq!(representation(&head), representation(&get), "{path}");
        assert!(
            rest.is_empty(),
            "HEAD {path} sent a body: {} bytes",
            rest.len()
        );
    }
}

#[test]
fn head_with_gzip_negotiated_answers_like_get_without_a_body() {
    both(|_| {}, head_with_gzip_answers_like_get_with_gzip);
}

#[test]
fn head_answers_like_get_without_a_body_scoped_and_audited() {
    both(|_| {}, head_answers_like_get_without_a_body);
}
