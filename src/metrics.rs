//! Prometheus metrics, shown at `/metrics` (see `api::metrics`): request volumes and latencies,
//! validation time, database pools and contention, the audit queue and the purger. Volumes and
//! timings only: every label comes from a fixed set (route templates, methods, status codes,
//! pool names, contention kinds, outcomes), so no id, patient, institution number or path can
//! become a label, and no client can make the number of series grow.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The media type of the Prometheus text exposition format the scrape answers in.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// From a cached read (about a millisecond) to the default request timeout.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// From a small resource to a hostile document that takes CPU seconds.
const VALIDATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Timed {
    route: &'static str,
    method: &'static str,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ContentionKind {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// One connection pool of the store at the moment of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// `sqlite-readers`, `sqlite-audit-readers` or `postgresql`.
    pub pool: &'static str,
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// What the audit queue counts; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct AuditCounters {
    /// Records committed.
    pub written: Counter,
    /// Records whose batch failed to commit (each refused its request).
    pub failed: Counter,
}

/// What the background purger counts; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct PurgeCounters {
    runs: Family<Outcome, Counter>,
    removed: Counter,
    last_run: Gauge,
}

impl PurgeCounters {
    /// A run ended at `at` (seconds since the epoch), having removed `removed` resources, or
    /// failed (`None`).
    pub fn finished(&self, removed: Option<u64>, at: i64) {
        let outcome = if removed.is_some() { "ok" } else { "failed" };
        self.runs.get_or_create(&Outcome { outcome }).inc();
        self.removed.inc_by(removed.unwrap_or(0));
        self.last_run.set(at);
    }
}

/// The server's metrics; one per server, shared by its workers.
pub struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latency: Family<Timed, Histogram, fn() -> Histogram>,
    validation: Histogram,
    connections: Family<PoolLabel, Gauge>,
    idle: Family<PoolLabel, Gauge>,
    max: Family<PoolLabel, Gauge>,
    contention: Family<ContentionKind, Counter>,
    audit_backlog: Gauge,
    audit: AuditCounters,
    purge: PurgeCounters,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kyoyu");
        let requests = Family::<Answered, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency: Family<Timed, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer, by route template, method and status class",
            Unit::Seconds,
            latency.clone(),
        );
        let validation = Histogram::new(VALIDATION_BUCKETS);
        registry.register_with_unit(
            "validation_duration",
            "Time a validation ran on the validation pool (writes, transactions, submissions, $validate)",
            Unit::Seconds,
            validation.clone(),
        );
        let (connections, idle, max) = (
            Family::<PoolLabel, Gauge>::default(),
            Family::<PoolLabel, Gauge>::default(),
            Family::<PoolLabel, Gauge>::default(),
        );
        registry.register(
            "db_pool_connections",
            "Connections the database pool holds, busy or idle",
            connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle connections in the database pool",
            idle.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Connections the database pool may hold",
            max.clone(),
        );
        let contention = Family::<ContentionKind, Counter>::default();
        registry.register(
            "db_contention",
            "Requests that failed on contention with a concurrent transaction, by kind: \
             deadlock, serialization, unique (answered 409, worth retrying), busy (SQLite \
             locked by another process past the busy timeout, answered 500)",
            contention.clone(),
        );
        let audit_backlog = Gauge::default();
        registry.register(
            "audit_queue_length",
            "Audit records and flushes queued, not yet taken into a batch",
            audit_backlog.clone(),
        );
        let audit = AuditCounters::default();
        registry.register(
            "audit_records_written",
            "Audit records committed",
            audit.written.clone(),
        );
        registry.register(
            "audit_write_failures",
            "Audit records whose batch failed to commit (their requests were refused)",
            audit.failed.clone(),
        );
        let purge = PurgeCounters::default();
        registry.register(
            "purge_runs",
            "Background retention purge runs, by outcome",
            purge.runs.clone(),
        );
        registry.register(
            "purge_removed_resources",
            "Resources the background purger removed",
            purge.removed.clone(),
        );
        registry.register(
            "purge_last_run_timestamp_seconds",
            "When the last background purge run ended (seconds since the epoch; 0: none yet)",
            purge.last_run.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            validation,
            connections,
            idle,
            max,
            contention,
            audit_backlog,
            audit,
            purge,
        }
    }

    /// Counts one answered request; `route` is its template, never its path.
    pub fn request(&self, route: &'static str, method: &str, status: u16, took: Duration) {
        let method = known_method(method);
        self.requests
            .get_or_create(&Answered {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Timed {
                route,
                method,
                status_class: status_class(status),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts one request that failed on contention of `kind` (`store::Contention::as_str`).
    pub fn contention(&self, kind: &'static str) {
        self.contention
            .get_or_create(&ContentionKind { kind })
            .inc();
    }

    /// The histogram the validation pool times its jobs in.
    pub fn validation(&self) -> Histogram {
        self.validation.clone()
    }

    pub fn audit(&self) -> AuditCounters {
        self.audit.clone()
    }

    pub fn purge(&self) -> PurgeCounters {
        self.purge.clone()
    }

    /// The exposition, with the figures read at scrape time (pools, audit backlog) as given.
    pub fn encode(&self, pools: &[PoolState], audit_backlog: usize) -> String {
        for p in pools {
            let label = PoolLabel { pool: p.pool };
            self.connections
                .get_or_create(&label)
                .set(i64::from(p.connections));
            self.idle.get_or_create(&label).set(i64::from(p.idle));
            self.max.get_or_create(&label).set(i64::from(p.max));
        }
        self.audit_backlog
            .set(i64::try_from(audit_backlog).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail; an encoder error would leave a partial text, which a
        // scraper rejects as a whole.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// The method as a label: any other token a client sends is `other`, so none adds a series.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_by_template_method_and_status() {
        let m = Metrics::new();
        m.request("/{type}/{id}", "GET", 200, Duration::from_millis(3));
        m.request("/{type}/{id}", "BREW", 404, Duration::from_millis(3));
        let text = m.encode(&[], 0);
        assert!(
            text.contains(
                "kyoyu_http_requests_total{route=\"/{type}/{id}\",method=\"GET\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("method=\"other\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kyoyu_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/{type}/{id}\",method=\"GET\",status_class=\"2xx\"} 1")
                || text.contains("kyoyu_http_request_duration_seconds_bucket{route=\"/{type}/{id}\",method=\"GET\",status_class=\"2xx\",le=\"0.005\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn pools_audit_and_purge_figures_are_shown() {
        let m = Metrics::new();
        m.audit().written.inc_by(5);
        m.purge().finished(Some(7), 1_800_000_000);
        m.purge().finished(None, 1_800_000_100);
        m.contention("deadlock");
        m.contention("deadlock");
        let text = m.encode(
            &[PoolState {
                pool: "postgresql",
                connections: 3,
                idle: 2,
                max: 8,
            }],
            4,
        );
        for line in [
            "kyoyu_db_pool_connections{pool=\"postgresql\"} 3",
            "kyoyu_db_pool_idle_connections{pool=\"postgresql\"} 2",
            "kyoyu_db_pool_max_connections{pool=\"postgresql\"} 8",
            "kyoyu_db_contention_total{kind=\"deadlock\"} 2",
            "kyoyu_audit_queue_length 4",
            "kyoyu_audit_records_written_total 5",
            "kyoyu_audit_write_failures_total 0",
            "kyoyu_purge_runs_total{outcome=\"ok\"} 1",
            "kyoyu_purge_runs_total{outcome=\"failed\"} 1",
            "kyoyu_purge_removed_resources_total 7",
            "kyoyu_purge_last_run_timestamp_seconds 1800000100",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
