//! `kyoyu bench validate`: how long validation takes with the packages preloaded — one
//! JP-CLINS 6-information bundle grown to a Patient and 20 lab Observations, and a document —
//! single-threaded latency, throughput on two threads, and memory after loading the packages.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::validation::{Validator, ValidatorOptions, has_errors};

#[derive(Debug, clap::Args)]
pub struct ValidateBenchArgs {
    /// A 6-information Bundle (Patient + Observations); its Observations are repeated with new
    /// fullUrls up to `--observations`.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Further documents to time as they are (e.g. the referral example); repeatable.
    #[arg(long = "document", value_name = "FILE")]
    pub documents: Vec<PathBuf>,
    #[arg(long, default_value_t = 20)]
    pub observations: usize,
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Seconds of the two-thread throughput run.
    #[arg(long, default_value_t = 5.0)]
    pub duration_secs: f64,
    /// FHIR packages to preload (.tgz or folders); repeatable.
    #[arg(long = "package", value_name = "P")]
    pub packages: Vec<PathBuf>,
    /// The shipped profiles folder (its igs.toml declares the IG contexts) [default: none].
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// Re-declare every meta.profile of the bundle and documents with this `|version`
    /// (e.g. 1.10.0), to time one IG release against another.
    #[arg(long, value_name = "VERSION")]
    pub profile_version: Option<String>,
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The bundle with its Observation entries repeated (fresh fullUrls) until there are `n`.
pub(crate) fn grow(bundle: &Value, n: usize) -> Result<Value, String> {
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or("the bundle has no entries")?;
    let observations: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .collect();
    if observations.is_empty() {
        return Err("the bundle has no Observation entries".into());
    }
    let mut out: Vec<Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] != "Observation")
        .cloned()
        .collect();
    for i in 0..n {
        let mut e = observations[i % observations.len()].clone();
        e["fullUrl"] = json!(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
        out.push(e);
    }
    let mut grown = bundle.clone();
    grown["entry"] = Value::Array(out);
    Ok(grown)
}

fn read(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

struct Timing {
    name: String,
    errors: usize,
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

fn time(validator: &Validator, name: String, resource: &Value, iterations: usize) -> Timing {
    let errors = validator
        .validate(resource, None, None)
        .iter()
        .filter(|i| has_errors(std::slice::from_ref(*i)))
        .count();
    for _ in 0..iterations.min(20) {
        validator.validate(resource, None, None);
    }
    let mut samples: Vec<Duration> = (0..iterations.max(1))
        .map(|_| {
            let t = Instant::now();
            validator.validate(resource, None, None);
            t.elapsed()
        })
        .collect();
    samples.sort();
    let total: Duration = samples.iter().sum();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    Timing {
        name,
        errors,
        mean: total / samples.len() as u32,
        p50: pick(0.5),
        p99: pick(0.99),
    }
}

pub fn run(args: &ValidateBenchArgs) -> Result<String, String> {
    let before = rss_kib();
    let started = Instant::now();
    let options = ValidatorOptions {
        profiles: args.profiles.clone(),
        packages: args.packages.clone(),
        ..ValidatorOptions::default()
    };
    let validator = Validator::load(&options).map_err(|e| e.to_string())?;
    let load_time = started.elapsed();
    let versioned = |mut v: Value| {
        if let Some(version) = &args.profile_version {
            crate::validation::dispatch::redeclare_profiles(&mut v, version);
        }
        v
    };
    let bundle = versioned(grow(&read(&args.bundle)?, args.observations)?);
    // First use compiles the plans; memory is read after that, with everything in place.
    validator.validate(&bundle, None, None);
    let after = rss_kib();
    let mut timings = vec![time(
        &validator,
        format!("bundle: Patient + {} Observations", args.observations),
        &bundle,
        args.iterations,
    )];
    for d in &args.documents {
        timings.push(time(
            &validator,
            d.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            &versioned(read(d)?),
            args.iterations,
        ));
    }
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let window = Duration::from_secs_f64(args.duration_secs.max(0.1));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    validator.validate(&bundle, None, None);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(window);
        stop.store(true, Ordering::Relaxed);
    });
    let per_second = done.load(Ordering::Relaxed) as f64 / window.as_secs_f64();
    let mut out = format!(
        "packages: {} loaded in {:.0} ms; memory {} MiB before, {} MiB after loading and compiling\n",
        validator.packages().packages().len(),
        load_time.as_secs_f64() * 1000.0,
        before.map_or(0, |k| k / 1024),
        after.map_or(0, |k| k / 1024),
    );
    out.push_str(&format!(
        "{:<48} {:>10} {:>10} {:>10} {:>7}\n",
        "validated", "mean", "p50", "p99", "errors"
    ));
    for t in &timings {
        out.push_str(&format!(
            "{:<48} {:>8.3}ms {:>8.3}ms {:>8.3}ms {:>7}\n",
            t.name,
            t.mean.as_secs_f64() * 1000.0,
            t.p50.as_secs_f64() * 1000.0,
            t.p99.as_secs_f64() * 1000.0,
            t.errors
        ));
    }
    out.push_str(&format!(
        "2 threads: {per_second:.0} bundles/s ({:.0} resources/s)\n",
        per_second * (args.observations + 1) as f64
    ));
    Ok(out)
}
