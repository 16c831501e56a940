//! `history` at instance, type and system level (`_count`, `_since`, `_at`, `_offset`).
//! Spec: <https://hl7.org/fhir/R4/http.html#history>

use super::write::check_id;
use super::{Services, check_type};
use crate::access::Scope;
use crate::error::Error;
use crate::fhir::instant::parse_fhir_instant;
use crate::messages::InteractionMessage;
use crate::search::{Prefix, Value, paging};
use crate::store::{At, HistoryLevel, HistoryPage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryParams {
    pub count: usize,
    pub offset: usize,
    pub since: Option<i64>,
    /// `_at` values, ANDed: the versions current when each says.
    pub at: Vec<At>,
    /// `_since` and `_at` as the request wrote them, for the paging links.
    pub applied: Vec<(String, String)>,
}

impl HistoryParams {
    pub fn parse(svc: &Services, params: &[(String, String)]) -> Result<Self, Error> {
        let mut out = HistoryParams {
            count: paging::default_count(&svc.search),
            offset: 0,
            since: None,
            at: Vec::new(),
            applied: Vec::new(),
        };
        for (name, value) in params {
            match name.as_str() {
                "_count" => out.count = paging::count(value, &svc.search)?,
                "_offset" => out.offset = paging::offset(value)?,
                "_since" => {
                    let since = parse_fhir_instant(value).map_err(|_| {
                        let message = InteractionMessage::NotAnInstant {
                            parameter: "_since",
                            value: value.clone(),
                        };
                        Error::invalid(message, "_since")
                    })?;
                    out.since = Some(since);
                    out.applied.push((name.clone(), value.clone()));
                }
                "_at" if !value.is_empty() => {
                    out.at.push(at(svc, value)?);
                    out.applied.push((name.clone(), value.clone()));
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// One `_at` value: a date (any precision) with a search prefix; `ap` has no meaning a client
/// could rely on for versions and is refused.
fn at(svc: &Services, value: &str) -> Result<At, Error> {
    let invalid = |reason: String| {
        Error::Search(crate::search::Error::InvalidValue {
            param: "_at".to_string(),
            value: value.to_string(),
            reason: crate::messages::requests::SearchReason::Value(reason),
        })
    };
    match crate::search::query::date_value(value, svc.search.default_offset).map_err(invalid)? {
        Value::Date {
            prefix: Prefix::Ap, ..
        } => {
            let message = InteractionMessage::HistoryAtApproximate {
                value: value.to_string(),
            };
            Err(Error::invalid(message, "_at"))
        }
        Value::Date { prefix, start, end } => Ok(At { prefix, start, end }),
        _ => Err(invalid("not a date".to_string())),
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
    let session = svc.session();
    let page = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            let access = scoped.scope().clone();
            // Type and system history show an institution its own writes only; a patient or
            // an operator reads history one resource at a time.
            let owner = match (&access, &i) {
                (Scope::System, _) | (_, Some(_)) => None,
                (Scope::Institution { number, .. }, None) => Some(number.clone()),
                (_, None) => {
                    return Err(Error::Forbidden(
                        InteractionMessage::HistoryForInstitutions.into(),
                    ));
                }
            };
            // Every version is checked by its own access facts: an instance whose versions
            // are all outside the scope has no history, as one that does not exist.
            let level = match (&t, &i) {
                (Some(t), Some(i)) => HistoryLevel::Instance { res_type: t, id: i },
                (Some(t), None) => HistoryLevel::Type(t),
                _ => HistoryLevel::System,
            };
            let page = scoped.history(
                level,
                owner.as_deref(),
                params.since,
                &params.at,
                count,
                offset,
            )?;
            // An instance none of whose versions `_since`/`_at` select still has a history
            // (an empty one); only one with no version within the scope is unknown.
            let filtered = params.since.is_some() || !params.at.is_empty();
            let exists = page.total > 0
                || (filtered
                    && scoped
                        .history(level, owner.as_deref(), None, &[], 0, 0)?
                        .total
                        > 0);
            Ok::<_, Error>((page, exists))
        })
        .await?;
    let (page, exists) = page;
    let interaction = match (res_type, id) {
        (Some(_), Some(_)) => crate::audit::Interaction::HistoryInstance,
        (Some(_), None) => crate::audit::Interaction::HistoryType,
        _ => crate::audit::Interaction::HistorySystem,
    };
    svc.audit_read(
        interaction,
        res_type,
        id,
        page.entries.iter().map(|e| &e.resource),
    )
    .await?;
    if let (Some(t), Some(i)) = (res_type, id)
        && !exists
    {
        return Err(Error::NotFound {
            res_type: t.into(),
            id: i.into(),
        });
    }
    Ok(page)
}
