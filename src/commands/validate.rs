//! `kyoyu validate`: files and folders in, one OperationOutcome per resource out, no database.
//! A report unit or a CLINS document gets the verdict its submission would (the service rules
//! besides the profiles).
//! Exit code 0 when no file has an error, 1 when one does, 2 for usage problems (no path, a
//! package that does not load).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use std::sync::Arc;

use crate::config::ValidationArgs;
use crate::fhir::{Issue, IssueSeverity, IssueType, OperationOutcome};
use crate::messages::{Language, RequestMessage, ValidationMessage};
use crate::terminology::{Masters, Terminology};
use crate::validation::binding_check::BindingCheck;
use crate::validation::valuesets::ValueSetEngine;
use crate::validation::{Validator, ValidatorOptions, has_errors};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Files (.json) or folders (searched recursively for .json files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also check every resource against this profile (canonical URL).
    #[arg(long, value_name = "URL")]
    pub profile: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// A code list to check codes against (any layout `kyoyu codesets import` detects); repeatable.
    #[arg(long = "codeset", value_name = "PATH")]
    pub codesets: Vec<PathBuf>,
    /// The language of the issues' texts: en or ja (invariant texts stay as their IG wrote them).
    #[arg(long, value_name = "LANG", default_value_t = Language::English)]
    pub language: Language,
    #[command(flatten)]
    pub validation: ValidationArgs,
}

/// The validator over the packages and, when code lists are given, over them too.
fn load(options: &ValidatorOptions, codesets: &[PathBuf]) -> Result<Validator, String> {
    if codesets.is_empty() {
        return Validator::load(options).map_err(|e| e.to_string());
    }
    let sets = crate::terminology::import::read_all(codesets, &Default::default())?;
    let terminology = Arc::new(Terminology::new(Masters::from_imports(sets)));
    let contexts = Validator::load_contexts(options).map_err(|e| e.to_string())?;
    let engines = contexts
        .iter()
        .map(|c| {
            Arc::new(ValueSetEngine::with_terminology(
                Arc::clone(&c.packages),
                Arc::clone(&terminology),
            )) as Arc<dyn BindingCheck>
        })
        .collect();
    Validator::with_contexts(
        contexts,
        engines,
        options.ig_defaults.clone(),
        options.unknown_profile_is_error,
    )
    .map_err(|e| e.to_string())
}

struct FileResult {
    path: PathBuf,
    outcome: OperationOutcome,
}

pub fn run(args: ValidateArgs) -> ExitCode {
    let options = match args.validation.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    let validator = match load(&options, &args.codesets) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect(p, &mut files) {
            eprintln!("kyoyu: {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    files.sort();
    let results = validate_all(&validator, &files, args.profile.as_deref());
    let failed = results
        .iter()
        .filter(|r| has_errors(&r.outcome.issues))
        .count();
    let warnings: usize = results
        .iter()
        .map(|r| count(&r.outcome, IssueSeverity::Warning))
        .sum();
    match args.format {
        OutputFormat::Text => {
            for r in &results {
                print!("{}", text_report(r, args.language));
            }
        }
        OutputFormat::Json => {
            let list: Vec<Value> = results
                .iter()
                .map(|r| json!({ "file": r.path.display().to_string(), "outcome": r.outcome.to_json_in(args.language) }))
                .collect();
            println!("{}", Value::Array(list));
        }
    }
    eprintln!(
        "validated {} files: {} with errors, {} warnings",
        results.len(),
        failed,
        warnings
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect(&entry?.path(), out)?;
        }
    } else if path.is_file() {
        if path.extension().is_some_and(|e| e == "json") || out.is_empty() {
            out.push(path.to_path_buf());
        }
    } else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or folder",
        ));
    }
    Ok(())
}

/// Two threads share the files (the machines have two cores); a progress bar shows on a terminal.
fn validate_all(
    validator: &Validator,
    files: &[PathBuf],
    profile: Option<&str>,
) -> Vec<FileResult> {
    let bar = if files.len() > 1 && std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(files.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let results: Vec<FileResult> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        done.push((i, validate_file(validator, path, profile)));
                        bar.inc(1);
                    }
                    done
                })
            })
            .collect();
        let mut all: Vec<(usize, FileResult)> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    bar.finish_and_clear();
    results
}

fn validate_file(validator: &Validator, path: &Path, profile: Option<&str>) -> FileResult {
    let issues = match std::fs::read(path) {
        Err(e) => vec![Issue::error(
            IssueType::Exception,
            ValidationMessage::FileUnreadable { why: e.to_string() },
        )],
        Ok(bytes) => match crate::fhir::json::parse_resource(&bytes, 1000) {
            Err(e) => vec![Issue::error(IssueType::Structure, RequestMessage::Json(e))],
            Ok(resource) => {
                crate::submissions::verdict::validate(validator, &resource, profile, &[])
            }
        },
    };
    FileResult {
        path: path.to_path_buf(),
        outcome: OperationOutcome::new(issues),
    }
}

fn count(outcome: &OperationOutcome, severity: IssueSeverity) -> usize {
    outcome
        .issues
        .iter()
        .filter(|i| i.severity == severity)
        .count()
}

fn text_report(r: &FileResult, language: Language) -> String {
    let errors = count(&r.outcome, IssueSeverity::Error) + count(&r.outcome, IssueSeverity::Fatal);
    let warnings = count(&r.outcome, IssueSeverity::Warning);
    let mut out = format!(
        "{}: {errors} errors, {warnings} warnings\n",
        r.path.display()
    );
    for i in &r.outcome.issues {
        out.push_str(&format!(
            "  {} [{}] {}: {}",
            i.severity.as_str(),
            i.code.as_str(),
            i.expression.join(", "),
            i.text(language)
        ));
        if let Some(number) = i.rule.as_ref().and_then(|r| r.number.as_deref()) {
            out.push_str(&format!(" [{number}]"));
        }
        if let Some(source) = &i.source {
            out.push_str(&format!(" ({source})"));
        }
        out.push('\n');
    }
    out
}
