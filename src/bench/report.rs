//! Latency statistics per phase and the text/JSON forms of the bench report.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

/// Outcome of one load phase; latencies cover successful requests only.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseReport {
    pub name: String,
    /// Successful requests started inside the measured window.
    pub requests: u64,
    /// Failed requests (bad status, transport error, timeout, failed reconnect).
    pub errors: u64,
    /// Length of the measured window, stretched to the last counted response.
    pub elapsed: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl PhaseReport {
    /// Successful requests per second over the measured window.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// Builds a report from merged per-request latencies in microseconds, and the samples of
    /// requests a paced run could not send (coordinated omission), which shape the percentiles
    /// but are not requests.
    pub(crate) fn from_samples(
        name: &str,
        mut latencies_us: Vec<u32>,
        mut omitted_us: Vec<u32>,
        errors: u64,
        elapsed: Duration,
    ) -> Self {
        let requests = latencies_us.len() as u64;
        latencies_us.append(&mut omitted_us);
        latencies_us.sort_unstable();
        let at = |p: f64| Duration::from_micros(u64::from(percentile(&latencies_us, p)));
        Self {
            name: name.to_owned(),
            requests,
            errors,
            elapsed,
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: Duration::from_micros(u64::from(latencies_us.last().copied().unwrap_or(0))),
        }
    }
}

/// Nearest-rank percentile of an ascending slice; 0 for an empty slice.
///
/// Nearest-rank always returns an observed sample, which keeps the reported
/// numbers honest for small sample counts (no interpolated latencies).
pub(crate) fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = (p.clamp(0.0, 100.0) / 100.0 * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// All phases of one `kyoyu bench` run, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    pub phases: Vec<PhaseReport>,
}

impl LoadReport {
    /// A small aligned table: phase, req/s, p50, p90, p99, max, errors.
    pub fn to_text(&self) -> String {
        let name_width = self
            .phases
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("phase".len());
        let mut out = String::new();
        // Writing to a String cannot fail, so the fmt::Result is irrelevant.
        let _ = writeln!(
            out,
            "{:<name_width$}  {:>10}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
            "phase", "req/s", "p50", "p90", "p99", "max", "errors"
        );
        for p in &self.phases {
            let _ = writeln!(
                out,
                "{:<name_width$}  {:>10.1}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
                p.name,
                p.requests_per_second(),
                fmt_ms(p.p50),
                fmt_ms(p.p90),
                fmt_ms(p.p99),
                fmt_ms(p.max),
                p.errors
            );
        }
        out
    }

    /// Machine-readable form; latencies in milliseconds, elapsed in seconds.
    pub fn to_json(&self) -> Value {
        let phases: Vec<Value> = self
            .phases
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "requests": p.requests,
                    "errors": p.errors,
                    "elapsed_s": p.elapsed.as_secs_f64(),
                    "requests_per_second": p.requests_per_second(),
                    "latency_ms": {
                        "p50": ms(p.p50),
                        "p90": ms(p.p90),
                        "p99": ms(p.p99),
                        "max": ms(p.max),
                    },
                })
            })
            .collect();
        json!({ "phases": phases })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt_ms(d: Duration) -> String {
    format!("{:.2}ms", ms(d))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn percentile_of_empty_is_zero() {
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[], 100.0), 0);
    }

    #[test]
    fn percentile_of_single_sample_is_that_sample() {
        for p in [0.0, 1.0, 50.0, 99.0, 100.0] {
            assert_eq!(percentile(&[42], p), 42);
        }
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 90.0), 90);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);

        let v = [10, 20, 30, 40];
        assert_eq!(percentile(&v, 50.0), 20);
        assert_eq!(percentile(&v, 51.0), 30);
        assert_eq!(percentile(&v, 90.0), 40);
        assert_eq!(percentile(&v, 25.0), 10);
    }

    #[test]
    fn percentile_clamps_out_of_range_p() {
        let v = [1, 2, 3];
        assert_eq!(percentile(&v, -5.0), 1);
        assert_eq!(percentile(&v, 250.0), 3);
    }

    #[test]
    fn from_samples_sorts_and_summarises() {
        let samples: Vec<u32> = (1..=1000).rev().collect();
        let r = PhaseReport::from_samples("x", samples, Vec::new(), 3, Duration::from_secs(2));
        assert_eq!(r.requests, 1000);
        assert_eq!(r.errors, 3);
        assert_eq!(r.p50, Duration::from_micros(500));
        assert_eq!(r.p90, Duration::from_micros(900));
        assert_eq!(r.p99, Duration::from_micros(990));
        assert_eq!(r.max, Duration::from_micros(1000));
        assert!((r.requests_per_second() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn empty_phase_reports_zeros() {
        let r = PhaseReport::from_samples("x", Vec::new(), Vec::new(), 7, Duration::ZERO);
        assert_eq!(r.requests, 0);
        assert_eq!(r.max, Duration::ZERO);
        assert_eq!(r.requests_per_second(), 0.0);
    }

    #[test]
    fn text_and_json_contain_every_phase() {
        let report = LoadReport {
            phases: vec![
                PhaseReport::from_samples(
                    "POST Observation",
                    vec![1500, 2500],
                    Vec::new(),
                    0,
                    Duration::from_secs(1),
                ),
                PhaseReport::from_samples(
                    "GET Observation/{id}",
                    vec![800],
                    Vec::new(),
                    1,
                    Duration::from_secs(1),
                ),
            ],
        };
        let text = report.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("phase"));
        assert!(lines[1].starts_with("POST Observation"));
        assert!(lines[1].contains("2.50ms"));
        assert!(lines[2].starts_with("GET Observation/{id}"));
        // Aligned: every row has the same width.
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() == lines[0].chars().count())
        );

        let json = report.to_json();
        assert_eq!(json["phases"][0]["requests"], 2);
        assert_eq!(json["phases"][1]["errors"], 1);
        assert_eq!(json["phases"][0]["latency_ms"]["max"], 2.5);
        assert_eq!(json["phases"][1]["requests_per_second"], 1.0);
    }
}
