//! Schema migrations, embedded in the binary: one folder per backend under `migrations/`, paired
//! by name, applied at start-up and by `kyoyu migrate`; SQLite's audit file has a folder of its
//! own (`sqlite-audit`).

use diesel::Connection;
use diesel::pg::PgConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DatabaseUrl, StoreError, StoreOptions};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const SQLITE_AUDIT: EmbeddedMigrations = embed_migrations!("migrations/sqlite-audit");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// What a migration run did, for `kyoyu migrate`.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub backend: &'static str,
    pub applied: Vec<String>,
}

pub fn run_migrations(url: &DatabaseUrl) -> Result<MigrationReport, StoreError> {
    let applied = match url {
        DatabaseUrl::Sqlite(path) => {
            let options = StoreOptions::defaults_for(url.clone());
            let mut conn = super::sqlite::open_writer_connection(path, &options)?;
            let mut applied = apply(&mut conn, SQLITE)?;
            let audit = super::audit_file::audit_path(path);
            let mut conn = super::sqlite::open_writer_connection(&audit, &options)?;
            applied.extend(
                apply(&mut conn, SQLITE_AUDIT)?
                    .into_iter()
                    .map(|v| format!("audit:{v}")),
            );
            applied
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = PgConnection::establish(url)?;
            apply(&mut conn, POSTGRES)?
        }
    };
    Ok(MigrationReport {
        backend: url.backend_name(),
        applied,
    })
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

#[derive(diesel::QueryableByName)]
struct Applied {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// How many of this build's migrations the database (on SQLite: the clinical file, or with
/// `audit` the audit file) has not applied. Read only, unlike diesel's harness, which creates its
/// table first: SQLite's readers cannot write.
pub(super) fn missing(conn: &mut super::Conn<'_>, audit: bool) -> Result<usize, StoreError> {
    use diesel::RunQueryDsl;
    use diesel::migration::MigrationSource;
    let query = "SELECT version FROM __diesel_schema_migrations";
    let (applied, embedded): (Vec<Applied>, Vec<String>) = match conn {
        super::Conn::Sqlite(c) => {
            let source = if audit { SQLITE_AUDIT } else { SQLITE };
            let embedded = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&source)
                .map_err(|e| StoreError::Migration(e.to_string()))?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            (diesel::sql_query(query).load(&mut **c)?, embedded)
        }
        super::Conn::Pg(c) => {
            let embedded = MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
                .map_err(|e| StoreError::Migration(e.to_string()))?
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            (diesel::sql_query(query).load(&mut **c)?, embedded)
        }
    };
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|a| a.version).collect();
    Ok(embedded.iter().filter(|v| !applied.contains(*v)).count())
}
