//! `Patient/{id}/$everything` (GET and POST): the Patient and every resource of its compartment
//! the caller may read (`search.mode` match), with the resources outside the compartment they
//! point at — practitioners, organizations, locations, medications, encounters — where stored
//! and readable (`search.mode` include). Spec:
//! <https://hl7.org/fhir/R4/operation-patient-everything.html>
//!
//! Pages are keyset pages in storage order: the `next` link names the last resource shown, and
//! the next page starts after it. A resource stored for the whole paging is shown exactly once
//! whatever is written or deleted meanwhile; one created during the paging appears on a later
//! page if it is stored after the cursor (new resources are), and one deleted is not shown
//! after its deletion. Includes are per page, so one may repeat on several pages.

use std::collections::HashSet;

use serde_json::Value;

use super::compartment::{is_served, served_types};
use super::read::read_in;
use super::write::check_id;
use super::{Services, search::page_in};
use crate::audit::Interaction;
use crate::error::Error;
use crate::fhir::instant::parse_fhir_instant;
use crate::messages::InteractionMessage;
use crate::search::extract::parse_reference;
use crate::search::paging::{self, PagingParam};
use crate::search::{
    ALL_TYPES, Clause, Compartment, Prefix, SearchQuery, Target, Value as SearchValue,
};
use crate::store::{Scoped, StoredResource};

/// Types outside the patient's compartment (or possibly another patient's) that its data points
/// at and the spec asks `$everything` to include.
pub const INCLUDED_TYPES: &[&str] = &[
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Medication",
    "Encounter",
];

/// The operation's parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EverythingRequest {
    pub patient: String,
    /// `_since`: only resources last updated at or after this instant.
    pub since: Option<i64>,
    /// `_type`: only these types (`None`: all).
    pub types: Option<Vec<String>>,
    pub count: usize,
    /// `_cursor`: the storage key of the previous page's last match.
    pub after: Option<i64>,
}

/// The name of the keyset paging parameter in `next` links.
pub const CURSOR: &str = PagingParam::Cursor.name();

impl EverythingRequest {
    /// `_since`, `_type` (comma lists, repeatable), `_count` and the cursor; `start` and `end`
    /// (care dates) are refused, as ignoring them would return what they exclude; other names
    /// are ignored, as on a history.
    pub fn parse(
        svc: &Services,
        patient: &str,
        params: &[(String, String)],
    ) -> Result<Self, Error> {
        check_id("Patient", patient)?;
        let mut out = EverythingRequest {
            patient: patient.to_string(),
            since: None,
            types: None,
            count: paging::default_count(&svc.search),
            after: None,
        };
        for (name, value) in params {
            match name.as_str() {
                "_since" => out.since = Some(parse_since(value)?),
                "_type" => push_types(out.types.get_or_insert_with(Vec::new), value)?,
                "_count" => out.count = paging::count(value, &svc.search)?,
                CURSOR => out.after = Some(paging::cursor(value)?),
                "start" | "end" => {
                    return Err(crate::search::Error::UnsupportedFilter(name.clone()).into());
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The parameters that select what is shown, canonical, for the `self` and `next` links.
    pub fn applied(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(since) = self.since {
            out.push((
                "_since".to_string(),
                crate::fhir::instant::to_fhir_instant(since),
            ));
        }
        if let Some(types) = &self.types {
            out.push(("_type".to_string(), types.join(",")));
        }
        out.push(("_count".to_string(), self.count.to_string()));
        out
    }

    fn wants(&self, res_type: &str) -> bool {
        self.types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == res_type))
    }

    /// The search of the compartment's matches this request asks for.
    fn query(&self) -> SearchQuery {
        let types = served_types()
            .into_iter()
            .filter(|t| self.wants(t))
            .collect();
        let clauses = self
            .since
            .map(|since| since_clause(Prefix::Ge, since))
            .into_iter()
            .collect();
        // One more than shown tells whether a next page exists; no includes of its own.
        let mut query = SearchQuery::new(ALL_TYPES, self.count.saturating_add(1), 0);
        query.clauses = clauses;
        query.compartment = Some(Compartment {
            patient: self.patient.clone(),
            types,
        });
        query.after = self.after;
        query
    }
}

/// `_since` of `$everything` and `$export`: a FHIR instant.
pub(crate) fn parse_since(value: &str) -> Result<i64, Error> {
    parse_fhir_instant(value).map_err(|_| {
        let message = InteractionMessage::NotAnInstant {
            parameter: "_since",
            value: value.to_string(),
        };
        Error::invalid(message, "_since")
    })
}

/// Adds the types of a `_type` comma list to `types`, once each; a name that is not an R4
/// type is refused rather than matching nothing.
pub(crate) fn push_types(types: &mut Vec<String>, value: &str) -> Result<(), Error> {
    for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !crate::fhir::is_resource_type(t) {
            let message = InteractionMessage::EverythingUnknownType {
                res_type: t.to_string(),
            };
            return Err(Error::invalid(message, "_type"));
        }
        if !types.iter().any(|known| known == t) {
            types.push(t.to_string());
        }
    }
    Ok(())
}

/// The `_lastUpdated` clause of a `_since`: `Ge` for `$everything` (at or after), `Gt` for
/// `$export` (after), as their specifications say.
pub(crate) fn since_clause(prefix: Prefix, since: i64) -> Clause {
    Clause {
        param: "_lastUpdated",
        target: Target::LastUpdated,
        negate: false,
        values: vec![SearchValue::Date {
            prefix,
            start: since,
            end: since,
        }],
    }
}

/// One page of `$everything`.
#[derive(Debug, Clone)]
pub struct EverythingPage {
    pub matches: Vec<StoredResource>,
    pub includes: Vec<StoredResource>,
    /// Matches in all pages together.
    pub total: Option<i64>,
    /// Where the next page starts, if there is one.
    pub next: Option<i64>,
}

pub async fn everything(
    svc: &Services,
    request: EverythingRequest,
) -> Result<EverythingPage, Error> {
    let session = svc.session();
    let patient_id = request.patient.clone();
    let page = svc
        .store
        .read(move |conn| {
            let mut scoped = session.scoped(conn)?;
            // The patient answers as its read would before anything of its data is looked at.
            read_in(&mut scoped, "Patient", &request.patient, None)?;
            let query = request.query();
            let mut page = page_in(&mut scoped, &query)?;
            let next = if page.resources.len() > request.count {
                page.resources.truncate(request.count);
                // `_count=0` shows no match, so there is no key to continue from.
                request
                    .count
                    .checked_sub(1)
                    .and_then(|last| page.keys.get(last).copied())
            } else {
                None
            };
            let includes = includes_in(&mut scoped, &request, &page.resources)?;
            Ok::<_, Error>(EverythingPage {
                matches: page.resources,
                includes,
                total: page.total,
                next,
            })
        })
        .await?;
    svc.audit_read(
        Interaction::Everything,
        Some("Patient"),
        Some(&patient_id),
        page.matches.iter().chain(page.includes.iter()),
    )
    .await?;
    Ok(page)
}

/// The readable resources of [`INCLUDED_TYPES`] the page's matches reference literally, once
/// each, leaving out those of this patient's compartment (they are matches of some page).
fn includes_in(
    scoped: &mut Scoped<'_>,
    request: &EverythingRequest,
    matches: &[StoredResource],
) -> Result<Vec<StoredResource>, Error> {
    let shown: HashSet<(&str, &str)> = matches
        .iter()
        .map(|r| (r.res_type.as_str(), r.id.as_str()))
        .collect();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for content in matches.iter().filter_map(|r| r.content.as_deref()) {
        let Ok(resource) = serde_json::from_str::<Value>(content) else {
            continue;
        };
        references(&resource, &mut |t, id| {
            let key = (t.to_string(), id.to_string());
            if INCLUDED_TYPES.contains(&t)
                && request.wants(t)
                && !shown.contains(&(t, id))
                && !wanted.contains(&key)
            {
                wanted.push(key);
            }
        });
    }
    let mut out = Vec::new();
    for (t, id) in wanted {
        let found = match read_in(scoped, &t, &id, None) {
            Ok(found) => found,
            // Unreadable, missing or deleted: left out, as a search leaves it out.
            Err(Error::NotFound { .. } | Error::Gone { .. }) => continue,
            Err(e) => return Err(e),
        };
        let in_compartment = is_served(&t)
            && found
                .patient
                .as_ref()
                .is_some_and(|p| p.as_deref() == Some(&request.patient));
        let fresh = request
            .since
            .is_none_or(|since| found.last_updated >= since);
        if !in_compartment && fresh {
            out.push(found);
        }
    }
    Ok(out)
}

/// Calls `f` with the type and id of every relative literal reference in `value`: an absolute
/// URL names another server's resource, never a stored one with the same id.
fn references(value: &Value, f: &mut impl FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("reference")
                && !reference.contains("://")
                && let Some((t, id)) = parse_reference(reference)
            {
                f(t, id);
            }
            map.values().for_each(|v| references(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, f)),
        _ => {}
    }
}
