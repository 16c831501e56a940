//! `kyoyu bench terminology`: how fast code lists are read and stored, how fast a code is
//! looked up in the built index (single thread), and what the index costs in memory per
//! 100,000 concepts.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::packages::PackageSet;
use crate::store::{DatabaseUrl, Store, StoreOptions};
use crate::terminology::import::read_all;
use crate::terminology::{Masters, Terminology};
use crate::validation::binding_check::{BindingCheck, CodedValue};
use crate::validation::valuesets::ValueSetEngine;

#[derive(Debug, clap::Args)]
pub struct TerminologyBenchArgs {
    /// Code lists (files or folders) to read, index and store.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Seconds of the lookup run.
    #[arg(long, default_value_t = 3.0)]
    pub duration_secs: f64,
    /// Also time storing the lists in this database (default: a temporary SQLite file).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

pub fn run(args: &TerminologyBenchArgs) -> Result<String, String> {
    let mut report = String::new();
    let started = Instant::now();
    let sets = read_all(&args.paths, &Default::default())?;
    let read_time = started.elapsed();
    let concepts: usize = sets
        .iter()
        .flat_map(|(_, s)| &s.systems)
        .map(|s| s.concepts.len())
        .sum();
    report.push_str(&format!(
        "read {} files, {concepts} concepts in {:.1} ms\n",
        sets.len(),
        read_time.as_secs_f64() * 1e3
    ));
    // Codes to look up: every concept of every system, in a fixed shuffled order.
    let mut probes: Vec<(String, String)> = sets
        .iter()
        .flat_map(|(_, s)| &s.systems)
        .flat_map(|s| s.concepts.iter().map(|c| (s.url.clone(), c.code.clone())))
        .collect();
    shuffle(&mut probes);

    let stored = store_time(args, sets.clone())?;
    report.push_str(&stored);

    let started = Instant::now();
    let masters = Masters::from_imports(sets);
    let build = started.elapsed();
    let indexed = masters.concept_count().max(1);
    report.push_str(&format!(
        "index build {:.1} ms; {indexed} concepts indexed; heap {:.1} MiB per 100k concepts (strings, vectors and hash tables counted)\n",
        build.as_secs_f64() * 1e3,
        masters.heap_bytes() as f64 / (1024.0 * 1024.0) * 1e5 / indexed as f64
    ));

    let engine = ValueSetEngine::with_terminology(
        Arc::new(PackageSet::new()),
        Arc::new(Terminology::new(masters)),
    );
    if probes.is_empty() {
        return Ok(report);
    }
    let engine: &dyn BindingCheck = &engine;
    let deadline = Duration::from_secs_f64(args.duration_secs.max(0.1));
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < deadline {
        for (system, code) in probes.iter().take(10_000) {
            black_box(engine.coding(CodedValue {
                system: Some(system),
                version: None,
                code,
                display: None,
            }));
        }
        done += probes.len().min(10_000) as u64;
    }
    let rate = done as f64 / started.elapsed().as_secs_f64();
    report.push_str(&format!(
        "coding check (syntax + lookup), 1 thread: {rate:.0} codes/s over {done} checks\n"
    ));
    // Every listed code checked once: what the lists themselves do not pass (a code dropped by
    // a later list of the same system, a historic check digit).
    let mut findings: Vec<String> = Vec::new();
    for (system, code) in &probes {
        for f in engine.coding(CodedValue {
            system: Some(system),
            version: None,
            code,
            display: None,
        }) {
            findings.push(format!("{}: {}", f.severity.as_str(), f.text()));
        }
    }
    report.push_str(&format!("listed codes with findings: {}\n", findings.len()));
    findings.sort();
    findings.dedup();
    for f in findings.iter().take(5) {
        report.push_str(&format!("  e.g. {f}\n"));
    }
    Ok(report)
}

fn store_time(
    args: &TerminologyBenchArgs,
    sets: Vec<(String, crate::terminology::ImportSet)>,
) -> Result<String, String> {
    let scratch = tempfile_dir()?;
    let url = match &args.database_url {
        Some(u) => DatabaseUrl::parse(u)?,
        None => DatabaseUrl::Sqlite(scratch.join("bench.db").display().to_string()),
    };
    let options = StoreOptions::defaults_for(url.clone());
    let result = actix_web::rt::System::new().block_on(async move {
        let store = Store::open_async(options)
            .await
            .map_err(|e| e.to_string())?;
        let mut lines = String::new();
        for (source, set) in sets {
            let n: usize = set.systems.iter().map(|s| s.concepts.len()).sum();
            let started = Instant::now();
            crate::store::terminology_sync::store_imports(&store, vec![(source.clone(), set)], 0)
                .await
                .map_err(|e| e.to_string())?;
            lines.push_str(&format!(
                "  store {source}: {n} concepts in {:.1} ms ({})\n",
                started.elapsed().as_secs_f64() * 1e3,
                url.backend_name()
            ));
        }
        let started = Instant::now();
        let masters = crate::store::terminology_sync::load(&store)
            .await
            .map_err(|e| e.to_string())?;
        lines.push_str(&format!(
            "  load the index from the database: {} concepts in {:.1} ms\n",
            masters.concept_count(),
            started.elapsed().as_secs_f64() * 1e3
        ));
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        Ok::<_, String>(lines)
    });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("kyoyu-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A fixed pseudo-random order (xorshift), so runs compare like with like.
fn shuffle<T>(items: &mut [T]) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
