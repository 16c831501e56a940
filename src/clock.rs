//! Time and identifiers are injected so tests can fix them: everything that stamps
//! `meta.lastUpdated` or assigns an id asks these traits, never the system directly.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Microseconds since the Unix epoch, UTC.
pub trait Clock: Send + Sync {
    fn now_micros(&self) -> i64;
}

pub trait IdGenerator: Send + Sync {
    fn new_id(&self) -> String;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        chrono::Utc::now().timestamp_micros()
    }
}

/// A clock that stays where a test puts it.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn at_micros(micros: i64) -> Self {
        FixedClock(AtomicI64::new(micros))
    }

    pub fn set_micros(&self, micros: i64) {
        self.0.store(micros, Ordering::SeqCst);
    }

    pub fn advance_micros(&self, by: i64) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Random UUIDs: ids that reveal nothing (no counts, no order) and never collide across servers.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidIds;

impl IdGenerator for UuidIds {
    fn new_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// Predictable ids for tests: `prefix-1`, `prefix-2`, …
#[derive(Debug)]
pub struct SequentialIds {
    prefix: String,
    next: AtomicU64,
}

impl SequentialIds {
    pub fn new(prefix: &str) -> Self {
        SequentialIds {
            prefix: prefix.to_string(),
            next: AtomicU64::new(1),
        }
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::SeqCst)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = FixedClock::at_micros(10);
        assert_eq!(c.now_micros(), 10);
        c.advance_micros(5);
        assert_eq!(c.now_micros(), 15);
    }

    #[test]
    fn sequential_ids_count_up() {
        let ids = SequentialIds::new("t");
        assert_eq!(ids.new_id(), "t-1");
        assert_eq!(ids.new_id(), "t-2");
    }
}
