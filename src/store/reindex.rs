//! Brings the index rows of stored resources up to this build's extraction version
//! (`search::reindex`): at start-up when the stored version is older, and on demand with
//! `kyoyu reindex`. Resources are read in key order, a batch per transaction, so a large store
//! is reindexed without one long transaction and a stopped run simply starts again.

use chrono::FixedOffset;
use diesel::prelude::*;

use super::schema::{
    resources, search_date, search_index_version, search_number, search_quantity,
    search_quantity_pair, search_reference, search_string, search_token, search_token_pair,
    search_uri,
};
use super::{Conn, Store, StoreError, dispatch};
use crate::search::params::{META_PARAMS, params_for};
use crate::search::reindex::{
    CURRENT, added_rows, new_tables, rewritten, rewritten_in_new_tables, types_since,
};

/// Resources one reindex transaction covers.
const BATCH: i64 = 500;

/// What a reindex run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexReport {
    /// The extraction version the stored rows came from before the run.
    pub from_version: i64,
    pub to_version: i64,
    /// Resources whose rows were rewritten (0 when the store was already current).
    pub resources: usize,
}

/// A current resource the reindex reads: its key, type and content.
#[derive(Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ReindexRow {
    rkey: i64,
    res_type: String,
    content: Option<String>,
}

impl Store {
    /// Rewrites the rows of the parameters added since the stored extraction version, for every
    /// current resource of the types they belong to, then records this build's version. With
    /// `force`, rewrites the rows of every version's additions, even when the stored version is
    /// current (after a manual repair, say). Dates without a zone are read in `offset`, as on
    /// writes.
    pub async fn reindex(
        &self,
        offset: FixedOffset,
        force: bool,
    ) -> Result<ReindexReport, StoreError> {
        let from_version = self.read(|c| c.index_version()).await?;
        if from_version >= CURRENT && !force {
            return Ok(ReindexReport {
                from_version,
                to_version: from_version,
                resources: 0,
            });
        }
        let since = if force { 1 } else { from_version };
        let mut after = 0;
        let mut done = 0;
        loop {
            let (count, last) = self
                .write(None, move |c| c.reindex_batch(after, since, offset))
                .await?;
            done += count;
            match last {
                Some(last) => after = last,
                None => break,
            }
        }
        self.write(None, |c| c.set_index_version(CURRENT)).await?;
        Ok(ReindexReport {
            from_version,
            to_version: CURRENT,
            resources: done,
        })
    }
}

impl Conn<'_> {
    /// The extraction version the stored index rows come from.
    fn index_version(&mut self) -> Result<i64, StoreError> {
        let v: Option<i64> = dispatch!(self, |c, DB| search_index_version::table
            .filter(search_index_version::id.eq(1))
            .select(search_index_version::version)
            .first(c)
            .optional())?;
        Ok(v.unwrap_or(1))
    }

    fn set_index_version(&mut self, version: i64) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| diesel::update(
            search_index_version::table.filter(search_index_version::id.eq(1))
        )
        .set(search_index_version::version.eq(version))
        .execute(c))?;
        Ok(())
    }

    /// Reindexes the current resources after key `after` that lack rows added since version
    /// `since`, at most [`BATCH`]; returns how many were rewritten and the last key seen
    /// (`None` when there were none).
    fn reindex_batch(
        &mut self,
        after: i64,
        since: i64,
        offset: FixedOffset,
    ) -> Result<(usize, Option<i64>), StoreError> {
        let types = types_since(since);
        let rows = dispatch!(self, |c, DB| {
            let mut q = resources::table
                .filter(resources::rkey.gt(after))
                .filter(resources::deleted.eq(false))
                .into_boxed::<DB>();
            if let Some(types) = &types {
                q = q.filter(resources::res_type.eq_any(types));
            }
            q.order(resources::rkey.asc())
                .limit(BATCH)
                .select(ReindexRow::as_select())
                .load::<ReindexRow>(c)
        })?;
        let last = rows.last().map(|r| r.rkey);
        let mut done = 0;
        for ReindexRow {
            rkey,
            res_type,
            content,
        } in rows
        {
            // A row whose content does not parse has no rows to gain; the validator and the
            // read path report it, the reindex must not stop on it.
            let Some(resource) = content
                .as_deref()
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
            else {
                continue;
            };
            let index = added_rows(since, &res_type, &resource, offset);
            self.delete_added_rows(rkey, &res_type, since)?;
            self.insert_index(rkey, &res_type, &index)?;
            done += 1;
        }
        Ok((done, last))
    }

    /// Removes the rows the reindex rewrites, so a run repeated (or forced) adds none twice.
    fn delete_added_rows(
        &mut self,
        rkey: i64,
        res_type: &str,
        since: i64,
    ) -> Result<(), StoreError> {
        let params: Vec<&str> = params_for(res_type)
            .iter()
            .chain(META_PARAMS)
            .map(|p| p.name)
            .filter(|p| rewritten(since, res_type, p))
            .collect();
        let tables = new_tables(since);
        // Without new tables, only the rows of the type's own parameters added since.
        let own: Vec<&str> = params_for(res_type)
            .iter()
            .map(|p| p.name)
            .filter(|p| rewritten_in_new_tables(since, res_type, p))
            .collect();
        dispatch!(self, |c, DB| {
            diesel::delete(
                search_token::table
                    .filter(search_token::rkey.eq(rkey))
                    .filter(search_token::param.eq_any(&params)),
            )
            .execute(c)?;
            diesel::delete(
                search_string::table
                    .filter(search_string::rkey.eq(rkey))
                    .filter(search_string::param.eq_any(&params)),
            )
            .execute(c)?;
            diesel::delete(
                search_date::table
                    .filter(search_date::rkey.eq(rkey))
                    .filter(search_date::param.eq_any(&params)),
            )
            .execute(c)?;
            diesel::delete(
                search_reference::table
                    .filter(search_reference::rkey.eq(rkey))
                    .filter(search_reference::param.eq_any(&params)),
            )
            .execute(c)?;
            // Those tables are replaced whole when they are newer than the stored rows.
            if tables {
                diesel::delete(search_number::table.filter(search_number::rkey.eq(rkey)))
                    .execute(c)?;
                diesel::delete(search_quantity::table.filter(search_quantity::rkey.eq(rkey)))
                    .execute(c)?;
                diesel::delete(
                    search_quantity_pair::table.filter(search_quantity_pair::rkey.eq(rkey)),
                )
                .execute(c)?;
                diesel::delete(search_uri::table.filter(search_uri::rkey.eq(rkey))).execute(c)?;
                diesel::delete(search_token_pair::table.filter(search_token_pair::rkey.eq(rkey)))
                    .execute(c)?;
            } else if !own.is_empty() {
                diesel::delete(
                    search_number::table
                        .filter(search_number::rkey.eq(rkey))
                        .filter(search_number::param.eq_any(&own)),
                )
                .execute(c)?;
                diesel::delete(
                    search_quantity::table
                        .filter(search_quantity::rkey.eq(rkey))
                        .filter(search_quantity::param.eq_any(&own)),
                )
                .execute(c)?;
                diesel::delete(
                    search_quantity_pair::table
                        .filter(search_quantity_pair::rkey.eq(rkey))
                        .filter(search_quantity_pair::param.eq_any(&own)),
                )
                .execute(c)?;
                diesel::delete(
                    search_uri::table
                        .filter(search_uri::rkey.eq(rkey))
                        .filter(search_uri::param.eq_any(&own)),
                )
                .execute(c)?;
                diesel::delete(
                    search_token_pair::table
                        .filter(search_token_pair::rkey.eq(rkey))
                        .filter(search_token_pair::param.eq_any(&own)),
                )
                .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        Ok(())
    }
}
