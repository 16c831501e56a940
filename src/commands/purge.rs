//! `kyoyu purge`: apply the retention rules now (or as of a given instant) and report per rule.
//! Idempotent; killed half-way and re-run, it finishes the job (every batch is its own
//! transaction). Exit 0 on success, 1 on failure, 2 on bad usage.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::ReportFormat;
use crate::config::ConfigArgs;
use crate::retention::PurgeReport;
use crate::retention::purge::{PurgeOptions, run};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Decide and count, but remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the rules as of this instant (RFC 3339, e.g. 2027-01-01T00:00:00+09:00) instead of now.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// Also list every removed resource (type, id, rule); in a dry run, every one that would go.
    #[arg(long)]
    pub list: bool,
    /// Rows examined per transaction (default: the server's `--purge-batch`).
    #[arg(long)]
    pub batch: Option<usize>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub server: ConfigArgs,
}

pub fn run_command(args: PurgeArgs) -> ExitCode {
    let config = match args.server.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    let now = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
    let as_of = match args
        .as_of
        .as_deref()
        .map(chrono::DateTime::parse_from_rfc3339)
    {
        None => now,
        Some(Ok(t)) => t.timestamp_micros(),
        Some(Err(e)) => {
            eprintln!("kyoyu: --as-of: {e} (use RFC 3339 with a zone)");
            return ExitCode::from(2);
        }
    };
    let batch = args.batch.unwrap_or(config.purge_batch);
    if batch == 0 {
        eprintln!("kyoyu: --batch must be at least 1");
        return ExitCode::from(2);
    }
    let options = PurgeOptions {
        as_of,
        batch,
        dry_run: args.dry_run,
        list: args.list,
        policy: config.retention,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("purging");
        bar
    });
    let store_options = config.store.clone();
    let result = actix_web::rt::System::new().block_on(async move {
        let store = Store::open_async(store_options)
            .await
            .map_err(|e| e.to_string())?;
        let report = run(&store, options, now, |r| {
            if let Some(b) = &bar {
                b.set_message(format!("examined {}, purged {}", r.examined(), r.purged()));
                b.tick();
            }
        })
        .await
        .map_err(|e| e.to_string());
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        // The run's audit record committed with its deletions.
        store.close_after_command().await;
        report
    });
    match result {
        Ok(report) => {
            match args.format {
                ReportFormat::Text => print!("{}", text(&report)),
                ReportFormat::Json => {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default())
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: purge failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn text(r: &PurgeReport) -> String {
    let mut out = format!(
        "purge run {} as of {}{}\n{:<16} {:>10} {:>10} {:>16} {:>14}\n",
        r.run_id,
        crate::fhir::instant::to_fhir_instant(r.as_of),
        if r.dry_run {
            " (dry run: nothing removed)"
        } else {
            ""
        },
        "rule",
        "examined",
        "purged",
        "kept (latest 3)",
        "kept (LTS)"
    );
    for (rule, c) in &r.rules {
        out.push_str(&format!(
            "{rule:<16} {:>10} {:>10} {:>16} {:>14}\n",
            c.examined, c.purged, c.kept_by_latest, c.kept_by_lts
        ));
    }
    out.push_str(&format!(
        "report units removed with their last member: {}\n{} {}\n",
        r.units_removed,
        if r.dry_run { "would remove" } else { "removed" },
        r.purged()
    ));
    for p in r.list.iter().flatten() {
        out.push_str(&format!("{}/{} {}\n", p.res_type, p.id, p.rule));
    }
    out
}
