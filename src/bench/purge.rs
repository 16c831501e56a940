//! `kyoyu bench purge`: a store of N resources of which a fraction has expired; how long the
//! purge takes (rows/s), and GET latency before and while it runs, against an in-process server
//! on the same database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hyper::Uri;

use super::client::Target;
use super::load::{LoadOptions, ReadObservations, connect_all, run_phase};
use crate::api::server::{self, Parts};
use crate::config::ConfigArgs;
use crate::retention::PurgeOptions;
use crate::search::IndexRows;
use crate::store::{Method, NewVersion, Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct PurgeBenchArgs {
    /// Resources in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub resources: usize,
    /// Fraction of them past their expiry.
    #[arg(long, default_value_t = 0.1)]
    pub expired: f64,
    /// Rows per purge transaction (default: the server's, which depends on the backend).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seconds of each GET phase (before, during).
    #[arg(long, default_value_t = 5.0)]
    pub duration_secs: f64,
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// GET requests per second, sent on a schedule (percentiles corrected for the requests a slow
    /// answer kept from being sent); without it each connection sends back to back, saturating
    /// the machine.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Database (default: a temporary SQLite file). One already holding exactly `--resources`
    /// resources (a copy of a `--fill-only` run's) is used as it is, without filling.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Fill the database and stop: no GET phases, no purge. A PostgreSQL fill of a million
    /// takes minutes; copied with `CREATE DATABASE … TEMPLATE`, it serves any number of runs.
    #[arg(long)]
    pub fill_only: bool,
}

const ROWS_PER_TX: usize = 20_000;
const NOW: i64 = 1_800_000_000_000_000;

pub fn run(args: &PurgeBenchArgs) -> Result<String, String> {
    if !(0.0..=1.0).contains(&args.expired) || args.resources == 0 || args.batch == Some(0) {
        return Err("--resources and --batch must be positive, --expired within 0..1".into());
    }
    let scratch = std::env::temp_dir().join(format!("kyoyu-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| scratch.join("purge.db").display().to_string());
    let result = actix_web::rt::System::new().block_on(measure(args, database_url));
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn measure(args: &PurgeBenchArgs, database_url: String) -> Result<String, String> {
    let server_args = ConfigArgs {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(database_url),
        purge_interval_secs: Some(0.0),
        ..ConfigArgs::default()
    };
    let config = server_args.resolve().map_err(|e| e.to_string())?;
    let running = server::start(&config, Parts::default())
        .await
        .map_err(|e| e.to_string())?;
    // The purge goes through the server's own store, as the background purger does: one
    // writer and one checkpointer for the file, not a second pair competing with the first.
    let store = running.store();
    let mut report = String::new();
    let started = Instant::now();
    let stored = store
        .read(|c| c.maintenance().resource_count())
        .await
        .map_err(|e: StoreError| e.to_string())?;
    let expired = if usize::try_from(stored).ok() == Some(args.resources) {
        report.push_str(&format!(
            "using the {stored} resources already stored ({})\n",
            config.store.url.backend_name()
        ));
        expired_count(args.resources, args.expired)
    } else if stored == 0 {
        let expired = fill(&store, args.resources, args.expired)
            .await
            .map_err(|e| e.to_string())?;
        // What is measured next should meet the plans a running server would have, after
        // autovacuum analysed the load (it may be off, or not yet have run).
        store
            .read(|c| c.maintenance().analyze_postgres())
            .await
            .map_err(|e: StoreError| e.to_string())?;
        report.push_str(&format!(
            "stored {} resources ({expired} expired) in {:.1} s ({})\n",
            args.resources,
            started.elapsed().as_secs_f64(),
            config.store.url.backend_name()
        ));
        expired
    } else {
        return Err(format!(
            "the database holds {stored} resources: give it empty, or holding exactly --resources"
        ));
    };

    // Filling a million rows leaves PostgreSQL a checkpoint to write, which otherwise lands on
    // the before-phase (one run measured 6.4k GET/s there against the 10k asked for).
    if let Err(e) = store
        .read(|c| c.maintenance().checkpoint_postgres())
        .await
        .map_err(|e: StoreError| e.to_string())
    {
        eprintln!(
            "kyoyu: CHECKPOINT after the fill failed ({e}); the before-phase may share the disk with it"
        );
    }
    if args.fill_only {
        drop(store);
        running.stop(true).await;
        return Ok(report);
    }
    let target = Arc::new(Target::parse(&running.base_url).map_err(|e| e.to_string())?);
    // Read resources that stay: ids past the expired prefix.
    let uris: Arc<[Uri]> = (expired..args.resources)
        .step_by(((args.resources - expired) / 10_000).max(1))
        .filter_map(|i| target.uri(&format!("/Observation/r{i}")))
        .collect();
    let opts = LoadOptions {
        token: None,
        reader_token: None,
        base_url: running.base_url.clone(),
        connections: args.connections,
        duration: Duration::from_secs_f64(args.duration_secs),
        warmup: Duration::from_secs(1),
        stop: None,
        rate: args.rate,
        includes: false,
        analyze: None,
    };
    let before = get_phase("GET before purge", &opts, &uris).await?;

    // The second phase measures GETs only while the purge runs: the purge starts when the
    // phase's warmup ends, and the phase ends when the purge does.
    let done = Arc::new(AtomicBool::new(false));
    let during_opts = LoadOptions {
        duration: Duration::from_secs(24 * 3600),
        stop: Some(Arc::clone(&done)),
        ..opts.clone()
    };
    let purge_store = store.clone();
    let batch = args.batch.unwrap_or(config.purge_batch);
    let policy = config.retention;
    let warmup = opts.warmup;
    let purge = tokio::spawn(async move {
        tokio::time::sleep(warmup).await;
        let started = Instant::now();
        let options = PurgeOptions {
            as_of: NOW,
            batch,
            dry_run: false,
            list: false,
            policy,
        };
        let r = crate::retention::purge::run(&purge_store, options, NOW, |_| {}).await;
        let took = started.elapsed();
        done.store(true, Ordering::Relaxed);
        (r, took)
    });
    let during = get_phase("GET during purge", &during_opts, &uris).await?;
    let (purged, took) = purge.await.map_err(|e| e.to_string())?;
    let purged = purged.map_err(|e| e.to_string())?;
    report.push_str(&format!(
        "purged {} rows in {:.2} s: {:.0} rows/s (batches of {batch})\n",
        purged.purged(),
        took.as_secs_f64(),
        purged.purged() as f64 / took.as_secs_f64().max(1e-9)
    ));
    report.push_str(
        &super::report::LoadReport {
            phases: vec![before, during],
        }
        .to_text(),
    );
    drop(store);
    running.stop(true).await;
    Ok(report)
}

async fn get_phase(
    name: &str,
    opts: &LoadOptions,
    uris: &Arc<[Uri]>,
) -> Result<super::report::PhaseReport, String> {
    let (target, conns) = connect_all(opts).await.map_err(|e| e.to_string())?;
    let readers = (0..opts.connections)
        .map(|i| ReadObservations {
            target: Arc::clone(&target),
            uris: Arc::clone(uris),
            next: i * uris.len() / opts.connections.max(1),
        })
        .collect();
    let (report, _) = run_phase(name, &target, conns, readers, opts)
        .await
        .map_err(|e| e.to_string())?;
    Ok(report)
}

/// How many of `n` resources [`fill`] makes expired.
fn expired_count(n: usize, fraction: f64) -> usize {
    ((n as f64) * fraction) as usize
}

/// Inserts `n` Observations `r0…`; the first `fraction` of them expired before [`NOW`].
async fn fill(store: &Store, n: usize, fraction: f64) -> Result<usize, StoreError> {
    let expired = expired_count(n, fraction);
    let mut start = 0;
    while start < n {
        let end = (start + ROWS_PER_TX).min(n);
        store
            .write(None, move |c| {
                let index = IndexRows::default();
                for i in start..end {
                    let id = format!("r{i}");
                    let content = format!(
                        r#"{{"resourceType":"Observation","id":"{id}","status":"final","code":{{"text":"bench"}}}}"#
                    );
                    let expires_at = if i < expired { NOW - 1 } else { NOW + 1_000_000_000 };
                    c.insert_new(&NewVersion {
                        access_category: None,
                        hidden: None,
                        consent: &[],
                        res_type: "Observation",
                        id: &id,
                        content: &content,
                        last_updated: NOW,
                        method: Method::Post,
                        index: &index,
                        patient_key: Some("bench"),
                        person_key: None,
                        institution: Some("1318814790"),
                        retention_class: Some("condition"),
                        expires_at: Some(expires_at),
                        retention_group: None,
                    })?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        start = end;
    }
    Ok(expired)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn args(url: &str, fill_only: bool) -> PurgeBenchArgs {
        PurgeBenchArgs {
            resources: 2_000,
            expired: 0.1,
            batch: None,
            duration_secs: 0.2,
            connections: 2,
            rate: None,
            database_url: Some(url.into()),
            fill_only,
        }
    }

    #[test]
    fn a_filled_store_is_used_as_it_is_and_a_partial_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("bench.db").display().to_string();
        let filled = run(&args(&url, true)).unwrap();
        assert!(
            filled.contains("stored 2000 resources (200 expired)"),
            "{filled}"
        );
        assert!(!filled.contains("purged"), "{filled}");

        let reused = run(&args(&url, false)).unwrap();
        assert!(
            reused.contains("using the 2000 resources already stored"),
            "{reused}"
        );
        assert!(reused.contains("purged 200 rows"), "{reused}");

        // 1,800 left: neither empty nor the size asked for.
        let e = run(&args(&url, false)).unwrap_err();
        assert!(e.contains("holds 1800 resources"), "{e}");
    }
}
