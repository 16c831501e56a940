//! `kyoyu bench`: the loopback load benchmark (against a given server, or one started
//! in-process on a fresh database) and the offline benches of [`crate::bench`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use super::ReportFormat;
use crate::api::server::{self, Parts};
use crate::config::ConfigArgs;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time validation with the packages preloaded (no server, no database).
    Validate(crate::bench::validate::ValidateBenchArgs),
    /// Time reading, storing and looking up code lists; memory of the index.
    Terminology(crate::bench::terminology::TerminologyBenchArgs),
    /// Time a retention purge over a large store, and GET latency before and during it.
    Purge(crate::bench::purge::PurgeBenchArgs),
    /// Time `Patient/{id}/$everything` of one patient with many resources, page by page.
    Everything(crate::bench::everything::EverythingBenchArgs),
    /// Time FHIR XML conversion, JSON → XML and XML → JSON, over JSON resources.
    Xml(crate::bench::xml::XmlBenchArgs),
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: Option<BenchCommand>,
    /// Server to load (loopback only); without it a server is started in-process on a fresh
    /// database (a temporary SQLite file, or --database-url).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    pub duration_secs: f64,
    /// Unmeasured warm-up seconds per phase.
    #[arg(long, default_value_t = 2.0)]
    pub warmup_secs: f64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Instead of the Observation phases, post this 6-information Bundle as a new report unit
    /// per request (fresh Bundle-ID and patient each time): end-to-end ingest with validation.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// With --bundle: repeat its Observation entries up to this many.
    #[arg(long, value_name = "N", requires = "bundle")]
    pub observations: Option<usize>,
    /// Authenticate: the in-process server gets a principals file with one institution system
    /// whose token the load client sends, so access checks and auditing are measured.
    #[arg(long, conflicts_with = "url")]
    pub auth: bool,
    /// With --auth: a second institution system records a Consent for every bench patient,
    /// and the GET and search phases read as it, so the consent check is measured.
    #[arg(long, requires = "auth", conflicts_with = "bundle")]
    pub consent: bool,
    /// Two more search phases: a patient's labs with `_include=Observation:subject`, and the
    /// patient with `_revinclude=Observation:subject`; the bench patients are registered first.
    #[arg(long, conflicts_with = "bundle")]
    pub include: bool,
    /// With --url: the bearer token to send.
    #[arg(long, value_name = "TOKEN", requires = "url")]
    pub token: Option<String>,
    #[command(flatten)]
    pub server: ConfigArgs,
}

pub fn run(args: BenchArgs) -> ExitCode {
    let offline = match &args.what {
        Some(BenchCommand::Purge(p)) => Some(("purge", crate::bench::purge::run(p))),
        Some(BenchCommand::Terminology(t)) => {
            Some(("terminology", crate::bench::terminology::run(t)))
        }
        Some(BenchCommand::Validate(v)) => Some(("validate", crate::bench::validate::run(v))),
        Some(BenchCommand::Xml(x)) => Some(("xml", crate::bench::xml::run(x))),
        Some(BenchCommand::Everything(e)) => Some(("everything", crate::bench::everything::run(e))),
        None => None,
    };
    if let Some((name, result)) = offline {
        return match result {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kyoyu: bench {name} failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if !(args.duration_secs > 0.0 && args.warmup_secs >= 0.0 && args.connections > 0) {
        eprintln!(
            "kyoyu: bench needs --connections > 0, --duration-secs > 0 and --warmup-secs >= 0"
        );
        return ExitCode::from(2);
    }
    let bundle = match &args.bundle {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()))
            .and_then(|b| match args.observations {
                Some(n) => crate::bench::validate::grow(&b, n),
                None => Ok(b),
            }) {
            Ok(b) => Some(std::sync::Arc::new(b)),
            Err(e) => {
                eprintln!("kyoyu: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let token = match (&args.token, args.auth) {
        (Some(t), _) => Some(t.clone()),
        (None, true) => Some(format!("bench-{}", uuid::Uuid::new_v4().simple())),
        (None, false) => None,
    };
    let reader_token = args
        .consent
        .then(|| format!("bench-reader-{}", uuid::Uuid::new_v4().simple()));
    let options = |base_url: String| crate::bench::LoadOptions {
        base_url,
        connections: args.connections,
        duration: Duration::from_secs_f64(args.duration_secs),
        warmup: Duration::from_secs_f64(args.warmup_secs),
        token: token.clone(),
        reader_token: reader_token.clone(),
        stop: None,
        rate: None,
        includes: args.include,
        analyze: None,
    };
    let run_load = move |options| run_load(options, bundle.clone());
    let report = match &args.url {
        Some(url) => run_load(options(url.clone())),
        None => {
            let scratch =
                std::env::temp_dir().join(format!("kyoyu-bench-{}", uuid::Uuid::new_v4()));
            let mut server_args = args.server.clone();
            if server_args.database_url.is_none() {
                if let Err(e) = std::fs::create_dir_all(&scratch) {
                    eprintln!("kyoyu: cannot create {}: {e}", scratch.display());
                    return ExitCode::FAILURE;
                }
                server_args.database_url = Some(scratch.join("bench.db").display().to_string());
            }
            if let (true, Some(t)) = (args.auth, &token) {
                let file = scratch.join("principals.toml");
                let system = |name: &str, institution: &str, token: &str| {
                    format!(
                        "[[principal]]\nname = \"{name}\"\nrole = \"system\"\ninstitution = \"{institution}\"\ntoken = \"{token}\"\n"
                    )
                };
                let mut text = system("bench", "1318814790", t);
                if let Some(r) = &reader_token {
                    text.push_str(&system("bench-reader", "2712345678", r));
                }
                if let Err(e) =
                    std::fs::create_dir_all(&scratch).and_then(|_| std::fs::write(&file, text))
                {
                    eprintln!("kyoyu: cannot write {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
                server_args.principals = Some(file);
            }
            server_args.listen = Some("127.0.0.1:0".into());
            let config = match server_args.resolve() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kyoyu: {e}");
                    return ExitCode::from(2);
                }
            };
            let report = actix_web::rt::System::new().block_on(async {
                let running = server::start(&config, Parts::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut opts = options(running.base_url.clone());
                opts.analyze = Some(crate::bench::AnalyzeStore(running.store()));
                let report = tokio::task::spawn_blocking(move || run_load(opts))
                    .await
                    .map_err(|e| e.to_string())?;
                running.stop(true).await;
                report
            });
            let _ = std::fs::remove_dir_all(&scratch);
            report
        }
    };
    match report {
        Ok(report) => {
            match args.format {
                ReportFormat::Text => print!("{}", report.to_text()),
                ReportFormat::Json => println!("{}", report.to_json()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The load client gets its own single-threaded runtime on its own thread, so it competes with
/// the server for the CPUs as an outside client would, not for the server's own runtime.
fn run_load(
    options: crate::bench::LoadOptions,
    bundle: Option<std::sync::Arc<serde_json::Value>>,
) -> Result<crate::bench::LoadReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = match bundle {
        Some(b) => runtime.block_on(crate::bench::run_ingest(&options, b)),
        None => runtime.block_on(crate::bench::run(&options)),
    };
    report.map_err(|e| e.to_string())
}
