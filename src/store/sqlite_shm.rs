//! The WAL index (`<database>-shm`) at open. SQLite rebuilds its content by itself when the first
//! connection opens the database (garbage or a stale index from before a crash is fine), but a
//! `-shm` it cannot open for writing (a directory, a file without write permission) makes it
//! open the database read-only: the server started and every write failed. Such a file holds
//! nothing SQLite needs (the committed writes are in the WAL, which is left alone), and no other
//! process can be using it as an index, so it is removed before the first connection.

use std::fs::OpenOptions;

use super::StoreError;

pub(super) fn repair(database: &str) -> Result<(), StoreError> {
    let shm = format!("{database}-shm");
    let Ok(meta) = std::fs::symlink_metadata(&shm) else {
        return Ok(());
    };
    if meta.file_type().is_file() && OpenOptions::new().read(true).write(true).open(&shm).is_ok() {
        return Ok(());
    }
    // An empty directory only: anything with content is not ours to delete.
    let removed = if meta.is_dir() {
        std::fs::remove_dir(&shm)
    } else {
        std::fs::remove_file(&shm)
    };
    match removed {
        Ok(()) => {
            tracing::warn!(file = %shm, "removed a WAL index SQLite could not use; SQLite rebuilds it");
            Ok(())
        }
        Err(e) => Err(StoreError::Corrupt(format!(
            "{shm} cannot be used as SQLite's WAL index and cannot be removed ({e}); remove it while the server is stopped"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_index_is_removed_and_a_usable_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db").display().to_string();
        let shm = format!("{db}-shm");
        repair(&db).unwrap();
        std::fs::create_dir(&shm).unwrap();
        repair(&db).unwrap();
        assert!(std::fs::symlink_metadata(&shm).is_err());
        std::fs::write(&shm, b"garbage").unwrap();
        repair(&db).unwrap();
        assert_eq!(std::fs::read(&shm).unwrap(), b"garbage");
        std::fs::remove_file(&shm).unwrap();
        std::fs::create_dir(&shm).unwrap();
        std::fs::write(format!("{shm}/x"), b"x").unwrap();
        assert!(matches!(repair(&db), Err(StoreError::Corrupt(_))));
    }
}
