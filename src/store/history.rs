//! `_history` at instance, type and system level, newest first.

use diesel::prelude::*;

use super::schema::{resource_versions, resources};
use super::{Conn, Method, StoreError, StoredResource, dispatch};

#[derive(Debug, Clone, Copy)]
pub enum HistoryScope<'a> {
    Instance { res_type: &'a str, id: &'a str },
    Type(&'a str),
    System,
}

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub resource: StoredResource,
    pub method: Method,
}

#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub total: i64,
}

type Row = (String, String, i64, i64, String, bool, Option<String>);

impl Conn<'_> {
    /// Versions in scope updated at or after `since`, newest first, `count` from `offset`;
    /// with `owner`, only versions of resources that institution wrote.
    pub fn history(
        &mut self,
        scope: HistoryScope<'_>,
        owner: Option<&str>,
        since: Option<i64>,
        count: i64,
        offset: i64,
    ) -> Result<HistoryPage, StoreError> {
        let (total, rows) = dispatch!(self, |c, DB| {
            let filtered = || {
                let mut q = resource_versions::table.into_boxed::<DB>();
                match scope {
                    HistoryScope::Instance { res_type, id } => {
                        q = q
                            .filter(resource_versions::res_type.eq(res_type))
                            .filter(resource_versions::res_id.eq(id));
                    }
                    HistoryScope::Type(res_type) => {
                        q = q.filter(resource_versions::res_type.eq(res_type))
                    }
                    HistoryScope::System => {}
                }
                if let Some(since) = since {
                    q = q.filter(resource_versions::last_updated.ge(since));
                }
                if let Some(owner) = owner {
                    q = q.filter(
                        resource_versions::rkey.eq_any(
                            resources::table
                                .filter(resources::institution.eq(owner))
                                .select(resources::rkey),
                        ),
                    );
                }
                q
            };
            let total: i64 = filtered().count().get_result(c)?;
            let rows: Vec<Row> = filtered()
                .order((
                    resource_versions::last_updated.desc(),
                    resource_versions::version.desc(),
                ))
                .limit(count)
                .offset(offset)
                .select((
                    resource_versions::res_type,
                    resource_versions::res_id,
                    resource_versions::version,
                    resource_versions::last_updated,
                    resource_versions::method,
                    resource_versions::deleted,
                    resource_versions::content,
                ))
                .load(c)?;
            Ok::<_, StoreError>((total, rows))
        })?;
        let entries = rows
            .into_iter()
            .map(
                |(res_type, id, version, last_updated, method, deleted, content)| {
                    Ok(HistoryEntry {
                        method: Method::parse(&method)?,
                        resource: StoredResource {
                            res_type,
                            id,
                            version,
                            last_updated,
                            deleted,
                            content,
                            patient: None,
                        },
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(HistoryPage { entries, total })
    }
}
