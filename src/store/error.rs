//! Storage failures. Their detail is for the server log; clients see a generic message.
//!
//! A diesel error is sorted once, where it enters the store's error type: a database that
//! cannot be reached and a disk that is full are answered differently (503 and 507) from a
//! failure of the server itself (500), and the difference is only visible in the error here.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(DieselError),
    #[error("cannot connect to the database: {0}")]
    Connection(String),
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The database cannot be reached now (down, restarting, network cut); worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database has no room left for the write (SQLite `SQLITE_FULL`, PostgreSQL class 53).
    #[error("the database has no space left: {0}")]
    DiskFull(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the write was not started before the request deadline")]
    Timeout,
    #[error("the store is shutting down")]
    ShuttingDown,
    #[error("background task failed: {0}")]
    Task(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// PostgreSQL broke a lock cycle between concurrent transactions (SQLSTATE 40P01) by
    /// aborting this one; nothing of it was stored and the same request may succeed again.
    #[error("deadlock with a concurrent transaction: {0}")]
    Deadlock(String),
    /// Another connection kept a lock this statement needed past the wait allowed: on SQLite
    /// the database file, past the busy timeout (`SQLITE_BUSY`: another process on the same
    /// file); on PostgreSQL a row, table or advisory lock, past a `lock_timeout` the operator
    /// set (SQLSTATE 55P03). Nothing of the transaction was stored; the same request may
    /// succeed once the lock is released.
    #[error("the database stayed locked by another connection: {0}")]
    Busy(String),
}

thread_local! {
    /// Set when this thread met a full disk: the SQLite writer looks after each batch, since
    /// its jobs' errors reach their callers, not the writer.
    static DISK_FULL_SEEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread met a full disk since the last call.
pub(super) fn take_disk_full_seen() -> bool {
    DISK_FULL_SEEN.with(|seen| seen.replace(false))
}

pub(super) fn note_disk_full() {
    DISK_FULL_SEEN.with(|seen| seen.set(true));
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        // A stored value that a row type refuses (an unknown status) is corrupt data, as when
        // the store reads and refuses it itself.
        if let DieselError::DeserializationError(inner) = &e
            && let Some(message) = corrupt_field(inner.as_ref())
        {
            return StoreError::Corrupt(message);
        }
        if is_disk_full(&e) {
            note_disk_full();
            return StoreError::DiskFull(e.to_string());
        }
        if is_connection_lost(&e) {
            return StoreError::Unavailable(e.to_string());
        }
        if is_deadlock(&e) {
            return StoreError::Deadlock(e.to_string());
        }
        if is_busy(&e) {
            return StoreError::Busy(e.to_string());
        }
        StoreError::Database(e)
    }
}

/// The message of a [`StoreError::Corrupt`] a row's field failed with, as diesel wraps it
/// (alone, or with the field's name).
fn corrupt_field(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<String> {
    let e = match e.downcast_ref::<diesel::result::DeserializeFieldError>() {
        Some(field) => field.error.as_ref(),
        None => e,
    };
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Corrupt(message)) => Some(message.clone()),
        _ => None,
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(e: diesel::ConnectionError) -> Self {
        StoreError::Connection(e.to_string())
    }
}

impl StoreError {
    /// Whether trying again later may succeed without anyone changing the request: the
    /// database was unreachable, or every connection was busy.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::Connection(_) | StoreError::Pool(_)
        )
    }

    /// Whether the write lost a race with a concurrent one (deadlock, serialization failure,
    /// a key inserted meanwhile): nothing was stored, and the request may be sent again.
    pub fn is_write_race(&self) -> bool {
        matches!(
            self,
            StoreError::Deadlock(_)
                | StoreError::Database(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure,
                    _,
                ))
        )
    }
}

/// How a statement lost to a concurrent transaction, for the metrics and the log: never the
/// database's words, which may quote values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contention {
    /// PostgreSQL broke a lock cycle by aborting this transaction (40P01).
    Deadlock,
    /// PostgreSQL could not serialise this transaction with a concurrent one (40001).
    Serialization,
    /// A unique key was inserted meanwhile by another writer.
    KeyTaken,
    /// A lock stayed held by another connection past the wait allowed: SQLite's busy timeout
    /// (`SQLITE_BUSY`: another process writing the same file) or PostgreSQL's `lock_timeout`
    /// (55P03).
    Busy,
}

impl Contention {
    /// The metric label and log field: a fixed text.
    pub fn as_str(self) -> &'static str {
        match self {
            Contention::Deadlock => "deadlock",
            Contention::Serialization => "serialization",
            Contention::KeyTaken => "unique",
            Contention::Busy => "busy",
        }
    }
}

impl StoreError {
    /// Whether, and how, this failure was a concurrent transaction's doing. The write races
    /// ([`is_write_race`](Self::is_write_race)) are the ones a client is told to retry with
    /// the request as it is (409); a lock held too long is a passing state of the database, to
    /// retry after a pause (503 with `Retry-After`).
    pub fn contention(&self) -> Option<Contention> {
        match self {
            StoreError::Deadlock(_) => Some(Contention::Deadlock),
            StoreError::Busy(_) => Some(Contention::Busy),
            StoreError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                _,
            )) => Some(Contention::Serialization),
            StoreError::Database(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            )) => Some(Contention::KeyTaken),
            _ => None,
        }
    }
}

/// SQLite's texts for `SQLITE_BUSY` and `SQLITE_LOCKED`, and PostgreSQL's for a `lock_timeout`
/// (55P03, in the server's English or its Japanese under a `ja` `lc_messages`): diesel gives
/// none of them a kind of its own nor exposes the code. A `statement_timeout` (57014) is not
/// one: a statement too slow for its limit may be as slow the next time.
pub(super) fn is_busy(e: &DieselError) -> bool {
    let DieselError::DatabaseError(_, info) = e else {
        return false;
    };
    let message = info.message();
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("canceling statement due to lock timeout")
        || message.contains("ロックのタイムアウトのためステートメントをキャンセルしています")
}

/// SQLite reports `SQLITE_FULL` only by its message through diesel; PostgreSQL's disk_full
/// (53100) arrives as an unknown kind whose text names the device.
pub(super) fn is_disk_full(e: &DieselError) -> bool {
    let DieselError::DatabaseError(_, info) = e else {
        return false;
    };
    let message = info.message();
    message.contains("database or disk is full")
        || message.contains("No space left on device")
        || message.contains("could not extend file")
}

/// diesel knows no kind for SQLSTATE 40P01 and does not expose the code, so the message is
/// what tells it: the server's English, or its Japanese under a `ja` `lc_messages`.
pub(super) fn is_deadlock(e: &DieselError) -> bool {
    let DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) = e else {
        return false;
    };
    let message = info.message();
    message.contains("deadlock detected") || message.contains("デッドロックを検出しました")
}

/// libpq marks a connection whose socket closed as bad, which diesel reports as
/// `ClosedConnection`; a server that is shutting down says so with its own message first.
pub(super) fn is_connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("terminating connection")
                || message.contains("the database system is shutting down")
                || message.contains("the database system is starting up")
                || message.contains("server closed the connection")
                || message.contains("no connection to the server")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_string()))
    }

    #[test]
    fn full_disks_and_lost_connections_are_told_apart_from_other_failures() {
        let full = database_error(DatabaseErrorKind::Unknown, "database or disk is full");
        assert!(matches!(StoreError::from(full), StoreError::DiskFull(_)));
        let pg_full = database_error(
            DatabaseErrorKind::Unknown,
            "could not extend file \"base/5/16384\": No space left on device",
        );
        assert!(matches!(StoreError::from(pg_full), StoreError::DiskFull(_)));
        let closed = database_error(DatabaseErrorKind::ClosedConnection, "EOF");
        assert!(matches!(
            StoreError::from(closed),
            StoreError::Unavailable(_)
        ));
        for deadlock in ["deadlock detected", "デッドロックを検出しました"] {
            let e = database_error(DatabaseErrorKind::Unknown, deadlock);
            assert!(matches!(StoreError::from(e), StoreError::Deadlock(_)));
        }
        let other = database_error(DatabaseErrorKind::Unknown, "syntax error");
        assert!(matches!(StoreError::from(other), StoreError::Database(_)));
        assert!(matches!(
            StoreError::from(DieselError::NotFound),
            StoreError::Database(DieselError::NotFound)
        ));
    }

    /// Every write race is a contention, and a lock held too long (SQLite's busy file,
    /// PostgreSQL's lock timeout) is one that is not a race; a statement timeout is neither.
    #[test]
    fn contention_is_named_by_kind_and_the_write_races_stay_what_they_were() {
        let cases = [
            (
                database_error(DatabaseErrorKind::Unknown, "deadlock detected"),
                Some(Contention::Deadlock),
            ),
            (
                database_error(
                    DatabaseErrorKind::SerializationFailure,
                    "could not serialize access",
                ),
                Some(Contention::Serialization),
            ),
            (
                database_error(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
                Some(Contention::KeyTaken),
            ),
            (
                database_error(DatabaseErrorKind::Unknown, "database is locked"),
                Some(Contention::Busy),
            ),
            (
                database_error(
                    DatabaseErrorKind::Unknown,
                    "canceling statement due to lock timeout",
                ),
                Some(Contention::Busy),
            ),
            (
                database_error(
                    DatabaseErrorKind::Unknown,
                    "ロックのタイムアウトのためステートメントをキャンセルしています",
                ),
                Some(Contention::Busy),
            ),
            (
                database_error(
                    DatabaseErrorKind::Unknown,
                    "canceling statement due to statement timeout",
                ),
                None,
            ),
            (
                database_error(DatabaseErrorKind::Unknown, "syntax error"),
                None,
            ),
            (
                database_error(DatabaseErrorKind::ForeignKeyViolation, "violates"),
                None,
            ),
        ];
        for (e, expected) in cases {
            let e = StoreError::from(e);
            assert_eq!(e.contention(), expected, "{e}");
            assert_eq!(
                e.is_write_race(),
                expected.is_some_and(|c| c != Contention::Busy),
                "{e}"
            );
        }
        assert_eq!(StoreError::Timeout.contention(), None);
        let labels: Vec<&str> = [
            Contention::Deadlock,
            Contention::Serialization,
            Contention::KeyTaken,
            Contention::Busy,
        ]
        .map(Contention::as_str)
        .to_vec();
        assert_eq!(labels, ["deadlock", "serialization", "unique", "busy"]);
    }
}
