//! `read` and `vread`. Spec: https://hl7.org/fhir/R4/http.html#read

use super::write::check_id;
use super::{Services, check_type};
use crate::error::Error;
use crate::store::StoredResource;

/// The current version; a deleted resource answers `Gone`.
pub async fn read(svc: &Services, res_type: &str, id: &str) -> Result<StoredResource, Error> {
    check_type(res_type)?;
    check_id(res_type, id)?;
    let (t, i) = (res_type.to_string(), id.to_string());
    let found = svc
        .store
        .read(move |conn| Ok::<_, Error>(conn.read_current(&t, &i)?))
        .await?;
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

/// One given version; the version that records a deletion answers `Gone`.
pub async fn vread(
    svc: &Services,
    res_type: &str,
    id: &str,
    version: &str,
) -> Result<StoredResource, Error> {
    check_type(res_type)?;
    check_id(res_type, id)?;
    let not_found = || Error::VersionNotFound {
        res_type: res_type.into(),
        id: id.into(),
        version: version.into(),
    };
    let v: i64 = version.parse().map_err(|_| not_found())?;
    let (t, i) = (res_type.to_string(), id.to_string());
    let found = svc
        .store
        .read(move |conn| Ok::<_, Error>(conn.read_version(&t, &i, v)?))
        .await?;
    match found {
        Some(r) if r.deleted => Err(Error::Gone {
            res_type: res_type.into(),
            id: id.into(),
        }),
        Some(r) => Ok(r),
        None => Err(not_found()),
    }
}
