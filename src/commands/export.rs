//! `kyoyu export`: a Bulk Data export run against the store directly, as `kyoyu purge` runs,
//! into NDJSON files of a directory. It is an operator's batch command: it reads every stored
//! resource and records each page as the operator's read ([`AsOperator`]). Exit 0 on success,
//! 1 on failure, 2 on bad usage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use crate::config::ConfigArgs;
use crate::interactions::export::ndjson::{self, FileOutput, Walk};
use crate::interactions::export::operator::AsOperator;
use crate::interactions::export::{ExportRequest, Level};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Directory the `{type}.ndjson` files are written to (created if missing; files of the
    /// same name are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only these types (comma list, as `_type`).
    #[arg(long = "type", value_name = "TYPES")]
    pub types: Option<String>,
    /// Only resources last updated after this instant (as `_since`).
    #[arg(long, value_name = "INSTANT")]
    pub since: Option<String>,
    /// Patient level: only the types of the Patient compartment (as `Patient/$export`).
    #[arg(long)]
    pub patient: bool,
    /// Resources read per page, the most held in memory at once [default: the server's
    /// --max-count].
    #[arg(long, value_name = "N")]
    pub page: Option<usize>,
    #[command(flatten)]
    pub server: ConfigArgs,
}

pub fn run_command(args: ExportArgs) -> ExitCode {
    let config = match args.server.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    let mut params = Vec::new();
    params.extend(args.types.map(|t| ("_type".to_string(), t)));
    params.extend(args.since.map(|s| ("_since".to_string(), s)));
    let level = if args.patient {
        Level::Patient
    } else {
        Level::System
    };
    let request = match ExportRequest::parse(level, &params) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    let page = args.page.unwrap_or(config.max_count);
    if page == 0 {
        eprintln!("kyoyu: --page must be at least 1");
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("kyoyu: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("exporting");
        bar
    });
    let store_options = config.store.clone();
    let out = args.out.clone();
    let result = actix_web::rt::System::new().block_on(async move {
        let store = Store::open_async(store_options)
            .await
            .map_err(|e| e.to_string())?;
        let progress = |n: u64| {
            if let Some(b) = &bar {
                b.set_message(format!("exported {n}"));
                b.tick();
            }
        };
        let cancelled = AtomicBool::new(false);
        let walk = Walk {
            page,
            cancelled: &cancelled,
            progress: &progress,
        };
        let source = AsOperator::new(store.clone());
        let files = ndjson::export(&source, &request, &[], &out, &walk)
            .await
            .map_err(|e| e.to_string());
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        store.close_after_command().await;
        files
    });
    match result {
        Ok(files) => {
            print!("{}", report(&files));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: export failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn report(files: &[FileOutput]) -> String {
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("{:<24} {:>10} {}\n", f.res_type, f.count, f.name));
    }
    let total: u64 = files.iter().map(|f| f.count).sum();
    out.push_str(&format!(
        "exported {total} resources in {} files\n",
        files.len()
    ));
    out
}
