//! Storage: the only module that knows diesel and SQL.
//!
//! Two backends behind one API: SQLite (embedded default) and PostgreSQL. Diesel never runs on
//! the async threads: reads take a pooled connection inside `spawn_blocking`; writes run as
//! closures over a [`Conn`] inside one transaction — on SQLite on a dedicated writer thread
//! that commits queued writes together (group commit), on PostgreSQL on a pooled connection.
//! Queries are written once and compiled for both backends by `dispatch!`. A row is a struct
//! beside the queries that use it: `Queryable` + `Selectable` to read (`Row::as_select()`),
//! `Insertable` to write; raw SQL loads `QueryableByName`.

mod access_rule;
mod access_sql;
mod audit;
mod audit_file;
mod chain_sql;
mod composite_sql;
mod consents;
mod documents;
mod error;
mod history;
mod identity;
mod include_sql;
mod index_rows;
mod lock;
mod maintenance;
mod migrate;
mod pg_link;
mod postgres;
mod reindex;
mod resources;
mod retention;
mod retention_pg;
mod retention_sqlite;
pub(crate) mod schema;
mod scoped;
mod search_sql;
mod sql;
mod sqlite;
mod sqlite_checkpoint;
mod sqlite_full;
mod sqlite_shm;
mod system;
mod terminology;
pub mod terminology_sync;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod test_db;
mod typed_sql;
mod units;

pub use audit::{AuditEntity, AuditFilter, AuditRepo, AuditRow, Touch, event_id};
pub use consents::PersonConsent;
pub use documents::{DocumentRepo, DocumentRow, DocumentStatus};
pub use error::{Contention, StoreError};
pub use history::{At, HistoryEntry, HistoryLevel, HistoryPage};
pub use include_sql::Included;
pub use lock::LockKey;
pub use maintenance::MaintenanceRepo;
pub use migrate::{MigrationReport, run_migrations};
pub use reindex::ReindexReport;
pub use resources::{CurrentRow, Method, NewVersion, Removed, StoredResource};
pub use retention::{Expired, RetentionRepo, Taken};
pub use scoped::Scoped;
pub use search_sql::SearchPage;
pub use sqlite_checkpoint::CheckpointHold;
pub use system::{System, SystemUse};
pub use units::{Member, PatientResource, UnitRepo, UnitRow};

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::Connection as _;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sqlite::SqliteConnection;

use audit_file::audit_path;

/// A connection of either backend, borrowed for one call or one transaction.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

/// Runs the same diesel code against whichever backend `$conn` is; `$db` names the backend type
/// inside the body for code that must spell it (boxed queries).
macro_rules! dispatch {
    ($conn:expr, |$c:ident, $db:ident| $body:expr) => {
        match $conn {
            $crate::store::Conn::Sqlite(inner) => {
                let $c: &mut diesel::sqlite::SqliteConnection = &mut **inner;
                #[allow(dead_code)]
                type $db = diesel::sqlite::Sqlite;
                $body
            }
            $crate::store::Conn::Pg(inner) => {
                let $c: &mut diesel::pg::PgConnection = &mut **inner;
                #[allow(dead_code)]
                type $db = diesel::pg::Pg;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

/// Which backend a database URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://path`, `sqlite:path` or a plain path); `:memory:` is refused because
    /// the read pool and the writer must share one database.
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("empty database URL".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path == ":memory:" {
            return Err(
                "SQLite needs a file path (an in-memory database cannot be shared by the pool)"
                    .into(),
            );
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(format!(
                "unsupported database scheme '{scheme}' (use a file path, sqlite:// or postgres://)"
            ));
        }
        Ok(DatabaseUrl::Sqlite(path.to_string()))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgresql",
        }
    }
}

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    /// SQLite only: `synchronous=FULL` (fsync on every commit) or `NORMAL`.
    pub sqlite_synchronous_full: bool,
    /// SQLite only: how many queued writes one commit may carry.
    pub group_commit_max: usize,
    pub busy_timeout: Duration,
    /// SQLite only: WAL frames past which the writer restarts the WAL (see `sqlite_checkpoint`).
    pub sqlite_wal_restart_frames: i64,
}

#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

enum Backend {
    Sqlite {
        clinical: Box<SqliteFile>,
        /// The audit trail's own file (see `audit_file`).
        audit: Box<SqliteFile>,
    },
    Postgres {
        pool: pg_link::PgPool,
        link: Arc<pg_link::Link>,
        /// How long a checkout may wait for a busy pool (the busy timeout).
        wait: Duration,
    },
}

/// One SQLite database file: its readers and its one writer.
struct SqliteFile {
    readers: Pool<ConnectionManager<SqliteConnection>>,
    writer: sqlite::Writer,
}

impl SqliteFile {
    fn open(path: &str, options: &StoreOptions, pool_size: u32) -> Result<Self, StoreError> {
        let options = StoreOptions {
            pool_size,
            ..options.clone()
        };
        Ok(SqliteFile {
            readers: sqlite::reader_pool(path, &options)?,
            writer: sqlite::Writer::start(path, &options)?,
        })
    }
}

/// Which of SQLite's two files a call works on; PostgreSQL has one database for both.
#[derive(Clone, Copy)]
enum Part {
    Clinical,
    Audit,
}

impl Part {
    fn of<'a>(self, clinical: &'a SqliteFile, audit: &'a SqliteFile) -> &'a SqliteFile {
        match self {
            Part::Clinical => clinical,
            Part::Audit => audit,
        }
    }
}

/// Readers of the audit file: its trail is read by operators and patients, not on every request.
const AUDIT_READERS: u32 = 2;

impl Store {
    /// Opens the database (on SQLite, its file and the audit file), runs pending migrations, and
    /// starts the SQLite writers if needed.
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = &options.url {
            sqlite_shm::repair(path)?;
            sqlite_shm::repair(&audit_path(path))?;
        }
        run_migrations(&options.url)?;
        let backend = match &options.url {
            DatabaseUrl::Sqlite(path) => Backend::Sqlite {
                clinical: Box::new(SqliteFile::open(path, options, options.pool_size)?),
                audit: Box::new(SqliteFile::open(&audit_path(path), options, AUDIT_READERS)?),
            },
            DatabaseUrl::Postgres(url) => {
                let link = Arc::new(pg_link::Link::default());
                Backend::Postgres {
                    pool: pg_link::pool(url, options.pool_size, Arc::clone(&link))?,
                    link,
                    wait: options.busy_timeout,
                }
            }
        };
        Ok(Store {
            backend: Arc::new(backend),
        })
    }

    /// [`open`](Self::open) from async code: opening migrates and connects, which blocks.
    pub async fn open_async(options: StoreOptions) -> Result<Self, StoreError> {
        tokio::task::spawn_blocking(move || Store::open(&options))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgresql",
        }
    }

    /// The connection pools as they are now, for the metrics. SQLite's writers are threads of
    /// their own, not pooled, so only its readers show.
    pub fn pool_states(&self) -> Vec<crate::metrics::PoolState> {
        fn state<M: diesel::r2d2::ManageConnection>(
            pool: &'static str,
            p: &Pool<M>,
        ) -> crate::metrics::PoolState {
            let now = p.state();
            crate::metrics::PoolState {
                pool,
                connections: now.connections,
                idle: now.idle_connections,
                max: p.max_size(),
            }
        }
        match &*self.backend {
            Backend::Sqlite { clinical, audit } => vec![
                state("sqlite-readers", &clinical.readers),
                state("sqlite-audit-readers", &audit.readers),
            ],
            Backend::Postgres { pool, .. } => vec![state("postgresql", pool)],
        }
    }

    /// Whether the database answers and holds every migration of this build (readiness); the
    /// error says why not.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let mut missing = self.read(|c| migrate::missing(c, false)).await?;
        if let Backend::Sqlite { .. } = &*self.backend {
            missing += self.audit_read(|c| migrate::missing(c, true)).await?;
        }
        if missing > 0 {
            return Err(StoreError::Migration(format!(
                "{missing} migrations of this version are not applied"
            )));
        }
        Ok(())
    }

    /// Runs a read-only closure on a pooled connection, off the async threads.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        self.read_in(Part::Clinical, f).await
    }

    /// [`read`](Self::read) of the audit trail: on SQLite, of its own file.
    pub async fn audit_read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        self.read_in(Part::Audit, f).await
    }

    async fn read_in<T, E, F>(&self, part: Part, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        let backend = Arc::clone(&self.backend);
        let joined = tokio::task::spawn_blocking(move || match &*backend {
            Backend::Sqlite { clinical, audit } => {
                let readers = &part.of(clinical, audit).readers;
                let mut c = readers.get().map_err(StoreError::from)?;
                f(&mut Conn::Sqlite(&mut c))
            }
            Backend::Postgres { pool, link, wait } => {
                let mut c = pg_link::checkout(pool, link, *wait)?;
                f(&mut Conn::Pg(&mut c))
            }
        })
        .await;
        joined.map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }

    /// Runs `f` inside one transaction: all of its writes commit together or none do.
    /// A write whose `deadline` passed before it could start is never started
    /// ([`StoreError::Timeout`]); once started it runs to its end, so a late answer is never a
    /// half-applied change.
    pub async fn write<T, E, F>(&self, deadline: Option<Instant>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        self.write_in(Part::Clinical, deadline, f).await
    }

    /// [`write`](Self::write) to the audit trail: on SQLite, to its own file. A change's record
    /// is not written here but with the change (see `audit_file`).
    pub async fn audit_write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        self.write_in(Part::Audit, None, f).await
    }

    async fn write_in<T, E, F>(&self, part: Part, deadline: Option<Instant>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send + 'static,
    {
        match &*self.backend {
            Backend::Sqlite { clinical, audit } => {
                part.of(clinical, audit).writer.submit(deadline, f).await
            }
            Backend::Postgres { pool, link, wait } => {
                let (pool, link, wait) = (pool.clone(), Arc::clone(link), *wait);
                let joined = tokio::task::spawn_blocking(move || {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(E::from(StoreError::Timeout));
                    }
                    let mut c = pg_link::checkout(&pool, &link, wait)?;
                    postgres::in_transaction(&mut c, f)
                })
                .await;
                joined.map_err(|e| E::from(StoreError::Task(e.to_string())))?
            }
        }
    }

    /// For a bulk write (a purge): on SQLite, keeps WAL checkpoints back while the guard lives,
    /// so readers are not slowed by a checkpoint copying the bulk write's pages as it goes.
    pub fn hold_checkpoints(&self) -> CheckpointHold {
        match &*self.backend {
            Backend::Sqlite { clinical, .. } => clinical.writer.hold_checkpoints(),
            Backend::Postgres { .. } => CheckpointHold::none(),
        }
    }

    /// Test hook: caps SQLite's clinical file at `pages` pages (0: no cap), so writes that need
    /// more space fail as on a full disk. Nothing on PostgreSQL.
    #[doc(hidden)]
    pub async fn limit_sqlite_pages(&self, pages: u64) -> Result<(), StoreError> {
        let Backend::Sqlite { clinical, .. } = &*self.backend else {
            return Ok(());
        };
        clinical.writer.limit_pages(pages);
        self.write(None, move |c| match c {
            Conn::Sqlite(c) => sqlite_full::apply_page_limit(c, pages),
            Conn::Pg(_) => Ok(()),
        })
        .await
    }

    /// Waits for queued writes to finish and stops the SQLite writers; later writes fail.
    pub fn shutdown(&self) {
        if let Backend::Sqlite { clinical, audit } = &*self.backend {
            clinical.writer.shutdown();
            audit.writer.shutdown();
        }
    }
}

impl Conn<'_> {
    /// This connection for a shorter borrow: what the scoped and system handles hold.
    fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Pg(c) => Conn::Pg(c),
        }
    }

    /// Runs several reads against one consistent snapshot, e.g. a search page and its total, so
    /// that a concurrent write cannot make them disagree. Not for use inside a write.
    pub(super) fn snapshot<T>(
        &mut self,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            // In WAL mode a deferred transaction reads one snapshot from its first read on.
            Conn::Sqlite(c) => c
                .transaction::<T, TxError<StoreError>, _>(|c| {
                    f(&mut Conn::Sqlite(c)).map_err(TxError::Inner)
                })
                .map_err(TxError::into_inner),
            Conn::Pg(c) => c
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run::<T, TxError<StoreError>, _>(|c| f(&mut Conn::Pg(c)).map_err(TxError::Inner))
                .map_err(TxError::into_inner),
        }
    }

    /// Between two statements of a long write (a purge batch, a batch of audit records): on
    /// SQLite, lets the request threads waiting for this thread's core run first. SQLite's
    /// writes run on the writer thread, and the kernel queues a thread it wakes on that core
    /// behind the running writer instead of preempting it (a scheduler trace of the purge bench
    /// showed GETs waiting 3-4 ms there). On PostgreSQL the statements run in the database's
    /// own process; nothing to cede here.
    pub fn cede(&self) {
        if let Conn::Sqlite(_) = self {
            std::thread::yield_now();
        }
    }

    /// Serialises writers that contend on `key` (a conditional create's query, a logical id,
    /// a referenced row) until the end of the current transaction. SQLite has a single writer,
    /// so nothing else commits between a write's check and its commit: nothing to do.
    pub fn lock(&mut self, key: LockKey<'_>) -> Result<(), StoreError> {
        match (self, key) {
            (Conn::Sqlite(_), _) => Ok(()),
            (Conn::Pg(c), LockKey::ReferenceTarget { res_type, id }) => {
                resources::hold_row(c, res_type, id)
            }
            (Conn::Pg(c), key) => postgres::advisory_xact_lock(c, &key.to_string()),
        }
    }
}

/// Carries a closure's own error through diesel's transaction API, which needs
/// `From<diesel::result::Error>` and rolls back on any `Err`.
pub(crate) enum TxError<E> {
    Inner(E),
    Db(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for TxError<E> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

impl<E: From<StoreError>> TxError<E> {
    pub(crate) fn into_inner(self) -> E {
        match self {
            TxError::Inner(e) => e,
            TxError::Db(e) => E::from(StoreError::from(e)),
        }
    }
}

impl StoreOptions {
    /// Settings for tools that open the database briefly (migrations, tests).
    pub fn defaults_for(url: DatabaseUrl) -> Self {
        StoreOptions {
            url,
            pool_size: 8,
            sqlite_synchronous_full: true,
            group_commit_max: 256,
            busy_timeout: Duration::from_secs(5),
            sqlite_wal_restart_frames: sqlite_checkpoint::RESTART_FRAMES,
        }
    }
}
