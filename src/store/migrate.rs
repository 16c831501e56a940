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
            let applied = apply(&mut conn, POSTGRES)?;
            super::access_rule::install(&mut conn)?;
            applied
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::backend::Backend;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{Nullable, Text};
    use diesel_migrations::MigrationHarness;

    use super::*;

    #[derive(QueryableByName)]
    struct Listed {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Nullable<Text>)]
        entities: Option<String>,
    }

    /// Applies `source` up to the one before `inline`, stores an older trail (an event with
    /// three entity rows, one with one inline), then applies the rest.
    fn migrate_older_trail<C>(c: &mut C, source: Source, inline: &str)
    where
        C: MigrationHarness<C::Backend> + Connection,
        C::Backend: Backend,
    {
        use diesel::migration::MigrationSource;
        let names: Vec<String> = MigrationSource::<C::Backend>::migrations(&source())
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let before = names.iter().position(|n| n.ends_with(inline)).unwrap();
        for _ in 0..before {
            c.run_next_migration(source()).unwrap();
        }
        c.batch_execute(
            "INSERT INTO audit_events (id, recorded, action, interaction, outcome, role, \
                 agent_name, emergency, entity_type, entity_id, patient_key) VALUES \
             ('e1', 1, 'R', 'search', '0', 'system', 't', false, NULL, NULL, NULL), \
             ('e2', 2, 'R', 'read', '0', 'system', 't', false, 'Patient', 'p', 'P1'), \
             ('e3', 3, 'R', 'search', '0', 'system', 't', false, NULL, NULL, NULL); \
             INSERT INTO audit_entities (event_id, seq, res_type, res_id, patient_key) VALUES \
             ('e1', 2, 'Observation', 'c', NULL), ('e1', 0, 'Observation', 'a', 'P1'), \
             ('e1', 1, 'Condition', 'b', 'P2');",
        )
        .unwrap();
        c.run_pending_migrations(source()).unwrap();
    }

    /// A migration source by name (`EmbeddedMigrations` is not `Copy`, and is applied twice).
    type Source = fn() -> EmbeddedMigrations;

    const LISTS: &str = "SELECT id, entities FROM audit_events ORDER BY id";

    fn assert_kept(rows: &[Listed]) {
        let list = crate::store::audit::parse_entity_list(rows[0].entities.as_deref().unwrap());
        let got: Vec<(String, String, Option<String>)> = list
            .unwrap()
            .into_iter()
            .map(|e| (e.res_type, e.res_id, e.patient_key))
            .collect();
        let want = [
            ("Observation", "a", Some("P1")),
            ("Condition", "b", Some("P2")),
            ("Observation", "c", None),
        ];
        let want: Vec<(String, String, Option<String>)> = want
            .iter()
            .map(|(t, i, p)| (t.to_string(), i.to_string(), p.map(str::to_string)))
            .collect();
        assert_eq!(got, want, "in the order touched");
        assert_eq!(rows[0].id, "e1");
        assert_eq!(
            (rows[1].entities.as_deref(), rows[2].entities.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn an_older_trails_entity_rows_become_their_events_lists() {
        let dir = tempfile::tempdir().unwrap();
        let sources: [(&str, Source); 2] = [("t.db", || SQLITE), ("t.db-audit", || SQLITE_AUDIT)];
        for (file, source) in sources {
            let path = dir.path().join(file).display().to_string();
            let mut c = diesel::sqlite::SqliteConnection::establish(&path).unwrap();
            migrate_older_trail(&mut c, source, "_audit_entities_inline");
            assert_kept(&diesel::sql_query(LISTS).load(&mut c).unwrap());
        }
        if let Some(admin) = crate::test_data::postgres_url() {
            let mut c = PgConnection::establish(&admin).unwrap();
            let schema = format!("m_{}", uuid::Uuid::new_v4().simple());
            c.batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .unwrap();
            migrate_older_trail(&mut c, || POSTGRES, "_audit_entities_inline");
            let rows: Vec<Listed> = diesel::sql_query(LISTS).load(&mut c).unwrap();
            c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .unwrap();
            assert_kept(&rows);
        }
    }
}
