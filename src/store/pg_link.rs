//! PostgreSQL reachability: which pooled connections died with the database, whether the
//! database is down now, and a checkout that says so within a fraction of a second instead of
//! waiting out the pool's timeout.
//!
//! r2d2 keeps a connection whose socket closed (diesel only counts a broken transaction as
//! broken), so every later request on it would fail even after the database is back; and a
//! checkout while the database is down waits the whole timeout for an establishment that keeps
//! failing. Here each connection watches its own queries for a lost link and is dropped when
//! returned, and the manager records every establishment's outcome, so a checkout that finds
//! the database down answers "unavailable" after one short wait.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};

use super::StoreError;
use super::error::is_connection_lost;

/// How long one checkout attempt waits before looking at whether the database is down.
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);

/// The outcome of the latest connection attempts, shared by the pool's manager and checkouts.
#[derive(Debug, Default)]
pub(super) struct Link {
    state: Mutex<LinkState>,
}

#[derive(Debug, Default)]
struct LinkState {
    failed: Option<(Instant, String)>,
    connected: Option<Instant>,
}

impl Link {
    fn record_failure(&self, error: String) {
        if let Ok(mut s) = self.state.lock() {
            let was_up = s.down().is_none();
            if was_up {
                tracing::warn!(%error, "postgresql unreachable");
            }
            s.failed = Some((Instant::now(), error));
        }
    }

    fn record_connected(&self) {
        if let Ok(mut s) = self.state.lock() {
            if s.down().is_some() {
                tracing::info!("postgresql reachable again");
            }
            s.connected = Some(Instant::now());
        }
    }

    /// Why the database is down: the latest attempt to connect failed.
    pub(super) fn down(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.down())
    }
}

impl LinkState {
    fn down(&self) -> Option<String> {
        let (failed_at, error) = self.failed.as_ref()?;
        match self.connected {
            Some(at) if at > *failed_at => None,
            _ => Some(error.clone()),
        }
    }
}

/// Set on each pooled connection: remembers that one of its queries found the link gone.
#[derive(Default)]
struct LostWatch {
    lost: bool,
}

impl Instrumentation for LostWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error: Some(e), .. } = event
            && is_connection_lost(e)
        {
            self.lost = true;
        }
    }
}

/// diesel's manager, plus the link's record and the lost-link check on return.
#[derive(Debug)]
pub(super) struct PgManager {
    inner: ConnectionManager<PgConnection>,
    link: Arc<Link>,
}

impl ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        match self.inner.connect() {
            Ok(mut c) => {
                c.set_instrumentation(LostWatch::default());
                self.link.record_connected();
                Ok(c)
            }
            Err(e) => {
                self.link.record_failure(e.to_string());
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.inner.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.inner.has_broken(conn)
            || conn
                .instrumentation()
                .downcast_ref::<LostWatch>()
                .is_some_and(|w| w.lost)
    }
}

/// Failed establishments are logged by [`Link`] when the database goes down, not once per
/// attempt.
#[derive(Debug)]
struct Quiet;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for Quiet {
    fn handle_error(&self, _: diesel::r2d2::Error) {}
}

pub(super) type PgPool = Pool<PgManager>;

pub(super) fn pool(url: &str, size: u32, link: Arc<Link>) -> Result<PgPool, StoreError> {
    let manager = PgManager {
        inner: ConnectionManager::new(url),
        link,
    };
    Pool::builder()
        .max_size(size.max(1))
        // No `SELECT 1` before every use: it was a round trip per request, as many as the
        // requests' own queries on a read by id. A connection that died fails its next query,
        // answers 503 once, and is dropped (see `LostWatch`).
        .test_on_check_out(false)
        // Also the longest pause between two attempts to reconnect (half of it): the database
        // is found again within a second of its return.
        .connection_timeout(Duration::from_secs(2))
        .error_handler(Box::new(Quiet))
        .build(manager)
        .map_err(|e| StoreError::Connection(e.to_string()))
}

/// A pooled connection within `wait`, or [`StoreError::Unavailable`] as soon as a short wait
/// found the database down.
pub(super) fn checkout(
    pool: &PgPool,
    link: &Link,
    wait: Duration,
) -> Result<PooledConnection<PgManager>, StoreError> {
    let start = Instant::now();
    loop {
        let left = wait.saturating_sub(start.elapsed());
        match pool.get_timeout(CHECKOUT_SLICE.min(left).max(Duration::from_millis(1))) {
            Ok(c) => return Ok(c),
            Err(e) => {
                if let Some(why) = link.down() {
                    return Err(StoreError::Unavailable(why));
                }
                if start.elapsed() >= wait {
                    return Err(StoreError::Pool(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_down_from_a_failure_until_the_next_connection() {
        let link = Link::default();
        assert_eq!(link.down(), None);
        link.record_failure("refused".into());
        assert_eq!(link.down().as_deref(), Some("refused"));
        link.record_connected();
        assert_eq!(link.down(), None);
    }
}
