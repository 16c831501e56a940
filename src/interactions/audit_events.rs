//! Reading the audit trail: `GET AuditEvent` and `GET AuditEvent/{id}`. Operators see every
//! event; a patient sees the events that touched their own record (who read what, when, whether
//! as an emergency); institutions see none. The trail is never written through the API.

use serde_json::Value;

use super::Services;
use crate::access::Principal;
use crate::access::audit::to_resource;
use crate::error::Error;
use crate::search::date::parse_fhir_date;
use crate::store::AuditFilter;

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
            count: svc.search.default_count.min(svc.search.max_count),
            offset: 0,
            applied: Vec::new(),
            ignored: Vec::new(),
        };
        let bad = |name: &str, value: &str, reason: &str| {
            Error::Search(crate::search::Error::InvalidValue {
                param: name.into(),
                value: value.into(),
                reason: reason.into(),
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
                        .ok_or_else(|| bad("date", value, "only date=ge… is supported"))?;
                    let range = parse_fhir_date(v, svc.search.default_offset)
                        .map_err(|e| bad("date", value, &e))?;
                    q.since = Some(range.start);
                }
                "_count" => {
                    q.count = value
                        .parse::<usize>()
                        .map_err(|_| bad("_count", value, "not a non-negative integer"))?
                        .min(svc.search.max_count);
                    continue;
                }
                "_offset" => {
                    q.offset = value
                        .parse()
                        .map_err(|_| bad("_offset", value, "not a non-negative integer"))?;
                    continue;
                }
                "_format" | "_pretty" => continue,
                _ => {
                    q.ignored.push(name.clone());
                    continue;
                }
            }
            q.applied.push((name.clone(), value.clone()));
        }
        Ok(q)
    }
}

/// Which patients' events the caller may see: `None` all, `Some(ids)` only those. Queued
/// records are stored first, so the trail shows every read answered before.
async fn allowed_patients(svc: &Services) -> Result<Option<Vec<String>>, Error> {
    svc.audit_queue.flush().await?;
    match &svc.caller.principal {
        Principal::Open | Principal::Operator { .. } => Ok(None),
        Principal::Patient { .. } => {
            let (scoped, now) = (svc.clone(), svc.clock.now_micros());
            let scope = svc
                .store
                .read(move |conn| super::access::scope_in(conn, &scoped, now))
                .await?;
            match scope {
                crate::access::Scope::Patient { patient_ids, .. } => Ok(Some(patient_ids)),
                _ => Ok(Some(Vec::new())),
            }
        }
        _ => Err(Error::Forbidden(
            "the audit trail is read by operators, and by patients for their own record".into(),
        )),
    }
}

/// A page of events as AuditEvent resources, newest first, and the total.
pub async fn search(svc: &Services, q: &AuditQuery) -> Result<(Vec<Value>, i64), Error> {
    let allowed = allowed_patients(svc).await?;
    let patients = match (allowed, &q.patient) {
        (None, None) => None,
        (None, Some(p)) => Some(vec![p.clone()]),
        (Some(own), None) => Some(own),
        (Some(own), Some(p)) if own.contains(p) => Some(vec![p.clone()]),
        (Some(_), Some(_)) => {
            return Err(Error::Forbidden(
                "a patient reads the audit trail of their own record only".into(),
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
        .audit_read(move |conn| Ok::<_, Error>(conn.audit_events(&filter)?))
        .await?;
    Ok((
        events
            .iter()
            .map(|(record, entities)| to_resource(record, entities))
            .collect(),
        total,
    ))
}

/// One event; a patient may read it only if it touched their record.
pub async fn read(svc: &Services, id: &str) -> Result<Value, Error> {
    let allowed = allowed_patients(svc).await?;
    let key = id.to_string();
    let found = svc
        .store
        .audit_read(move |conn| Ok::<_, Error>(conn.audit_event(&key)?))
        .await?;
    let not_found = || Error::NotFound {
        res_type: "AuditEvent".into(),
        id: id.into(),
    };
    let (record, entities) = found.ok_or_else(not_found)?;
    if let Some(own) = allowed {
        let touches_own = entities
            .iter()
            .any(|e| e.patient_key.as_ref().is_some_and(|p| own.contains(p)));
        if !touches_own {
            return Err(not_found());
        }
    }
    Ok(to_resource(&record, &entities))
}
