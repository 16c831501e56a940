//! The bench phases (create Observations, then read them back) and the
//! bounded worker loop they share.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::LOCATION;
use hyper::http::response;
use hyper::{Method, Request, StatusCode, Uri};
use serde::Serialize;
use tokio::task::JoinSet;

use super::client::{Conn, Target};
use super::report::{LoadReport, PhaseReport};
use super::rng::Rng;

/// Keeps file descriptors and per-task memory sane on a shared machine.
const MAX_CONNECTIONS: usize = 1024;
/// Grace period after the measured window before a phase is cut off.
const HARD_STOP_GRACE: Duration = Duration::from_secs(10);
/// A response slower than this is an error, not a latency sample.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed reconnect so a dead server does not cause a hot loop.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(10);
/// Upper bound on ids kept for the GET phase; cycling over more adds nothing.
const MAX_KEPT_IDS: usize = 100_000;
/// Number of distinct `Patient/bench-<n>` subjects.
const PATIENTS: u64 = 1000;

const PHASE_POST: &str = "POST Observation";
const PHASE_GET: &str = "GET Observation/{id}";
const PHASE_SEARCH: &str = "GET Observation?subject=…";
const PHASE_INCLUDE: &str = "GET Observation?subject=…&_include=Observation:subject";
const PHASE_REVINCLUDE: &str = "GET Patient?_id=…&_revinclude=Observation:subject";

/// What `kyoyu bench` asks for.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// FHIR base, e.g. `http://127.0.0.1:8080`; must be a loopback host.
    pub base_url: String,
    /// Concurrent workers per phase, each with its own keep-alive connection.
    pub connections: usize,
    /// Measured time per phase.
    pub duration: Duration,
    /// Unmeasured time at the start of each phase.
    pub warmup: Duration,
    /// Bearer token sent with every request (a server with principals configured).
    pub token: Option<String>,
    /// Another institution's token. Before the GET phases it records a Consent (both
    /// categories) for every bench patient; then the GET and search phases read as that
    /// institution, so every row passes the consent check instead of the ownership one.
    pub reader_token: Option<String>,
    /// Once set, no further request starts: ends the measured window early (the purge bench
    /// measures GETs only while its purge runs).
    pub stop: Option<Arc<AtomicBool>>,
    /// Requests per second over all connections: each connection sends on a schedule (not
    /// before its previous answer), and a request is timed from when it is sent. The timer
    /// ticks in milliseconds, so requests leave in small bursts. `None`: each connection sends
    /// its next request as soon as the last is answered (the server's capacity).
    pub rate: Option<f64>,
    /// Two more search phases: a patient's labs with `_include=Observation:subject`, and the
    /// patient with `_revinclude=Observation:subject` (its labs as included resources). The
    /// bench patients are registered first so the includes find them.
    pub includes: bool,
    /// The in-process server's store: once the POST phase has filled it, PostgreSQL analyses
    /// it, so the reads meet the plans a running server would have once autovacuum did (it
    /// may be off). `None` for a server of one's own.
    pub analyze: Option<AnalyzeStore>,
}

/// A store to analyse between the POST phase and the reads (a wrapper for `Debug`).
#[derive(Clone)]
pub struct AnalyzeStore(pub crate::store::Store);

impl std::fmt::Debug for AnalyzeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnalyzeStore")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid bench options: {0}")]
    InvalidOptions(&'static str),
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: &'static str },
    #[error(
        "refusing to load-test host {host:?}: benchmarks may only target this machine \
         (127.0.0.0/8, ::1 or localhost)"
    )]
    NonLoopbackHost { host: String },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP/1.1 handshake with {addr} failed: {source}")]
    Handshake {
        addr: String,
        #[source]
        source: hyper::Error,
    },
    #[error(
        "no Observation was created (expected 201 Created with a Location header; \
         {errors} POSTs failed, warmup included), so there is nothing to read back"
    )]
    NoObservationsCreated { errors: u64 },
    #[error("recording the reading institution's Consent failed: {0}")]
    Consent(String),
    #[error("registering the bench patients failed: {0}")]
    Patients(String),
    #[error("analysing the filled store failed: {0}")]
    Analyze(#[from] crate::store::StoreError),
}

/// Runs the POST phase, then the GET phase over the ids it created.
///
/// Every phase stops within `warmup + duration + 10s`. Workers are spawned on
/// the caller's runtime and never block, so a current-thread runtime works.
pub async fn run(opts: &LoadOptions) -> Result<LoadReport, Error> {
    let (target, conns) = connect_all(opts).await?;
    let post_uri = target.uri("/Observation").ok_or(Error::InvalidBaseUrl {
        url: opts.base_url.clone(),
        reason: "cannot form the Observation URL",
    })?;
    // The server refuses a reference to a resource it does not hold (referential integrity),
    // so every mode needs the Patients its Observations name.
    register_patients(&target).await?;
    let keep_per_task = (MAX_KEPT_IDS / opts.connections).max(1);
    let creators = (0..opts.connections)
        .map(|i| CreateObservations::new(&target, post_uri.clone(), i, keep_per_task))
        .collect();
    let (post, outcomes) = run_phase(PHASE_POST, &target, conns, creators, opts).await?;

    let failed_posts = post.errors + outcomes.iter().map(|o| o.warmup_errors).sum::<u64>();
    let mut conns = Vec::with_capacity(opts.connections);
    let mut read_uris = Vec::new();
    for outcome in outcomes {
        conns.push(outcome.conn);
        for id in outcome.workload.ids {
            if let Some(uri) = target.uri(&format!("/Observation/{id}")) {
                read_uris.push(uri);
            }
        }
    }
    if read_uris.is_empty() {
        return Err(Error::NoObservationsCreated {
            errors: failed_posts,
        });
    }
    if let Some(AnalyzeStore(store)) = &opts.analyze {
        store
            .read(|c| c.maintenance().analyze_postgres().map_err(Error::from))
            .await?;
    }
    // Workers lost to a panic come back as fresh connections.
    conns.resize_with(opts.connections, || None);
    let target = match &opts.reader_token {
        Some(token) => {
            let reader = Arc::new(Target::parse(&opts.base_url)?.with_token(Some(token))?);
            record_consents(&reader).await?;
            reader
        }
        None => target,
    };

    let read_uris: Arc<[Uri]> = read_uris.into();
    let readers = (0..opts.connections)
        .map(|i| ReadObservations {
            target: Arc::clone(&target),
            // Spread workers over the id list so they do not hit the same rows.
            next: i * read_uris.len() / opts.connections,
            uris: Arc::clone(&read_uris),
        })
        .collect();
    let (get, outcomes) = run_phase(PHASE_GET, &target, conns, readers, opts).await?;

    let conns = outcomes.into_iter().map(|o| o.conn).collect();
    let (search, mut conns) = search_phase(PHASE_SEARCH, &target, conns, opts, |p| {
        format!("/Observation?subject=Patient/bench-{p}&_count=10")
    })
    .await?;
    let mut phases = vec![post, get, search];
    if opts.includes {
        let (include, next) = search_phase(PHASE_INCLUDE, &target, conns, opts, |p| {
            format!("/Observation?subject=Patient/bench-{p}&_count=10&_include=Observation:subject")
        })
        .await?;
        let (revinclude, next) = search_phase(PHASE_REVINCLUDE, &target, next, opts, |p| {
            format!("/Patient?_id=bench-{p}&_revinclude=Observation:subject")
        })
        .await?;
        phases.extend([include, revinclude]);
        conns = next;
    }
    drop(conns);
    Ok(LoadReport { phases })
}

/// A phase of GETs of `path_of(patient)` over the bench patients round-robin; the connections
/// it leaves for the next phase.
async fn search_phase(
    name: &str,
    target: &Arc<Target>,
    mut conns: Vec<Option<Conn>>,
    opts: &LoadOptions,
    path_of: impl Fn(u64) -> String,
) -> Result<(PhaseReport, Vec<Option<Conn>>), Error> {
    // Workers lost to a panic come back as fresh connections.
    conns.resize_with(opts.connections, || None);
    let uris: Arc<[Uri]> = (0..PATIENTS)
        .filter_map(|p| target.uri(&path_of(p)))
        .collect::<Vec<_>>()
        .into();
    let searchers = (0..opts.connections)
        .map(|i| ReadObservations {
            target: Arc::clone(target),
            next: i * uris.len() / opts.connections,
            uris: Arc::clone(&uris),
        })
        .collect();
    let (report, outcomes) = run_phase(name, target, conns, searchers, opts).await?;
    Ok((report, outcomes.into_iter().map(|o| o.conn).collect()))
}

/// The member identifier of bench patient `p`: consents reach another institution's rows by
/// the person their Patient names, so the consent bench needs Patients behind its subjects.
fn bench_member(p: u64) -> serde_json::Value {
    serde_json::json!({"system": crate::clins::systems::INSURANCE_MEMBER_ID,
                       "value": format!("00000000::{p}:")})
}

/// Writes `Patient/bench-<n>` for every bench patient, with its member identifier, before any
/// Observation names it; unmeasured.
async fn register_patients(writer: &Target) -> Result<(), Error> {
    let requests = (0..PATIENTS).map(|p| {
        let body = serde_json::json!({"resourceType": "Patient", "id": format!("bench-{p}"),
                                      "identifier": [bench_member(p)]});
        (format!("/Patient/bench-{p}"), Method::PUT, body)
    });
    send_each(writer, requests, Error::Patients).await
}

/// Records, as `reader`, an active Consent for both categories for every bench patient; unmeasured.
async fn record_consents(reader: &Target) -> Result<(), Error> {
    use crate::access::classify::{CONSENT_A, CONSENT_B, CONSENT_CATEGORY_SYSTEM};
    let categories = [CONSENT_A, CONSENT_B].map(
        |code| serde_json::json!({"coding": [{"system": CONSENT_CATEGORY_SYSTEM, "code": code}]}),
    );
    let requests = (0..PATIENTS).map(|p| {
        let body = serde_json::json!({
            "resourceType": "Consent",
            "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": categories,
            "patient": {"reference": format!("Patient/bench-{p}")},
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
            "provision": {"period": {"start": "2020-01-01"}}
        });
        ("/Consent".to_string(), Method::POST, body)
    });
    send_each(reader, requests, Error::Consent).await
}

/// Sends `requests` one after another on a connection of its own; each must answer 200 or 201.
async fn send_each(
    target: &Target,
    requests: impl Iterator<Item = (String, Method, serde_json::Value)>,
    failed: fn(String) -> Error,
) -> Result<(), Error> {
    let mut conn = Conn::connect(target).await?;
    for (path, method, body) in requests {
        let uri = target
            .uri(&path)
            .ok_or_else(|| failed(format!("cannot form the URL {path}")))?;
        let body = body.to_string();
        let mut attempt = conn
            .exchange(target.request(method.clone(), uri.clone(), body.clone().into()))
            .await;
        if attempt.is_err() {
            // A server may close a kept-alive connection between requests: one fresh try.
            conn = Conn::connect(target).await?;
            attempt = conn
                .exchange(target.request(method.clone(), uri, body.into()))
                .await;
        }
        let head = attempt.map_err(|e| failed(e.to_string()))?;
        if !matches!(head.status, StatusCode::OK | StatusCode::CREATED) {
            return Err(failed(format!("{method} {path} answered {}", head.status)));
        }
    }
    Ok(())
}

/// Checks the options and opens every connection before the clock starts, so connection setup
/// is not measured and an unreachable server is reported as such instead of as errors.
pub(super) async fn connect_all(
    opts: &LoadOptions,
) -> Result<(Arc<Target>, Vec<Option<Conn>>), Error> {
    validate(opts)?;
    let target = Arc::new(Target::parse(&opts.base_url)?.with_token(opts.token.as_deref())?);
    let mut conns = Vec::with_capacity(opts.connections);
    for _ in 0..opts.connections {
        conns.push(Some(Conn::connect(&target).await?));
    }
    Ok((target, conns))
}

pub(super) fn validate(opts: &LoadOptions) -> Result<(), Error> {
    if opts.connections == 0 {
        return Err(Error::InvalidOptions("connections must be at least 1"));
    }
    if opts.connections > MAX_CONNECTIONS {
        return Err(Error::InvalidOptions("connections must be at most 1024"));
    }
    if opts.duration.is_zero() {
        return Err(Error::InvalidOptions("duration must be greater than zero"));
    }
    Ok(())
}

/// Time boundaries of one phase.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Requests started before this are warmup and not counted.
    measure_from: Instant,
    /// No request is started at or after this.
    measure_until: Instant,
    /// Nothing of the phase survives past this.
    hard_stop: Instant,
}

impl Window {
    fn starting_now(opts: &LoadOptions) -> Result<Self, Error> {
        let too_long = || Error::InvalidOptions("warmup + duration is too long");
        let measure_from = Instant::now()
            .checked_add(opts.warmup)
            .ok_or_else(too_long)?;
        let measure_until = measure_from
            .checked_add(opts.duration)
            .ok_or_else(too_long)?;
        let hard_stop = measure_until
            .checked_add(HARD_STOP_GRACE)
            .ok_or_else(too_long)?;
        Ok(Self {
            measure_from,
            measure_until,
            hard_stop,
        })
    }
}

/// The per-request part of a phase.
pub(super) trait Workload: Send + 'static {
    fn next_request(&mut self) -> Request<Full<Bytes>>;
    /// Judges a response whose body has been read completely.
    fn accept(&mut self, head: &response::Parts) -> bool;
}

/// What one worker hands back when its phase ends.
pub(super) struct TaskOutcome<W> {
    workload: W,
    /// Connection kept alive for the next phase, if still usable.
    conn: Option<Conn>,
    latencies_us: Vec<u32>,
    /// Paced only: samples of the requests its schedule could not send (see [`omitted`]).
    omitted_us: Vec<u32>,
    errors: u64,
    /// Failures during warmup, only used to explain a run that created nothing.
    warmup_errors: u64,
    last_done: Option<Instant>,
}

pub(super) async fn run_phase<W: Workload>(
    name: &str,
    target: &Arc<Target>,
    conns: Vec<Option<Conn>>,
    workloads: Vec<W>,
    opts: &LoadOptions,
) -> Result<(PhaseReport, Vec<TaskOutcome<W>>), Error> {
    let window = Window::starting_now(opts)?;
    let mut set = JoinSet::new();
    // Paced: each connection sends one request every `connections / rate`, the connections'
    // schedules evenly staggered.
    let interval = opts
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(opts.connections.max(1) as f64 / r));
    for (i, (conn, workload)) in conns.into_iter().zip(workloads).enumerate() {
        let pace = interval.map(|every| Pace {
            every,
            next: Instant::now() + every.mul_f64(i as f64 / opts.connections.max(1) as f64),
        });
        set.spawn(drive(
            Arc::clone(target),
            conn,
            workload,
            window,
            Limits {
                stop: opts.stop.clone(),
                pace,
            },
        ));
    }

    let mut outcomes = Vec::with_capacity(opts.connections);
    loop {
        let left = window.hard_stop.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, set.join_next()).await {
            Ok(Some(Ok(outcome))) => outcomes.push(outcome),
            Ok(Some(Err(e))) => tracing::warn!(phase = name, error = %e, "bench worker failed"),
            Ok(None) => break,
            Err(_) => {
                // Workers bound every await by the hard stop, so this is a
                // backstop; dropping the set aborts the stragglers.
                tracing::warn!(phase = name, "bench workers still running at the hard stop");
                break;
            }
        }
    }
    drop(set);

    let requests: usize = outcomes.iter().map(|o| o.latencies_us.len()).sum();
    let omitted: usize = outcomes.iter().map(|o| o.omitted_us.len()).sum();
    let mut latencies_us = Vec::with_capacity(requests + omitted);
    let mut omitted_us = Vec::with_capacity(omitted);
    let mut errors = 0;
    // A phase stopped early ends when it stopped, not at its planned end.
    let mut last_done = window.measure_until.min(Instant::now());
    for o in &mut outcomes {
        latencies_us.append(&mut o.latencies_us);
        omitted_us.append(&mut o.omitted_us);
        o.latencies_us.shrink_to_fit();
        o.omitted_us.shrink_to_fit();
        errors += o.errors;
        if let Some(t) = o.last_done {
            last_done = last_done.max(t);
        }
    }
    // Requests started just before the window closed still count, so the
    // window stretches to their completion to keep req/s honest.
    let elapsed = last_done.saturating_duration_since(window.measure_from);
    let report = PhaseReport::from_samples(name, latencies_us, omitted_us, errors, elapsed);
    Ok((report, outcomes))
}

/// What ends or paces one worker besides its window.
struct Limits {
    stop: Option<Arc<AtomicBool>>,
    pace: Option<Pace>,
}

/// A paced worker's schedule.
struct Pace {
    every: Duration,
    next: Instant,
}

/// One worker: issues requests back to back on its connection until the
/// window closes, reconnecting whenever the connection breaks.
async fn drive<W: Workload>(
    target: Arc<Target>,
    mut conn: Option<Conn>,
    mut workload: W,
    window: Window,
    mut limits: Limits,
) -> TaskOutcome<W> {
    let mut latencies_us = Vec::new();
    let mut omitted_us = Vec::new();
    let mut errors = 0u64;
    let mut warmup_errors = 0u64;
    let mut last_done = None;

    loop {
        let now = Instant::now();
        let stopped = limits
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed));
        if now >= window.measure_until || stopped {
            break;
        }
        let measured = now >= window.measure_from;

        if conn.as_ref().is_none_or(Conn::is_closed) {
            conn = None;
            let budget = window.hard_stop.saturating_duration_since(now);
            match tokio::time::timeout(budget, Conn::connect(&target)).await {
                Ok(Ok(c)) => conn = Some(c),
                Ok(Err(_)) | Err(_) => {
                    if measured {
                        errors += 1;
                    } else {
                        warmup_errors += 1;
                    }
                    let pause = RECONNECT_BACKOFF.min(
                        window
                            .measure_until
                            .saturating_duration_since(Instant::now()),
                    );
                    tokio::time::sleep(pause).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };

        // A keep-alive connection the server closed while idle is not a
        // failed request: reconnect without counting an error.
        let budget = REQUEST_TIMEOUT.min(window.hard_stop.saturating_duration_since(now));
        if !matches!(tokio::time::timeout(budget, c.ready()).await, Ok(true)) {
            conn = None;
            continue;
        }

        let request = workload.next_request();
        if let Some(pace) = limits.pace.as_mut() {
            let due = pace.next;
            pace.next += pace.every;
            tokio::time::sleep_until(due.into()).await;
        }
        let started = Instant::now();
        let budget = REQUEST_TIMEOUT.min(window.hard_stop.saturating_duration_since(started));
        let result = tokio::time::timeout(budget, c.exchange(request)).await;
        let done = Instant::now();
        let ok = match result {
            // Warmup responses are judged too: the POST phase keeps their ids.
            Ok(Ok(head)) => workload.accept(&head),
            Ok(Err(_)) | Err(_) => {
                conn = None;
                false
            }
        };
        if started >= window.measure_from {
            if ok {
                let latency = done.saturating_duration_since(started);
                latencies_us.push(micros(latency));
                if let Some(pace) = &limits.pace {
                    omitted_us.extend(omitted(latency, pace.every));
                }
                last_done = Some(done);
            } else {
                errors += 1;
            }
        } else if !ok {
            warmup_errors += 1;
        }
    }

    TaskOutcome {
        workload,
        conn,
        latencies_us,
        omitted_us,
        errors,
        warmup_errors,
        last_done,
    }
}

/// Coordinated omission: while a paced connection waits `latency` for an answer, the requests
/// its schedule had due every `every` are not sent, and a send-time clock never sees their wait.
/// They would have waited `latency - every`, `latency - 2·every`, … (HdrHistogram's correction
/// for an expected interval); these are added to the percentiles, not to the request count.
/// Timed from the schedule instead, the timer's own millisecond granularity would be charged to
/// the server.
fn omitted(latency: Duration, every: Duration) -> impl Iterator<Item = u32> {
    let mut missing = latency.checked_sub(every);
    std::iter::from_fn(move || {
        let m = missing.filter(|m| !every.is_zero() && *m >= every)?;
        missing = m.checked_sub(every);
        Some(micros(m))
    })
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// POST phase: creates varied lab Observations and remembers their ids.
struct CreateObservations {
    target: Arc<Target>,
    uri: Uri,
    rng: Rng,
    /// Reused serialisation buffer; only the final `Bytes` is allocated per request.
    body: Vec<u8>,
    subject: String,
    effective: String,
    ids: Vec<String>,
    keep: usize,
}

impl CreateObservations {
    fn new(target: &Arc<Target>, uri: Uri, worker: usize, keep: usize) -> Self {
        Self {
            target: Arc::clone(target),
            uri,
            rng: Rng::seeded(worker as u64),
            body: Vec::with_capacity(1024),
            subject: String::with_capacity(32),
            effective: String::with_capacity(32),
            ids: Vec::new(),
            keep,
        }
    }

    fn build_body(&mut self) -> Bytes {
        let test = &LAB_TESTS[self.rng.below(LAB_TESTS.len() as u64) as usize];
        let patient = self.rng.below(PATIENTS);
        let day = self.rng.below(366) as u32;
        let (month, mday) = month_day_2024(day);
        let (hh, mm, ss) = (self.rng.below(24), self.rng.below(60), self.rng.below(60));
        let scale = 10f64.powi(test.decimals);
        let value = ((test.low + (test.high - test.low) * self.rng.unit()) * scale).round() / scale;

        self.subject.clear();
        self.effective.clear();
        // Writing to a String cannot fail.
        let _ = write!(self.subject, "Patient/bench-{patient}");
        let _ = write!(
            self.effective,
            "2024-{month:02}-{mday:02}T{hh:02}:{mm:02}:{ss:02}+09:00"
        );

        let coding = [
            Coding {
                system: JLAC10_SYSTEM,
                code: test.jlac10,
                display: Some(test.display),
            },
            Coding {
                system: LOCAL_LAB_SYSTEM,
                code: test.local,
                display: None,
            },
        ];
        let observation = Observation {
            resource_type: "Observation",
            status: "final",
            category: [CodeableConcept {
                coding: &LABORATORY,
                text: None,
            }],
            code: CodeableConcept {
                coding: &coding,
                text: Some(test.display),
            },
            subject: Reference {
                reference: &self.subject,
            },
            effective_date_time: &self.effective,
            value_quantity: Quantity {
                value,
                unit: test.unit,
                system: UCUM_SYSTEM,
                code: test.unit,
            },
        };
        self.body.clear();
        // Serialising plain structs of str/f64 into a Vec cannot fail; an
        // empty body would just be rejected by the server and counted.
        if serde_json::to_writer(&mut self.body, &observation).is_err() {
            self.body.clear();
        }
        Bytes::copy_from_slice(&self.body)
    }
}

impl Workload for CreateObservations {
    fn next_request(&mut self) -> Request<Full<Bytes>> {
        let body = self.build_body();
        self.target.request(Method::POST, self.uri.clone(), body)
    }

    fn accept(&mut self, head: &response::Parts) -> bool {
        if head.status != StatusCode::CREATED {
            return false;
        }
        // Without a Location the resource cannot be read back, which is a
        // server bug worth surfacing as an error.
        let Some(id) = head
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(observation_id)
        else {
            return false;
        };
        if self.ids.len() < self.keep {
            self.ids.push(id.to_owned());
        }
        true
    }
}

/// GET phase: reads the created Observations round-robin.
pub(super) struct ReadObservations {
    pub(super) target: Arc<Target>,
    pub(super) uris: Arc<[Uri]>,
    pub(super) next: usize,
}

impl Workload for ReadObservations {
    fn next_request(&mut self) -> Request<Full<Bytes>> {
        let i = self.next % self.uris.len().max(1);
        self.next = i + 1;
        // Uri clones share their bytes, so this does not allocate the path.
        let uri = self.uris.get(i).cloned().unwrap_or_default();
        self.target.request(Method::GET, uri, Bytes::new())
    }

    fn accept(&mut self, head: &response::Parts) -> bool {
        head.status == StatusCode::OK
    }
}

/// The id in a Location such as `{base}/Observation/{id}/_history/1`.
///
/// Only ids valid per FHIR (`[A-Za-z0-9\-\.]{1,64}`) are accepted, so they can
/// be pasted into a request path unescaped.
pub(crate) fn observation_id(location: &str) -> Option<&str> {
    const MARKER: &str = "Observation/";
    let location = location.split(['?', '#']).next().unwrap_or(location);
    let at = location.rfind(MARKER)?;
    if at > 0 && !location[..at].ends_with('/') {
        return None;
    }
    let id = location[at + MARKER.len()..].split('/').next()?;
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    valid.then_some(id)
}

/// (month, day) for a zero-based day of the leap year 2024.
fn month_day_2024(day_of_year: u32) -> (u32, u32) {
    const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut d = day_of_year % 366;
    for (m, len) in (1u32..).zip(DAYS) {
        if d < len {
            return (m, d + 1);
        }
        d -= len;
    }
    (12, 31)
}

const JLAC10_SYSTEM: &str = "urn:oid:1.2.392.200119.4.504";
/// Stand-in for a hospital's own lab code system, which real documents carry
/// next to the JLAC10 code.
const LOCAL_LAB_SYSTEM: &str = "http://example.jp/fhir/CodeSystem/local-lab-code";
const UCUM_SYSTEM: &str = "http://unitsofmeasure.org";
const LABORATORY: [Coding<'static>; 1] = [Coding {
    system: "http://terminology.hl7.org/CodeSystem/observation-category",
    code: "laboratory",
    display: Some("Laboratory"),
}];

struct LabTest {
    jlac10: &'static str,
    local: &'static str,
    display: &'static str,
    /// UCUM code, also used as the human-readable unit.
    unit: &'static str,
    low: f64,
    high: f64,
    decimals: i32,
}

/// Common panel items with plausible value ranges (JLAC10 17-digit codes).
const LAB_TESTS: &[LabTest] = &[
    LabTest {
        jlac10: "3D010000001926101",
        local: "GLU",
        display: "グルコース",
        unit: "mg/dL",
        low: 70.0,
        high: 180.0,
        decimals: 0,
    },
    LabTest {
        jlac10: "3D046000001906202",
        local: "HBA1C",
        display: "HbA1c(NGSP)",
        unit: "%",
        low: 4.8,
        high: 9.0,
        decimals: 1,
    },
    LabTest {
        jlac10: "3B035000002327201",
        local: "AST",
        display: "AST(GOT)",
        unit: "U/L",
        low: 10.0,
        high: 60.0,
        decimals: 0,
    },
    LabTest {
        jlac10: "3B045000002327201",
        local: "ALT",
        display: "ALT(GPT)",
        unit: "U/L",
        low: 5.0,
        high: 70.0,
        decimals: 0,
    },
    LabTest {
        jlac10: "3C015000002327101",
        local: "CRE",
        display: "クレアチニン",
        unit: "mg/dL",
        low: 0.5,
        high: 1.6,
        decimals: 2,
    },
    LabTest {
        jlac10: "3F077000002327101",
        local: "LDL",
        display: "LDLコレステロール",
        unit: "mg/dL",
        low: 60.0,
        high: 200.0,
        decimals: 0,
    },
    LabTest {
        jlac10: "2A030000001930101",
        local: "HB",
        display: "ヘモグロビン",
        unit: "g/dL",
        low: 10.0,
        high: 17.5,
        decimals: 1,
    },
];

// Borrowing structs instead of `serde_json::Value`: serialising them writes
// straight into the reused buffer without building a map per request.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Observation<'a> {
    resource_type: &'static str,
    status: &'static str,
    category: [CodeableConcept<'a>; 1],
    code: CodeableConcept<'a>,
    subject: Reference<'a>,
    effective_date_time: &'a str,
    value_quantity: Quantity<'a>,
}

#[derive(Serialize)]
struct CodeableConcept<'a> {
    coding: &'a [Coding<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(Serialize)]
struct Coding<'a> {
    system: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'a str>,
}

#[derive(Serialize)]
struct Reference<'a> {
    reference: &'a str,
}

#[derive(Serialize)]
struct Quantity<'a> {
    value: f64,
    unit: &'a str,
    system: &'a str,
    code: &'a str,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn observation_id_from_location() {
        assert_eq!(
            observation_id("http://127.0.0.1:8080/Observation/abc-123/_history/1"),
            Some("abc-123")
        );
        assert_eq!(
            observation_id("http://localhost/fhir/Observation/9.x/_history/1"),
            Some("9.x")
        );
        assert_eq!(observation_id("Observation/xyz/_history/2"), Some("xyz"));
        assert_eq!(observation_id("/Observation/xyz"), Some("xyz"));
        assert_eq!(observation_id("/Observation/xyz?foo=bar"), Some("xyz"));
        assert_eq!(observation_id("/Observation/"), None);
        assert_eq!(observation_id("/Patient/xyz/_history/1"), None);
        assert_eq!(observation_id("/MyObservation/xyz"), None);
        assert_eq!(observation_id("/Observation/a%20b"), None);
        assert_eq!(
            observation_id(&format!("/Observation/{}", "a".repeat(65))),
            None
        );
    }

    #[test]
    fn a_wait_longer_than_the_interval_stands_for_the_requests_it_held_back() {
        let ms = Duration::from_millis;
        let held: Vec<u32> = omitted(ms(5), ms(1)).collect();
        assert_eq!(held, vec![4000, 3000, 2000, 1000]);
        assert_eq!(omitted(Duration::from_micros(1500), ms(1)).count(), 0);
        assert_eq!(omitted(Duration::from_micros(999), ms(1)).count(), 0);
        assert_eq!(omitted(ms(5), Duration::ZERO).count(), 0);
    }

    #[test]
    fn month_day_covers_leap_year() {
        assert_eq!(month_day_2024(0), (1, 1));
        assert_eq!(month_day_2024(30), (1, 31));
        assert_eq!(month_day_2024(31), (2, 1));
        assert_eq!(month_day_2024(59), (2, 29));
        assert_eq!(month_day_2024(60), (3, 1));
        assert_eq!(month_day_2024(365), (12, 31));
    }

    #[test]
    fn options_are_validated() {
        let ok = LoadOptions {
            base_url: "http://127.0.0.1:1".into(),
            connections: 1,
            duration: Duration::from_millis(1),
            warmup: Duration::ZERO,
            token: None,
            reader_token: None,
            stop: None,
            rate: None,
            includes: false,
            analyze: None,
        };
        assert!(validate(&ok).is_ok());
        let zero_conns = LoadOptions {
            connections: 0,
            ..ok.clone()
        };
        assert!(matches!(
            validate(&zero_conns),
            Err(Error::InvalidOptions(_))
        ));
        let zero_duration = LoadOptions {
            duration: Duration::ZERO,
            ..ok.clone()
        };
        assert!(matches!(
            validate(&zero_duration),
            Err(Error::InvalidOptions(_))
        ));
    }

    #[test]
    fn bodies_are_valid_varied_lab_observations() {
        let target = Arc::new(Target::parse("http://127.0.0.1:8080").unwrap());
        let uri = target.uri("/Observation").unwrap();
        let mut w = CreateObservations::new(&target, uri, 0, 10);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let body = w.build_body();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["resourceType"], "Observation");
            assert_eq!(v["status"], "final");
            assert_eq!(v["category"][0]["coding"][0]["code"], "laboratory");
            assert_eq!(v["code"]["coding"][0]["system"], JLAC10_SYSTEM);
            assert_eq!(v["code"]["coding"][0]["code"].as_str().unwrap().len(), 17);
            assert_eq!(v["code"]["coding"][1]["system"], LOCAL_LAB_SYSTEM);
            let subject = v["subject"]["reference"].as_str().unwrap();
            let n: u64 = subject
                .strip_prefix("Patient/bench-")
                .unwrap()
                .parse()
                .unwrap();
            assert!(n < PATIENTS);
            let when = v["effectiveDateTime"].as_str().unwrap();
            assert!(
                when.starts_with("2024-") && when.ends_with("+09:00"),
                "{when}"
            );
            assert_eq!(when.len(), "2024-01-01T00:00:00+09:00".len());
            assert!(v["valueQuantity"]["value"].is_number());
            assert_eq!(v["valueQuantity"]["system"], UCUM_SYSTEM);
            seen.insert(body);
        }
        assert!(seen.len() > 190, "bodies should vary: {}", seen.len());

        let req = w.next_request();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/Observation");
        assert_eq!(req.headers()["content-type"], "application/fhir+json");
        assert_eq!(req.headers()["host"], "127.0.0.1:8080");
    }

    #[test]
    fn rng_streams_differ_per_worker() {
        let a: Vec<u64> = {
            let mut r = Rng::seeded(0);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::seeded(1);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_ne!(a, b);
        let mut r = Rng::seeded(7);
        for _ in 0..1000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
