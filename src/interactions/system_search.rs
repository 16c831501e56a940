//! `search-system`: `GET [base]?_type=…` and `POST [base]/_search`, over the stored types `_type`
//! lists, or every one without it. Spec: <https://hl7.org/fhir/R4/http.html#search> and
//! <https://hl7.org/fhir/R4/search.html#_type>
//!
//! One type in `_type` is that type's search, every parameter of it included. Several types
//! (or none: all) are one statement over their rows, so paging and `_sort` work across them,
//! and a parameter applies only when every searched type defines it with the same meaning:
//! otherwise the search answers 400, since matching it in some types only would return
//! resources of the others that it excludes. Chains, `_has` and `_list` need one type. The
//! caller's scope filters the rows as in any search, and the page is recorded as read.

use super::Services;
use super::everything::push_types;
use crate::audit::Interaction;
use crate::error::Error;
use crate::fhir::resource_types::RESOURCE_TYPES;
use crate::messages::InteractionMessage;
use crate::search::{ALL_TYPES, SERVED_APART, SearchQuery};
use crate::store::SearchPage;

/// Types searched somewhere other than the resource store: the audit trail and the
/// terminology. Naming one in `_type` answers 400; without `_type` they are left out.
fn served_apart(res_type: &str) -> bool {
    SERVED_APART.contains(&res_type) || super::terminology::is_managed(res_type)
}

/// The types a search without `_type` covers.
pub fn all_types() -> Vec<String> {
    RESOURCE_TYPES
        .iter()
        .filter(|t| !served_apart(t))
        .map(|t| (*t).to_string())
        .collect()
}

/// Parses a system-level search (strict: unknown parameters are errors, else ignored with a
/// warning, as in a search of one type).
pub fn parse(
    svc: &Services,
    params: &[(String, String)],
    strict: bool,
) -> Result<SearchQuery, Error> {
    let mut listed = Vec::new();
    let mut rest = Vec::new();
    for (name, value) in params {
        if name == "_type" {
            push_types(&mut listed, value)?;
        } else {
            rest.push((name.clone(), value.clone()));
        }
    }
    for t in &listed {
        if served_apart(t) {
            let message = InteractionMessage::SystemSearchType {
                res_type: t.clone(),
            };
            return Err(Error::invalid(message, "_type"));
        }
    }
    let mut options = svc.search.clone();
    options.strict = strict;
    if let [one] = listed.as_slice() {
        return Ok(crate::search::parse(one, &rest, &options)?);
    }
    let types = if listed.is_empty() {
        all_types()
    } else {
        listed.clone()
    };
    shared_by_all(&types, &rest)?;
    let mut parsed = types
        .iter()
        .map(|t| crate::search::parse(t, &rest, &options))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let Some(mut query) = parsed.next() else {
        return Err(Error::invalid(
            InteractionMessage::SystemSearchType {
                res_type: String::new(),
            },
            "_type",
        ));
    };
    // The same parameter may still read differently: a reference parameter whose targets
    // differ turns a bare id into a different type.
    for other in parsed {
        if other.clauses != query.clauses || other.sort != query.sort {
            let param = differing(&query, &other);
            let message = InteractionMessage::SystemSearchDiffers {
                param: param.clone(),
            };
            return Err(Error::invalid(message, param));
        }
    }
    // A chain's SQL joins on the one type it starts from.
    if !query.chains.is_empty() {
        let name = query
            .applied
            .iter()
            .map(|(name, _)| name.as_str())
            .find(|name| *name == "_list" || name.starts_with("_has") || name.contains('.'))
            .unwrap_or("_has")
            .to_string();
        let message = InteractionMessage::SystemSearchChain {
            param: name.clone(),
        };
        return Err(Error::invalid(message, name));
    }
    query.resource_type = ALL_TYPES.to_string();
    // Without `_type`, no list: every type but those served apart (see `search_sql`).
    if !listed.is_empty() {
        query.types = types;
        query
            .applied
            .insert(0, ("_type".to_string(), listed.join(",")));
    }
    Ok(query)
}

/// Refuses a type-specific parameter (a filter or a `_sort` key) some searched types define
/// and others do not. One that none defines is left to the parser: unknown everywhere, it is
/// ignored with a warning or refused as in any search.
fn shared_by_all(types: &[String], params: &[(String, String)]) -> Result<(), Error> {
    let sort_keys = params
        .iter()
        .filter(|(name, _)| name == "_sort")
        .flat_map(|(_, value)| value.split(','))
        .map(|key| key.trim().trim_start_matches('-'));
    let filters = params
        .iter()
        .map(|(name, _)| name.split([':', '.']).next().unwrap_or(name));
    for name in filters.chain(sort_keys) {
        if name.is_empty() || name.starts_with('_') {
            continue;
        }
        let missing: Vec<&str> = types
            .iter()
            .filter(|t| crate::search::params::param_def(t, name).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() && missing.len() < types.len() {
            let message = InteractionMessage::SystemSearchParameter {
                param: name.to_string(),
                missing: missing.join(", "),
            };
            return Err(Error::invalid(message, name.to_string()));
        }
    }
    Ok(())
}

/// The first parameter whose clause or sort key two parses of one request disagree on.
fn differing(a: &SearchQuery, b: &SearchQuery) -> String {
    let clause = a
        .clauses
        .iter()
        .zip(&b.clauses)
        .find(|(x, y)| x != y)
        .map(|(x, _)| x.param);
    clause.unwrap_or("_sort").to_string()
}

pub async fn search(svc: &Services, query: SearchQuery) -> Result<SearchPage, Error> {
    let session = svc.session();
    let one_type = (query.resource_type != ALL_TYPES).then(|| query.resource_type.clone());
    let page = svc
        .store
        .read(move |conn| super::search::page_in(&mut session.scoped(conn)?, &query))
        .await?;
    // Every resource shown is recorded, as for a search of one type.
    svc.audit_read(
        Interaction::SearchSystem,
        one_type.as_deref(),
        None,
        page.shown(),
    )
    .await?;
    Ok(page)
}
