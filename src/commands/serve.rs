//! `kyoyu serve`: the FHIR server, until a signal stops it.

use std::process::ExitCode;

use crate::api::server::{self, Parts};
use crate::config::Config;

pub fn serve(config: Config) -> ExitCode {
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
            tls = config.tls.as_ref().map_or("off", crate::access::tls::Tls::mode),
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
