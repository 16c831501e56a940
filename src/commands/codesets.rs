//! `kyoyu codesets import` and `kyoyu codesets list`: masters and FHIR terminology into the
//! database, and what it holds. An import run is one transaction: every file of the run lands,
//! or (on any malformed row) none does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::config::{Config, ConfigArgs};
use crate::store::{Store, StoreOptions};
use crate::terminology::Content;
use crate::terminology::import::{ColumnMap, ImportOptions, Layout, read_all};

#[derive(Debug, clap::Subcommand)]
pub enum CodesetsCommand {
    /// Import code lists (CSV masters, FHIR CodeSystem/ValueSet files, whole FHIR packages);
    /// each replaces the previous import of the same code system or value set.
    Import(ImportArgs),
    /// List the imported code systems and value sets.
    List(ListArgs),
    /// Regenerate the code lists shipped under codesets/ from their public sources.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The folder holding the source lists (searched recursively by file name).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Where the generated files go.
    #[arg(long, value_name = "DIR", default_value = "codesets")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files, folders or FHIR packages (.tgz or folder).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The file layout; detected from the header (and file name) when omitted.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<Layout>,
    /// The code system URL (required with --layout mapped; overrides the layout's own).
    #[arg(long, value_name = "URL")]
    pub system: Option<String>,
    /// The code system version recorded with the import [default: from the file name].
    #[arg(long = "system-version", value_name = "VERSION")]
    pub system_version: Option<String>,
    /// Whether the list is the whole code system: a code missing from a complete system is an
    /// error, from a fragment a warning [default: per layout].
    #[arg(long, value_name = "complete|fragment", value_parser = parse_content)]
    pub content: Option<Content>,
    /// A value set defined as every code of the imported system; repeatable.
    #[arg(long = "value-set", value_name = "URL")]
    pub value_sets: Vec<String>,
    /// Column mapping for --layout mapped, by header name.
    #[arg(long, value_name = "code=COL,display=COL,parent=COL")]
    pub columns: Option<ColumnMap>,
    #[command(flatten)]
    pub server: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub server: ConfigArgs,
}

fn parse_content(s: &str) -> Result<Content, String> {
    Content::parse(s).ok_or_else(|| format!("'{s}' is neither complete nor fragment"))
}

pub fn run(command: CodesetsCommand) -> ExitCode {
    let args = match &command {
        CodesetsCommand::Import(a) => &a.server,
        CodesetsCommand::List(a) => &a.server,
        // No database involved.
        CodesetsCommand::Generate(a) => return generate(a),
    };
    let config = match args.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        CodesetsCommand::Import(a) => import(&a, &config),
        CodesetsCommand::List(_) => list(&config),
        CodesetsCommand::Generate(a) => generate(&a),
    }
}

fn generate(args: &GenerateArgs) -> ExitCode {
    match crate::terminology::shipped::generate::generate(&args.from, &args.out) {
        Ok(done) => {
            for g in done {
                println!(
                    "{}: {} concepts from {}",
                    args.out.join(g.file).display(),
                    g.concepts,
                    g.from.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::from(1)
        }
    }
}

impl ImportArgs {
    fn options(&self) -> ImportOptions {
        ImportOptions {
            layout: self.layout,
            system: self.system.clone(),
            version: self.system_version.clone(),
            content: self.content,
            value_sets: self.value_sets.clone(),
            columns: self.columns.clone(),
        }
    }
}

fn import(args: &ImportArgs, config: &Config) -> ExitCode {
    let sets = match read_all(&args.paths, &args.options()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kyoyu: {e}; nothing was imported");
            return ExitCode::FAILURE;
        }
    };
    let options = config.store.clone();
    let outcome = actix_web::rt::System::new().block_on(async move {
        let store = Store::open_async(options)
            .await
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let now = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
        let stored = crate::store::terminology_sync::store_imports(&store, sets, now)
            .await
            .map_err(|e| e.to_string());
        let elapsed = started.elapsed();
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        stored.map(|s| (s, elapsed))
    });
    match outcome {
        Ok((s, elapsed)) => {
            println!(
                "imported {} code systems ({} concepts) and {} value sets into {} in {:.1} ms",
                s.code_systems,
                s.concepts,
                s.value_sets,
                config.store.url.backend_name(),
                elapsed.as_secs_f64() * 1e3
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: {e}; nothing was imported");
            ExitCode::FAILURE
        }
    }
}

fn list(config: &Config) -> ExitCode {
    let options: StoreOptions = config.store.clone();
    let listed = actix_web::rt::System::new().block_on(async move {
        let store = Store::open_async(options)
            .await
            .map_err(|e| e.to_string())?;
        let masters = crate::store::terminology_sync::load(&store)
            .await
            .map_err(|e| e.to_string());
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        masters
    });
    let masters = match listed {
        Ok(m) => m,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut systems: Vec<_> = masters.systems().collect();
    systems.sort_by(|a, b| a.url.cmp(&b.url));
    for s in systems {
        println!(
            "CodeSystem {}{} {} concepts ({}) from {} at {}",
            s.url,
            s.version
                .as_deref()
                .map(|v| format!("|{v}"))
                .unwrap_or_default(),
            s.concept_count,
            s.content.as_str(),
            s.source,
            crate::fhir::instant::to_fhir_instant(s.imported_at),
        );
    }
    let mut sets: Vec<_> = masters.value_sets().collect();
    sets.sort_by(|a, b| a.url.cmp(&b.url));
    for v in sets {
        println!(
            "ValueSet {}{} from {} at {}",
            v.url,
            v.version
                .as_deref()
                .map(|v| format!("|{v}"))
                .unwrap_or_default(),
            v.source,
            crate::fhir::instant::to_fhir_instant(v.imported_at),
        );
    }
    ExitCode::SUCCESS
}
