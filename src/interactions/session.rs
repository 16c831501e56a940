//! One request as the store sees it: who calls, at which instant, and the id source; made
//! once per request ([`Services::session`](super::Services::session)). Reads for the caller
//! open a [`Scoped`] store handle through it, so a function that takes a `Scoped` can only
//! read what the caller may see; a write runs through the write kernel made from it
//! ([`WriteTx`](super::write_tx::WriteTx)).

use std::sync::Arc;

use crate::access::{Caller, Principal, Scope};
use crate::clock::IdGenerator;
use crate::error::Error;
use crate::store::{Conn, Scoped, SystemUse};

/// The caller, the request's instant (µs) and the id source of one request.
#[derive(Clone)]
pub struct Session {
    pub caller: Arc<Caller>,
    pub now: i64,
    pub ids: Arc<dyn IdGenerator>,
}

impl Session {
    /// The caller's reading scope; for a patient, the Patient records of the person their
    /// credential names (every institution's, by member identifier), so it is computed inside
    /// the transaction that reads with it.
    pub fn scope(&self, conn: &mut Conn<'_>) -> Result<Scope, Error> {
        scope_of(conn, &self.caller)
    }

    /// `conn` bound to the caller's scope at the request's instant.
    pub fn scoped<'c>(&self, conn: &'c mut Conn<'_>) -> Result<Scoped<'c>, Error> {
        let scope = self.scope(conn)?;
        Ok(Scoped::owning(conn, scope, self.now))
    }
}

/// The caller's scope, computed once by the [`Session`] for a request whose reads for the
/// caller span several transactions: a patient's view of the audit trail needs the scope
/// (their Patient records) before it reads the trail, which on SQLite is another file, and
/// judges the events' resources with it after. Each of those reads binds to it here rather
/// than computing it again; nothing else makes one.
#[derive(Clone)]
pub struct KeptScope {
    scope: Scope,
    now: i64,
}

impl KeptScope {
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// `conn` bound to the kept scope at the request's instant.
    pub fn scoped<'c>(&'c self, conn: &'c mut Conn<'_>) -> Scoped<'c> {
        Scoped::new(conn, &self.scope, self.now)
    }
}

impl Session {
    /// The caller's scope computed in `conn`'s transaction and kept for the request's later
    /// reads (see [`KeptScope`]).
    pub fn keep_scope(&self, conn: &mut Conn<'_>) -> Result<KeptScope, Error> {
        Ok(KeptScope {
            scope: self.scope(conn)?,
            now: self.now,
        })
    }
}

/// [`Session::scope`] of `caller`.
fn scope_of(conn: &mut Conn<'_>, caller: &Caller) -> Result<Scope, Error> {
    let ids = match &caller.principal {
        Principal::Patient { identifier, .. } => conn
            .system(SystemUse::CallerScope)
            .patients_of_person(crate::access::person::PersonKey::parse(identifier).as_str())?,
        _ => Vec::new(),
    };
    Ok(caller.scope(ids))
}
