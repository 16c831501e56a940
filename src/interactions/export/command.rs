//! `kyoyu export`: a Bulk Data export run against the store directly, as `kyoyu purge` runs,
//! into NDJSON files of a directory. It is an operator's batch command: it reads every stored
//! resource (the deliberately unscoped [`Scope::System`]), and records each page as one read
//! event of the agent `kyoyu export`, role operator, listing its resources. Exit 0 on success,
//! 1 on failure, 2 on bad usage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use super::ndjson::{self, FileOutput, Source, Walk};
use super::{ExportRequest, Level};
use crate::access::Scope;
use crate::access::audit::{Action, AuditRecord};
use crate::config::ConfigArgs;
use crate::error::Error;
use crate::interactions::audit::touch_of;
use crate::interactions::search::page_in;
use crate::search::SearchQuery;
use crate::store::{Store, StoredResource};

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
        let source = AsOperator {
            store: store.clone(),
        };
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

/// Every stored resource, each page recorded with its resources as the operator's read.
struct AsOperator {
    store: Store,
}

impl Source for AsOperator {
    async fn page(&self, query: SearchQuery) -> Result<(Vec<StoredResource>, Option<i64>), Error> {
        let now = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
        let page = self
            .store
            .read(move |conn| page_in(conn, &query, &Scope::System, now))
            .await?;
        if !page.resources.is_empty() {
            let mut record = AuditRecord {
                role: "operator".into(),
                agent_name: "kyoyu export".into(),
                ..AuditRecord::new(
                    &crate::access::Caller::open(),
                    crate::access::audit::event_id(now),
                    now,
                    Action::Read,
                    "$export",
                )
            };
            record.entities = page.resources.iter().map(touch_of).collect();
            // A read changes nothing, so its record goes straight to the trail's own file (as
            // the server's reads do), not through the clinical file's tables: those keep
            // every page's record until the export ends, then move them all at once.
            self.store
                .record_audits(vec![record])
                .await
                .map_err(Error::AuditNotStored)?;
        }
        Ok((page.resources, page.keys.last().copied()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::IndexRows;
    use crate::store::test_db::test_stores;
    use crate::store::{AuditFilter, Method, NewVersion, StoreError};

    /// A page's record is stored straight into the trail: held in the clinical file's tables,
    /// every page's list waited there for the end of the export and moved all at once.
    #[test]
    fn a_pages_record_goes_straight_to_the_trail() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let store = t.store.clone();
                store
                    .write(None, |c| {
                        c.insert_new(&NewVersion {
                            res_type: "Observation",
                            id: "o1",
                            content: "{}",
                            last_updated: 0,
                            method: Method::Post,
                            index: &IndexRows::default(),
                            patient_key: Some("P1"),
                            person_key: None,
                            institution: Some("1234567890"),
                            retention_class: None,
                            expires_at: None,
                            retention_group: None,
                            access_category: None,
                            hidden: None,
                            consent: &[],
                        })
                    })
                    .await
                    .unwrap();
                let source = AsOperator {
                    store: store.clone(),
                };
                let (page, _) = source
                    .page(SearchQuery::new("Observation", 10, 0))
                    .await
                    .unwrap();
                assert_eq!(page.len(), 1);
                let all = AuditFilter {
                    count: 100,
                    ..AuditFilter::default()
                };
                let reads = |events: Vec<(AuditRecord, Vec<crate::access::audit::AuditEntity>)>| {
                    events
                        .into_iter()
                        .filter(|(r, _)| r.agent_name == "kyoyu export")
                        .map(|(_, e)| e.len())
                        .collect::<Vec<_>>()
                };
                let trail = store
                    .audit_read(move |c| c.audit_events(&all).map(|(e, _)| e))
                    .await
                    .map_err(|e: StoreError| e)
                    .unwrap();
                assert_eq!(reads(trail), [1], "{}", t.backend);
                if t.backend == "sqlite" {
                    let all = AuditFilter {
                        count: 100,
                        ..AuditFilter::default()
                    };
                    let clinical = store
                        .read(move |c| c.audit_events(&all).map(|(e, _)| e))
                        .await
                        .map_err(|e: StoreError| e)
                        .unwrap();
                    assert_eq!(reads(clinical), Vec::<usize>::new());
                }
            });
        }
    }
}
