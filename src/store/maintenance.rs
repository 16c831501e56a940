//! The database's upkeep around bulk loads and measurements (`kyoyu bench`): the planner's
//! statistics, a checkpoint, the size of the store. Nothing a request asks for, and no content.

use diesel::prelude::*;

use super::schema::resources;
use super::{Conn, StoreError, dispatch};

/// Upkeep of the database behind the store. Obtained from a connection
/// ([`Conn::maintenance`]).
pub struct MaintenanceRepo<'c> {
    conn: Conn<'c>,
}

impl Conn<'_> {
    /// The database's upkeep on this connection.
    pub fn maintenance(&mut self) -> MaintenanceRepo<'_> {
        MaintenanceRepo {
            conn: self.reborrow(),
        }
    }
}

impl MaintenanceRepo<'_> {
    /// PostgreSQL: writes every dirty buffer now (`CHECKPOINT`; superuser or `pg_checkpoint`),
    /// so a bulk load's checkpoint does not land on what is measured next. SQLite: nothing.
    pub fn checkpoint_postgres(&mut self) -> Result<(), StoreError> {
        if let Conn::Pg(c) = &mut self.conn {
            diesel::sql_query("CHECKPOINT").execute(&mut **c)?;
        }
        Ok(())
    }

    /// PostgreSQL: gathers the planner's statistics now (`ANALYZE`), as autovacuum would some
    /// time after a bulk load. Without them the planner takes a freshly filled table for a few
    /// rows: `$export`'s keyset pages then fetched and sorted every row of the type for each
    /// page (a million Observations: 6.5 minutes instead of 8 s). SQLite: nothing.
    pub fn analyze_postgres(&mut self) -> Result<(), StoreError> {
        if let Conn::Pg(c) = &mut self.conn {
            diesel::sql_query("ANALYZE").execute(&mut **c)?;
        }
        Ok(())
    }

    /// How many resources (current rows, deleted ones included) the store holds.
    pub fn resource_count(&mut self) -> Result<i64, StoreError> {
        Ok(dispatch!(&mut self.conn, |c, DB| resources::table
            .count()
            .get_result(c))?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn a_checkpoint_runs_on_postgresql_and_is_nothing_on_sqlite() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for t in crate::store::test_db::test_stores() {
            rt.block_on(t.store.read(|c| c.maintenance().checkpoint_postgres()))
                .unwrap_or_else(|e: crate::store::StoreError| panic!("{}: {e}", t.backend));
        }
    }
}
