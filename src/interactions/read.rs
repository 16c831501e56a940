//! `read` and `vread`. Spec: <https://hl7.org/fhir/R4/http.html#read>

use super::access::{check_owner_or_visible, scope_in};
use super::write::check_id;
use super::{Services, check_type};
use crate::access::Scope;
use crate::error::Error;
use crate::store::{Conn, StoredResource};

/// The current version; a deleted resource answers `Gone`.
pub async fn read(svc: &Services, res_type: &str, id: &str) -> Result<StoredResource, Error> {
    let (t, i) = (res_type.to_string(), id.to_string());
    let (scoped, now) = (svc.clone(), svc.clock.now_micros());
    let r = svc
        .store
        .read(move |conn| {
            let scope = scope_in(conn, &scoped, now)?;
            read_in(conn, &t, &i, None, &scope, now)
        })
        .await?;
    svc.audit_read("read", Some(res_type), Some(id), std::iter::once(&r))
        .await?;
    Ok(r)
}

/// One given version; the version that records a deletion answers `Gone`.
pub async fn vread(
    svc: &Services,
    res_type: &str,
    id: &str,
    version: &str,
) -> Result<StoredResource, Error> {
    let (t, i, v) = (res_type.to_string(), id.to_string(), version.to_string());
    let (scoped, now) = (svc.clone(), svc.clock.now_micros());
    let r = svc
        .store
        .read(move |conn| {
            let scope = scope_in(conn, &scoped, now)?;
            read_in(conn, &t, &i, Some(&v), &scope, now)
        })
        .await?;
    svc.audit_read("vread", Some(res_type), Some(id), std::iter::once(&r))
        .await?;
    Ok(r)
}

/// `read` (no version) or `vread` on a connection: shared with transaction GET entries. What
/// exists outside `scope` answers exactly as what does not exist (404), deleted or not, so a
/// caller learns nothing of it; a version is judged by its own access facts.
pub(crate) fn read_in(
    conn: &mut Conn<'_>,
    res_type: &str,
    id: &str,
    version: Option<&str>,
    scope: &Scope,
    now: i64,
) -> Result<StoredResource, Error> {
    check_type(res_type)?;
    check_id(res_type, id)?;
    let found = match version {
        // The row's writer comes with the current version: an institution reading its own data
        // needs no second query.
        None => match conn.read_current_owned(res_type, id)? {
            Some((_, stored, owner)) => {
                check_owner_or_visible(conn, scope, owner.as_deref(), res_type, id, now)?;
                Some(stored)
            }
            None => None,
        },
        Some(v) => {
            let number: i64 = v.parse().map_err(|_| Error::VersionNotFound {
                res_type: res_type.into(),
                id: id.into(),
                version: v.into(),
            })?;
            let found = conn.read_version(res_type, id, number, scope, now)?;
            if found.is_none() {
                return Err(Error::VersionNotFound {
                    res_type: res_type.into(),
                    id: id.into(),
                    version: v.into(),
                });
            }
            found
        }
    };
    match found {
        Some(r) if r.deleted => Err(Error::Gone {
            res_type: res_type.into(),
            id: id.into(),
        }),
        Some(r) => Ok(r),
        None => Err(Error::NotFound {
            res_type: res_type.into(),
            id: id.into(),
        }),
    }
}
