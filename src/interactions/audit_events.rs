//! Reading the audit trail: `GET AuditEvent` and `GET AuditEvent/{id}`. Operators see every
//! event; a patient sees the events that touched their own record (who read what, when, whether
//! as an emergency), each showing only what the patient may read (see
//! [`to_patient_resource`]); institutions see none. The trail is never written through the API;
//! reading it is recorded like any read (its entities are the events read, which belong to no
//! patient: a patient's own trail reads do not fill their trail).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Services;
use super::session::KeptScope;
use crate::access::Principal;
use crate::access::Scope;
use crate::audit::{
    Action, AuditEntity, AuditRow, Interaction, Touch, to_patient_resource, to_resource,
};
use crate::error::Error;
use crate::messages::InteractionMessage;
use crate::messages::requests::SearchReason;
use crate::search::date::parse_fhir_date;
use crate::search::paging;
use crate::store::{AuditFilter, SystemUse};

/// A parsed `AuditEvent` search.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub patient: Option<String>,
    pub since: Option<i64>,
    pub count: usize,
    pub offset: usize,
    pub applied: Vec<(String, String)>,
    pub ignored: Vec<String>,
}

impl AuditQuery {
    /// `patient` (a Patient id or `Patient/id`), `date=ge…` (or `gt`), `_count`, `_offset`.
    pub fn parse(svc: &Services, params: &[(String, String)]) -> Result<Self, Error> {
        let mut q = AuditQuery {
            patient: None,
            since: None,
            count: paging::default_count(&svc.search),
            offset: 0,
            applied: Vec::new(),
            ignored: Vec::new(),
        };
        let bad = |name: &str, value: &str, reason: SearchReason| {
            Error::Search(crate::search::Error::InvalidValue {
                param: name.into(),
                value: value.into(),
                reason,
            })
        };
        for (name, value) in params {
            match name.as_str() {
                "patient" => {
                    let id = value.strip_prefix("Patient/").unwrap_or(value);
                    q.patient = Some(id.to_string());
                }
                "date" => {
                    let v = value
                        .strip_prefix("ge")
                        .or_else(|| value.strip_prefix("gt"))
                        .ok_or_else(|| bad("date", value, SearchReason::LowerBoundOnly))?;
                    let range = parse_fhir_date(v, svc.search.default_offset)
                        .map_err(|e| bad("date", value, SearchReason::Value(e)))?;
                    q.since = Some(range.start);
                }
                "_count" => {
                    q.count = paging::count(value, &svc.search)?;
                    continue;
                }
                "_offset" => {
                    q.offset = paging::offset(value)?;
                    continue;
                }
                "_format" | "_pretty" => continue,
                _ => {
                    // A chain, `_has` or modifier would filter: ignored, it would list more
                    // events than asked.
                    if let Some(error) = crate::search::query::cannot_ignore(name) {
                        return Err(Error::Search(error));
                    }
                    q.ignored.push(name.clone());
                    continue;
                }
            }
            q.applied.push((name.clone(), value.clone()));
        }
        Ok(q)
    }
}

/// Whose events the caller may see: everyone's (an operator), or a patient's own.
enum Reader {
    All,
    /// The patient's Patient records and reading scope, kept by the request's `Session` for
    /// the read that judges the events' resources.
    Patient {
        own: Vec<String>,
        scope: KeptScope,
    },
}

/// The caller as a reader of the trail. Queued records are stored first, so the trail shows
/// every read answered before.
async fn reader(svc: &Services) -> Result<Reader, Error> {
    svc.audit_queue
        .flush()
        .await
        .map_err(Error::AuditNotStored)?;
    match &svc.caller.principal {
        Principal::Open | Principal::Operator { .. } => Ok(Reader::All),
        Principal::Patient { .. } => {
            let session = svc.session();
            let scope = svc.store.read(move |conn| session.keep_scope(conn)).await?;
            let own = match scope.scope() {
                Scope::Patient { patient_ids, .. } => patient_ids.clone(),
                _ => Vec::new(),
            };
            Ok(Reader::Patient { own, scope })
        }
        _ => Err(Error::Forbidden(
            InteractionMessage::AuditTrailReaders.into(),
        )),
    }
}

impl Reader {
    /// `events` as AuditEvent resources for this reader. A patient's view asks the store which
    /// of the events' resources the patient may read now (a purged or hidden one is "another
    /// record"); one of another patient never needs asking.
    async fn render(
        &self,
        svc: &Services,
        events: Vec<(AuditRow, Vec<AuditEntity>)>,
    ) -> Result<Vec<Value>, Error> {
        let (own, scope) = match self {
            Reader::All => {
                return Ok(events.iter().map(|(r, e)| to_resource(r, e)).collect());
            }
            Reader::Patient { own, scope } => (own.clone(), scope.clone()),
        };
        let mut asked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for e in events.iter().flat_map(|(_, e)| e) {
            let maybe_own = e.patient_key.as_ref().is_none_or(|p| own.contains(p));
            if maybe_own {
                asked
                    .entry(e.res_type.clone())
                    .or_default()
                    .insert(e.res_id.clone());
            }
        }
        let readable = svc
            .store
            .read(move |conn| {
                let mut scoped = scope.scoped(conn);
                let mut readable: BTreeSet<(String, String)> = BTreeSet::new();
                for (res_type, ids) in &asked {
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    for id in scoped.visible_among(res_type, &ids)? {
                        readable.insert((res_type.clone(), id));
                    }
                }
                Ok::<_, Error>(readable)
            })
            .await?;
        let may_read = |e: &AuditEntity| readable.contains(&(e.res_type.clone(), e.res_id.clone()));
        Ok(events
            .iter()
            .map(|(r, e)| to_patient_resource(r, e, may_read, &own))
            .collect())
    }
}

/// Records the trail read `interaction` of the events `ids` (none: a search that found none).
async fn record_trail_read<'a>(
    svc: &Services,
    interaction: Interaction,
    id: Option<&str>,
    ids: impl Iterator<Item = &'a Value>,
) -> Result<(), Error> {
    let record = svc.audit_record(Action::Read, interaction).map(|r| {
        let mut r = r.target(Some("AuditEvent"), id);
        r.entities = ids
            .filter_map(|e| e["id"].as_str())
            .map(|id| Touch {
                res_type: "AuditEvent".into(),
                res_id: id.into(),
                patient: Some(None),
            })
            .collect();
        r
    });
    svc.audit(record).await
}

/// A page of events as AuditEvent resources, newest first, and the total.
pub async fn search(svc: &Services, q: &AuditQuery) -> Result<(Vec<Value>, i64), Error> {
    let reader = reader(svc).await?;
    let patients = match (&reader, &q.patient) {
        (Reader::All, None) => None,
        (Reader::All, Some(p)) => Some(vec![p.clone()]),
        (Reader::Patient { own, .. }, None) => Some(own.clone()),
        (Reader::Patient { own, .. }, Some(p)) if own.contains(p) => Some(vec![p.clone()]),
        (Reader::Patient { .. }, Some(_)) => {
            return Err(Error::Forbidden(
                InteractionMessage::AuditTrailOwnRecord.into(),
            ));
        }
    };
    let filter = AuditFilter {
        patients,
        since: q.since,
        count: i64::try_from(q.count).unwrap_or(i64::MAX),
        offset: i64::try_from(q.offset).unwrap_or(i64::MAX),
    };
    let (events, total) = svc
        .store
        .audit_read(move |conn| {
            Ok::<_, Error>(conn.system(SystemUse::AuditTrail).audit_events(&filter)?)
        })
        .await?;
    let events = reader.render(svc, events).await?;
    record_trail_read(svc, Interaction::SearchType, None, events.iter()).await?;
    Ok((events, total))
}

/// One event; a patient may read it only if it touched their record.
pub async fn read(svc: &Services, id: &str) -> Result<Value, Error> {
    let reader = reader(svc).await?;
    let key = id.to_string();
    let found = svc
        .store
        .audit_read(move |conn| {
            Ok::<_, Error>(conn.system(SystemUse::AuditTrail).audit_event(&key)?)
        })
        .await?;
    let not_found = || Error::NotFound {
        res_type: "AuditEvent".into(),
        id: id.into(),
    };
    let (record, entities) = found.ok_or_else(not_found)?;
    if let Reader::Patient { own, .. } = &reader {
        let touches_own = entities
            .iter()
            .any(|e| e.patient_key.as_ref().is_some_and(|p| own.contains(p)));
        if !touches_own {
            return Err(not_found());
        }
    }
    let event = reader.render(svc, vec![(record, entities)]).await?;
    record_trail_read(svc, Interaction::Read, Some(id), event.iter()).await?;
    event.into_iter().next().ok_or_else(not_found)
}
