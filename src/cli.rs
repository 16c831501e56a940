//! The command line: `serve`, `migrate`, `bench`. Exit codes: 0 success, 1 failure at run time,
//! 2 bad usage or configuration.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::api::server::{self, Parts};
use crate::config::{Config, ConfigArgs};

#[derive(Debug, Parser)]
#[command(
    name = "kyoyu",
    version,
    about = "FHIR R4 server for Japan's EHR information sharing service (電子カルテ情報共有サービス)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the FHIR server (SQLite file in the working directory unless --database-url says otherwise).
    Serve(ConfigArgs),
    /// Apply pending database migrations and exit.
    Migrate(ConfigArgs),
    /// Measure loopback throughput and latency of POST and GET Observation.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
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
    #[command(flatten)]
    pub server: ConfigArgs,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => with_config(&args, serve),
        Command::Migrate(args) => with_config(&args, migrate),
        Command::Bench(args) => bench(args),
    }
}

fn with_config(args: &ConfigArgs, f: impl FnOnce(Config) -> ExitCode) -> ExitCode {
    match args.resolve() {
        Ok(config) => f(config),
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(config: Config) -> ExitCode {
    actix_web::rt::System::new().block_on(async move {
        let running = match server::start(&config, Parts::default()).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("kyoyu: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = running.stop_on_signals() {
            eprintln!("kyoyu: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
        tracing::info!(
            address = %running.addr,
            database = config.store.url.backend_name(),
            workers = config.workers,
            "kyoyu listening"
        );
        match running.wait().await {
            Ok(()) => {
                tracing::info!("kyoyu stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kyoyu: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn migrate(config: Config) -> ExitCode {
    match crate::store::run_migrations(&config.store.url) {
        Ok(report) if report.applied.is_empty() => {
            println!("{}: schema is up to date", report.backend);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            for m in &report.applied {
                println!("{}: applied {m}", report.backend);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: BenchArgs) -> ExitCode {
    if !(args.duration_secs > 0.0 && args.warmup_secs >= 0.0 && args.connections > 0) {
        eprintln!(
            "kyoyu: bench needs --connections > 0, --duration-secs > 0 and --warmup-secs >= 0"
        );
        return ExitCode::from(2);
    }
    let options = |base_url: String| crate::bench::LoadOptions {
        base_url,
        connections: args.connections,
        duration: Duration::from_secs_f64(args.duration_secs),
        warmup: Duration::from_secs_f64(args.warmup_secs),
    };
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
                let opts = options(running.base_url.clone());
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
fn run_load(options: crate::bench::LoadOptions) -> Result<crate::bench::LoadReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime
        .block_on(crate::bench::run(&options))
        .map_err(|e| e.to_string())
}
