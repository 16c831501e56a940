//! PostgreSQL: a connection pool; each write is one transaction on a pooled connection.
//! Contending writers are serialised with transaction-scoped advisory locks, so the lock key is
//! a stable hash (every server instance sharing the database must compute the same one).

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{Conn, StoreError, TxError};

pub(super) fn in_transaction<T, E, F>(conn: &mut PgConnection, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
{
    conn.transaction::<T, TxError<E>, _>(|c| f(&mut Conn::Pg(c)).map_err(TxError::Inner))
        .map_err(TxError::into_inner)
}

pub(super) fn advisory_xact_lock(conn: &mut PgConnection, key: &str) -> Result<(), StoreError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(stable_hash(key))
        .execute(conn)?;
    Ok(())
}

/// FNV-1a: stable across processes and versions, unlike the std hasher.
pub(super) fn stable_hash(key: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(
            stable_hash("Patient?identifier=a"),
            stable_hash("Patient?identifier=a")
        );
        assert_ne!(
            stable_hash("Patient?identifier=a"),
            stable_hash("Patient?identifier=b")
        );
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
    }
}
