//! Moving terminology between the database and the in-memory index (`terminology::Masters`):
//! storing an import (all of it in one transaction), loading the index at start, and reloading
//! it when an import made elsewhere (`kyoyu codesets import` against the same database) lands.

use std::sync::Arc;
use std::time::Duration;

use super::{Store, StoreError};
use crate::terminology::{ImportSet, Masters, Terminology};

/// What one stored import contained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredImport {
    pub code_systems: usize,
    pub concepts: usize,
    pub value_sets: usize,
}

/// Stores every code system and value set of `sets` in one transaction, each replacing the
/// previous import of its URL: a failure leaves the database as it was.
pub async fn store_imports(
    store: &Store,
    mut sets: Vec<(String, ImportSet)>,
    now: i64,
) -> Result<StoredImport, StoreError> {
    crate::terminology::model::merge_same_systems(&mut sets);
    store
        .write(None, move |conn| {
            let mut done = StoredImport::default();
            for (source, set) in &sets {
                for system in &set.systems {
                    conn.replace_code_system(system, source, now)?;
                    done.code_systems += 1;
                    done.concepts += system.concepts.len();
                }
                for vs in &set.value_sets {
                    let text = |k: &str| vs.get(k).and_then(serde_json::Value::as_str);
                    let Some(url) = text("url") else { continue };
                    let content = serde_json::to_string(vs)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    conn.replace_value_set(url, text("version"), source, now, &content)?;
                    done.value_sets += 1;
                }
            }
            Ok::<_, StoreError>(done)
        })
        .await
}

/// The imported terminology as the database holds it now, read from one snapshot.
pub async fn load(store: &Store) -> Result<Masters, StoreError> {
    store
        .read(|conn| {
            conn.snapshot(|c| {
                let generation = c.terminology_generation()?;
                let systems = c.load_code_systems()?;
                let value_sets = c.load_value_sets()?;
                Masters::from_stored(generation, systems, value_sets).map_err(StoreError::Corrupt)
            })
        })
        .await
}

/// Polls the import log every `period` and swaps in a fresh index when it changed. The poll is
/// one indexed `max(id)`; the reload happens only after an import.
pub fn spawn_refresher(
    store: Store,
    terminology: Arc<Terminology>,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let seen = terminology.current().generation;
            let now = store.read(|c| c.terminology_generation()).await;
            match now {
                Ok(g) if g != seen => match load(&store).await {
                    Ok(masters) => {
                        tracing::info!(
                            generation = masters.generation,
                            concepts = masters.concept_count(),
                            "terminology reloaded"
                        );
                        terminology.replace(masters);
                    }
                    Err(e) => tracing::warn!(error = %e, "terminology reload failed"),
                },
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "terminology poll failed"),
            }
        }
    })
}
