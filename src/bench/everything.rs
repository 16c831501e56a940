//! `kyoyu bench everything`: one patient with N resources (Observations, Conditions and
//! AllergyIntolerances, the Observations pointing at one Practitioner), then `$everything`
//! walked page by page through its `next` links, against an in-process server with one
//! authenticated institution, so the scope check and the audit of every page are measured.

use std::time::Instant;

use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};

use super::client::{Conn, Target};
use super::report::percentile;
use crate::api::server::{self, Parts};
use crate::config::ConfigArgs;

#[derive(Debug, clap::Args)]
pub struct EverythingBenchArgs {
    /// Resources in the patient's compartment besides the Patient.
    #[arg(long, default_value_t = 1_000)]
    pub resources: usize,
    /// Page size (`_count`).
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Complete walks through every page, timed.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Database (default: a temporary SQLite file); it must be empty.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

const INSTITUTION: &str = "1318814790";
/// Entries per transaction of the fill.
const PER_TRANSACTION: usize = 100;

pub fn run(args: &EverythingBenchArgs) -> Result<String, String> {
    if args.resources == 0 || args.count == 0 || args.rounds == 0 {
        return Err("--resources, --count and --rounds must be positive".into());
    }
    let scratch = std::env::temp_dir().join(format!("kyoyu-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let token = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let principals = scratch.join("principals.toml");
    std::fs::write(
        &principals,
        format!(
            "[[principal]]\nname = \"bench\"\nrole = \"system\"\ninstitution = \"{INSTITUTION}\"\ntoken = \"{token}\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let server_args = ConfigArgs {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(
            args.database_url
                .clone()
                .unwrap_or_else(|| scratch.join("everything.db").display().to_string()),
        ),
        principals: Some(principals),
        // The read is measured; the fill needs no validation.
        validate_on_write: Some(false),
        ..ConfigArgs::default()
    };
    let result = server_args
        .resolve()
        .map_err(|e| e.to_string())
        .and_then(|config| {
            actix_web::rt::System::new().block_on(async {
                let running = server::start(&config, Parts::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let report = measure(args, &running, &token, config.store.url.backend_name()).await;
                running.stop(true).await;
                report
            })
        });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// A bench connection to the in-process server, with its token.
struct Client {
    target: Target,
    conn: Conn,
}

impl Client {
    /// Sends a request to `path` (below the base); the status and the parsed body.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value, usize), String> {
        let path = format!("/{}", path.trim_start_matches('/'));
        let uri = self
            .target
            .uri(&path)
            .ok_or_else(|| format!("not a path: {path}"))?;
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let (head, bytes) = self
            .conn
            .fetch(self.target.request(method, uri, body))
            .await
            .map_err(|e| e.to_string())?;
        let parsed = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok((head.status.as_u16(), parsed, bytes.len()))
    }
}

async fn measure(
    args: &EverythingBenchArgs,
    running: &server::RunningServer,
    token: &str,
    backend: &str,
) -> Result<String, String> {
    let base_url = running.base_url.as_str();
    let target = Target::parse(base_url)
        .and_then(|t| t.with_token(Some(token)))
        .map_err(|e| e.to_string())?;
    let conn = Conn::connect(&target).await.map_err(|e| e.to_string())?;
    let mut client = Client { target, conn };
    let started = Instant::now();
    let patient = create(
        &mut client,
        &json!({"resourceType": "Patient", "name": [{"family": "山田"}]}),
    )
    .await?;
    let practitioner = create(
        &mut client,
        &json!({"resourceType": "Practitioner", "name": [{"family": "医師"}]}),
    )
    .await?;
    fill(&mut client, &patient, &practitioner, args.resources).await?;
    // The walk should meet the plans a running server would have once autovacuum analysed the
    // fill (it may be off): PostgreSQL analyses now, SQLite does nothing.
    running
        .store()
        .read(|c| c.maintenance().analyze_postgres())
        .await
        .map_err(|e: crate::store::StoreError| e.to_string())?;
    let mut report = format!(
        "stored a patient with {} resources in {:.1} s ({backend})\n",
        args.resources,
        started.elapsed().as_secs_f64()
    );

    let first = format!("Patient/{patient}/$everything?_count={}", args.count);
    let (mut walks, mut pages) = (Vec::new(), Vec::new());
    let mut bytes_per_walk = 0;
    for _ in 0..args.rounds {
        let walk = Instant::now();
        let (mut matches, mut bytes) = (0usize, 0usize);
        let mut next = Some(first.clone());
        while let Some(path) = next.take() {
            let page = Instant::now();
            let (status, bundle, size) = client.send(Method::GET, &path, None).await?;
            pages.push(micros(page));
            if status != 200 {
                return Err(format!("GET {path}: {status} {bundle}"));
            }
            bytes += size;
            matches += bundle["entry"].as_array().map_or(0, |es| {
                es.iter().filter(|e| e["search"]["mode"] == "match").count()
            });
            next = next_path(&bundle, base_url);
        }
        walks.push(micros(walk));
        if matches != args.resources + 1 {
            return Err(format!(
                "a walk showed {matches} matches, not {}",
                args.resources + 1
            ));
        }
        bytes_per_walk = bytes;
    }
    walks.sort_unstable();
    pages.sort_unstable();
    let ms = |us: u32| f64::from(us) / 1000.0;
    report.push_str(&format!(
        "$everything, {} matches in pages of {} ({} pages, {} KiB a walk), {} walks:\n\
         walk  p50 {:.1} ms  max {:.1} ms\n\
         page  p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms\n",
        args.resources + 1,
        args.count,
        pages.len() / args.rounds,
        bytes_per_walk / 1024,
        args.rounds,
        ms(percentile(&walks, 50.0)),
        ms(percentile(&walks, 100.0)),
        ms(percentile(&pages, 50.0)),
        ms(percentile(&pages, 90.0)),
        ms(percentile(&pages, 99.0)),
        ms(percentile(&pages, 100.0)),
    ));
    Ok(report)
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// The `next` link of a page as a path below the base.
fn next_path(bundle: &Value, base_url: &str) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")?["url"]
        .as_str()?
        .strip_prefix(base_url)
        .map(str::to_string)
}

async fn create(client: &mut Client, resource: &Value) -> Result<String, String> {
    let t = resource["resourceType"].as_str().unwrap_or_default();
    let (status, created, _) = client.send(Method::POST, t, Some(resource)).await?;
    match created["id"].as_str() {
        Some(id) if status == 201 => Ok(id.to_string()),
        _ => Err(format!("POST {t}: {status} {created}")),
    }
}

/// The patient's data in transactions: mostly Observations (each naming the practitioner, an
/// include), then Conditions and AllergyIntolerances.
async fn fill(
    client: &mut Client,
    patient: &str,
    practitioner: &str,
    n: usize,
) -> Result<(), String> {
    let subject = json!({"reference": format!("Patient/{patient}")});
    let resource = |i: usize| match i % 10 {
        0 | 1 => json!({"resourceType": "Condition", "code": {"text": format!("病名 {i}")},
                        "subject": subject}),
        2 => {
            json!({"resourceType": "AllergyIntolerance", "code": {"text": format!("アレルギー {i}")},
                    "patient": subject})
        }
        _ => json!({"resourceType": "Observation", "status": "final",
                    "code": {"coding": [{"system": "urn:kyoyu:bench", "code": format!("item-{}", i % 40)}]},
                    "subject": subject,
                    "performer": [{"reference": format!("Practitioner/{practitioner}")}],
                    "valueQuantity": {"value": i, "unit": "mg/dL"}}),
    };
    for start in (0..n).step_by(PER_TRANSACTION) {
        let entries: Vec<Value> = (start..n.min(start + PER_TRANSACTION))
            .map(|i| {
                let r = resource(i);
                let t = r["resourceType"].clone();
                json!({"fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                       "resource": r, "request": {"method": "POST", "url": t}})
            })
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let (status, answer, _) = client.send(Method::POST, "", Some(&bundle)).await?;
        if status != 200 {
            return Err(format!("transaction: {status} {answer}"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_shows_every_resource_of_the_patient_once() {
        let args = EverythingBenchArgs {
            resources: 25,
            count: 7,
            rounds: 1,
            database_url: None,
        };
        // `run` fails when a walk does not show every resource exactly as many times as stored.
        let report = run(&args).unwrap();
        assert!(
            report.contains("26 matches in pages of 7 (4 pages"),
            "{report}"
        );
    }
}
