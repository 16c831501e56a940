//! `kyoyu bench xml`: conversion throughput of the FHIR XML converter, one thread, both ways,
//! over real resources (JSON files, folders of them, or FHIR package `.tgz` files). Each
//! direction is timed as the server runs it (text in, text out: JSON is parsed or written by
//! serde_json) and for the converter alone (from and to the parsed `Value`).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fhir::xml::{parse_resource, to_xml};

#[derive(Debug, clap::Args)]
pub struct XmlBenchArgs {
    /// JSON resources: files, folders (their `.json` files) or package `.tgz` files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Seconds each of the four measurements runs.
    #[arg(long, default_value_t = 3.0)]
    pub duration_secs: f64,
}

/// One resource in the three forms the measurements start from.
struct Sample {
    json: String,
    value: Value,
    xml: String,
}

pub fn run(args: &XmlBenchArgs) -> Result<String, String> {
    let mut samples = Vec::new();
    for path in &args.paths {
        for (name, bytes) in json_files(path)? {
            let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            if value.get("resourceType").is_none() {
                continue;
            }
            let xml = to_xml(&value, false).map_err(|e| format!("{name}: {e}"))?;
            let json = value.to_string();
            samples.push(Sample { json, value, xml });
        }
    }
    if samples.is_empty() {
        return Err("no JSON resources found".into());
    }
    let json_bytes: usize = samples.iter().map(|s| s.json.len()).sum();
    let xml_bytes: usize = samples.iter().map(|s| s.xml.len()).sum();
    let duration = Duration::from_secs_f64(args.duration_secs.max(0.1));
    let mut report = format!(
        "{} resources: {:.1} MB of JSON (compact), {:.1} MB of XML\n",
        samples.len(),
        mb(json_bytes),
        mb(xml_bytes)
    );
    let mut line = |what: &str, bytes: usize, f: &dyn Fn(&Sample) -> Result<(), String>| {
        timed(&samples, bytes, duration, f).map(|rate| {
            report.push_str(&format!("{what:<40} {rate:>8.1} MB/s\n"));
        })
    };
    line("JSON text → XML text (MB of JSON)", json_bytes, &|s| {
        let value: Value = serde_json::from_str(&s.json).map_err(|e| e.to_string())?;
        black_box(to_xml(&value, false).map_err(|e| e.to_string())?);
        Ok(())
    })?;
    line("Value → XML text (MB of JSON)", json_bytes, &|s| {
        black_box(to_xml(&s.value, false).map_err(|e| e.to_string())?);
        Ok(())
    })?;
    line("XML text → JSON text (MB of XML)", xml_bytes, &|s| {
        let value = parse_resource(s.xml.as_bytes(), 1000).map_err(|e| e.to_string())?;
        black_box(value.to_string());
        Ok(())
    })?;
    line("XML text → Value (MB of XML)", xml_bytes, &|s| {
        black_box(parse_resource(s.xml.as_bytes(), 1000).map_err(|e| e.to_string())?);
        Ok(())
    })?;
    Ok(report)
}

/// MB/s of `bytes` per pass over every sample, over whole passes for at least `duration`.
fn timed(
    samples: &[Sample],
    bytes: usize,
    duration: Duration,
    f: &dyn Fn(&Sample) -> Result<(), String>,
) -> Result<f64, String> {
    let started = Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < duration {
        for s in samples {
            f(s)?;
        }
        passes += 1;
    }
    Ok(mb(bytes * passes) / started.elapsed().as_secs_f64())
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn json_files(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    if path.extension().is_some_and(|e| e == "tgz") {
        return crate::packages::read_files(path).map_err(|e| e.to_string());
    }
    if !path.is_dir() {
        return Ok(vec![(path.display().to_string(), read(path)?)]);
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for entry in entries {
        let p = entry.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|e| e == "json") {
            files.push((p.display().to_string(), read(&p)?));
        }
    }
    files.sort();
    Ok(files)
}
