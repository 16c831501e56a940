//! `history` at instance, type and system level (`_count`, `_since`, `_offset`).
//! Spec: https://hl7.org/fhir/R4/http.html#history

use super::write::check_id;
use super::{Services, check_type};
use crate::error::Error;
use crate::fhir::instant::parse_fhir_instant;
use crate::store::{HistoryPage, HistoryScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryParams {
    pub count: usize,
    pub offset: usize,
    pub since: Option<i64>,
}

impl HistoryParams {
    pub fn parse(svc: &Services, params: &[(String, String)]) -> Result<Self, Error> {
        let mut out = HistoryParams {
            count: svc.search.default_count,
            offset: 0,
            since: None,
        };
        for (name, value) in params {
            match name.as_str() {
                "_count" => {
                    let n: usize = value.parse().map_err(|_| {
                        Error::invalid(format!("_count '{value}' is not a number"), "_count")
                    })?;
                    out.count = n.min(svc.search.max_count);
                }
                "_offset" => {
                    out.offset = value.parse().map_err(|_| {
                        Error::invalid(format!("_offset '{value}' is not a number"), "_offset")
                    })?;
                }
                "_since" => {
                    out.since =
                        Some(parse_fhir_instant(value).map_err(|m| Error::invalid(m, "_since"))?)
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// `res_type` and `id` select the level: both → instance, type only → type, neither → system.
pub async fn history(
    svc: &Services,
    res_type: Option<&str>,
    id: Option<&str>,
    params: HistoryParams,
) -> Result<HistoryPage, Error> {
    if let Some(t) = res_type {
        check_type(t)?;
        if let Some(i) = id {
            check_id(t, i)?;
        }
    }
    let (t, i) = (res_type.map(str::to_string), id.map(str::to_string));
    let count = i64::try_from(params.count).unwrap_or(i64::MAX);
    let offset = i64::try_from(params.offset).unwrap_or(i64::MAX);
    let page = svc
        .store
        .read(move |conn| {
            let scope = match (&t, &i) {
                (Some(t), Some(i)) => HistoryScope::Instance { res_type: t, id: i },
                (Some(t), None) => HistoryScope::Type(t),
                _ => HistoryScope::System,
            };
            Ok::<_, Error>(conn.history(scope, params.since, count, offset)?)
        })
        .await?;
    if let (Some(t), Some(i)) = (res_type, id) {
        if page.total == 0 {
            return Err(Error::NotFound {
                res_type: t.into(),
                id: i.into(),
            });
        }
    }
    Ok(page)
}
