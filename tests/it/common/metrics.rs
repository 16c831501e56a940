//! Reading `/metrics` of a server started with `--metrics true`, as Prometheus does.

use super::TestServer;

/// A scrape, without any credential.
pub fn scrape(srv: &TestServer) -> String {
    let r = srv.get("metrics");
    assert_eq!(r.status(), 200);
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    r.text().unwrap()
}

/// The value of the sample `series` (name and labels as written), 0 when it is not there yet.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}
