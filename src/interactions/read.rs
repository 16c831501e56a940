//! `read` and `vread`. Spec: <https://hl7.org/fhir/R4/http.html#read>

use super::write::check_id;
use super::{Services, check_type};
use crate::error::Error;
use crate::store::{Scoped, StoredResource};

/// The current version; a deleted resource answers `Gone`.
pub async fn read(svc: &Services, res_type: &str, id: &str) -> Result<StoredResource, Error> {
    let (t, i) = (res_type.to_string(), id.to_string());
    let session = svc.session();
    let r = svc
        .store
        .read(move |conn| read_in(&mut session.scoped(conn)?, &t, &i, None))
        .await?;
    svc.audit_read(
        crate::audit::Interaction::Read,
        Some(res_type),
        Some(id),
        std::iter::once(&r),
    )
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
    let session = svc.session();
    let r = svc
        .store
        .read(move |conn| read_in(&mut session.scoped(conn)?, &t, &i, Some(&v)))
        .await?;
    svc.audit_read(
        crate::audit::Interaction::Vread,
        Some(res_type),
        Some(id),
        std::iter::once(&r),
    )
    .await?;
    Ok(r)
}

/// `read` (no version) or `vread` within the caller's scope: shared with transaction GET
/// entries. What exists outside the scope answers exactly as what does not exist (404), deleted
/// or not, so a caller learns nothing of it; a version is judged by its own access facts.
pub(crate) fn read_in(
    scoped: &mut Scoped<'_>,
    res_type: &str,
    id: &str,
    version: Option<&str>,
) -> Result<StoredResource, Error> {
    check_type(res_type)?;
    check_id(res_type, id)?;
    let found = match version {
        None => scoped.current(res_type, id)?,
        Some(v) => {
            let number: i64 = v.parse().map_err(|_| Error::VersionNotFound {
                res_type: res_type.into(),
                id: id.into(),
                version: v.into(),
            })?;
            let found = scoped.version(res_type, id, number)?;
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
