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
