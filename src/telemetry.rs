//! Logging via tracing, to stderr. What may be logged: methods, route templates, statuses,
//! durations, request ids, counts. What may not: resource content, ids of resources or patients,
//! query strings, credentials.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The target of the line each request logs (`api::request_log`), so that a filter can quiet
/// that log alone (`RUST_LOG=info,kyoyu::request=warn`).
pub const REQUEST_LOG: &str = "kyoyu::request";

/// What a command logs when `RUST_LOG` is not set; when it is, `RUST_LOG` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    /// Everything at INFO, a line per request included: `serve` and the other commands.
    Info,
    /// INFO, but the request log at WARN only: `bench`, whose in-process server answers
    /// hundreds of thousands of requests a run, and a line each on stderr costs throughput.
    QuietRequests,
}

impl Defaults {
    fn directives(self) -> String {
        match self {
            Defaults::Info => "info".to_string(),
            Defaults::QuietRequests => format!("info,{REQUEST_LOG}=warn"),
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` when it is set and valid, else `defaults`.
pub fn init(defaults: Defaults) {
    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(defaults, rust_log.as_deref()))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// A `RUST_LOG` that does not parse falls back to the defaults, as it always has.
fn filter(defaults: Defaults, rust_log: Option<&str>) -> EnvFilter {
    rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(defaults.directives()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a subscriber wrote, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The lines logged under `filter`: a request's line at INFO, one at WARN, and another
    /// module's INFO line.
    fn logged(filter: EnvFilter) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: REQUEST_LOG, "request at info");
            tracing::warn!(target: REQUEST_LOG, "request at warn");
            tracing::info!("server at info");
        });
        let bytes = out.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn the_bench_quiets_the_request_log_only_and_rust_log_still_decides() {
        let serve = logged(filter(Defaults::Info, None));
        assert!(serve.contains("request at info"), "{serve}");
        assert!(serve.contains("server at info"), "{serve}");
        let bench = logged(filter(Defaults::QuietRequests, None));
        assert!(!bench.contains("request at info"), "{bench}");
        assert!(bench.contains("request at warn"), "{bench}");
        assert!(bench.contains("server at info"), "{bench}");
        let asked = logged(filter(Defaults::QuietRequests, Some("info")));
        assert!(asked.contains("request at info"), "{asked}");
        let quiet = logged(filter(Defaults::Info, Some("warn")));
        assert!(!quiet.contains("at info"), "{quiet}");
        // A RUST_LOG that does not parse leaves the command's defaults.
        let bad = logged(filter(Defaults::QuietRequests, Some("kyoyu=loud")));
        assert!(!bad.contains("request at info"), "{bad}");
        assert!(bad.contains("server at info"), "{bad}");
    }
}
