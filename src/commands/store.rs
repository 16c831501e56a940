//! `kyoyu migrate` and `kyoyu reindex`: the database's schema and search index brought up to
//! date, then exit.

use std::process::ExitCode;

use crate::config::Config;

pub fn migrate(config: Config) -> ExitCode {
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

pub fn reindex(config: Config) -> ExitCode {
    let options = config.store.clone();
    let result = actix_web::rt::System::new().block_on(async move {
        let store = crate::store::Store::open_async(options).await?;
        let report = store.reindex(config.timezone, true).await;
        store.close_after_command().await;
        report
    });
    match result {
        Ok(report) => {
            println!(
                "reindexed {} resources (index version {} -> {})",
                report.resources, report.from_version, report.to_version
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: reindex failed: {e}");
            ExitCode::FAILURE
        }
    }
}
