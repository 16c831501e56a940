//! Starting and stopping the HTTP server: open the store (migrating it), bind, serve; on stop,
//! let in-flight requests finish, then drain the store's write queue.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use rustls::ServerConfig;

use super::{AppState, cors, health, memory, metrics, request_log, respond, routes};
use crate::access::principals::PrincipalsError;
use crate::access::{Authentication, Principals, tls};
use crate::clock::{Clock, IdGenerator, SystemClock, UuidIds};
use crate::config::Config;
use crate::fhir::instant::to_fhir_instant;
use crate::interactions::Services;
use crate::search::query::QueryOptions;
use crate::store::{DatabaseUrl, Store, StoreError};
use crate::terminology::Terminology;
use crate::validation::binding_check::BindingCheck;
use crate::validation::valuesets::ValueSetEngine;
use crate::validation::{Validator, ValidatorError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Validator(#[from] ValidatorError),
    #[error("cannot load the principals file: {0}")]
    Principals(#[from] PrincipalsError),
    #[error(
        "refusing to listen on {0} without authentication: configure principals (and TLS), or listen on a loopback address for development"
    )]
    OpenNotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What the server is built from; tests swap the clock and the id source.
pub struct Parts {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidIds),
        }
    }
}

pub struct RunningServer {
    pub addr: SocketAddr,
    pub base_url: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    store: Store,
    refresher: tokio::task::JoinHandle<()>,
    /// Stores queued read records; ends once the server's handles are gone and the queue is
    /// drained.
    auditor: tokio::task::JoinHandle<()>,
    purger: Option<tokio::task::JoinHandle<()>>,
}

pub async fn start(config: &Config, parts: Parts) -> Result<RunningServer, StartError> {
    let authentication = authentication(config)?;
    let store = open_store(config).await?;
    // Resources stored by an older version lack the rows of parameters added since; searches
    // on those would miss them, so they are added before the first request is served.
    let reindexed = store.reindex(config.timezone, false).await?;
    if reindexed.resources > 0 {
        tracing::info!(
            from = reindexed.from_version,
            to = reindexed.to_version,
            resources = reindexed.resources,
            "search index rows added for parameters new in this version"
        );
    }
    let terminology = Arc::new(Terminology::new(
        crate::store::terminology_sync::load(&store).await?,
    ));
    let validation = config.validation.clone();
    let index = Arc::clone(&terminology);
    let (validator, value_sets) = tokio::task::spawn_blocking(move || {
        let contexts = Validator::load_contexts(&validation)?;
        let engines: Vec<Arc<ValueSetEngine>> = contexts
            .iter()
            .map(|c| {
                Arc::new(ValueSetEngine::with_terminology(
                    Arc::clone(&c.packages),
                    Arc::clone(&index),
                ))
            })
            .collect();
        let validator = Validator::with_contexts(
            contexts,
            engines
                .iter()
                .map(|e| Arc::clone(e) as Arc<dyn BindingCheck>)
                .collect(),
            validation.ig_defaults.clone(),
            validation.unknown_profile_is_error,
        )?;
        // Terminology operations answer from the default context's packages.
        let value_sets = Arc::clone(&engines[validator.default_context()]);
        Ok::<_, ValidatorError>((validator, value_sets))
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))??;
    let figures = Arc::new(crate::metrics::Metrics::new());
    let purger = config.purge_interval.map(|every| {
        crate::retention::purge::spawn_purger(
            store.clone(),
            Arc::clone(&parts.clock),
            every,
            config.purge_batch,
            config.retention,
            figures.purge(),
        )
    });
    let refresher = crate::store::terminology_sync::spawn_refresher(
        store.clone(),
        Arc::clone(&terminology),
        config.terminology_refresh,
    );
    let listener = TcpListener::bind(config.listen).map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let base_url = config.base_url.clone().unwrap_or_else(|| {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{addr}")
    });
    let (audit_queue, auditor) = crate::audit::AuditQueue::spawn(store.clone(), figures.audit());
    let services = Services {
        store: store.clone(),
        clock: Arc::clone(&parts.clock),
        ids: parts.ids,
        search: QueryOptions {
            default_count: config.default_count,
            max_count: config.max_count,
            max_values: config.search_max_values,
            strict: false,
            default_offset: config.timezone,
            max_include: config.search_max_include,
            concepts: Some(crate::search::terminology::ConceptSource(
                Arc::clone(&value_sets) as Arc<dyn crate::search::terminology::Concepts>,
            )),
        },
        validator: Arc::new(validator.with_max_issues(config.max_issues)),
        value_sets,
        terminology,
        validate_on_write: config.validate_on_write,
        cpu: crate::validation::pool::CpuPool::new(config.cpu.threads, config.cpu.queue)
            .timed(figures.validation()),
        caller: Arc::new(crate::access::Caller::open()),
        audit_queue,
        recorded: crate::audit::Recorded::default(),
        retention: config.retention,
        references: crate::interactions::references::Integrity {
            enabled: config.referential_integrity,
            base_url: base_url.clone(),
        },
    };
    let state = web::Data::new(Arc::new(AppState {
        services,
        limits: config.limits,
        base_url: base_url.clone(),
        started: to_fhir_instant(parts.clock.now_micros()),
        authentication,
        metrics: figures,
        metrics_exposed: config.metrics,
        exports: Arc::new(crate::interactions::export::jobs::Jobs::new(
            config.export.clone(),
        )),
    }));
    let origins = web::Data::new(config.cors_origins.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(origins.clone())
            .wrap(from_fn(respond::outcome_in_format))
            // Inside the request log, so preflights answered here are logged and counted too.
            .wrap(Condition::new(!origins.is_empty(), from_fn(cors::cors)))
            .wrap(from_fn(request_log::log_request))
            .wrap(from_fn(memory::release_after_large))
            // Outermost, so every answer (errors and OperationOutcomes included) is compressed
            // when the client says it accepts gzip, and never otherwise. Request bodies are not
            // decompressed: the handlers read the raw payload, so the body-size limit counts
            // the bytes that arrive and a compressed body cannot expand past it.
            .wrap(actix_web::middleware::Compress::default())
            // HEAD too, as on the FHIR routes: some probes check with it.
            .route("/health/live", get_or_head().to(health::live))
            .route("/health/ready", get_or_head().to(health::ready))
            // The short names probes are often configured with; same handlers, same answers.
            .route("/health", get_or_head().to(health::live))
            .route("/ready", get_or_head().to(health::ready))
            .route("/metrics", get_or_head().to(metrics::metrics))
            .default_service(web::to(routes::dispatch))
    })
    // Signals are handled by `stop_on_signals`, registered before the server announces itself,
    // so a SIGTERM that arrives right after start-up is never missed.
    .disable_signals()
    .workers(config.workers)
    .client_request_timeout(config.limits.request_timeout)
    .shutdown_timeout(config.limits.request_timeout.as_secs().max(1))
    .on_connect(tls::on_connect);
    let server = match &config.tls {
        Some(t) => server.listen_rustls_0_23(listener, ServerConfig::clone(&t.server)),
        None => server.listen(listener),
    }
    .map_err(|source| StartError::Bind { addr, source })?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningServer {
        addr,
        base_url,
        handle,
        task,
        store,
        refresher,
        auditor,
        purger,
    })
}

/// A route answering GET and HEAD: actix-web leaves the body out of the HEAD answer.
fn get_or_head() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// Opens the store, waiting up to `database_wait` for a database that cannot be reached yet (it
/// may be starting alongside the server), with the pause between attempts doubling to 5 s. A
/// SQLite file that cannot be opened will not open later: that fails at once.
async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let wait = match config.store.url {
        DatabaseUrl::Postgres(_) => config.database_wait,
        DatabaseUrl::Sqlite(_) => std::time::Duration::ZERO,
    };
    let give_up = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match Store::open_async(config.store.clone()).await {
            Ok(store) => return Ok(store),
            Err(e) if e.is_unavailable() && std::time::Instant::now() + pause < give_up => {
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "waiting for the database");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Open without a principals file, and then only on loopback: a development server must not be
/// reachable by anyone else by mistake.
fn authentication(config: &Config) -> Result<Authentication, StartError> {
    let Some(path) = &config.principals else {
        if !config.listen.ip().is_loopback() {
            return Err(StartError::OpenNotLoopback(config.listen));
        }
        tracing::warn!(
            listen = %config.listen,
            "no principals configured: open development mode, every request is allowed without authentication (loopback only)"
        );
        return Ok(Authentication::Open);
    };
    let principals = Principals::load(path)?;
    if principals.is_empty() {
        tracing::warn!("the principals file grants no credential: every request will be refused");
    }
    let mutual = config.tls.as_ref().is_some_and(|t| t.mutual);
    if mutual && !principals.has_certificates() {
        tracing::warn!(
            "mutual TLS is on but no principal has a certificate_sha256: client certificates map to no one"
        );
    }
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        tracing::warn!(
            listen = %config.listen,
            "serving plain HTTP on a non-loopback address: bearer tokens travel unencrypted unless a TLS proxy is in front"
        );
    }
    Ok(Authentication::Required(Arc::new(principals)))
}

impl RunningServer {
    /// The server's store, for tools that work beside the running server in one process
    /// (benchmarks): one writer and one checkpointer for the database, as in production.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Stops accepting connections; with `graceful`, in-flight requests finish first.
    pub async fn stop(self, graceful: bool) {
        self.handle.stop(graceful).await;
        self.finish().await;
    }

    /// Makes SIGTERM and SIGINT stop the server gracefully: no new connections, in-flight
    /// requests finish. The handlers are registered before this returns.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.handle.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
                _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
            }
            handle.stop(true).await;
        });
        Ok(())
    }

    /// Runs until the server stops.
    pub async fn wait(self) -> std::io::Result<()> {
        let RunningServer {
            task,
            store,
            auditor,
            ..
        } = self;
        let result = task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        drain(auditor).await;
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
        result
    }

    async fn finish(self) {
        let RunningServer {
            task,
            store,
            refresher,
            auditor,
            purger,
            ..
        } = self;
        let _ = task.await;
        refresher.abort();
        if let Some(p) = purger {
            p.abort();
        }
        drain(auditor).await;
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
    }
}

/// Waits for the read records still queued to be stored, within the shutdown grace.
async fn drain(auditor: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(std::time::Duration::from_secs(10), auditor)
        .await
        .is_err()
    {
        tracing::error!("audit records still queued at shutdown were not all stored");
    }
}
