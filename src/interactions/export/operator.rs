//! The source of an operator's export (`kyoyu export`): every stored resource, read with the
//! deliberately unscoped system handle ([`SystemUse::OperatorExport`]), each page recorded as one read event of the agent
//! `kyoyu export`, role operator, listing its resources.

use super::ndjson::Source;
use crate::audit::touch_of;
use crate::audit::{Action, AuditRecord, Interaction};
use crate::error::Error;
use crate::interactions::search::page_in;
use crate::search::SearchQuery;
use crate::store::{Store, StoredResource, SystemUse};

/// Every stored resource, each page recorded with its resources as the operator's read.
pub struct AsOperator {
    store: Store,
}

impl AsOperator {
    pub fn new(store: Store) -> Self {
        AsOperator { store }
    }
}

impl Source for AsOperator {
    async fn page(&self, query: SearchQuery) -> Result<(Vec<StoredResource>, Option<i64>), Error> {
        let now = crate::clock::Clock::now_micros(&crate::clock::SystemClock);
        let page = self
            .store
            .read(move |conn| {
                page_in(
                    &mut conn.system(SystemUse::OperatorExport).unscoped(now),
                    &query,
                )
            })
            .await?;
        if !page.resources.is_empty() {
            let mut record = AuditRecord {
                role: "operator".into(),
                agent_name: "kyoyu export".into(),
                ..AuditRecord::new(
                    &crate::access::Caller::open(),
                    crate::audit::event_id(now),
                    now,
                    Action::Read,
                    Interaction::Export,
                )
            };
            record.entities = page.resources.iter().map(touch_of).collect();
            // A read changes nothing, so its record goes straight to the trail's own file (as
            // the server's reads do), not through the clinical file's tables: those keep
            // every page's record until the export ends, then move them all at once.
            self.store
                .record_audits(vec![record.into()])
                .await
                .map_err(Error::AuditNotStored)?;
        }
        Ok((page.resources, page.keys.last().copied()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::IndexRows;
    use crate::store::test_db::test_stores;
    use crate::store::{AuditFilter, Method, NewVersion, StoreError};

    /// A page's record is stored straight into the trail: held in the clinical file's tables,
    /// every page's list waited there for the end of the export and moved all at once.
    #[test]
    fn a_pages_record_goes_straight_to_the_trail() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let store = t.store.clone();
                store
                    .write(None, |c| {
                        c.insert_new(&NewVersion {
                            res_type: "Observation",
                            id: "o1",
                            content: "{}",
                            last_updated: 0,
                            method: Method::Post,
                            index: &IndexRows::default(),
                            patient_key: Some("P1"),
                            person_key: None,
                            institution: Some("1234567890"),
                            retention_class: None,
                            expires_at: None,
                            retention_group: None,
                            access_category: None,
                            hidden: None,
                            consent: &[],
                        })
                    })
                    .await
                    .unwrap();
                let source = AsOperator {
                    store: store.clone(),
                };
                let (page, _) = source
                    .page(SearchQuery::new("Observation", 10, 0))
                    .await
                    .unwrap();
                assert_eq!(page.len(), 1);
                let all = AuditFilter {
                    count: 100,
                    ..AuditFilter::default()
                };
                let reads =
                    |events: Vec<(crate::audit::AuditRow, Vec<crate::audit::AuditEntity>)>| {
                        events
                            .into_iter()
                            .filter(|(r, _)| r.agent_name == "kyoyu export")
                            .map(|(_, e)| e.len())
                            .collect::<Vec<_>>()
                    };
                let trail = store
                    .audit_read(move |c| {
                        c.system(SystemUse::Test).audit_events(&all).map(|(e, _)| e)
                    })
                    .await
                    .map_err(|e: StoreError| e)
                    .unwrap();
                assert_eq!(reads(trail), [1], "{}", t.backend);
                if t.backend == "sqlite" {
                    let all = AuditFilter {
                        count: 100,
                        ..AuditFilter::default()
                    };
                    let clinical = store
                        .read(move |c| c.system(SystemUse::Test).audit_events(&all).map(|(e, _)| e))
                        .await
                        .map_err(|e: StoreError| e)
                        .unwrap();
                    assert_eq!(reads(clinical), Vec::<usize>::new());
                }
            });
        }
    }
}
