//! `read` and `vread`. Spec: https://hl7.org/fhir/R4/http.html#read

use super::write::check_id;
use super::{Services, check_type};
use crate::error::Error;
use crate::store::{Conn, StoredResource};

/// The current version; a deleted resource answers `Gone`.
pub async fn read(svc: &Services, res_type: &str, id: &str) -> Result<StoredResource, Error> {
    let (t, i) = (res_type.to_string(), id.to_string());
    svc.store
        .read(move |conn| read_in(conn, &t, &i, None))
        .await
}

/// One given version; the version that records a deletion answers `Gone`.
pub async fn vread(
    svc: &Services,
    res_type: &str,
    id: &str,
    version: &str,
) -> Result<StoredResource, Error> {
    let (t, i, v) = (res_type.to_string(), id.to_string(), version.to_string());
    svc.store
        .read(move |conn| read_in(conn, &t, &i, Some(&v)))
        .await
}

/// `read` (no version) or `vread` on a connection: shared with transaction GET entries.
pub(crate) fn read_in(
    conn: &mut Conn<'_>,
    res_type: &str,
    id: &str,
    version: Option<&str>,
) -> Result<StoredResource, Error> {
    check_type(res_type)?;
    check_id(res_type, id)?;
    let found = match version {
        None => conn.read_current(res_type, id)?,
        Some(v) => {
            let number: i64 = v.parse().map_err(|_| Error::VersionNotFound {
                res_type: res_type.into(),
                id: id.into(),
                version: v.into(),
            })?;
            let found = conn.read_version(res_type, id, number)?;
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
