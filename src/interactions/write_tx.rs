//! The write kernel: one [`WriteTx`] per write transaction, made from the request's
//! [`Session`] and the transaction's connection. A write reads for the caller, matches its
//! conditional criteria, checks ownership and references, takes its locks and stores its
//! versions through it, so no write path builds a scope of its own: the caller's scope is
//! computed once, inside the transaction, when first needed. What the write touched is
//! recorded here as it happens, and the write's audit record names it
//! ([`Services::write_tx`](super::Services::write_tx)).

use std::time::Instant;

use serde_json::Value;

use super::Services;
use super::Written;
use super::references::Found;
use super::session::Session;
use super::write::Prepared;
use crate::access::Scope;
use crate::audit::{AuditRecord, Touch, policy, touch_of};
use crate::error::Error;
use crate::search::SearchQuery;
use crate::store::{Conn, CurrentRow, LockKey, Member, Method, Removed, Scoped, StoredResource};

/// What a write did to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Did {
    Created,
    Updated,
    Deleted,
    /// A conditional create answered with the resource its criteria found.
    Matched,
    /// Read and answered: a transaction's GET entry.
    Read,
    /// Purged with a submission.
    Removed,
}

/// One resource the write touched: what it did, the version it wrote (none for a match, a
/// read, or a deletion of what was not there), and the transaction entry it belongs to.
#[derive(Debug, Clone)]
pub struct Handled {
    pub did: Did,
    pub version: Option<i64>,
    pub touch: Touch,
    entry: Option<usize>,
}

/// A write transaction for one request's caller.
pub struct WriteTx<'t, 'c> {
    svc: &'t Services,
    session: &'t Session,
    conn: &'t mut Conn<'c>,
    scope: Option<Scope>,
    entry: Option<usize>,
    touched: Vec<Handled>,
}

impl Services {
    /// Runs a write through the write kernel of `session` (made once for the request; its
    /// `now` is the write's instant) and inserts its audit record in the same transaction,
    /// naming what the kernel recorded the write touched: the change and its record commit
    /// together or not at all; a record that cannot be inserted undoes the change.
    pub async fn write_tx<T, F>(
        &self,
        session: Session,
        deadline: Option<Instant>,
        record: Option<AuditRecord>,
        f: F,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteTx<'_, '_>) -> Result<T, Error> + Send + 'static,
    {
        let audited = record.is_some();
        let svc = self.clone();
        let out = self
            .store
            .write(deadline, move |conn| {
                let mut tx = WriteTx::new(&svc, &session, conn);
                let out = f(&mut tx)?;
                let touched = tx.into_entities();
                if let Some(record) = record {
                    policy::insert_with_change(conn, record, touched)
                        .map_err(Error::AuditNotStored)?;
                }
                Ok::<_, Error>(out)
            })
            .await?;
        if audited {
            self.recorded.mark();
        }
        Ok(out)
    }
}

impl<'t, 'c> WriteTx<'t, 'c> {
    /// Only [`Services::write_tx`] makes one: one a write transaction.
    fn new(svc: &'t Services, session: &'t Session, conn: &'t mut Conn<'c>) -> Self {
        WriteTx {
            svc,
            session,
            conn,
            scope: None,
            entry: None,
            touched: Vec::new(),
        }
    }

    pub(crate) fn services(&self) -> &'t Services {
        self.svc
    }

    pub(crate) fn session(&self) -> &'t Session {
        self.session
    }

    /// The request's instant (µs), the writes' `lastUpdated`.
    pub(crate) fn now(&self) -> i64 {
        self.session.now
    }

    /// The transaction's connection, for what is not a read for the caller: the deliberately
    /// unscoped reads (`Conn::system`) and the submissions' own rows.
    pub(crate) fn conn(&mut self) -> &mut Conn<'c> {
        self.conn
    }

    /// The transaction read within the caller's scope, computed on first use inside this
    /// transaction and kept for the rest of it.
    pub(crate) fn scoped(&mut self) -> Result<Scoped<'_>, Error> {
        let (session, conn) = (self.session, &mut *self.conn);
        let scope: &Scope = match &mut self.scope {
            Some(scope) => scope,
            slot => slot.insert(session.scope(conn)?),
        };
        Ok(Scoped::new(conn, scope, session.now))
    }

    /// Serialises this write with every other holding `key`, until the transaction ends.
    pub(crate) fn lock(&mut self, key: LockKey<'_>) -> Result<(), Error> {
        Ok(self.conn.lock(key)?)
    }

    /// Conditional criteria run under their lock, so that concurrent identical conditional
    /// writes find each other. Only matches within the caller's scope count: what the caller
    /// may not read is no match.
    pub(crate) fn matches(&mut self, query: &SearchQuery) -> Result<Vec<StoredResource>, Error> {
        self.lock(LockKey::Criteria {
            res_type: &query.resource_type,
            applied: &query.applied,
        })?;
        Ok(self.scoped()?.search(query)?.resources)
    }

    /// [`matches`](Self::matches) for `If-None-Exist`: a single match is what the create
    /// answers, and is recorded as such.
    pub(crate) fn if_none_exist(
        &mut self,
        query: &SearchQuery,
    ) -> Result<Vec<StoredResource>, Error> {
        let found = self.matches(query)?;
        if let [one] = found.as_slice() {
            self.record(Did::Matched, None, touch_of(one));
        }
        Ok(found)
    }

    /// An existing resource is changed or deleted only by its writer (see
    /// [`access::check_owner`](super::access::check_owner)).
    pub(crate) fn check_owner(&mut self, res_type: &str, id: &str) -> Result<(), Error> {
        super::access::check_owner(self, res_type, id)
    }

    /// Refuses the references among `found` the caller may not read at commit (see
    /// [`references::check`](super::references::check)).
    pub(crate) fn check_references(&mut self, found: &[Found]) -> Result<(), Error> {
        if found.is_empty() {
            return Ok(());
        }
        super::references::check(self, found)
    }

    /// Rewrites the conditional references of `resource` to their one match in the caller's
    /// scope.
    pub(crate) fn resolve_conditional(&mut self, resource: &mut Value) -> Result<(), Error> {
        let svc = self.svc;
        super::references::resolve_conditional(svc, &mut self.scoped()?, resource)
    }

    /// Inserts a new resource (server-assigned id, version 1).
    pub(crate) fn insert(&mut self, prepared: Prepared) -> Result<Written, Error> {
        let written = super::write::insert_in_tx(self.conn, prepared)?;
        self.wrote(&written);
        Ok(written)
    }

    /// Stores a version a submission prepared over `current` (its members, its Bundle, its
    /// Patient), as every write is stored; the submission names what the record shows with
    /// [`note_written`](Self::note_written): its Bundle, not each member.
    pub(crate) fn store(
        &mut self,
        prepared: &mut Prepared,
        current: Option<CurrentRow>,
        method: Method,
    ) -> Result<(), Error> {
        super::write::store_prepared(self.conn, prepared, current, method)
    }

    /// Writes the next version of `res_type/id` (creating it if absent), honouring `If-Match`.
    pub(crate) fn put(
        &mut self,
        res_type: &str,
        id: &str,
        resource: Value,
        if_match: Option<i64>,
    ) -> Result<Written, Error> {
        let written = super::write::put_in_tx(self, res_type, id, resource, if_match)?;
        self.wrote(&written);
        Ok(written)
    }

    /// Deletes `res_type/id`: the deletion's version, or `None` when there was nothing the
    /// caller may see to delete. The resource is named whatever the answer, with the patient
    /// its row records (the row stays, marked deleted).
    pub(crate) fn delete(&mut self, res_type: &str, id: &str) -> Result<Option<i64>, Error> {
        let at = self.touched.len();
        self.record(Did::Deleted, None, Touch::named(res_type, id));
        let version = super::write::delete_in_tx(self, res_type, id)?;
        if let Some(t) = self.touched.get_mut(at) {
            t.version = version;
        }
        Ok(version)
    }

    /// Removes `res_type/id` entirely, every version with it (a member a re-sent submission
    /// dropped): what was removed, or `None` when there was nothing.
    pub(crate) fn purge(&mut self, res_type: &str, id: &str) -> Result<Option<Removed>, Error> {
        Ok(self.conn.purge(res_type, id)?)
    }

    /// Removes a submission (a report unit or a document): its members first, then its Bundle,
    /// so no moment shows a Bundle without the data it stands for. What was removed, each with
    /// the patient its row named, which the submission names in its record
    /// ([`note`](Self::note)) when the removal is what it did: a cancel or a unit's deletion,
    /// not a re-post that replaces what it removed.
    pub(crate) fn purge_submission(
        &mut self,
        members: &[Member],
        bundle_id: &str,
    ) -> Result<Vec<Removed>, Error> {
        let rows = members
            .iter()
            .map(|m| (m.res_type.as_str(), m.res_id.as_str()))
            .chain([("Bundle", bundle_id)]);
        let mut removed = Vec::new();
        for (res_type, id) in rows {
            removed.extend(self.purge(res_type, id)?);
        }
        Ok(removed)
    }

    /// What follows belongs to the transaction's entry `index` (its audit names entries in
    /// their order in the Bundle, whatever order they run in).
    pub(crate) fn entry(&mut self, index: usize) {
        self.entry = Some(index);
    }

    /// Resources the write handled that no method above recorded: a transaction's reads, a
    /// submission's removals.
    pub(crate) fn note(&mut self, did: Did, touches: impl IntoIterator<Item = Touch>) {
        for touch in touches {
            self.record(did, None, touch);
        }
    }

    fn wrote(&mut self, written: &Written) {
        self.note_written(&written.resource, written.created);
    }

    /// A version written outside the methods above: a submission's Bundle, which the
    /// submission rules write with their members.
    pub(crate) fn note_written(&mut self, resource: &StoredResource, created: bool) {
        let did = if created { Did::Created } else { Did::Updated };
        self.record(did, Some(resource.version), touch_of(resource));
    }

    fn record(&mut self, did: Did, version: Option<i64>, touch: Touch) {
        self.touched.push(Handled {
            did,
            version,
            touch,
            entry: self.entry,
        });
    }

    /// Everything this write touched, in the order it happened.
    pub fn touched(&self) -> &[Handled] {
        &self.touched
    }

    /// The entities of the write's audit record: what it touched, in order; a transaction's
    /// by entry, in the Bundle's order. A deletion is named like any change, so the patient's
    /// trail shows it whether it came alone or as a transaction's entry.
    pub(crate) fn into_entities(self) -> Vec<Touch> {
        entities(self.touched, self.entry.is_some())
    }
}

/// See [`WriteTx::into_entities`].
fn entities(mut touched: Vec<Handled>, in_transaction: bool) -> Vec<Touch> {
    if in_transaction {
        touched.sort_by_key(|t| t.entry);
    }
    touched.into_iter().map(|t| t.touch).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handled(did: Did, id: &str, entry: Option<usize>) -> Handled {
        Handled {
            did,
            version: None,
            touch: Touch::named("Patient", id),
            entry,
        }
    }

    fn ids(touches: Vec<Touch>) -> Vec<String> {
        touches.into_iter().map(|t| t.res_id).collect()
    }

    #[test]
    fn a_single_write_names_what_it_touched_in_order() {
        let touched = vec![
            handled(Did::Deleted, "a", None),
            handled(Did::Created, "b", None),
        ];
        assert_eq!(ids(entities(touched, false)), ["a", "b"]);
    }

    #[test]
    fn a_transaction_names_its_entries_in_the_bundles_order_with_its_deletions() {
        // Run in the spec's order: the DELETE (entry 2), the POST (entry 1), the GET (entry 0).
        let touched = vec![
            handled(Did::Deleted, "gone", Some(2)),
            handled(Did::Created, "new", Some(1)),
            handled(Did::Read, "read1", Some(0)),
            handled(Did::Read, "read2", Some(0)),
        ];
        assert_eq!(
            ids(entities(touched, true)),
            ["read1", "read2", "new", "gone"]
        );
    }
}
