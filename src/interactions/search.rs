//! `search-type` (GET \[base\]/\[type\]?… and POST \[base\]/\[type\]/_search).
//! Spec: <https://hl7.org/fhir/R4/http.html#search>

use super::{Services, check_type};
use crate::error::Error;
use crate::search::{SearchQuery, TotalMode};
use crate::store::{Scoped, SearchPage};

/// Parses the parameters (strict: unknown ones are errors, else they are listed in `ignored`).
pub fn parse(
    svc: &Services,
    res_type: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<SearchQuery, Error> {
    check_type(res_type)?;
    let mut options = svc.search.clone();
    options.strict = strict;
    Ok(crate::search::parse(res_type, params, &options)?)
}

pub async fn search(svc: &Services, query: SearchQuery) -> Result<SearchPage, Error> {
    let session = svc.session();
    let res_type = query.resource_type.clone();
    let page = svc
        .store
        .read(move |conn| page_in(&mut session.scoped(conn)?, &query))
        .await?;
    // Every resource of the page is recorded, however many, included ones too: the patient's
    // access history must show a search that returned their data.
    svc.audit_read(
        crate::audit::Interaction::SearchType,
        Some(&res_type),
        None,
        page.shown(),
    )
    .await?;
    Ok(page)
}

/// One page of `query` within the scope; with a total, page and total from one snapshot so
/// they agree.
pub(crate) fn page_in(scoped: &mut Scoped<'_>, query: &SearchQuery) -> Result<SearchPage, Error> {
    Ok(if query.total == TotalMode::Accurate && query.count > 0 {
        scoped.snapshot(|s| s.search(query))?
    } else {
        scoped.search(query)?
    })
}
