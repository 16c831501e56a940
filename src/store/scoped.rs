//! The store as a caller sees it: every query here that returns stored content, or tells
//! whether something exists, applies the caller's [`Scope`] inside the store, and what lies
//! outside the scope answers exactly as what does not exist. The connection's own queries
//! behind these methods are private to `store`, so code outside it cannot read for a caller
//! without a scope; deliberately unscoped reading goes through [`System`](super::System).

use std::borrow::Cow;
use std::collections::HashSet;

use super::{
    At, Conn, DocumentRow, HistoryLevel, HistoryPage, PatientResource, PersonConsent, SearchPage,
    StoreError, StoredResource,
};
use crate::access::Scope;
use crate::search::SearchQuery;

/// A connection bound to one caller's scope at one instant (`now`, µs: consents and
/// emergencies are judged at it).
pub struct Scoped<'c> {
    conn: Conn<'c>,
    scope: Cow<'c, Scope>,
    now: i64,
}

impl<'c> Scoped<'c> {
    /// `conn` read within `scope`; the scope is the caller's, built by the request's
    /// `interactions::Session` or, in a write, its write kernel (`interactions::write_tx`), or
    /// [`Scope::System`] handed out by [`System::unscoped`](super::System::unscoped). Outside
    /// `store/` only those build one (`architecture_tests::scopes_are_built_where_listed`).
    pub(crate) fn new(conn: &'c mut Conn<'_>, scope: &'c Scope, now: i64) -> Self {
        Scoped {
            conn: conn.reborrow(),
            scope: Cow::Borrowed(scope),
            now,
        }
    }

    /// [`new`](Self::new) keeping its scope.
    pub(crate) fn owning(conn: &'c mut Conn<'_>, scope: Scope, now: i64) -> Self {
        Scoped {
            conn: conn.reborrow(),
            scope: Cow::Owned(scope),
            now,
        }
    }

    pub(super) fn from_parts(conn: Conn<'c>, scope: Scope, now: i64) -> Self {
        Scoped {
            conn,
            scope: Cow::Owned(scope),
            now,
        }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The instant the scope is judged at (µs).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Runs several reads against one consistent snapshot (see `Conn::snapshot`).
    pub fn snapshot<T>(
        &mut self,
        f: impl FnOnce(&mut Scoped<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (scope, now) = (&*self.scope, self.now);
        self.conn.snapshot(|c| {
            f(&mut Scoped {
                conn: c.reborrow(),
                scope: Cow::Borrowed(scope),
                now,
            })
        })
    }

    /// The current version of `res_type/id`, a deletion marker included (the caller answers
    /// 410 for it); `None` when there is none or it lies outside the scope. The row's writer
    /// comes with it: an institution reading its own data needs no second query.
    pub fn current(
        &mut self,
        res_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let Some((_, stored, owner)) = self.conn.read_current_owned(res_type, id)? else {
            return Ok(None);
        };
        if self.scope.owns(owner.as_deref()) || self.visible(res_type, id)? {
            Ok(Some(stored))
        } else {
            Ok(None)
        }
    }

    /// Version `version` of `res_type/id`, judged by that version's own access facts.
    pub fn version(
        &mut self,
        res_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<StoredResource>, StoreError> {
        self.conn
            .read_version(res_type, id, version, &self.scope, self.now)
    }

    /// Whether `res_type/id` (deleted or not) exists within the scope.
    pub fn visible(&mut self, res_type: &str, id: &str) -> Result<bool, StoreError> {
        self.conn.visible(res_type, id, &self.scope, self.now)
    }

    /// Whether `res_type/id` exists but lies outside the scope: the caller answers it as one
    /// that does not exist. An institution's own writes need no second query.
    pub fn hidden(&mut self, res_type: &str, id: &str) -> Result<bool, StoreError> {
        if self.scope.is_system() {
            return Ok(false);
        }
        match self.conn.owner_of(res_type, id)? {
            Some(owner) if !self.scope.owns(owner.as_deref()) => Ok(!self.visible(res_type, id)?),
            _ => Ok(false),
        }
    }

    /// Which of `res_type/ids` (deleted or not) lie within the scope.
    pub fn visible_among(
        &mut self,
        res_type: &str,
        ids: &[&str],
    ) -> Result<HashSet<String>, StoreError> {
        self.conn
            .visible_among(res_type, ids, &self.scope, self.now)
    }

    /// One page of `query` within the scope.
    pub fn search(&mut self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        self.conn.search(query, &self.scope, self.now)
    }

    /// A page of history at `level`, each version judged by its own access facts; `owner`
    /// narrows it to one institution's writes.
    #[allow(clippy::too_many_arguments)]
    pub fn history(
        &mut self,
        level: HistoryLevel<'_>,
        owner: Option<&str>,
        since: Option<i64>,
        at: &[At],
        count: i64,
        offset: i64,
    ) -> Result<HistoryPage, StoreError> {
        self.conn.history(
            level,
            &self.scope,
            owner,
            since,
            at,
            count,
            offset,
            self.now,
        )
    }

    /// The current resources of `types` about the patient `patient_id` within the scope.
    pub fn current_of_patient(
        &mut self,
        patient_id: &str,
        types: &[&str],
    ) -> Result<Vec<PatientResource>, StoreError> {
        self.conn
            .current_of_patient(patient_id, types, &self.scope, self.now)
    }

    /// A patient scope's own active documents, oldest first; none for any other scope.
    pub fn own_documents(&mut self) -> Result<Vec<DocumentRow>, StoreError> {
        match &*self.scope {
            Scope::Patient { patient_ids, .. } => self.conn.documents_of_patients(patient_ids),
            _ => Ok(Vec::new()),
        }
    }

    /// A patient scope's own current Consents, whoever recorded them, oldest first; none for
    /// any other scope.
    pub fn own_consents(&mut self) -> Result<Vec<PersonConsent>, StoreError> {
        match &*self.scope {
            Scope::Patient { person, .. } => self.conn.consents_of_person(person),
            _ => Ok(Vec::new()),
        }
    }
}
