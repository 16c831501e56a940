//! Retention, which is law here: data past its time must be gone, data within it must never be
//! lost. [`rules`] turns each written resource into an expiry instant (and a ranking group for
//! "the latest 3"); [`purge`] removes what has passed, in bounded audited batches, for the
//! background purger and `kyoyu purge` alike.

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod history_tests;
pub mod purge;
pub mod report;
pub mod rules;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

pub use purge::PurgeOptions;
pub use report::{PurgeReport, Purged, RuleCounts};
pub use rules::{Policy, Schedule, schedule};
