//! Read and search of the CodeSystem and ValueSet resources the server knows: imported ones
//! (code systems rendered from the imported masters, under `imported_id(name)`), then the
//! packages' as published. A search lists imported code systems without their concepts —
//! a master can hold tens of thousands — and marks them SUBSETTED; `_summary=false` asks for
//! them whole, `_summary=true` keeps only the summary elements of every result.
//! Spec: <https://hl7.org/fhir/R4/codesystem.html#search>, <https://hl7.org/fhir/R4/search.html#summary>

use std::sync::Arc;

use serde_json::{Value, json};

use super::{by_id, resource_id};
use crate::error::Error;
use crate::interactions::Services;
use crate::messages::requests::SearchReason;
use crate::search::Error as SearchError;
use crate::search::paging;
use crate::validation::valuesets::Origin;

/// (name, type, documentation) of the search parameters, for the CapabilityStatement.
pub const SEARCH_PARAMS: &[(&str, &str, &str)] = &[
    ("_id", "token", "logical id"),
    ("url", "uri", "canonical URL (exact)"),
    ("version", "token", "business version (exact)"),
    (
        "name",
        "string",
        "computer-friendly name (case-insensitive prefix)",
    ),
];

/// The top-level elements that are not summary elements in R4 CodeSystem and ValueSet.
const NOT_SUMMARY: &[&str] = &[
    "language",
    "text",
    "contained",
    "extension",
    "description",
    "purpose",
    "copyright",
    "concept",
    "compose",
    "expansion",
];

pub async fn read(svc: &Services, res_type: &str, id: &str) -> Result<Value, Error> {
    let engine = Arc::clone(&svc.value_sets);
    let (t, i) = (res_type.to_string(), id.to_string());
    super::off_thread(move || {
        by_id(&engine, &t, &i, true).ok_or(Error::NotFound {
            res_type: t.clone(),
            id: i.clone(),
        })
    })
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Summary {
    Default,
    True,
    False,
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Url,
    Version,
    Name,
}

/// A parsed search: every clause must match, any of a clause's comma-separated values may.
#[derive(Debug, Clone)]
pub struct Criteria {
    res_type: String,
    clauses: Vec<(Field, Vec<String>)>,
    summary: Summary,
    pub count: usize,
    pub offset: usize,
    /// The parameters used, for the paging links.
    pub applied: Vec<(String, String)>,
    pub ignored: Vec<String>,
}

/// One page of results and the number of matches.
#[derive(Debug)]
pub struct Page {
    pub resources: Vec<Value>,
    pub total: usize,
}

/// Parses the parameters; unknown ones are errors when `strict`, else listed in `ignored`.
pub fn parse(
    svc: &Services,
    res_type: &str,
    params: &[(String, String)],
    strict: bool,
) -> Result<Criteria, Error> {
    let mut c = Criteria {
        res_type: res_type.to_string(),
        clauses: Vec::new(),
        summary: Summary::Default,
        count: paging::default_count(&svc.search),
        offset: 0,
        applied: Vec::new(),
        ignored: Vec::new(),
    };
    for (name, value) in params {
        if value.is_empty() || matches!(name.as_str(), "_format" | "_pretty") {
            continue;
        }
        let field = match name.as_str() {
            "_count" => {
                c.count = paging::count(value, &svc.search)?;
                continue;
            }
            "_offset" => {
                c.offset = paging::offset(value)?;
                continue;
            }
            "_summary" => {
                c.summary = match value.as_str() {
                    "true" => Summary::True,
                    "false" => Summary::False,
                    "count" => Summary::Count,
                    _ => {
                        return Err(Error::Search(SearchError::InvalidValue {
                            param: name.clone(),
                            value: value.clone(),
                            reason: SearchReason::SummaryMode,
                        }));
                    }
                };
                c.applied.push((name.clone(), value.clone()));
                continue;
            }
            "_id" => Field::Id,
            "url" => Field::Url,
            "version" => Field::Version,
            "name" => Field::Name,
            _ => {
                // A chain, `_has` or modifier would filter: ignored, it would list more than asked.
                if let Some(error) = crate::search::query::cannot_ignore(name) {
                    return Err(Error::Search(error));
                }
                if strict {
                    return Err(Error::Search(SearchError::UnknownParameter(name.clone())));
                }
                c.ignored.push(name.clone());
                continue;
            }
        };
        let values = value.split(',').map(str::to_string).collect();
        c.clauses.push((field, values));
        c.applied.push((name.clone(), value.clone()));
    }
    if c.summary == Summary::Count {
        // Only the total: no page, so no paging links either.
        c.count = 0;
    }
    Ok(c)
}

fn matches(resource: &Value, clauses: &[(Field, Vec<String>)]) -> bool {
    let text = |k: &str| resource.get(k).and_then(Value::as_str);
    clauses.iter().all(|(field, values)| {
        values.iter().any(|v| match field {
            Field::Id => resource_id(resource) == *v,
            Field::Url => text("url") == Some(v),
            Field::Version => text("version") == Some(v),
            Field::Name => {
                text("name").is_some_and(|n| n.to_lowercase().starts_with(&v.to_lowercase()))
            }
        })
    })
}

pub async fn search(svc: &Services, criteria: Criteria) -> Result<Page, Error> {
    let engine = Arc::clone(&svc.value_sets);
    super::off_thread(move || {
        let with_concepts = criteria.summary == Summary::False;
        let found: Vec<(Origin, Arc<Value>)> = engine
            .terminology_resources(&criteria.res_type, with_concepts)
            .into_iter()
            .filter(|(_, r)| matches(r, &criteria.clauses))
            .collect();
        let total = found.len();
        let resources = found
            .into_iter()
            .skip(criteria.offset)
            .take(criteria.count)
            .map(|(origin, r)| shape(origin, &r, criteria.summary))
            .collect();
        Ok(Page { resources, total })
    })
    .await
}

/// A result as listed: with an id, reduced to its summary when asked, and tagged SUBSETTED
/// whenever something was left out.
fn shape(origin: Origin, resource: &Value, summary: Summary) -> Value {
    let mut r = resource.clone();
    if r.get("id").is_none() {
        r["id"] = json!(resource_id(resource));
    }
    let mut subsetted = false;
    if summary == Summary::True
        && let Some(obj) = r.as_object_mut()
    {
        for k in NOT_SUMMARY {
            subsetted |= obj.remove(*k).is_some();
        }
    }
    let concepts_left_out = origin == Origin::Imported
        && summary != Summary::False
        && r.get("resourceType").and_then(Value::as_str) == Some("CodeSystem")
        && r.get("count").and_then(Value::as_u64).unwrap_or(0) > 0;
    if subsetted || concepts_left_out {
        let tag = json!({
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "SUBSETTED",
        });
        match r.pointer_mut("/meta/tag").and_then(Value::as_array_mut) {
            Some(tags) => tags.push(tag),
            None => {
                if r.get("meta").is_none_or(|m| !m.is_object()) {
                    r["meta"] = json!({});
                }
                r["meta"]["tag"] = json!([tag]);
            }
        }
    }
    r
}
